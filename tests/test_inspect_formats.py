"""inspect across formats: one build shipped twice (Mach-O LC_UUID, PE stamp and layout),
copies of other architectures, modules in a format the tags' platform cannot import, and
macOS tags judged per architecture.  Real binaries from tests/fixtures/machobuild.py,
pebuild.py and wheelbuild.py, retagged or re-shipped by formatbuild.py."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from conftest import _load_fixture_module
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import Finding, WheelReport
from truewheel.cli import main


@pytest.fixture(scope="module")
def formatbuild() -> ModuleType:
    return _load_fixture_module("formatbuild")


@pytest.fixture(scope="module")
def mac_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    wheels = _load_fixture_module("machobuild").build_macos_wheels(
        tmp_path_factory.mktemp("fmt-mac")
    )
    if wheels is None:
        pytest.skip("clang, ld64.lld or llvm-lipo missing")
    return dict(wheels)


@pytest.fixture(scope="module")
def win_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    wheels = _load_fixture_module("pebuild").build_windows_wheels(
        tmp_path_factory.mktemp("fmt-win")
    )
    if wheels is None:
        pytest.skip("mingw-w64 missing")
    return dict(wheels)


def found(report: WheelReport, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


# --------------------------------------------------------------------------------------------
# One build shipped twice


def test_mach_o_same_uuid_is_one_build(
    formatbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> None:
    wheels = formatbuild.build_same_build_mac(
        _load_fixture_module("machobuild"), tmp_path_factory.mktemp("dup-mac")
    )
    if wheels is None:
        pytest.skip("clang, ld64.lld or llvm-install-name-tool missing")
    report = Inspector().inspect(wheels["same_build"])
    images = {f.path: f for f in report.images}
    original, copy = images[formatbuild.MAC_ORIGINAL], images[formatbuild.MAC_COPY]
    assert original.sha256 != copy.sha256
    assert original.macho is not None and copy.macho is not None
    assert copy.macho.slices[0].install_name == formatbuild.DELOCATED_ID
    assert original.macho.slices[0].uuid == copy.macho.slices[0].uuid is not None
    assert found(report, "duplicate-library") == []
    [same] = found(report, "duplicate-build")
    assert same.severity == "info" and "LC_UUID" in same.message
    assert f"{original.size} bytes more" in same.message or f"{copy.size} bytes more" in (
        same.message
    )
    # a third copy linked again (another LC_UUID) is a different build
    report = Inspector().inspect(wheels["two_builds"])
    [different] = found(report, "duplicate-library")
    assert different.severity == "warning"
    assert "3 times in 2 different builds" in different.message
    assert [f.severity for f in found(report, "duplicate-build")] == ["info"]


def test_pe_same_stamp_and_layout_is_one_build(
    formatbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> None:
    wheel = formatbuild.build_same_build_pe(
        _load_fixture_module("pebuild"), tmp_path_factory.mktemp("dup-pe")
    )
    if wheel is None:
        pytest.skip("mingw-w64 missing")
    report = Inspector().inspect(wheel)
    images = {f.path: f for f in report.images}
    original, copy = images[formatbuild.PE_ORIGINAL].pe, images[formatbuild.PE_COPY].pe
    assert original is not None and copy is not None
    assert original.timestamp == copy.timestamp != 0
    assert images[formatbuild.PE_ORIGINAL].sha256 != images[formatbuild.PE_COPY].sha256
    assert found(report, "duplicate-library") == []
    [same] = found(report, "duplicate-build")
    assert formatbuild.PE_X86 not in same.message  # another machine: never a duplicate
    assert "PE amd64" in same.message
    # nothing imports the x86 copy: dead weight, not an error (see test_inspect_foreign)
    assert found(report, "architecture-mismatch") == []
    assert [f.file for f in found(report, "foreign-architecture-file")] == [formatbuild.PE_X86]


# --------------------------------------------------------------------------------------------
# Modules in a format the platform cannot import


@pytest.mark.parametrize(
    ("platform", "system"),
    [("win_amd64", "Windows"), ("manylinux_2_17_x86_64", "Linux")],
)
def test_mach_o_module_in_another_platforms_wheel(
    mac_wheels: dict[str, Path],
    formatbuild: ModuleType,
    tmp_path: Path,
    platform: str,
    system: str,
) -> None:
    wheel = formatbuild.retag(mac_wheels["arm64"], [platform], tmp_path)
    report = Inspector().inspect(wheel)
    mismatch = {f.file: f for f in found(report, "format-mismatch")}
    core, dep = "twmac/_core.cpython-311-darwin.so", "twmac/.dylibs/libtwdep.1.dylib"
    assert set(mismatch) == {core, dep}
    assert all(f.severity == "error" for f in mismatch.values())
    assert f"macOS Mach-O extension module in a {system} wheel" in mismatch[core].message
    assert f"needed by {core}" in mismatch[dep].message
    assert main(["inspect", str(wheel)]) == 1


def test_pe_module_in_a_macos_wheel(
    win_wheels: dict[str, Path], formatbuild: ModuleType, tmp_path: Path
) -> None:
    wheel = formatbuild.retag(win_wheels["amd64"], ["macosx_11_0_arm64"], tmp_path)
    report = Inspector().inspect(wheel)
    mismatch = {f.file: f.message for f in found(report, "format-mismatch")}
    pyd = "twwin/_core.cp311-win_amd64.pyd"
    assert pyd in mismatch and "Windows PE extension module in a macOS wheel" in mismatch[pyd]
    assert any((p or "").startswith("twwin.libs/twdep-") for p in mismatch)  # the DLL it imports
    assert all(f.severity == "error" for f in found(report, "format-mismatch"))


@pytest.mark.parametrize("platform", ["macosx_11_0_arm64", "win_amd64"])
def test_elf_module_in_a_tagged_foreign_wheel(
    fixture_wheels: dict[str, Path], formatbuild: ModuleType, tmp_path: Path, platform: str
) -> None:
    wheel = formatbuild.retag(fixture_wheels["extension"], [platform], tmp_path)
    report = Inspector().inspect(wheel)
    [mismatch] = found(report, "format-mismatch")
    assert mismatch.file is not None and mismatch.file.startswith("twext/_core.")
    assert "Linux ELF extension module" in mismatch.message
    assert found(report, "tag-untagged") == []  # the wheel is tagged, for another platform


def test_matching_formats_and_untagged_linux_are_unchanged(
    fixture_wheels: dict[str, Path], mac_wheels: dict[str, Path], win_wheels: dict[str, Path]
) -> None:
    for wheel in (mac_wheels["arm64"], win_wheels["amd64"], fixture_wheels["extension"]):
        assert found(Inspector().inspect(wheel), "format-mismatch") == []
    # linux_x86_64 names no policy: the tag the content allows is still offered
    assert found(Inspector().inspect(fixture_wheels["extension"]), "tag-untagged")


# --------------------------------------------------------------------------------------------
# macOS tags per architecture


def test_each_mac_tag_against_its_own_architecture(
    mac_wheels: dict[str, Path], formatbuild: ModuleType, tmp_path: Path
) -> None:
    """orjson's three tags: x86_64 slices for 10.9, arm64 for 11.0; none is conservative."""
    tags = ["macosx_10_9_x86_64", "macosx_11_0_arm64", "macosx_10_9_universal2"]
    report = Inspector().inspect(formatbuild.retag(mac_wheels["universal2"], tags, tmp_path))
    assert [f for f in report.findings if f.code.startswith("tag-")] == []
    # an arm64 tag above 11.0 is conservative; the content allows exactly 11.0 for arm64
    report = Inspector().inspect(
        formatbuild.retag(mac_wheels["universal2"], ["macosx_12_0_arm64"], tmp_path / "12")
    )
    [conservative] = found(report, "tag-conservative")
    assert conservative.message.endswith("content would allow macosx_11_0_arm64")


def test_tag_too_old_says_what_may_happen(mac_wheels: dict[str, Path]) -> None:
    report = Inspector().inspect(mac_wheels["x86_64_old_tag"])
    too_old = found(report, "tag-too-old")
    assert too_old and all(f.severity == "error" for f in too_old)
    assert all(
        "may fail to load" in f.message and "fails to load" not in f.message for f in too_old
    )
