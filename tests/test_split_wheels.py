"""Split wheels (PyQt6 + PyQt6-Qt6's shape): a library a required distribution installs
into the same site-packages is neither broken nor the user's system's business, unless the
requirement's wheel, given too, shows it does not ship it.  Real Mach-O and PE files from
tests/fixtures/splitbuild.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import _load_fixture_module
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport
from truewheel.analysis.split import companion_index

MAC_CORE = "twsplit/_core.cpython-311-darwin.so"
WIN_CORE = "twsplit/_core.cp311-win_amd64.pyd"


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    built: dict[str, Path] = _load_fixture_module("splitbuild").build_split_wheels(
        tmp_path_factory.mktemp("split")
    )
    return built


def _case(split: dict[str, Path], os_: str) -> None:
    if f"{os_}-binding" not in split:
        pytest.skip(("clang or ld64.lld" if os_ == "mac" else "mingw-w64") + " missing")


def inspect(split: dict[str, Path], *cases: str) -> WheelReport:
    """The first case's report, inspected together with the others."""
    wheels = [split[c] for c in cases]
    return Inspector(companions=companion_index(wheels)).inspect(wheels[0])


def found(
    report: WheelReport, path: str, name: str
) -> tuple[str, str | None, str | None, str | None]:
    image = next(f for f in report.images if f.path == path)
    dep = next(d for d in image.dependencies if d.name == name)
    return dep.status, dep.path, dep.via, dep.provider


def judged(report: WheelReport) -> list[tuple[str, str]]:
    return [(f.severity, f.code) for f in report.findings]


@pytest.mark.parametrize("os_", ["mac", "win"])
def test_a_name_prefix_proves_nothing(split: dict[str, Path], os_: str) -> None:
    """twsplit requires twsplit-runtime, but a prefix is no evidence (openvino requires the
    pure-Python openvino-telemetry): alone, still broken (macOS) or external (Windows)."""
    _case(split, os_)
    report = inspect(split, f"{os_}-binding")
    want = ("error", "broken-reference") if os_ == "mac" else ("warning", "external-library")
    assert judged(report) == [want]


@pytest.mark.parametrize("os_", ["mac", "win"])
def test_expected_from_the_library_table(split: dict[str, Path], os_: str) -> None:
    """A Qt library (the table's ``basename_pattern``) in a wheel requiring PyQt6-Qt6, which
    the table lists among the distributions that ship Qt."""
    _case(split, os_)
    report = inspect(split, f"{os_}-qt")
    assert judged(report) == [("info", "provided-by-requirement")]
    message = report.findings[0].message
    assert "the library table says PyQt6-Qt6 ships this library" in message
    assert "not checked" in message
    assert report.image_platform is not None and report.image_platform.external_libraries == []
    path, name = (
        (MAC_CORE, "@rpath/QtTwCore.framework/Versions/A/QtTwCore")
        if os_ == "mac"
        else (WIN_CORE, "Qt6TwCore.dll")
    )
    assert found(report, path, name) == ("external", None, "requirement", "PyQt6-Qt6")


@pytest.mark.parametrize("os_", ["mac", "win"])
def test_checked_against_the_requirements_wheel(split: dict[str, Path], os_: str) -> None:
    _case(split, os_)
    report = inspect(split, f"{os_}-binding", f"{os_}-runtime")
    assert judged(report) == [("info", "provided-by-requirement")]
    assert "checked: its wheel given here ships it" in report.findings[0].message
    path, name = (MAC_CORE, "@rpath/libtwdep.1.dylib") if os_ == "mac" else (WIN_CORE, "twdep.dll")
    lib = (
        "twsplit/Runtime/lib/libtwdep.1.dylib" if os_ == "mac" else "twsplit/Runtime/bin/twdep.dll"
    )
    assert found(report, path, name) == ("external", lib, "requirement-wheel", "twsplit-runtime")


@pytest.mark.parametrize("os_", ["mac", "win"])
def test_refuted_by_the_requirements_wheel(split: dict[str, Path], os_: str) -> None:
    _case(split, os_)
    report = inspect(split, f"{os_}-by-library", f"{os_}-library-empty")
    want = ("error", "broken-reference") if os_ == "mac" else ("warning", "external-library")
    assert judged(report) == [want]
    assert "neither this wheel nor the wheel of its requirement twdep" in (
        report.findings[0].message
    )


