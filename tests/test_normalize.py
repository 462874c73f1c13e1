"""`truewheel normalize`: canonical bytes, same contents, idempotent, --check."""

from __future__ import annotations

import json
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


def test_check_says_why_a_wheel_is_not_normal(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each property named with the members it concerns; a normal wheel has no reasons."""
    assert (
        main(["normalize", "-w", str(tmp_path / "normal"), str(fixture_wheels["extension"])]) == 0
    )
    [normal] = (tmp_path / "normal").glob("*.whl")
    capsys.readouterr()
    with zipfile.ZipFile(normal) as archive:
        infos = archive.infolist()
        data = {i.filename: archive.read(i) for i in infos}
    init = next(i.filename for i in infos if i.filename.endswith("__init__.py"))
    metadata = next(i.filename for i in infos if i.filename.endswith("/METADATA"))
    changed = tmp_path / normal.name
    with zipfile.ZipFile(changed, "w") as out:
        out.writestr(zipfile.ZipInfo("twext/", date_time=(1980, 1, 1, 0, 0, 0)), b"")
        for info in [infos[1], infos[0], *infos[2:]]:  # the first two members swapped
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.create_system, copy.external_attr = 3, info.external_attr
            copy.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == init:
                copy.date_time = (2024, 5, 1, 12, 0, 0)
            if info.filename == metadata:
                copy.external_attr = 0o100664 << 16
                copy.compress_type = zipfile.ZIP_STORED
            out.writestr(copy, data[info.filename])
    assert main(["normalize", "--check", str(normal), str(changed)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{normal.name}: normal" and lines[1] == f"{changed.name}: not normal"
    reasons = {line.split(":")[0].strip(): line for line in lines[2:]}
    assert set(reasons) == {"order", "timestamps", "permissions", "compression", "dropped"}
    assert infos[0].filename in reasons["order"] and infos[1].filename in reasons["order"]
    assert init in reasons["timestamps"] and metadata not in reasons["timestamps"]
    assert f"{metadata}: 0664 vs 0644" in reasons["permissions"]
    assert metadata in reasons["compression"] and "twext/" in reasons["dropped"]
    assert main(["normalize", "--check", "--json", str(changed)]) == 1
    [wheel] = json.loads(capsys.readouterr().out)["wheels"]
    by_property = {r["property"]: r["members"] for r in wheel["reasons"]}
    assert by_property["timestamps"] == [init] and by_property["dropped"] == ["twext/"]


def test_check_names_a_record_in_another_form(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["normalize", "-w", str(tmp_path / "normal"), str(fixture_wheels["extension"])]) == 0
    )
    [normal] = (tmp_path / "normal").glob("*.whl")
    changed = tmp_path / normal.name
    with zipfile.ZipFile(normal) as src, zipfile.ZipFile(changed, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith("/RECORD"):
                body = b"".join(reversed(body.splitlines(keepends=True)))
            dst.writestr(info, body)
    capsys.readouterr()
    assert main(["normalize", "--check", str(changed)]) == 1
    out = capsys.readouterr().out
    assert "record: RECORD is not the regenerated one" in out
