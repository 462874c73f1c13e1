"""`truewheel diff` names the cause of a difference first, then its consequences."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from truewheel.cli import main


@pytest.fixture(scope="module")
def two_builds(
    wheelbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("two-builds")
    a = wheelbuild.build_fixture_wheels(root / "buildA")["debug_paths"]
    b = wheelbuild.build_fixture_wheels(root / "buildB")["debug_paths"]
    return a, b


def test_build_path_is_named_first(
    two_builds: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_builds
    assert main(["diff", str(a), str(b)]) == 1
    lines = capsys.readouterr().out.splitlines()
    cause = next(i for i, line in enumerate(lines) if "build path differs" in line)
    assert cause < 10
    assert "buildA" in lines[cause] and "buildB" in lines[cause]
    assert "only cause" in lines[cause] or "debug sections only" in lines[cause]
    consequences = "\n".join(lines[cause:])
    assert ".note.gnu.build-id differs" in consequences and "RECORD" in consequences
    assert len(lines) < 25


def test_identical_and_metadata_only(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = fixture_wheels["extension"]
    assert main(["diff", str(wheel), str(wheel)]) == 0
    assert "identical" in capsys.readouterr().out
    assert main(["normalize", "-w", str(tmp_path), str(wheel)]) == 0
    capsys.readouterr()
    assert main(["diff", str(wheel), str(tmp_path / wheel.name)]) == 1
    out = capsys.readouterr().out
    assert "contents identical; only zip metadata differs" in out and "zip metadata:" in out


def test_text_and_member_set_changes(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fixture_wheels["extension"]
    changed = tmp_path / source.name
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(changed, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("METADATA"):
                data = data.replace(b"Version: 1.0", b"Version: 1.0\nSummary: changed")
            dst.writestr(info, data)
        dst.writestr("twext/extra.txt", b"new\n")
    assert main(["diff", "--json", str(source), str(changed)]) == 1
    doc = json.loads(capsys.readouterr().out)
    [result] = doc["wheels"]
    assert result["only_in_b"] == ["twext/extra.txt"]
    [metadata] = [m for m in result["members"] if m["name"].endswith("METADATA")]
    assert metadata["causes"] == ["text differs"] and "+Summary: changed" in metadata["detail"]


def test_bad_input(
    tmp_path: Path, fixture_wheels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "x-1.0-py3-none-any.whl"
    bad.write_text("not a zip")
    assert main(["diff", str(fixture_wheels["extension"]), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a zip" in err[0]
    assert main(["diff", str(bad), str(tmp_path / "missing.whl")]) == 2
