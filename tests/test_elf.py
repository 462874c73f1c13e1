"""The ELF reader on objects compiled here, checked against binutils."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from truewheel.analysis.member import analyze_bytes
from truewheel.elf import ElfFile
from truewheel.policy.libraries import LibraryTable

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
    paths = analyze_bytes(data, lib.name, LibraryTable.load()).build_paths
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


@pytest.mark.parametrize("eager", [16 << 20, 4096])
def test_streamed_facts_equal_whole_file_facts(
    fixture_wheels: dict[str, Path], monkeypatch: pytest.MonkeyPatch, eager: int
) -> None:
    """A member read as a stream of small chunks yields what the whole file yields.

    With the first 4 KiB kept instead of 16 MiB, the tables the dynamic section points
    to have gone by before it is read, so the reader must ask for them on a second pass.
    """
    import hashlib

    from truewheel.analysis import member as stream_analysis
    from truewheel.wheel.zipreader import ZipReader

    monkeypatch.setattr(stream_analysis, "EAGER_BYTES", eager)
    table = LibraryTable.load()
    compared = again = 0
    for wheel in fixture_wheels.values():
        with ZipReader(wheel) as reader:
            for member in reader.members:
                data = reader.read(member)
                if data[:4] != b"\x7fELF":
                    continue
                whole = ElfFile.parse(data)
                streamed = stream_analysis.analyze_stream(
                    lambda r=reader, m=member: r.stream(m, chunk_size=1000),  # type: ignore[misc]
                    member.file_size,
                    member.name,
                    table,
                )
                assert streamed.elf == whole, member.name
                assert streamed.digests["sha256"] == hashlib.sha256(data).digest()
                in_memory = stream_analysis.analyze_bytes(data, member.name, table)
                assert streamed.build_paths == in_memory.build_paths
                assert streamed.versions == in_memory.versions
                loader = stream_analysis.analyze_stream(
                    lambda r=reader, m=member: r.stream(m, chunk_size=1000),  # type: ignore[misc]
                    member.file_size,
                    member.name,
                    table,
                    deep=False,
                    digests=(),
                )
                assert loader.elf is not None
                for fact in _DYNAMIC_FACTS:
                    assert getattr(loader.elf, fact) == getattr(whole, fact), (member.name, fact)
                compared += 1
                again += streamed.passes > 1
    assert compared >= 10
    assert (again > 0) == (eager < 1 << 20)


TEMP_DIRS = r"""
const char *hb = "/tmp/highway-20240531-4238-1opfax/highway-1.2.0/hwy/aligned_allocator.cc";
const char *meson = "/project/.mesonpy-ab12cd34/src/module.c";
const char *ci = "/private/var/folders/v0/b5tl404n5h/T/build-via-sdist-fo1bh_l0/pkg/src/m.c";
/* Rust's strings have no NUL: two paths run together in one read-only blob */
const char run[] = {"/home/builder/registry/src/lib.rs/tmp/rust-20250515-8221-rntm20/core.rs"};
/* clarabel's: a crate's source under Cargo's home runs into text, then rustc's commit */
const char crate[] = {"/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/faer-0.21.9/"
    "src/sparse/linalg/cholesky.rsi8usizeIndexOverflow/rustc/17067e9ac6d7ecb70e50f92c1944e545"};
"""


def test_build_path_temp_dirs_and_run_together_strings(tmp_path: Path) -> None:
    """Homebrew's, meson-python's and cibuildwheel's temp dirs differ on every build; a path
    that runs into the next one is cut after its source file's name."""
    source = tmp_path / "temps.c"
    source.write_text(TEMP_DIRS)
    lib = tmp_path / "libtemps.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", str(source), "-o", str(lib)], check=True)
    paths = analyze_bytes(lib.read_bytes(), lib.name, LibraryTable.load()).build_paths
    found = {(p.root, p.randomized) for p in paths if p.section == ".rodata"}
    assert found == {
        ("/tmp/highway-20240531-4238-1opfax", True),
        ("/project/.mesonpy-ab12cd34", True),
        ("/private/var/folders/v0/b5tl404n5h/T/build-via-sdist-fo1bh_l0", True),
        ("/home/builder/registry", False),
        ("/root/.cargo", False),
    }