@pytest.mark.parametrize("os_", ["mac", "win"])
def test_without_the_requirement(split: dict[str, Path], os_: str) -> None:
    """The same binding without Requires-Dist: broken (macOS) or external (Windows) alone;
    with the runtime's wheel given, an undeclared requirement where that wheel puts the
    library exactly where the loader looks (dyld's run path; not the DLL's directory)."""
    _case(split, os_)
    alone = inspect(split, f"{os_}-unrequired")
    want = ("error", "broken-reference") if os_ == "mac" else ("warning", "external-library")
    assert judged(alone) == [want]
    given = inspect(split, f"{os_}-unrequired", f"{os_}-runtime")
    if os_ == "mac":
        assert judged(given) == [("warning", "undeclared-requirement")]
        assert "does not require twsplit_runtime" in given.findings[0].message
    else:
        assert judged(given) == [want]


@pytest.mark.parametrize("os_", ["mac", "win"])
def test_requirement_of_a_requirement(split: dict[str, Path], os_: str) -> None:
    """PyQtWebEngine requires PyQt5, whose wheel requires PyQt5-Qt5, which ships Qt."""
    _case(split, os_)
    report = inspect(split, f"{os_}-via-middle", "middle", f"{os_}-runtime")
    assert judged(report) == [("info", "provided-by-requirement")]
    assert "twsplit_runtime (through twmid) provides it" in report.findings[0].message


@pytest.mark.parametrize("os_", ["mac", "win"])
def test_requirement_named_after_the_library(split: dict[str, Path], os_: str) -> None:
    """shiboken6's shape: the requirement loads the library itself when imported, so the
    binding's reference is satisfied by name wherever the requirement keeps it."""
    _case(split, os_)
    alone = inspect(split, f"{os_}-by-library")
    assert judged(alone) == [("info", "provided-by-requirement")]
    assert "named after the library" in alone.findings[0].message
    assert "twdep must be imported first" in alone.findings[0].message
    checked = inspect(split, f"{os_}-by-library", f"{os_}-library")
    assert judged(checked) == [("info", "provided-by-requirement")]
    lib = "twdep/libtwdep.1.dylib" if os_ == "mac" else "twdep/twdep.dll"
    assert f"its wheel given here ships it at {lib}" in checked.findings[0].message
    unrelated = inspect(split, f"{os_}-by-library", f"{os_}-runtime-empty")
    assert judged(unrelated) == judged(alone)  # another distribution's wheel proves nothing


def test_rpath_reference_with_no_run_path_anywhere(split: dict[str, Path]) -> None:
    """numba's omppool: dyld has only the interpreter's own run paths left (conda's lib/)."""
    _case(split, "mac")
    report = inspect(split, "mac-no-rpath")
    assert judged(report) == [("warning", "external-library")]
    assert found(report, MAC_CORE, "@rpath/libtwomp.dylib")[2] == "interpreter-rpath"
    assert report.image_platform is not None
    assert report.image_platform.external_libraries == ["@rpath/libtwomp.dylib"]


def test_dll_directory_added_by_a_module_the_package_imports(split: dict[str, Path]) -> None:
    """openvino's ``__init__`` imports ``package_utils``, whose function adds ``libs``."""
    _case(split, "win")
    report = inspect(split, "win-helper-loader")
    assert found(report, WIN_CORE, "twdep.dll")[:3] == (
        "bundled",
        "twsplit/libs/twdep.dll",
        "package-loader",
    )
    assert not [f for f in report.findings if f.severity != "info"]


def test_dll_directory_added_by_a_module_imported_in_turn(split: dict[str, Path]) -> None:
    """google-crc32c 1.9.0: ``__init__`` imports ``cext`` (``from google_crc32c import
    cext``), which imports ``__config__``, which adds ``extra-dll``."""
    _case(split, "win")
    report = inspect(split, "win-chained-loader")
    assert found(report, WIN_CORE, "twdep.dll")[:3] == (
        "bundled",
        "twsplit/libs/twdep.dll",
        "package-loader",
    )
    assert not [f for f in report.findings if f.severity != "info"]


def test_inspect_command_line_gives_companions(split: dict[str, Path]) -> None:
    """Wheels named on one command line check each other; each is still judged alone."""
    _case(split, "mac")
    argv = [sys.executable, "-m", "truewheel", "inspect", "--json"]
    done = subprocess.run(
        [*argv, str(split["mac-binding"]), str(split["mac-runtime"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    binding, runtime = json.loads(done.stdout)["wheels"]
    assert [f["code"] for f in binding["findings"]] == ["provided-by-requirement"]
    assert "checked" in binding["findings"][0]["message"]
    needed = binding["images"][0]["needed"]
    assert {"via": "requirement-wheel", "provider": "twsplit-runtime"}.items() <= next(
        d for d in needed if d["name"] == "@rpath/libtwdep.1.dylib"
    ).items()
    assert runtime["findings"] == []
