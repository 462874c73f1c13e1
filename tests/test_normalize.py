"""`truewheel normalize`: canonical bytes, same contents, idempotent, --check."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from truewheel.analysis.inspector import Inspector
from truewheel.cli import main


def contents(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {n: archive.read(n) for n in archive.namelist() if not n.endswith("/RECORD")}


def test_normalize_keeps_contents_and_is_idempotent(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fixture_wheels["vendored_mangled"]
    before = source.read_bytes()
    assert main(["normalize", "--check", str(source)]) == 1
    assert "not normal" in capsys.readouterr().out
    assert main(["normalize", "-w", str(tmp_path / "once"), str(source)]) == 0
    [once] = (tmp_path / "once").glob("*.whl")
    assert contents(once) == contents(source)
    assert source.read_bytes() == before
    assert main(["normalize", "--check", str(once)]) == 0
    assert main(["normalize", "-w", str(tmp_path / "twice"), str(once)]) == 0
    assert (tmp_path / "twice" / once.name).read_bytes() == once.read_bytes()
    with zipfile.ZipFile(once) as archive:
        infos = archive.infolist()
        assert infos[-1].filename.endswith(".dist-info/RECORD")
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {(i.external_attr >> 16) & 0o777 for i in infos} <= {0o644, 0o755}
        assert not any(i.extra for i in infos)
    report = Inspector().inspect(once)
    assert not {"record-mismatch", "record-missing-file"} & {f.code for f in report.findings}


def test_source_date_epoch_sets_timestamps(
    fixture_wheels: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["normalize", "-w", str(tmp_path), str(fixture_wheels["extension"])]) == 0
    [out] = tmp_path.glob("*.whl")
    with zipfile.ZipFile(out) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_normalize_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x-1.0-py3-none-any.whl"
    bad.write_text("nope")
    assert main(["normalize", "-w", str(tmp_path / "out"), str(bad)]) == 2
    assert "not a zip file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
