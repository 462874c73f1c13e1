"""The unvendor ABI gate (analysis/abi.py) against what ld.so does with the same files.

Two builds of one library: v1 defines ``tw_value@TW_1``; v2 adds ``tw_value@@TW_2`` and
``tw_plain@TW_2`` and keeps ``tw_value@TW_1``.  A consumer linked against v2 must not be
given v1 (the loader refuses: version `TW_2' not found); one linked against v1 may be
given v2.  The gate says so, and dlopen agrees.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from truewheel.analysis.abi import abi_gate, bound_to
from truewheel.elf.reader import ElfFile
from truewheel.elf.source import BytesSource
from truewheel.elf.versions import DynamicSymbols

V1 = ("int tw_value(int x) { return x; }\n", "TW_1 { global: tw_value; local: *; };\n")
V2 = (
    "int tw_old(int x) { return x; }\n"
    "int tw_new(int x) { return x + 1; }\n"
    "int tw_plain(int x) { return x * 2; }\n"
    '__asm__(".symver tw_old, tw_value@TW_1");\n'
    '__asm__(".symver tw_new, tw_value@@TW_2");\n',
    "TW_1 { global: tw_value; local: *; };\nTW_2 { global: tw_value; tw_plain; } TW_1;\n",
)
USES_V2 = (
    "extern int tw_value(int); extern int tw_plain(int);\n"
    "int use(int x) { return tw_value(x) + tw_plain(x); }\n"
)
USES_V1 = "extern int tw_value(int);\nint use(int x) { return tw_value(x); }\n"


def symbols(path: Path) -> DynamicSymbols:
    return ElfFile.dynamic_symbols(BytesSource(path.read_bytes()))


def library(work: Path, name: str, source: tuple[str, str]) -> Path:
    directory = work / name
    directory.mkdir()
    (directory / "lib.c").write_text(source[0])
    (directory / "lib.map").write_text(source[1])
    argv = ["gcc", "-shared", "-fPIC", "-o", "libtwver.so.1", "-Wl,-soname,libtwver.so.1"]
    subprocess.run([*argv, "-Wl,--version-script=lib.map", "lib.c"], cwd=directory, check=True)
    (directory / "libtwver.so").symlink_to("libtwver.so.1")
    return directory / "libtwver.so.1"


def consumer(work: Path, name: str, code: str, against: Path) -> Path:
    (work / f"{name}.c").write_text(code)
    argv = ["gcc", "-shared", "-fPIC", "-o", f"{name}.so", f"{name}.c"]
    subprocess.run([*argv, f"-L{against.parent}", "-ltwver"], cwd=work, check=True)
    return work / f"{name}.so"


def loads(consumer_file: Path, library_file: Path) -> bool:
    """dlopen in a fresh interpreter, with only ``library_file``'s directory to search."""
    env = {**os.environ, "LD_LIBRARY_PATH": str(library_file.parent)}
    code = f"import ctypes; ctypes.CDLL({str(consumer_file)!r})"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return done.returncode == 0


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("abi")
    v1, v2 = library(work, "v1", V1), library(work, "v2", V2)
    return {
        "v1": v1,
        "v2": v2,
        "uses-v2": consumer(work, "uses_v2", USES_V2, v2),
        "uses-v1": consumer(work, "uses_v1", USES_V1, v1),
    }


def test_the_older_copy_cannot_serve_a_consumer_of_the_newer(files: dict[str, Path]) -> None:
    needs = bound_to(symbols(files["uses-v2"]), symbols(files["v2"]))
    verdict = abi_gate(symbols(files["v1"]), {"uses_v2.so": needs})
    assert not verdict.passes
    assert verdict.missing == {"uses_v2.so": [("tw_plain", "TW_2"), ("tw_value", "TW_2")]}
    assert not loads(files["uses-v2"], files["v1"]), "ld.so refuses it too"


def test_the_newer_copy_serves_both(files: dict[str, Path]) -> None:
    candidate = symbols(files["v2"])
    consumers = {
        "uses_v2.so": bound_to(symbols(files["uses-v2"]), candidate),
        "uses_v1.so": bound_to(symbols(files["uses-v1"]), symbols(files["v1"])),
    }
    assert consumers["uses_v1.so"] == {("tw_value", "TW_1")}
    assert abi_gate(candidate, consumers).passes
    assert loads(files["uses-v2"], files["v2"]) and loads(files["uses-v1"], files["v2"])


def test_what_a_consumer_takes_from_libc_is_not_asked_of_the_copy(files: dict[str, Path]) -> None:
    needs = bound_to(symbols(files["uses-v2"]), symbols(files["v2"]))
    assert all(name.startswith("tw_") for name, _ in needs)
