"""Every command's ``--json`` document: one envelope, one schema each, validated on real runs."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import check_document
from truewheel.cli import cli, main
from truewheel.jsonreport import SCHEMA_VERSIONS


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main([args[0], "--json", *args[1:]])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    check_document(document)
    return status, document


def test_every_command_has_json_and_a_schema() -> None:
    assert set(cli.commands) == set(SCHEMA_VERSIONS)
    for command, version in SCHEMA_VERSIONS.items():
        options = {name for p in cli.commands[command].params for name in p.opts}
        assert "--json" in options, command
        path = files("truewheel").joinpath("schemas").joinpath(f"{command}.schema.json")
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith(f"/{command}-{version}.json")
        assert schema["properties"]["schema"] == {"const": f"truewheel-{command}"}


def test_documents_share_the_envelope_and_validate(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fixture_wheels["system_libs"]
    documents = {}
    status, documents["inspect"] = run_json(capsys, "inspect", "--fail-on", "never", str(source))
    assert status == 0
    status, documents["repair"] = run_json(capsys, "repair", "-w", str(tmp_path / "r"), str(source))
    assert status == 0
    [repaired] = (tmp_path / "r").glob("*.whl")
    status, documents["diff"] = run_json(capsys, "diff", str(source), str(repaired))
    assert status == 1
    status, documents["normalize"] = run_json(capsys, "normalize", "--check", str(source))
    assert status == 1 and documents["normalize"]["wheels"][0]["reasons"]
    status, written = run_json(capsys, "normalize", "-w", str(tmp_path / "n"), str(source))
    assert status == 0 and written["wheels"][0]["output"].startswith(str(tmp_path / "n"))
    catalog = str(tmp_path / "c.sqlite")
    status, documents["scan"] = run_json(
        capsys, "scan", "--no-progress", "--catalog", catalog, str(source), str(repaired)
    )
    assert status == 0
    for command, document in documents.items():
        assert list(document)[:3] == ["schema", "schema_version", "tool"], command
        assert list(document)[-1] == "errors"
        assert document["schema_version"] == SCHEMA_VERSIONS[command]


def test_errors_are_in_the_document_and_the_status(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_text("not a zip")
    good = str(fixture_wheels["extension"])
    for command in ("inspect", "normalize", "repair"):
        extra = ["-w", str(tmp_path / command)] if command == "repair" else []
        status = main([command, "--json", *extra, good, str(bad)])
        captured = capsys.readouterr()
        document = json.loads(captured.out)
        check_document(document)
        assert status == 2, command
        [error] = document["errors"]
        assert error["path"] == str(bad) and "not a zip" in error["message"]
        assert len(document["wheels"]) == 1
        assert captured.err.count("truewheel: error:") == 1
