"""The PE reader against DLLs and .pyd modules built here, checked with llvm-readobj.

Fixtures come from tests/fixtures/pebuild.py (mingw-w64 and lld-link); a real MSVC-linked
module from PyPI (gmpy2) covers the Rich header, which neither of those linkers writes.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import random
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from conftest import _load_fixture_module
from pe_readobj import READOBJ, readobj
from truewheel.elf.source import BytesSource, RangeSet, SparseSource, Unavailable
from truewheel.errors import PEError
from truewheel.pe import PEFile, is_pe, pe_ranges, pe_tables, read_pe
from truewheel.pe import _layout as L

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"


def _load_fuzz_module(path: Path) -> ModuleType:
    name = f"truewheel_fuzz_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def pebuild() -> ModuleType:
    return _load_fixture_module("pebuild")


@pytest.fixture(scope="module")
def windows_wheels(
    pebuild: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    wheels: dict[str, Path] | None = pebuild.build_windows_wheels(tmp_path_factory.mktemp("win"))
    if wheels is None:
        pytest.skip("mingw-w64 is not installed")
    return wheels


@pytest.fixture(scope="module")
def images(
    windows_wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Every DLL and .pyd of every fixture wheel, unpacked: "case/member" -> file."""
    root = tmp_path_factory.mktemp("win-images")
    found = {}
    for case, wheel in windows_wheels.items():
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith((".pyd", ".dll")):
                    path = root / case / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(archive.read(name))
                    found[f"{case}/{name}"] = path
    return found


def _read(data: bytes | bytearray) -> PEFile:
    return read_pe(BytesSource(data, error=PEError))


def _module(images: dict[str, Path], case: str) -> Path:
    return next(p for k, p in images.items() if k.startswith(f"{case}/") and k.endswith(".pyd"))


def _dep(images: dict[str, Path], case: str) -> Path:
    return next(p for k, p in images.items() if k.startswith(f"{case}/twwin.libs/"))


def _signature(entry: dict[str, str]) -> str:
    """The GUID-age string from llvm-readobj's bytes, in the registry order of its fields."""
    raw = bytes.fromhex(entry["PDBGUID"].strip("()").replace(" ", ""))
    d1, d2, d3 = struct.unpack_from("<IHH", raw)
    return f"{d1:08X}{d2:04X}{d3:04X}{raw[8:].hex().upper()}-{int(entry['PDBAge']):X}"


@pytest.mark.skipif(READOBJ is None, reason="llvm-readobj is not installed")
def test_every_image_agrees_with_llvm_readobj(images: dict[str, Path]) -> None:
    assert len(images) >= 18  # a module and the vendored DLL in each case
    for key, path in images.items():
        pe, ref = _read(path.read_bytes()), readobj(path)
        assert (pe.machine, pe.timestamp, pe.characteristics) == (
            ref.machine,
            ref.timestamp,
            ref.characteristics,
        ), key
        assert pe.pe32_plus == (ref.magic == L.PE32_PLUS_MAGIC), key
        assert (pe.subsystem, pe.dll_characteristics) == (ref.subsystem, ref.dll_characteristics)
        sections = [
            (
                s["Name"].split(" (")[0],
                int(s["VirtualSize"], 16),
                int(s["VirtualAddress"], 16),
                int(s["RawDataSize"]),
                int(s["PointerToRawData"], 16),
                int(s["Characteristics"]),
            )
            for s in ref.sections
        ]
        assert [
            (s.name, s.virtual_size, s.virtual_address, s.size, s.offset, s.characteristics)
            for s in pe.sections
        ] == sections, key
        assert list(pe.imports) == ref.imports, key
        assert list(pe.delay_imports) == ref.delay_imports, key
        assert pe.export_count == len([n for n in ref.export_names if n]), key
        assert [L.DEBUG_TYPES[int(_paren(e["Type"]), 16)] for e in ref.debug] == [
            e.type for e in pe.debug
        ], key
        assert [int(_paren(e["TimeDateStamp"]), 16) for e in ref.debug] == [
            e.timestamp for e in pe.debug
        ]
        assert [e.get("PDBFileName") for e in ref.debug] == [e.pdb_path for e in pe.debug]
        assert [_signature(e) if "PDBGUID" in e else None for e in ref.debug] == [
            e.pdb_signature for e in pe.debug
        ]
        assert pe.dependent_load_flags == ref.dependent_load_flags, key


