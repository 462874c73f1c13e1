"""Write the seed corpus of every harness, generated from the test fixtures: ``seeds.py OUT_DIR``.

Nothing here is committed as a binary: the fixture wheels are compiled with gcc by
``tests/fixtures/wheelbuild.py`` (about a second), the sdists are packed from
``tests/fixtures/buildproj``, and the variants a fuzzer would take long to find
(stored members, zip64, no section headers, links inside a tarball) are made in code.
Seeds larger than a harness's ``max_len`` are left out: libFuzzer would cut them anyway.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import io
import struct
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

__all__ = ["MAX_LEN", "generate"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

#: Largest input each harness is given (libFuzzer's -max_len).
MAX_LEN: dict[str, int] = {
    "zip": 160 * 1024,  # room for the wheels with vendored libz copies
    "elf": 192 * 1024,  # room for those copies, which define symbol versions
    "macho": 128 * 1024,  # room for the universal2 fixtures (arm64 slices are 16 KiB-paged)
    "metadata": 192 * 1024,  # room for a line longer than csv's 128 KiB field limit
    "sdist": 64 * 1024,
}

_EPOCH = (1980, 1, 1, 0, 0, 0)
_DIST_INFO_FILES = (".dist-info/WHEEL", ".dist-info/METADATA", ".dist-info/RECORD")


def _wheelbuild() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "truewheel_fuzz_wheelbuild", FIXTURES / "wheelbuild.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _fixture_module(stem: str) -> ModuleType:
    name = f"truewheel_fuzz_{stem}"
    spec = importlib.util.spec_from_file_location(name, FIXTURES / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _macho_seeds(tmp: Path) -> dict[str, bytes]:
    """Every Mach-O file of the fixture wheels and the other targets (tests/fixtures/
    machobuild.py); none when clang, ld64.lld or llvm-lipo is missing."""
    mb = _fixture_module("machobuild")
    found: dict[str, bytes] = {}
    for key, files in (mb.build_macos_binaries(tmp) or {}).items():
        for name, path in files.items():
            found[f"{key}-{Path(name).name}"] = path.read_bytes()
    for target, path in (mb.build_other_targets(tmp) or {}).items():
        found[target] = path.read_bytes()
    return found


def _digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _zip(members: Iterable[tuple[str, bytes]], method: int, *, zip64: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, _EPOCH)
            info.create_system = 3
            info.external_attr = (0o100755 if data[:4] == b"\x7fELF" else 0o100644) << 16
            info.compress_type = method
            with archive.open(info, "w", force_zip64=zip64) as handle:
                handle.write(data)
    return out.getvalue()


def _with_zip64_end(data: bytes) -> bytes:
    """The same zip ending with a zip64 end record and locator, as archives over 4 GiB do."""
    eocd_at = data.rindex(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack_from("<HII", data, eocd_at + 10)
    record = struct.pack(
        "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, cd_offset
    )
    locator = struct.pack("<IIQI", 0x07064B50, 0, eocd_at, 1)
    eocd = data[eocd_at : eocd_at + 10] + struct.pack("<HII", 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    return data[:eocd_at] + record + locator + eocd + data[eocd_at + 20 :]


def _members(wheel: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(wheel) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _tiny_wheel() -> list[tuple[str, bytes]]:
    """A pure wheel with every field a report reads, small enough to mutate quickly."""
    files = {
        "fuzz/__init__.py": b"VALUE = 1\n",
        "fuzz-1.0.dist-info/METADATA": (
            b"Metadata-Version: 2.4\nName: fuzz\nVersion: 1.0\nLicense-Expression: MIT\n"
            b"Requires-Dist: packaging>=24; python_version >= '3.8'\n"
            b"Requires-Dist: extra-thing[a,b]==1.*; extra == 'x'\n\nA description.\n"
        ),
        "fuzz-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: seeds.py\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\nTag: cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64\n"
        ),
    }
    rows = [f"{name},{_digest(data)},{len(data)}" for name, data in files.items()]
    record = "\n".join([*rows, "fuzz-1.0.dist-info/RECORD,,"]) + "\n"
    return [*files.items(), ("fuzz-1.0.dist-info/RECORD", record.encode())]


def _without_section_headers(elf: bytes) -> bytes:
    """The same ELF with e_shoff, e_shnum and e_shstrndx zeroed (a stripped-looking file)."""
    if elf[4] == 2:
        return elf[:0x28] + bytes(8) + elf[0x30:0x3C] + bytes(4) + elf[0x40:]
    return elf[:0x20] + bytes(4) + elf[0x24:0x30] + bytes(4) + elf[0x34:]


def _tiny_elf(elf_class: int, little: bool) -> bytes:
    """A shared object of a few hundred bytes: one PT_LOAD, a PT_DYNAMIC, no sections.

    Small seeds are mutated much faster, and these reach the 32-bit and big-endian
    paths that gcc on this machine does not produce.
    """
    end = "<" if little else ">"
    word = "I" if elf_class == 1 else "Q"
    strtab = b"\0libc.so.6\0libtiny.so.1\0$ORIGIN/../lib\0"
    dyn_fmt = struct.Struct(end + ("iI" if elf_class == 1 else "qQ"))
    header_size, phent = (52, 32) if elf_class == 1 else (64, 56)
    dyn_off = header_size + 2 * phent
    str_off = dyn_off + 6 * dyn_fmt.size
    dynamic = b"".join(
        dyn_fmt.pack(tag, value)
        for tag, value in ((5, str_off), (10, len(strtab)), (1, 1), (14, 11), (29, 24), (0, 0))
    )
    total = str_off + len(strtab)
    machine = (3 if little else 8) if elf_class == 1 else (62 if little else 43)
    ident = b"\x7fELF" + bytes([elf_class, 1 if little else 2, 1]) + bytes(9)
    # e_type DYN, e_machine, e_version, e_entry, e_phoff, e_shoff, e_flags, e_ehsize,
    # e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
    fields = (3, machine, 1, 0, header_size, 0, 0, header_size, phent, 2, 0, 0, 0)
    header = ident + struct.pack(end + f"HHI{word}{word}{word}IHHHHHH", *fields)
    size = len(dynamic)
    if elf_class == 1:  # p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align
        phdr = struct.Struct(end + "8I")
        load = phdr.pack(1, 0, 0, 0, total, total, 5, 0x1000)
        dyn = phdr.pack(2, dyn_off, dyn_off, dyn_off, size, size, 6, 4)
    else:  # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
        phdr = struct.Struct(end + "IIQQQQQQ")
        load = phdr.pack(1, 5, 0, 0, 0, total, total, 0x1000)
        dyn = phdr.pack(2, 6, dyn_off, dyn_off, dyn_off, size, size, 8)
    return header + load + dyn + dynamic + strtab


def _tar(
    entries: Iterable[tarfile.TarInfo | tuple[str, bytes]], fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as archive:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                archive.addfile(entry)
                continue
            name, data = entry
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 315532800
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mtime = kind, target, 315532800
    return info


def _sdist_seeds() -> dict[str, bytes]:
    project = FIXTURES / "buildproj"
    files = [
        (f"twbuild-1.0/{path.relative_to(project).as_posix()}", path.read_bytes())
        for path in sorted(project.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]
    links = [
        _link("twbuild-1.0/twbuild/alias.py", "__init__.py", tarfile.SYMTYPE),
        _link("twbuild-1.0/twbuild/hard.py", "twbuild-1.0/twbuild/__init__.py", tarfile.LNKTYPE),
        _link("twbuild-1.0/data", "", tarfile.DIRTYPE),
    ]
    long_name = [(f"twbuild-1.0/{'deep/' * 30}file.txt", b"x\n")]
    plain = _tar(files)
    return {
        "buildproj.tar": plain,
        "buildproj.tar.gz": gzip.compress(plain, mtime=0),
        "buildproj.zip": _zip(files, zipfile.ZIP_DEFLATED),
        "buildproj-stored.zip": _zip(files, zipfile.ZIP_STORED),
        "links.tar": _tar([*files[:2], *[files[-1]], *links]),
        "longname-gnu.tar": _tar(files[:1] + long_name, tarfile.GNU_FORMAT),
        "longname-pax.tar": _tar(files[:1] + long_name),
        "ustar.tar": _tar(files[:2], tarfile.USTAR_FORMAT),
        "flat.tar": _tar([("setup.py", b"from setuptools import setup\nsetup()\n")]),
    }


# --- PE/COFF (issue 14) ---------------------------------------------------------------------

MAX_LEN["pe"] = 64 * 1024  # the fixture DLLs and modules are 3-10 KB


def _pe_seeds() -> dict[str, bytes]:
    """Every DLL and .pyd of the Windows fixture wheels (mingw-w64 and lld-link builds);
    none when mingw-w64 is missing."""
    spec = importlib.util.spec_from_file_location("truewheel_fuzz_pebuild", FIXTURES / "pebuild.py")
    assert spec is not None and spec.loader is not None
    pebuild = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = pebuild
    spec.loader.exec_module(pebuild)
    found: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="truewheel-fuzz-pe-") as tmp:
        for case, wheel in sorted((pebuild.build_windows_wheels(Path(tmp)) or {}).items()):
            for name, data in _members(wheel):
                if name.endswith((".pyd", ".dll")) and data not in found.values():
                    found[f"{case}-{Path(name).name}"] = data
    return found


#: libFuzzer dictionaries: tokens whose meaning no coverage counter can hint at (magic numbers,
#: header names, characters that ``str.isdigit`` or ``str.splitlines`` treat unlike ASCII).
DICTIONARIES: dict[str, list[bytes]] = {
    "zip": [
        b"PK\x03\x04",
        b"PK\x01\x02",
        b"PK\x05\x06",
        b"PK\x06\x06",
        b"PK\x06\x07",
        b"PK\x07\x08",
        b"\x01\x00\x08\x00",
        b"\xff\xff\xff\xff",
        b"\x00\x08",
        b".dist-info/",
        b"RECORD",
        b"WHEEL",
        b"METADATA",
        b"\x7fELF",
        b"../",
        b"\\",
        b"\xc3\x28",
        b".so",
        b"Tag: ",
        b"Requires-Dist: ",
        b"sha256=",
        b"linux_x86_64",
        b"manylinux_2_17",
    ],
    "elf": [
        b"\x7fELF",
        b"GNU\x00",
        b"\x02\x80\x00\xc0",
        b"\x05\x00\x00\x00",
        b"$ORIGIN",
        b".dynstr",
        b".comment",
        b".debug_info",
        b".debug_str",
        b".note.gnu.property",
        b".gnu.version_r",
        b"GLIBC_2.17",
        b"GCC: (GNU) ",
        b"\xff\xff\xff\xff\xff\xff\xff\xff",
    ],
    "macho": [
        b"\xcf\xfa\xed\xfe",
        b"\xce\xfa\xed\xfe",
        b"\xfe\xed\xfa\xcf",
        b"\xca\xfe\xba\xbe",
        b"\xca\xfe\xba\xbf",
        b"\x0c\x00\x00\x01",
        b"\x07\x00\x00\x01",
        b"\x0c\x00\x00\x00",
        b"\x0d\x00\x00\x00",
        b"\x18\x00\x00\x80",
        b"\x1c\x00\x00\x80",
        b"\x1f\x00\x00\x80",
        b"\x23\x00\x00\x80",
        b"\x20\x00\x00\x00",
        b"\x19\x00\x00\x00",
        b"\x1b\x00\x00\x00",
        b"\x1d\x00\x00\x00",
        b"\x24\x00\x00\x00",
        b"\x32\x00\x00\x00",
        b"@rpath/",
        b"@loader_path/",
        b"/usr/lib/libSystem.B.dylib",
        b"\xff\xff\xff\xff",
    ],
    "metadata": [
        b"Metadata-Version: ",
        b"Name: ",
        b"Version: ",
        b"Requires-Dist: ",
        b"License: ",
        b"License-Expression: ",
        b"Provides-Extra: ",
        b"Dynamic: ",
        b"Wheel-Version: ",
        b"Root-Is-Purelib: ",
        b"Tag: ",
        b"Build: ",
        b"sha256=",
        b"sha512=",
        b"md5=",
        b"\xc2\xb2",
        b"\xd9\xa3",
        b"\xef\xbc\x91",
        b"\xe2\x91\xa0",
        b"\xe2\x80\xa8",
        b"\xc2\x85",
        b"\x1c",
        b"\r\n",
        b'"',
        b",",
        b"; extra == ",
        b"(((",
        b"\\",
    ],
    "sdist": [
        b"ustar\x0000",
        b"ustar  \x00",
        b"././@LongLink",
        b"path=",
        b"linkpath=",
        b"GNU.sparse.",
        b"PK\x03\x04",
        b"PK\x01\x02",
        b"PK\x05\x06",
        b"../",
        b"/etc/",
        b"pyproject.toml",
        b"setup.py",
        b"\x1f\x8b\x08",
        b"BZh9",
    ],
}


DICTIONARIES["pe"] = [
    b"MZ",
    b"PE\x00\x00",
    b"\x0b\x01",  # PE32 magic
    b"\x0b\x02",  # PE32+ magic
    b"\x64\x86",  # amd64
    b"\x4c\x01",  # i386
    b"\x64\xaa",  # arm64
    b"RSDS",
    b"NB10",
    b"Rich",
    b"DanS",
    b".idata\x00\x00",
    b".rdata\x00\x00",
    b".dll\x00",
    b"\xff\xff\xff\xff",
]


def _dict_entry(token: bytes) -> str:
    """One line of a libFuzzer dictionary, every byte escaped."""
    return '"' + "".join(f"\\x{byte:02x}" for byte in token) + '"\n'


def _write(directory: Path, seeds: dict[str, bytes], limit: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        if len(data) <= limit:
            (directory / name).write_bytes(data)


def generate(out: Path) -> dict[str, Path]:
    """Write ``out/<harness>/`` for every harness; return harness -> its seed directory."""
    wb = _wheelbuild()
    seeds: dict[str, dict[str, bytes]] = {name: {} for name in MAX_LEN}
    with tempfile.TemporaryDirectory(prefix="truewheel-fuzz-seeds-") as tmp:
        wheels = wb.build_fixture_wheels(Path(tmp))
        seeds["macho"] = _macho_seeds(Path(tmp) / "macho")
        for key, wheel in sorted(wheels.items()):
            members = _members(wheel)
            seeds["zip"][f"{key}.whl"] = wheel.read_bytes()
            seeds["zip"][f"{key}-stored.whl"] = _zip(members, zipfile.ZIP_STORED)
            for name, data in members:
                if data[:4] == b"\x7fELF":
                    stem = f"{key}-{Path(name).name}"
                    seeds["elf"][stem] = data
                    seeds["elf"][f"{stem}-noshdr"] = _without_section_headers(data)
                elif name.endswith(_DIST_INFO_FILES):
                    seeds["metadata"][f"{key}-{Path(name).name}"] = data
    tiny = _tiny_wheel()
    seeds["zip"]["tiny.whl"] = _zip(tiny, zipfile.ZIP_DEFLATED)
    seeds["zip"]["tiny-stored.whl"] = _zip(tiny, zipfile.ZIP_STORED)
    seeds["zip"]["tiny-zip64.whl"] = _with_zip64_end(_zip(tiny, zipfile.ZIP_STORED, zip64=True))
    for elf_class in (1, 2):
        for little in (True, False):
            seeds["elf"][f"tiny-{32 * elf_class}-{'le' if little else 'be'}"] = _tiny_elf(
                elf_class, little
            )
    for name, data in tiny:
        if "dist-info" in name:
            seeds["metadata"][f"tiny-{Path(name).name}"] = data
    seeds["metadata"]["crlf-continued"] = (
        b"Metadata-Version: 2.1\r\nName: fuzz\r\nVersion: 1.0\r\nSummary: one\r\n  two\r\n"
        b"tag: py3-none-any\r\nWheel-Version: 1.0\r\nRoot-Is-Purelib: false\r\n\r\nbody\r\n"
    )
    seeds["metadata"]["record-quoted"] = (
        b'"a,b.py",sha256=AAAA,3\n"q""uote.py",sha512=BBBB,\nc.py,,\n'
    )
    seeds["metadata"]["long-line"] = b"Name: fuzz\nVersion: 1.0\nSummary: " + b"s" * 150_000
    seeds["sdist"] = _sdist_seeds()
    seeds["pe"] = _pe_seeds()
    seeds["verify"] = _verify_seeds()
    dirs = {}
    for name, found in seeds.items():
        dirs[name] = out / name
        _write(dirs[name], found, MAX_LEN[name])
        (out / f"{name}.dict").write_text("".join(map(_dict_entry, DICTIONARIES[name])))
    return dirs


# --- verify's parsing of an sdist (issue 15) ---------------------------------------------------

MAX_LEN["verify"] = 16 * 1024

_PKG_INFO = (
    b"Metadata-Version: 2.2\nName: fuzz\nVersion: 1.0\nSummary: a fuzz seed\n"
    b"Requires-Python: >=3.8\nRequires-Dist: numpy>=1.26; python_version >= '3.9'\n"
    b"Dynamic: Requires-Dist\nProvides-Extra: test\n\nThe description.\n"
)
_METADATA = _PKG_INFO.replace(b"Dynamic: Requires-Dist\n", b"Requires-Dist: six\n")
_SETUP_PY = (
    b"from setuptools import setup\nDIRS = {'pkg': 'pkg_3', 'pkg.sub': './vendored/sub/'}\n"
    b"setup(name='fuzz', package_dir=DIRS)\nsetuptools.setup(package_dir=dict(pkg='lib'))\n"
)
_SETUP_CFG = b"[metadata]\nname = fuzz\n\n[options]\npackage_dir =\n    = src\n    pkg = lib/pkg\n"
_PYPROJECT = (
    b'[project]\nname = "fuzz"\n\n[tool.setuptools]\npackage-dir = {"" = "src", pkg = "lib"}\n'
)
_MESON = (
    b"custom_target('gen', output: ['_gen.pyx', 'config.py', 'data.npz'], input: 'gen.py',\n"
    b"  command: [py3, '@INPUT@', '-o', '@OUTDIR@'], install: true)\n"
)
_TEMPLATE = b'VERSION = "@VERSION@"\nCOMPILER = r"@CC@"\nCROSS = ${CROSS}\n'
_RENDERED = b'VERSION = "1.0"\nCOMPILER = r"gcc -O2"\nCROSS = False\n'
_SIGNATURE = (
    b"python module _fuzz ! in\n    interface\n    end interface\nend python module _fuzz\n"
)


def _verify_seeds() -> dict[str, bytes]:
    """Texts separated by NUL in ``harnesses.VERIFY_PARTS`` order: PKG-INFO, METADATA,
    setup.py, setup.cfg, pyproject.toml, meson.build, a template and its output."""
    full = [_PKG_INFO, _METADATA, _SETUP_PY, _SETUP_CFG, _PYPROJECT, _MESON, _TEMPLATE, _RENDERED]
    legacy = [p.replace(b"Metadata-Version: 2.2", b"Metadata-Version: 1.2") for p in full[:2]]
    version = b"# file generated by setuptools-scm\n__version__ = version = '1.0'\n"
    return {
        "full": b"\0".join(full),
        "legacy-metadata": b"\0".join([*legacy, *full[2:]]),
        "signature": b"\0".join([*full[:6], _SIGNATURE, version]),
        "crlf": b"\0".join(p.replace(b"\n", b"\r\n") for p in full),
        "pkg-info-only": _PKG_INFO,
    }


DICTIONARIES["verify"] = [
    b"\x00",
    b"package_dir",
    b"package-dir",
    b"[options]",
    b"[tool.setuptools]",
    b"setup(",
    b"dict(",
    b"output:",
    b"python module ",
    b"@VERSION@",
    b"${X}",
    b"Dynamic: ",
    b"Metadata-Version: 2.2",
    b"Requires-Dist: ",
    b"../",
    b"\\",
    b"\xc2\xb2",
]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: seeds.py OUT_DIR")
    for harness, directory in generate(Path(sys.argv[1])).items():
        print(f"{harness:9} {len(list(directory.iterdir())):3} seeds in {directory}")
