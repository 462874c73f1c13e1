"""Imported symbols: the reader's undefined dynamic symbols, black-lists and CPython builds.

Real modules built by gcc (``fixtures/symbolsbuild.py``): an fpectl module (PyFPE_jbuf), one
calling zlib's internal zcalloc, and a narrow-unicode Python 2 module.  The reader's imports are
checked against ``readelf --dyn-syms``; inspect, repair and pip are run on the wheels, and what
the findings claim (the module fails to import, the call fails) is shown to happen.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from functools import partial
from pathlib import Path
from types import ModuleType

import pytest

from conftest import _load_fixture_module, check_document
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.member import analyze_stream
from truewheel.cli import main
from truewheel.elf import ElfFile
from truewheel.errors import ElfError
from truewheel.policy.manylinux import PolicySet, Requirement
from truewheel.policy.symbols import SymbolRules

_UNDEFINED = re.compile(r"^\s*\d+: \S+\s+\d+\s+\S+\s+(\S+)\s+\S+\s+(?:\[.*?\]\s+)?UND (\S+)")


@pytest.fixture(scope="module")
def wheels(wheelbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    built: dict[str, Path] = _load_fixture_module("symbolsbuild").build_symbol_wheels(
        wheelbuild, tmp_path_factory.mktemp("symbols")
    )
    return built


def _member(wheel: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(suffix)]
        return archive.read(name)


def _readelf_imports(path: Path) -> set[str]:
    """Non-weak undefined dynamic symbols as readelf lists them (version suffix dropped)."""
    out = subprocess.run(
        ["readelf", "-W", "--dyn-syms", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return {
        m[2].split("@")[0]
        for line in out.splitlines()
        if (m := _UNDEFINED.match(line)) and m[1] != "WEAK" and m[2]
    }


def _compile(tmp_path: Path, source: str, *flags: str) -> Path:
    c_file, output = tmp_path / "t.c", tmp_path / "t.out"
    c_file.write_text(source)
    subprocess.run(["gcc", "-O2", "-o", str(output), str(c_file), *flags], check=True)
    return output


def _stripped_section_headers(data: bytes) -> bytes:
    """The same file with e_shoff, e_shnum and e_shstrndx zeroed (ELF64 little-endian)."""
    raw = bytearray(data)
    raw[0x28:0x30] = bytes(8)
    raw[0x3C:0x40] = bytes(4)
    return bytes(raw)


# -- the reader ------------------------------------------------------------------------------


def test_imports_match_readelf(wheels: dict[str, Path], tmp_path: Path) -> None:
    for key, suffix in (("fpe", ".so"), ("zlib", ".so"), ("ucs2", ".so")):
        data = _member(wheels[key], suffix)
        path = tmp_path / f"{key}.so"
        path.write_bytes(data)
        elf = ElfFile.parse(data)
        assert elf.imports == _readelf_imports(path), key
        assert "__gmon_start__" not in elf.imports  # weak: bound to zero when missing
        assert ElfFile.parse(_stripped_section_headers(data)).imports == elf.imports
        chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
        streamed = analyze_stream(partial(iter, chunks), len(data), key, None, deep=False)
        assert streamed.elf is not None and streamed.elf.imports == elf.imports


@pytest.mark.parametrize("pie", ["-pie", "-no-pie"])
def test_program_imports_hashed_for_pointer_equality(tmp_path: Path, pie: str) -> None:
    """A non-PIE program exports (hashes) undefined functions whose address it takes."""
    source = (
        "#include <stdio.h>\n#include <stdlib.h>\n"
        'int main(int c, char **v) { void (*f)(void *) = free; printf("%p", (void *)f);'
        " return atoi(v[c - 1]); }\n"
    )
    program = _compile(tmp_path, source, pie, "-fPIE" if pie == "-pie" else "-fno-pie")
    expected = _readelf_imports(program)
    assert {"free", "printf"} <= expected
    assert ElfFile.parse(program.read_bytes()).imports == expected


def test_weak_reference_is_not_an_import(tmp_path: Path) -> None:
    source = (
        "#include <zlib.h>\n"
        "extern voidpf zcalloc(voidpf, unsigned, unsigned) __attribute__((weak));\n"
        "void *f(void) { return zcalloc ? zcalloc(0, 1, 1) : (void *)zlibVersion(); }\n"
    )
    lib = _compile(tmp_path, source, "-shared", "-fPIC", "-lz")
    imports = ElfFile.parse(lib.read_bytes()).imports
    assert "zlibVersion" in imports and "zcalloc" not in imports


# -- policy data ------------------------------------------------------------------------------


def test_blacklists_name_known_policies() -> None:
    rules = SymbolRules.load()
    names = {p.name for libc in ("glibc", "musl") for p in PolicySet.load(libc).policies}
    assert set(rules.blacklists) <= names
    assert {"zcalloc", "zcfree"} <= rules.blacklist("manylinux_2_41")["libz.so.1"]
    assert "bi_windup" not in rules.blacklist("manylinux_2_36")["libz.so.1"]


def test_blacklist_is_per_policy() -> None:
    """bi_windup is black-listed up to manylinux_2_35 only; zcalloc by every policy."""
    glibc = PolicySet.load("glibc")
    windup = Requirement("blacklisted-symbol", "black-listed bi_windup from libz.so.1", ("m",))
    result = glibc.best("x86_64", [windup])
    assert result.policy is not None and result.policy.name == "manylinux_2_36"
    assert [r.value for r, _ in result.constraints] == [windup.value]
    zcalloc = Requirement("blacklisted-symbol", "black-listed zcalloc from libz.so.1", ("m",))
    assert glibc.best("x86_64", [zcalloc]).policy is None
    assert PolicySet.load("musl").best("x86_64", [zcalloc]).policy is None


# -- inspect, repair, pip -----------------------------------------------------------------------


def _refusal(capsys: pytest.CaptureFixture[str], wheel: Path, out: Path) -> str:
    assert main(["repair", "-w", str(out), str(wheel)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert not out.exists() or not list(out.iterdir())
    return err


def test_fpectl_module(
    wheels: dict[str, Path], python: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = Inspector().inspect(wheels["fpe"])
    [finding] = [f for f in report.findings if f.code == "python-fpectl"]
    assert finding.severity == "error" and finding.file and finding.file.startswith("twfpe/_core")
    assert "imports PyFPE_counter, PyFPE_jbuf" in finding.message
    assert report.platform is not None and report.platform.computed.policy is None
    assert main(["inspect", str(wheels["fpe"])]) == 1
    capsys.readouterr()
    assert "PyFPE_counter, PyFPE_jbuf" in _refusal(capsys, wheels["fpe"], tmp_path / "out")
    # the finding's claim: this (no-fpectl) Python cannot import the module
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", wheels["fpe"]], check=True)
    run = subprocess.run([python, "-c", "import twfpe._core"], capture_output=True, text=True)
    assert run.returncode != 0 and "undefined symbol: PyFPE_" in run.stderr


def test_blacklisted_zlib_symbols(
    wheels: dict[str, Path], python: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = Inspector().inspect(wheels["zlib"])
    [finding] = [f for f in report.findings if f.code == "blacklisted-symbol"]
    assert finding.severity == "warning"
    assert finding.message.startswith("imports zcalloc, zcfree from libz.so.1, black-listed by 18")
    assert report.platform is not None and report.platform.computed.policy is None
    reasons = [r.value for r, _ in report.platform.computed.constraints]
    assert reasons[:2] == [
        "black-listed zcalloc from libz.so.1",
        "black-listed zcfree from libz.so.1",
    ]
    err = _refusal(capsys, wheels["zlib"], tmp_path / "out")
    assert "meets no manylinux or musllinux policy" in err and "black-listed zcalloc" in err
    # the warning's claim: this machine's libz.so.1 exports neither (CPython binds at dlopen)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", wheels["zlib"]], check=True)
    run = subprocess.run([python, "-c", "import twzlib._core"], capture_output=True, text=True)
    assert run.returncode != 0 and re.search(r"undefined symbol: zc(alloc|free)", run.stderr)


def test_ucs2_module(
    wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = Inspector().inspect(wheels["ucs2"])
    [finding] = [f for f in report.findings if f.code == "python-ucs2"]
    assert finding.severity == "error" and finding.file == "twucs2/_core.so"
    assert "imports PyUnicodeUCS2_FromObject" in finding.message
    assert "PyUnicodeUCS2_FromObject" in _refusal(capsys, wheels["ucs2"], tmp_path / "out")


def test_clean_module_has_no_symbol_findings(fixture_wheels: dict[str, Path]) -> None:
    """The system-library fixture imports zlib's public API only."""
    report = Inspector().inspect(fixture_wheels["system_libs"])
    codes = {f.code for f in report.findings}
    assert not codes & {"blacklisted-symbol", "python-fpectl", "python-ucs2"}
    assert report.platform is not None and report.platform.repairable.policy is not None
    kinds = {r.kind for r, _ in report.platform.computed.constraints}
    assert kinds == {"library"}  # libgmp and libgomp, not bundled yet


