"""Dynamic symbols with versions (elf/versions.py), checked against readelf.

The facts the unvendor ABI gate stands on: what a library copy defines, with every
version (hidden ones too), and what a consumer needs, name and version.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
from pathlib import Path

import pytest

from truewheel.elf.reader import ElfFile
from truewheel.elf.source import BytesSource
from truewheel.errors import ElfError

LIBRARY = """
int tw_old(int x) { return x; }
int tw_new(int x) { return x + 1; }
int tw_plain(int x) { return x * 2; }
__attribute__((visibility("hidden"))) int tw_hidden(int x) { return x - 1; }
__asm__(".symver tw_old, tw_value@TW_1");
__asm__(".symver tw_new, tw_value@@TW_2");
"""
VERSION_SCRIPT = """
TW_1 { global: tw_value; local: *; };
TW_2 { global: tw_value; tw_plain; } TW_1;
"""
CONSUMER = """
extern int tw_value(int);
extern int tw_plain(int);
extern int maybe(int) __attribute__((weak));
int use(int x) { return tw_value(x) + tw_plain(x) + (maybe ? maybe(x) : 0); }
"""


def symbols_of(path: Path) -> tuple[frozenset[tuple[str, str | None]], ...]:
    found = ElfFile.dynamic_symbols(BytesSource(path.read_bytes()))
    return found.defined, found.needed


def readelf_symbols(path: Path) -> tuple[set[tuple[str, str | None]], ...]:
    """Definitions (default or protected visibility) and non-weak needs, as readelf shows them.

    readelf prints a version's own marker symbol (``TW_2``, absolute) without its version.
    """
    text = subprocess.run(
        ["readelf", "--dyn-syms", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    defined, needed = set(), set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 8 or not re.fullmatch(r"[1-9]\d*:", fields[0]):
            continue
        bind, visibility, index, shown = fields[4], fields[5], fields[6], fields[7]
        if bind == "LOCAL":
            continue
        name, _, version = shown.replace("@@", "@").partition("@")
        symbol = (name, version or (name if index == "ABS" else None))
        if index == "UND":
            if bind != "WEAK":
                needed.add(symbol)
        elif visibility in ("DEFAULT", "PROTECTED"):
            defined.add(symbol)
    return defined, needed


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("versions")
    (work / "lib.c").write_text(LIBRARY)
    (work / "lib.map").write_text(VERSION_SCRIPT)
    (work / "use.c").write_text(CONSUMER)
    gcc = ["gcc", "-shared", "-fPIC"]
    subprocess.run(
        [
            *gcc,
            "-o",
            "libtwver.so.1",
            "-Wl,-soname,libtwver.so.1",
            "-Wl,--version-script=lib.map",
            "lib.c",
        ],
        cwd=work,
        check=True,
    )
    (work / "libtwver.so").symlink_to("libtwver.so.1")
    subprocess.run([*gcc, "-o", "libuse.so", "use.c", "-L.", "-ltwver"], cwd=work, check=True)
    return work


def test_a_library_defines_every_version_of_a_symbol(built: Path) -> None:
    defined, _ = symbols_of(built / "libtwver.so.1")
    assert {("tw_value", "TW_1"), ("tw_value", "TW_2"), ("tw_plain", "TW_2")} <= defined
    assert not any(name in ("tw_old", "tw_new", "tw_hidden") for name, _ in defined)
    assert defined == readelf_symbols(built / "libtwver.so.1")[0]


def test_a_consumer_needs_names_at_versions_and_not_its_weak_ones(built: Path) -> None:
    _, needed = symbols_of(built / "libuse.so")
    assert {("tw_value", "TW_2"), ("tw_plain", "TW_2")} <= needed
    assert not any(name == "maybe" for name, _ in needed)
    assert needed == readelf_symbols(built / "libuse.so")[1]


@pytest.mark.parametrize("soname", ["libgmp.so.10", "libz.so.1", "libstdc++.so.6"])
def test_system_libraries_agree_with_readelf(soname: str) -> None:
    candidates = [Path(d) / soname for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64")]
    found = [p for p in candidates if p.exists()]
    if not found:
        pytest.skip(f"{soname} is not installed here")
    path = Path(os.path.realpath(found[0]))
    defined, needed = symbols_of(path)
    assert len(defined) > 50
    assert (set(defined), set(needed)) == readelf_symbols(path)


def test_versions_outside_the_file_are_an_elf_error(built: Path) -> None:
    """A DT_VERSYM pointing past every load segment: one ElfError, no traceback."""
    data = (built / "libtwver.so.1").read_bytes()
    found = ElfFile.read(BytesSource(data))
    address = next(
        v
        for t, v in struct.iter_unpack("<qQ", data[found.sections[".dynamic"].offset :][:4096])
        if t == 0x6FFFFFF0
    )
    entry = struct.pack("<qQ", 0x6FFFFFF0, address)
    broken = data.replace(entry, struct.pack("<qQ", 0x6FFFFFF0, 0x7FFF_FFFF_0000), 1)
    assert broken != data
    with pytest.raises(ElfError):
        ElfFile.dynamic_symbols(BytesSource(broken))


def test_gold_writes_index_zero_on_references_and_they_are_still_needs(tmp_path: Path) -> None:
    """gold marks an unversioned reference with version index 0, which on a definition would
    mean "local": ld.so still binds it by name, so the ABI gate must count it."""
    if subprocess.run(["gcc", "-fuse-ld=gold", "--version"], capture_output=True).returncode:
        pytest.skip("gcc cannot link with gold here")
    (tmp_path / "l.c").write_text("int tw_open(int x) { return x; }\n")
    (tmp_path / "c.c").write_text(
        "#include <stdio.h>\nextern int tw_open(int);\n"
        'int use(int x) { printf("%d", x); return tw_open(x); }\n'
    )
    gcc = ["gcc", "-shared", "-fPIC"]
    subprocess.run([*gcc, "-o", "libl.so", "l.c"], cwd=tmp_path, check=True)
    argv = [*gcc, "-fuse-ld=gold", "-o", "libc-gold.so", "c.c", "-L.", "-ll"]
    subprocess.run(argv, cwd=tmp_path, check=True)
    data = (tmp_path / "libc-gold.so").read_bytes()
    found = ElfFile.dynamic_symbols(BytesSource(data))
    assert ("tw_open", None) in found.needed
    assert {name for name, _ in found.needed} == {
        n for n, _ in readelf_symbols(tmp_path / "libc-gold.so")[1]
    }
