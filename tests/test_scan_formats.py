"""`truewheel scan` across platforms: one library built for Linux, macOS and Windows is not
several builds of one another; each copy says its format and architecture."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import _load_fixture_module
from truewheel.cli import main

SCHEMA = Path(__file__).resolve().parents[1] / "src" / "truewheel" / "schemas" / "scan.schema.json"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zlib-everywhere")
    wheels = _load_fixture_module("formatbuild").build_zlib_everywhere(
        _load_fixture_module("wheelbuild"),
        _load_fixture_module("machobuild"),
        _load_fixture_module("pebuild"),
        out / "build",
    )
    if wheels is None:
        pytest.skip("clang, ld64.lld or mingw-w64 missing")
    root = out / "corpus"
    root.mkdir()
    for wheel in wheels:
        shutil.copy(wheel, root)
    return root


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["scan", "--json", "--no-progress", *args])
    return status, json.loads(capsys.readouterr().out)


def test_builds_are_counted_per_format_and_architecture(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, doc = scan(capsys, "--catalog", str(tmp_path / "c.sqlite"), str(corpus))
    assert status == 0
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["schema_version"] == "1.1"
    # zlib 1.3.1 for Linux x86_64, Windows amd64 and twice for macOS arm64: only the two
    # macOS arm64 copies (linked with different current versions) are two builds
    [group] = doc["builds"]
    assert (group["family"], group["library_version"]) == ("zlib", "1.3.1")
    assert (group["format"], group["architecture"]) == ("macho", "arm64")
    assert group["projects"] == ["twzmac", "twzmac2"]
    copies = [c for b in group["builds"] for c in b["copies"]]
    assert {(c["format"], c["architecture"]) for c in copies} == {("macho", "arm64")}
    # the family's totals still span every platform
    [zlib] = [f for f in doc["families"] if f["family"] == "zlib"]
    assert zlib["copies"] == 4
    assert sorted(zlib["projects"]) == ["twzlinux", "twzmac", "twzmac2", "twzwin"]


def test_text_report_names_the_platform(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["scan", "--no-progress", "--catalog", str(tmp_path / "c.sqlite"), str(corpus)])
    out = capsys.readouterr().out
    assert status == 0
    [row] = [line for line in out.splitlines() if "`libz`" in line]
    assert "| 1.3.1 | Mach-O arm64 | 2 |" in row