def test_json_names_the_new_constraint_kinds(
    wheels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "--json", str(wheels["zlib"]), str(wheels["fpe"])]) == 1
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    kinds = {
        c["kind"] for w in document["wheels"] for c in w["platform"]["computed"]["constraints"]
    }
    assert {"blacklisted-symbol", "python-build"} <= kinds


def test_crafted_hash_tables_are_bounded(wheels: dict[str, Path]) -> None:
    """A GNU hash table claiming 4 billion unhashed symbols, or whose chains never end:
    bounded reads, and nothing but ElfError."""
    data = bytearray(_member(wheels["zlib"], ".so"))
    elf = ElfFile.parse(data)
    header = elf.sections[".gnu.hash"].offset
    crafted = bytearray(data)
    crafted[header + 4 : header + 8] = (0xFFFFFFFF).to_bytes(4, "little")  # symoffset
    try:
        assert len(ElfFile.parse(crafted).imports) < 1 << 20
    except ElfError:
        pass
    endless = bytearray(data)
    nbuckets, symoffset, bloom = (
        int.from_bytes(data[header + i : header + i + 4], "little") for i in (0, 4, 8)
    )
    buckets = header + 16 + bloom * 8
    chains, end = buckets + nbuckets * 4, elf.sections[".dynsym"].offset
    endless[buckets:chains] = symoffset.to_bytes(4, "little") * nbuckets
    endless[chains:end] = bytes(end - chains)  # no chain value has bit 0 set
    endless[0x10:0x12] = (2).to_bytes(2, "little")  # ET_EXEC: the whole table is counted
    try:  # the walk runs on into .dynsym and stops at its first odd word, or at the file's end
        assert len(ElfFile.parse(endless).imports) < 1 << 20
    except ElfError:
        pass


