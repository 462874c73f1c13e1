"""The ELF reader on objects compiled here, checked against binutils."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from truewheel.elf import ElfFile
from truewheel.elf.buildpaths import find_build_paths

SOURCE = (
    'int twice(int x) { return 2 * x; }\nconst char *where = "/home/builder/src/proj/twice.c";\n'
)


def compile_c(tmp_path: Path, name: str, *flags: str) -> Path:
    source = tmp_path / "twice.c"
    source.write_text(SOURCE)
    out = tmp_path / name
    subprocess.run(["gcc", "-O2", *flags, str(source), "-o", str(out)], check=True)
    return out


def readelf(path: Path, *options: str) -> str:
    return subprocess.run(
        ["readelf", "-W", *options, str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_isa_level_from_gnu_property_note(tmp_path: Path) -> None:
    lib = compile_c(
        tmp_path, "libv3.so", "-shared", "-fPIC", "-march=x86-64-v3", "-Wl,-z,x86-64-v3"
    )
    assert "x86 ISA needed: x86-64-v3" in readelf(lib, "-n")
    assert ElfFile.parse(lib.read_bytes()).x86_isa_level == "x86-64-v3"
    baseline = compile_c(tmp_path, "libv1.so", "-shared", "-fPIC")
    assert ElfFile.parse(baseline.read_bytes()).x86_isa_level is None


def test_dependencies_survive_without_section_headers(tmp_path: Path) -> None:
    lib = compile_c(
        tmp_path,
        "libz-user.so",
        "-shared",
        "-fPIC",
        "-Wl,-soname,libtw.so.3",
        "-lz",
        "-Wl,--no-as-needed",
    )
    data = bytearray(lib.read_bytes())
    struct.pack_into("<QHHH", data, 0x28, 0, 0, 0, 0)  # e_shoff .. e_shnum .. e_shstrndx
    struct.pack_into("<H", data, 0x3C, 0)
    elf = ElfFile.parse(bytes(data))
    assert elf.sections == {}
    assert elf.soname == "libtw.so.3"
    assert "libc.so.6" in elf.needed
    assert elf.version_needs, "verneed is reached through DT_VERNEED, not the section table"


def test_relocatable_32_bit_object(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, "twice32.o", "-m32", "-c")
    elf = ElfFile.parse(obj.read_bytes())
    assert (elf.elf_class, elf.type, elf.architecture) == (32, "REL", "i686")
    assert elf.needed == []


def test_toolchain_and_build_paths(tmp_path: Path) -> None:
    lib = compile_c(tmp_path, "libpaths.so", "-shared", "-fPIC", "-g")
    data = lib.read_bytes()
    elf = ElfFile.parse(data)
    assert elf.has_debug_info
    assert any(c.startswith("GCC: (") for c in elf.comment)
    paths = find_build_paths(elf, data)
    assert any(p.root == "/home/builder/src" and p.section == ".rodata" for p in paths)
    # the compile directory (pytest's tmp_path, under /tmp) is recorded in DWARF
    assert any(p.section.startswith(".debug") and str(tmp_path).startswith(p.root) for p in paths)


@pytest.mark.parametrize(
    "path", ["/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libgomp.so.1"]
)
def test_system_libraries_match_readelf(path: str) -> None:
    lib = Path(path).resolve()
    elf = ElfFile.parse(lib.read_bytes())
    dynamic = readelf(lib, "-d")
    assert elf.needed == [
        line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line
    ]
    assert f"[{elf.soname}]" in dynamic
    defs = readelf(lib, "-V")
    for name in elf.version_defs:
        assert f"Name: {name}" in defs


_DYNAMIC_FACTS = [
    "elf_class",
    "machine",
    "type",
    "is_pie",
    "interpreter",
    "soname",
    "needed",
    "rpath",
    "runpath",
    "version_needs",
    "version_defs",
    "build_id",
    "isa_needed",
]


def test_prefix_parse_gives_the_dynamic_facts(fixture_wheels: dict[str, Path]) -> None:
    """What repair plans from: the same facts from the start of a member as from all of it."""
    from truewheel.errors import ElfError
    from truewheel.wheel.zipreader import ZipReader

    parsed = fell_back = 0
    for wheel in fixture_wheels.values():
        with ZipReader(wheel) as reader:
            for member in reader.members:
                data = reader.read(member)
                if data[:4] != b"\x7fELF":
                    continue
                head = reader.read_head(member, 4096)
                assert head == data[:4096]
                needed = ElfFile.prefix_size(head)
                assert needed is not None and needed <= len(data)
                prefix = reader.read_head(member, needed)
                assert prefix == data[:needed]
                full = ElfFile.parse(data)
                try:
                    partial = ElfFile.parse(prefix, prefix=True)
                except ElfError:
                    fell_back += 1  # e.g. patchelf moved .dynstr to the end of the file
                    continue
                parsed += 1
                assert partial.sections == {} and full.sections
                for fact in _DYNAMIC_FACTS:
                    assert getattr(partial, fact) == getattr(full, fact), (member.name, fact)
    assert parsed >= 10
    assert fell_back >= 1