def _paren(value: str) -> str:
    return value.rsplit("(", 1)[1].rstrip(")")


def test_the_cases_carry_what_they_are_named_for(
    images: dict[str, Path], pebuild: ModuleType
) -> None:
    amd64, dep = _read(_module(images, "amd64").read_bytes()), _dep(images, "amd64")
    assert amd64.arch == "amd64" and amd64.pe32_plus and amd64.is_dll
    assert amd64.imports == (
        dep.name,
        "KERNEL32.dll",
        "api-ms-win-crt-string-l1-1-0.dll",
        "python311.dll",
        "vcruntime140.dll",
    )
    assert (amd64.export_name, amd64.export_count) == ("_core.cp311-win_amd64.pyd", 1)
    assert amd64.debug == () and amd64.rich == () and amd64.overlay == 0 and not amd64.signed
    # The vendored DLL keeps the name it was linked as; only its file name is mangled.
    assert _read(dep.read_bytes()).export_name == "twdep.dll"
    assert dep.name.startswith("twdep-") and len(dep.name) == len("twdep-12345678.dll")

    win32 = _read(_module(images, "win32").read_bytes())
    assert (win32.arch, win32.pe32_plus, win32.machine) == ("x86", False, 0x14C)
    assert _read(_module(images, "wrong_machine").read_bytes()).arch == "amd64"
    assert "libgmp-10.dll" in _read(_module(images, "missing_dll").read_bytes()).imports
    assert "msvcp140.dll" in _read(_module(images, "msvc_runtime").read_bytes()).imports

    overlay = _module(images, "overlay").read_bytes()
    assert _read(overlay).overlay == len(pebuild.OVERLAY)
    assert _read(overlay).image_end == len(overlay) - len(pebuild.OVERLAY)


def test_lld_cases(images: dict[str, Path], pebuild: ModuleType) -> None:
    if not any(k.startswith("delay/") for k in images):
        pytest.skip("clang, lld-link or llvm-dlltool is not installed")
    delay = _read(_module(images, "delay").read_bytes())
    assert delay.delay_imports == (_dep(images, "delay").name,)
    assert _dep(images, "delay").name not in delay.imports
    assert delay.dependent_load_flags == pebuild.DEPENDENT_LOAD_FLAGS
    assert [e.type for e in delay.debug] == ["repro"]
    pdb = _read(_module(images, "pdb").read_bytes())
    assert pdb.pdb_paths == (pebuild.PDB_PATH,)
    assert pdb.debug[0].type == "codeview" and pdb.debug[0].timestamp == pdb.timestamp


def test_fixture_wheels_are_valid(windows_wheels: dict[str, Path]) -> None:
    """Each wheel's WHEEL tag is its file name's, and RECORD lists every member's hash."""
    assert {"amd64", "win32", "wrong_machine", "missing_dll", "msvc_runtime"} <= set(windows_wheels)
    assert {"overlay", "load_order"} <= set(windows_wheels)
    for case, wheel in windows_wheels.items():
        dist, version, tag = wheel.name.removesuffix(".whl").split("-", 2)
        with zipfile.ZipFile(wheel) as archive:
            wheel_file = archive.read(f"{dist}-{version}.dist-info/WHEEL").decode()
            assert f"Tag: {tag}\n" in wheel_file, case
            rows = archive.read(f"{dist}-{version}.dist-info/RECORD").decode().splitlines()
            record = {r.split(",")[0]: r.split(",")[1] for r in rows}
            for name in archive.namelist():
                data = archive.read(name)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                expected = "" if name.endswith("RECORD") else f"sha256={digest.decode()}"
                assert record[name] == expected, (case, name)
            if dist == "twpw":  # pywin32's shape: a .pth-run bootstrap, no package loader
                assert "twpw/__init__.py" not in archive.namelist()
                assert "import twpw_bootstrap" in archive.read("twpw.pth").decode() or (
                    case == "pth_no_import"
                )
                continue
            assert dist == "twwin", case
            init = archive.read("twwin/__init__.py").decode()
            assert "# start delvewheel patch" in init and "# end delvewheel patch" in init
            load_order = "twwin.libs/.load-order-twwin-1.0"
            assert (load_order in archive.namelist()) == (case == "load_order")
            assert ("os.add_dll_directory" in init) == (case != "load_order")
    assert windows_wheels["wrong_machine"].name.endswith("-win32.whl")


