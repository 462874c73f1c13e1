"""`truewheel verify WHEEL --sdist SDIST --rebuild`: real sdists with C extensions, built by
`truewheel build` and by plain `pip wheel`, repaired by `truewheel repair`, rebuilt and compared."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import check_document
from test_verify_release import simple_index
from truewheel.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "buildproj"
PKG_INFO = (
    "Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    "Summary: truewheel test fixture: a setuptools C extension compiled with -g\n"
)
GMP_C = b"""#include <Python.h>
#include <gmp.h>

static PyObject *version(PyObject *self, PyObject *args) {
    return PyUnicode_FromString(gmp_version);
}
static PyMethodDef methods[] = {{"version", version, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gmp", NULL, -1, methods};
PyMODINIT_FUNC PyInit__gmp(void) { return PyModule_Create(&module); }
"""
GMP_SETUP = b"""from setuptools import Extension, setup

setup(
    packages=["twgmp"],
    ext_modules=[Extension("twgmp._gmp", ["src/twgmp_gmp.c"], libraries=["gmp"])],
)
"""
GMP_PYPROJECT = b"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "twgmp"
version = "1.0"
description = "truewheel test fixture: a setuptools C extension compiled with -g"
"""


@pytest.fixture(scope="module", autouse=True)
def build_root(private_build_root: Path) -> Path:
    return private_build_root


def make_sdist(path: Path, name: str, files: dict[str, bytes]) -> Path:
    """``<name>-1.0.tar.gz``: the files below ``<name>-1.0/`` and a PKG-INFO, at a fixed time."""
    members = {**files, "PKG-INFO": PKG_INFO.format(name=name).encode()}
    with tarfile.open(path, "w:gz") as tar:
        for member, data in sorted(members.items()):
            entry = tarfile.TarInfo(f"{name}-1.0/{member}")
            entry.size, entry.mode, entry.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(entry, io.BytesIO(data))
    return path


def buildproj_sdist(directory: Path) -> Path:
    files = {str(p.relative_to(FIXTURE)): p.read_bytes() for p in FIXTURE.rglob("*") if p.is_file()}
    return make_sdist(directory / "twbuild-1.0.tar.gz", "twbuild", files)


def built_by_truewheel(sdist: Path, out: Path) -> Path:
    assert main(["build", str(sdist), "-w", str(out)]) == 0
    [wheel] = out.glob("*.whl")
    return wheel


def run_rebuild(capsys: pytest.CaptureFixture[str], wheel: Path, sdist: Path) -> tuple[int, Any]:
    status = main(["verify", "--rebuild", "--json", str(wheel), "--sdist", str(sdist)])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    check_document(document)
    return status, document


def test_a_truewheel_build_is_reproduced_bit_for_bit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist = buildproj_sdist(tmp_path)
    wheel = built_by_truewheel(sdist, tmp_path / "published")
    assert (wheel.parent / (wheel.name + ".buildinfo.json")).is_file()
    capsys.readouterr()
    status, document = run_rebuild(capsys, wheel, sdist)
    rebuild = document["rebuild"]
    assert status == 0, rebuild
    assert rebuild["bit_identical"] and rebuild["reproduced"]
    assert rebuild["rebuilt_sha256"] == rebuild["published_sha256"]
    assert rebuild["buildinfo"] == str(wheel) + ".buildinfo.json"
    assert "SOURCE_DATE_EPOCH" in rebuild["applied"]
    assert any(p.startswith("setuptools==") for p in rebuild["pins"])
    assert rebuild["toolchain"]["same"] and rebuild["toolchain"]["published"]
    assert {m["status"] for m in rebuild["members"]} == {"identical"}
    assert any(m["kind"] == "native" for m in rebuild["members"])
    assert rebuild["repair"] is None  # a linux_x86_64 wheel: no repair to replay
    assert main(["verify", "--rebuild", str(wheel), "--sdist", str(sdist)]) == 0
    assert "rebuild: reproduced bit for bit" in capsys.readouterr().out
    # the sdist fetched from an index (NAME==VERSION, here the wheel's own) rebuilds alike
    url = simple_index(tmp_path / "index", [sdist], name="twbuild")
    assert main(["verify", "--rebuild", "--json", str(wheel), "--index-url", url]) == 0
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    assert document["sdist"].endswith("/twbuild-1.0.tar.gz") and document["rebuild"]["reproduced"]


def test_a_pip_wheel_built_with_other_flags_differs_for_a_named_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist = buildproj_sdist(tmp_path)
    out = tmp_path / "published"
    env = {**os.environ, "CFLAGS": "-O0"}
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-cache-dir"]
    subprocess.run(
        [*pip, "-w", str(out), str(sdist)],
        check=True,
        capture_output=True,
        env=env,
    )
    [wheel] = out.glob("*.whl")
    status, document = run_rebuild(capsys, wheel, sdist)
    rebuild = document["rebuild"]
    assert status == 1 and document["corresponds"]  # not reproduced, but nothing is wrong
    assert not rebuild["reproduced"] and rebuild["toolchain"]["same"]
    [native] = [m for m in rebuild["members"] if m["kind"] == "native"]
    assert native["status"] == "different"
    assert "flags" in native["cause_kinds"], native
    assert any("-O0" in c and "DW_AT_producer" in c for c in native["causes"]), native["causes"]
    assert "build-path" in native["cause_kinds"], native  # pip builds in its own directory
    assert "code" not in native["cause_kinds"]
    pure = [m for m in rebuild["members"] if m["kind"] == "python"]
    assert pure and all(m["status"] == "identical" for m in pure)
    assert not [f for f in document["findings"] if f["severity"] == "finding"]
    assert main(["verify", "--rebuild", str(wheel), "--sdist", str(sdist)]) == 1
    text = capsys.readouterr().out
    assert "rebuild: NOT REPRODUCED" in text and "-O0" in text
    assert "all 1 pure-Python members identical" in text


@pytest.fixture(scope="module")
def gmp_published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """truewheel build, then truewheel repair (libgmp grafted into twgmp.libs/, an SBOM)."""
    tmp_path = tmp_path_factory.mktemp("gmp")
    files = {
        "pyproject.toml": GMP_PYPROJECT,
        "setup.py": GMP_SETUP,
        "src/twgmp_gmp.c": GMP_C,
        "twgmp/__init__.py": b'"""twgmp"""\n',
    }
    sdist = make_sdist(tmp_path / "twgmp-1.0.tar.gz", "twgmp", files)
    built = built_by_truewheel(sdist, tmp_path / "built")
    assert main(["repair", "-w", str(tmp_path / "published"), str(built)]) == 0
    [wheel] = (tmp_path / "published").glob("*.whl")
    return sdist, wheel


def test_a_repaired_wheel_is_repaired_again_and_reproduced(
    gmp_published: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The rebuild is repaired for the published tag with the same library and matches."""
    sdist, wheel = gmp_published
    capsys.readouterr()
    status, document = run_rebuild(capsys, wheel, sdist)
    rebuild = document["rebuild"]
    repair = rebuild["repair"]
    assert repair["target"] in repair["published_tags"]
    assert sorted(repair["rebuilt_tags"]) == sorted(repair["published_tags"])
    assert any(g.startswith("twgmp.libs/libgmp-") for g in repair["grafts"])
    assert repair["unavailable"] == []
    assert status == 0, [m for m in rebuild["members"] if m["status"] != "identical"]
    assert rebuild["reproduced"]
    statuses = {m["path"]: m["status"] for m in rebuild["members"]}
    [graft] = [p for p in statuses if p.startswith("twgmp.libs/")]
    assert statuses[graft] == "identical"


def test_a_sdist_that_does_not_build_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist = buildproj_sdist(tmp_path)
    wheel = built_by_truewheel(sdist, tmp_path / "published")
    (tmp_path / "broken").mkdir()
    broken = make_sdist(
        tmp_path / "broken" / "twbuild-1.0.tar.gz",
        "twbuild",
        {"setup.py": b"raise SystemExit('no network here')\n", "twbuild/__init__.py": b""},
    )
    capsys.readouterr()
    status = main(["verify", "--rebuild", "--json", str(wheel), "--sdist", str(broken)])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("truewheel: error:") and "failed" in line, line
    (tmp_path / "mac").mkdir()
    mac = tmp_path / "mac" / "twbuild-1.0-cp311-cp311-macosx_11_0_arm64.whl"
    shutil.copyfile(wheel, mac)
    status = main(["verify", "--rebuild", str(mac), "--sdist", str(sdist)])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    [line] = captured.err.splitlines()
    assert "builds for this interpreter and platform" in line and "macosx_11_0_arm64" in line


def test_stripped_builds_by_two_compilers_are_told_apart_by_comment(tmp_path: Path) -> None:
    """No DWARF to read: the ``.comment`` each compiler leaves names the toolchain."""
    from truewheel.diff.elfdiff import explain_elf_difference
    from truewheel.verify.compare import cause_kind

    source = tmp_path / "x.c"
    source.write_text("int twice(int x) { return 2 * x; }\n")
    built = {}
    for compiler in ("gcc", "clang"):
        if shutil.which(compiler) is None:
            pytest.skip(f"{compiler} is not installed")
        out = tmp_path / f"{compiler}.so"
        subprocess.run([compiler, "-O2", "-fPIC", "-shared", "-o", str(out), str(source)],
                       check=True)  # fmt: skip
        built[compiler] = out.read_bytes()
    a, b = built["gcc"], built["clang"]
    found = explain_elf_difference(lambda: iter([a]), len(a), lambda: iter([b]), len(b))
    [cause] = [c for c in found.causes if c.startswith("compiler differs (.comment)")]
    assert "GCC: (" in cause and "clang version" in cause, cause
    assert cause_kind(cause) == "toolchain"
    assert not any(c.startswith("code or data differs") for c in found.causes)


def test_published_facts_tag_and_a_foreign_buildinfo(tmp_path: Path) -> None:
    from truewheel.verify.published import read_published, target_tag

    tags = ["manylinux_2_5_x86_64", "manylinux1_x86_64", "manylinux2014_x86_64"]
    assert target_tag(tags) == "manylinux2014_x86_64"
    assert target_tag(["musllinux_1_2_x86_64", "musllinux_1_1_x86_64"]) == "musllinux_1_2_x86_64"
    assert target_tag(["linux_x86_64"]) is None
    sdist = buildproj_sdist(tmp_path)
    wheel = built_by_truewheel(sdist, tmp_path / "published")
    info = wheel.parent / (wheel.name + ".buildinfo.json")
    document = json.loads(info.read_text())
    document["environment"]["CFLAGS"] = "-O1"
    document["environment"]["CC"] = "sh -c 'touch /tmp/owned'"
    info.write_text(json.dumps(document))
    published = read_published(wheel)
    assert published.applied["CFLAGS"] == "-O1" and "CC" not in published.applied
    assert any("CC=" in n and "never run" in n for n in published.notes)
    document["wheel"]["sha256"] = "0" * 64
    info.write_text(json.dumps(document))
    published = read_published(wheel)
    assert published.buildinfo is None and not published.applied
    assert any("does not name this wheel's sha256" in n for n in published.notes)
    info.write_text("{not json")
    assert any("not a readable buildinfo" in n for n in read_published(wheel).notes)


def _with_member(wheel: Path, out: Path, name: str, data: bytes) -> Path:
    """A copy of ``wheel`` in ``out`` with member ``name`` replaced, its RECORD row too."""
    out.mkdir()
    target = out / wheel.name
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            content = data if info.filename == name else source.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                rows = [
                    f"{name},sha256={digest},{len(data)}" if row.startswith(name + ",") else row
                    for row in content.decode().splitlines()
                ]
                content = ("\n".join(rows) + "\n").encode()
            z.writestr(info, content)
    return target


def test_a_graft_this_machine_does_not_have_is_said(
    gmp_published: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The published graft's SONAME (before mangling) names a library no directory here holds:
    the replayed repair says so, and the copies are still compared."""
    sdist, wheel = gmp_published
    with zipfile.ZipFile(wheel) as archive:
        [graft] = [n for n in archive.namelist() if n.startswith("twgmp.libs/")]
        library = tmp_path / "graft.so"
        library.write_bytes(archive.read(graft))
    from truewheel.repair.patchelf import find_patchelf

    patchelf = [find_patchelf()]
    subprocess.run([*patchelf, "--set-soname", "libtwnowhere-1a2b3c4d.so.7", str(library)],
                   check=True)  # fmt: skip
    edited = _with_member(wheel, tmp_path / "published", graft, library.read_bytes())
    status, document = run_rebuild(capsys, edited, sdist)
    repair = document["rebuild"]["repair"]
    assert repair["unavailable"] == ["libtwnowhere.so.7"]
    assert "grafted library not available on this machine: libtwnowhere.so.7" in repair["notes"]
    [member] = [m for m in document["rebuild"]["members"] if m["path"] == graft]
    assert member["status"] == "identical-after-repair-edits", member
    assert any(c.startswith("SONAME replaced") for c in member["causes"]), member
    assert status == 0  # the graft's bytes are the repair's, apart from the name it was given


def test_rebuild_goes_with_one_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "release").mkdir()
    assert main(["verify", "--rebuild", "--release", str(tmp_path / "release")]) == 2
    assert "--rebuild is for one WHEEL" in capsys.readouterr().err
    assert main(["verify", "--rebuild", "--index", str(tmp_path / "release")]) == 2
    assert "--rebuild is for one WHEEL" in capsys.readouterr().err


def test_a_graft_of_another_version_is_the_same_library() -> None:
    """gmpy2 2.2.1's wheel grafts libgmp-c9be030b.so.10.5.0 (GMP built from source, SONAME
    the file name); a rebuild here grafts Debian's libgmp.so.10 (10.4.1): the same library,
    not one "the published wheel does not carry"."""
    from truewheel.verify.rebuild import grafted_here_only

    published = ["gmpy2.libs/libgmp-c9be030b.so.10.5.0", "gmpy2.libs/libmpc-73366ebf.so.3.3.1"]
    grafted = ["libgmp.so.10", "libmpc.so.3", "libquadmath.so.0"]
    assert grafted_here_only(grafted, published) == ["libquadmath.so.0"]