@pytest.mark.parametrize(
    ("tag", "severity"), [("manylinux_2_28_x86_64", "info"), ("manylinux2014_x86_64", "warning")]
)
def test_blacklisted_only_by_older_policies_than_claimed(
    tmp_path: Path, wheelbuild: ModuleType, tag: str, severity: str
) -> None:
    """pyvips-binary's shape: pthread_setattr_default_np is black-listed up to manylinux_2_17
    (glibc 2.18 symbols); a wheel claiming manylinux_2_28 is not affected by those lists."""
    source = tmp_path / "attr.c"
    source.write_text(
        "#include <pthread.h>\nint tw_attr(pthread_attr_t *a) "
        "{ return pthread_setattr_default_np(a); }\n"
    )
    module = tmp_path / "attr.so"
    cmd = ["gcc", "-shared", "-fPIC", "-D_GNU_SOURCE", "-o", str(module), str(source)]
    subprocess.run(cmd, check=True, capture_output=True)
    contents = wheelbuild._WheelContents("twattr", "a glibc 2.18 symbol")
    contents.add_elf("twattr/_core.cpython-311-x86_64-linux-gnu.so", module)
    report = Inspector().inspect(contents.write(tmp_path, f"cp311-cp311-{tag}"))
    found = [f for f in report.findings if f.code == "blacklisted-symbol"]
    assert found and {f.severity for f in found} == {severity}
    assert all("pthread_setattr_default_np" in f.message for f in found)