def test_streaming_reads_the_same_facts_from_what_was_kept(images: dict[str, Path]) -> None:
    """Through the fuzz harness's stream reader (fuzz/harnesses.py ``pe_streamed``)."""
    harnesses = _load_fuzz_module(FUZZ_DIR / "harnesses.py")
    for key, path in images.items():
        data = path.read_bytes()
        whole = _read(data)
        for eager in (64, 1024):
            streamed, passes, kept = harnesses.pe_streamed(data, eager)
            assert streamed == whole, key
            assert passes <= (3 if eager >= 1024 else 8), (key, eager, passes)
            assert kept < len(data), (key, kept, len(data))


def test_is_pe(images: dict[str, Path]) -> None:
    data = _module(images, "amd64").read_bytes()
    assert is_pe(data[:1024])
    assert not is_pe(data[:64]) and not is_pe(b"\x7fELF" + data[4:1024])
    assert not is_pe(data[:0x3C] + b"\xff\xff\x00\x00" + data[0x40:1024])


def test_sparse_source_with_little_kept_asks_for_more(images: dict[str, Path]) -> None:
    data = _module(images, "amd64").read_bytes()
    source = SparseSource(len(data), RangeSet([(0, 64)]), error=PEError)
    source.feed(0, data)
    for call in (pe_ranges, pe_tables, read_pe):
        with pytest.raises(Unavailable):
            call(source)


# --------------------------------------------------------------------------------------------
# Bad input: real images corrupted in code; PEError and nothing else.


def _e_lfanew(data: bytes | bytearray) -> int:
    value: int = struct.unpack_from("<I", data, 0x3C)[0]
    return value


def _directory_at(data: bytes | bytearray, index: int) -> int:
    """File offset of data directory ``index`` in the optional header."""
    opt = _e_lfanew(data) + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    return opt + L.OPT_NUMBER_OF_RVA[magic] + 4 + 8 * index


def _refused(data: bytes | bytearray, match: str | None = None) -> PEError:
    with pytest.raises(PEError, match=match) as caught:
        _read(bytes(data))
    return caught.value


def test_truncation_at_many_cut_points(images: dict[str, Path]) -> None:
    for case in ("amd64", "win32", "delay", "pdb"):
        if not any(k.startswith(f"{case}/") for k in images):
            continue
        data = _module(images, case).read_bytes()
        whole = _read(data)
        sections_end = max(s.offset + s.size for s in whole.sections)
        for cut in [*range(0, 1100, 7), *range(1100, len(data), 61)]:
            try:
                _read(data[:cut])
            except PEError:
                continue
            # Only the COFF symbol table (the loader ignores it) may be cut without an error.
            assert cut >= sections_end, (case, cut)


def test_e_lfanew_past_the_end(images: dict[str, Path]) -> None:
    data = bytearray(_module(images, "amd64").read_bytes())
    struct.pack_into("<I", data, 0x3C, len(data) + 16)
    _refused(data, "e_lfanew")
    struct.pack_into("<I", data, 0x3C, 0xFFFFFFFF)
    _refused(data, "e_lfanew")


def test_number_of_sections_huge(images: dict[str, Path]) -> None:
    data = bytearray(_module(images, "amd64").read_bytes())
    struct.pack_into("<H", data, _e_lfanew(data) + 6, 0xFFFF)
    _refused(data, "sections")
    struct.pack_into("<H", data, _e_lfanew(data) + 6, 200)  # fits the cap, not the file
    _refused(data)


def test_rvas_outside_every_section(images: dict[str, Path]) -> None:
    data = _module(images, "amd64").read_bytes()
    for index in (L.DIR_IMPORT, L.DIR_EXPORT, L.DIR_DEBUG, L.DIR_DELAY_IMPORT):
        bad = bytearray(data)
        struct.pack_into("<II", bad, _directory_at(bad, index), 0x7FFF0000, 0x40)
        _refused(bad, "outside every section")


def test_import_names_pointing_outside_the_file(images: dict[str, Path]) -> None:
    data = bytearray(_module(images, "amd64").read_bytes())
    rva = struct.unpack_from("<I", data, _directory_at(data, L.DIR_IMPORT))[0]
    at = next(
        s.offset + rva - s.virtual_address for s in _read(data).sections if s.name == ".idata"
    )
    struct.pack_into("<I", data, at + 12, 0xFFFFFF00)  # the first descriptor's Name
    _refused(data, "outside every section")


def test_import_table_that_loops(images: dict[str, Path]) -> None:
    """Descriptors repeating without end (every one naming the same DLL) until the section
    ends, and a run of them past the cap: refused, in bounded time."""
    data = bytearray(_module(images, "amd64").read_bytes())
    idata = next(s for s in _read(data).sections if s.name == ".idata")
    rva = struct.unpack_from("<I", data, _directory_at(data, L.DIR_IMPORT))[0]
    at = idata.offset + rva - idata.virtual_address
    first = bytes(data[at : at + 20])
    loop = bytearray(data)
    end = idata.offset + idata.size
    loop[at:end] = (first * ((end - at) // 20 + 1))[: end - at]
    _refused(loop, "unterminated")

    # A section grown to hold more descriptors than the cap: 30 000 of them.
    big = bytearray(data)
    table = first * 30_000
    section_at = _e_lfanew(big) + 24 + struct.unpack_from("<H", big, _e_lfanew(big) + 20)[0]
    index = [s.name for s in _read(data).sections].index(".idata")
    header = section_at + 40 * index
    tail = len(big)
    big += table
    struct.pack_into("<II", big, header + 8, 0x7F000000, 0x100000)  # VirtualSize, VirtualAddress
    struct.pack_into("<II", big, header + 16, len(table), tail)  # SizeOfRawData, Pointer
    struct.pack_into("<I", big, _directory_at(big, L.DIR_IMPORT), 0x100000)
    _refused(big, "over 1024 entries")


def test_debug_directory_too_long(images: dict[str, Path]) -> None:
    data = bytearray(_module(images, "amd64").read_bytes())
    struct.pack_into("<II", data, _directory_at(data, L.DIR_DEBUG), 0x1000, 0x10000000)
    _refused(data, "debug directory")


def _mutations(data: bytes, count: int, seed: int) -> list[bytes]:
    """Byte, word and dword overwrites in the first 1 KiB (headers, tables) and anywhere."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            span = 1024 if rng.random() < 0.7 else len(bad)
            at = rng.randrange(min(span, len(bad) - 4))
            value = rng.choice((0, 0xFF, 0xFFFF, 0xFFFFFFFF, rng.getrandbits(32)))
            struct.pack_into("<I", bad, at, value & 0xFFFFFFFF)
        out.append(bytes(bad))
    return out


def test_corrupted_images_raise_only_pe_errors(images: dict[str, Path]) -> None:
    """Whole-file and sparse reads of corrupted images: a result or PEError (or, from a
    sparse source, Unavailable), never another exception."""
    for key, path in images.items():
        if not key.endswith(".pyd"):
            continue
        for bad in _mutations(path.read_bytes(), 60, hash(key) & 0xFFFF):
            try:
                _read(bad)
            except PEError:
                pass
            source = SparseSource(len(bad), RangeSet([(0, 700)]), error=PEError)
            source.feed(0, bad)
            for call in (pe_ranges, pe_tables, read_pe):
                try:
                    call(source)
                except (PEError, Unavailable):
                    pass


def test_certificate_table(images: dict[str, Path]) -> None:
    """A certificate table appended after the image makes it signed and moves image_end;
    one that runs past the end of the file is refused."""
    data = bytearray(_module(images, "amd64").read_bytes())
    certificate = struct.pack("<IHH", 16, 0x200, 2) + b"\x30\x82\x00\x00" * 2
    offset = len(data)
    data += certificate
    struct.pack_into("<II", data, _directory_at(data, L.DIR_SECURITY), offset, len(certificate))
    pe = _read(data)
    assert pe.signed and pe.image_end == len(data) and pe.overlay == 0
    struct.pack_into("<II", data, _directory_at(data, L.DIR_SECURITY), offset, 4096)
    _refused(data, "certificate")


# --------------------------------------------------------------------------------------------
# The Rich header of a real MSVC-linked module (gmpy2's Windows wheel from PyPI).


@pytest.fixture(scope="module")
def msvc_wheel(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gmpy2's Windows wheel (its module is linked by MSVC), downloaded once into pytest's
    cache; the test skips when PyPI is out of reach."""
    cache = getattr(pytestconfig, "cache", None)
    where = Path(cache.mkdir("pe-wheels")) if cache else tmp_path_factory.mktemp("pe-pypi")
    found = sorted(where.glob("gmpy2-2.3.2-*.whl"))
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:"]
        cmd += ["--no-deps", "--platform", "win_amd64", "--python-version", "3.11"]
        cmd += ["gmpy2==2.3.2", "-d", str(where)]
        if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
            pytest.skip("PyPI is not reachable: no MSVC-linked wheel to read")
        found = sorted(where.glob("gmpy2-2.3.2-*.whl"))
    return found[0]


def _rich_key(data: bytes, dans: int, entries: list[tuple[int, int]]) -> int:
    """The Rich key as link.exe computes it: the DanS offset, plus each byte of the stub
    before it (e_lfanew's four bytes left out) rotated left by its offset, plus each
    comp.id rotated left by its count, all modulo 2**32."""

    def rol(value: int, shift: int) -> int:
        shift %= 32
        return ((value << shift) | (value >> (32 - shift))) & 0xFFFFFFFF

    key = dans
    for i in range(dans):
        if not 0x3C <= i < 0x40:
            key = (key + rol(data[i], i)) & 0xFFFFFFFF
    for comp_id, count in entries:
        key = (key + rol(comp_id, count)) & 0xFFFFFFFF
    return key


def test_rich_header_of_an_msvc_module(msvc_wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(msvc_wheel) as archive:
        data = archive.read("gmpy2/gmpy2.cp311-win_amd64.pyd")
    pe = _read(data)
    assert pe.rich and all(e.count > 0 for e in pe.rich)
    # Invariants checked from the bytes here, not through the reader: "Rich" and the key
    # after it, "DanS" XOR key at the start, three zero DWORDs, and a key equal to the
    # checksum over the stub and the entries the reader decoded.
    marker = data.rindex(b"Rich", 0, _e_lfanew(data))
    key = struct.unpack_from("<I", data, marker + 4)[0]
    dans = marker - 8 * len(pe.rich) - 16
    assert struct.unpack_from("<I", data, dans)[0] ^ key == 0x536E6144  # "DanS"
    assert [struct.unpack_from("<I", data, dans + 4 * i)[0] for i in (1, 2, 3)] == [key] * 3
    entries = [((e.product << 16) | e.build, e.count) for e in pe.rich]
    assert _rich_key(data, dans, entries) == key
    # MSVC's product ids sit in the low hundreds (1 is "Import0": imports of unknown origin,
    # build 0); the last entry is the linker itself, which has a build number.
    assert all(e.product < 0x400 for e in pe.rich) and pe.rich[-1].build
    if READOBJ is not None:
        path = tmp_path / "gmpy2.cp311-win_amd64.pyd"
        path.write_bytes(data)
        ref = readobj(path)
        assert list(pe.imports) == ref.imports and pe.machine == ref.machine
        assert [e.type for e in pe.debug] == [
            L.DEBUG_TYPES[int(_paren(e["Type"]), 16)] for e in ref.debug
        ]


def test_gnu_and_lld_images_have_no_rich_header(images: dict[str, Path]) -> None:
    assert all(_read(p.read_bytes()).rich == () for p in images.values())
