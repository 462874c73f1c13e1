"""`truewheel repair` on real fixture wheels: grafts that really load, deterministic output."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import run_hidden, skip_without_mount_namespace
from truewheel.analysis.inspector import Inspector
from truewheel.cli import main

HIDE_FROM_LOADER = ["libgmp.so.10", "libgomp.so.1"]


def repair(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["repair", "--json", *args])
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else {}


@pytest.fixture(scope="module")
def repaired(fixture_wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("repaired")
    assert main(["repair", "-w", str(out), str(fixture_wheels["system_libs"])]) == 0
    [wheel] = out.glob("*.whl")
    return wheel


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_grafts_and_retags(repaired: Path) -> None:
    assert "manylinux_" in repaired.name and "linux_x86_64" not in repaired.name.replace(
        "manylinux", ""
    )
    report = Inspector().inspect(repaired)
    assert report.platform is not None
    assert report.platform.computed.tag.startswith("manylinux_")
    assert report.platform.external_libraries == []
    names = {f.path for f in report.native_files}
    grafted = {n for n in names if n.startswith("twsys.libs/")}
    assert {n.split("/")[1].split("-")[0] for n in grafted} == {"libgmp", "libgomp"}
    assert not {f.code for f in report.findings} & {
        "record-mismatch",
        "broken-reference",
        "external-library",
    }
    with zipfile.ZipFile(repaired) as archive:
        names_in_order = archive.namelist()
        assert names_in_order[-1].endswith(".dist-info/RECORD")
        sbom = json.loads(archive.read("twsys-1.0.dist-info/sboms/truewheel.cdx.json"))
        assert any("licenses/" in n for n in names_in_order)
    components = {c["name"] for c in sbom["components"]}
    assert any("GNU MP" in c or "gmp" in c.lower() for c in components)


def test_auditwheel_agrees(repaired: Path) -> None:
    auditwheel = shutil.which("auditwheel") or str(Path(sys.executable).parent / "auditwheel")
    if not Path(auditwheel).exists():
        pytest.skip("auditwheel not installed")
    shown = subprocess.run([auditwheel, "show", str(repaired)], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    report = Inspector().inspect(repaired)
    assert report.platform is not None
    legacy = {
        "manylinux_2_5": "manylinux1",
        "manylinux_2_12": "manylinux2010",
        "manylinux_2_17": "manylinux2014",
    }
    policy = report.platform.computed.policy
    assert policy is not None
    assert (
        f'"{policy.name}_x86_64"' in shown.stdout
        or f'"{legacy.get(policy.name, "-")}_x86_64"' in shown.stdout
    )


def _hidden_import(python: Path, module: str) -> subprocess.CompletedProcess[str]:
    """Import ``module`` with the grafted host libraries hidden from the loader."""
    return run_hidden([str(python), "-c", f"import {module}"], HIDE_FROM_LOADER)


def test_repaired_wheel_imports_with_host_libraries_hidden(
    repaired: Path, fixture_wheels: dict[str, Path], tmp_path: Path
) -> None:
    skip_without_mount_namespace()
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*pip, str(fixture_wheels["system_libs"])], check=True)
    control = _hidden_import(python, "twsys._core")
    assert control.returncode != 0, "hiding the host libraries must break the unrepaired wheel"
    subprocess.run([*pip, "--force-reinstall", str(repaired)], check=True)
    hidden = _hidden_import(python, "twsys._core")
    assert hidden.returncode == 0, hidden.stderr


def test_deterministic_and_idempotent(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = fixture_wheels["system_libs"]
    before = sha(source)
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["repair", "-w", str(first), str(source)]) == 0
    assert main(["repair", "-w", str(second), str(source)]) == 0
    [a], [b] = first.glob("*.whl"), second.glob("*.whl")
    assert sha(a) == sha(b)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    epoch1, epoch2 = tmp_path / "e1", tmp_path / "e2"
    assert main(["repair", "-w", str(epoch1), str(source)]) == 0
    assert main(["repair", "-w", str(epoch2), str(source)]) == 0
    assert sha(next(epoch1.glob("*.whl"))) == sha(next(epoch2.glob("*.whl")))
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    again = tmp_path / "again"
    capsys.readouterr()
    status, doc = repair(capsys, "-w", str(again), str(a))
    assert status == 0
    [result] = doc["wheels"]
    assert result["changed"] is False and "nothing to change" in result["note"]
    assert sha(next(again.glob("*.whl"))) == sha(a)
    assert sha(source) == before, "the input must never change"


def test_exclude_keeps_dependency(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, doc = repair(
        capsys, "-w", str(tmp_path), "--exclude", "libgomp*", str(fixture_wheels["system_libs"])
    )
    assert status == 0
    [result] = doc["wheels"]
    assert [e["name"] for e in result["excluded"]] == ["libgomp.so.1"]
    assert [g["original_name"] for g in result["grafted"]] == ["libgmp.so.10"]
    report = Inspector().inspect(result["output"])
    [core] = [f for f in report.native_files if f.path.startswith("twsys/")]
    assert "libgomp.so.1" in core.elf.needed
    with zipfile.ZipFile(result["output"]) as archive:
        sbom = archive.read("twsys-1.0.dist-info/sboms/truewheel.cdx.json").decode()
    assert "libgomp.so.1" in sbom


def test_plat_the_content_cannot_meet(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "repair",
            "-w",
            str(tmp_path),
            "--plat",
            "manylinux_2_17_x86_64",
            str(fixture_wheels["executable"]),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "cannot meet manylinux_2_17_x86_64" in err and "GLIBC_2.34" in err
    assert list(tmp_path.iterdir()) == []


def test_missing_library_is_named(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["repair", "-w", str(tmp_path), str(fixture_wheels["broken_ref"])])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "libmissing.so.1" in err and "_core" in err and "--exclude" in err
    assert len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_auditwheel_flags_are_accepted(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, doc = repair(
        capsys,
        "-w",
        str(tmp_path),
        "-L",
        ".vendored",
        "-z",
        "9",
        "--strip",
        "--only-plat",
        "--plat",
        "manylinux_2_34_x86_64",
        str(fixture_wheels["system_libs"]),
    )
    assert status == 0
    [result] = doc["wheels"]
    assert result["platform_tags"] == ["manylinux_2_34_x86_64"]
    assert Path(result["output"]).name.endswith("-manylinux_2_34_x86_64.whl")
    assert all(g["wheel_path"].startswith("twsys.vendored/") for g in result["grafted"])
    status, doc = repair(
        capsys, "-w", str(tmp_path / "keep"), "--no-update-tags", str(fixture_wheels["system_libs"])
    )
    assert status == 0
    assert Path(doc["wheels"][0]["output"]).name == fixture_wheels["system_libs"].name


def test_json_report_matches_the_schema(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.resources import files

    import jsonschema

    schema = json.loads(
        files("truewheel").joinpath("schemas").joinpath("repair.schema.json").read_text()
    )
    status, doc = repair(
        capsys,
        "-w",
        str(tmp_path),
        "--exclude",
        "libgomp*",
        str(fixture_wheels["system_libs"]),
        str(fixture_wheels["extension"]),
    )
    assert status == 0
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    owners = [g["owner"] for g in doc["wheels"][0]["grafted"]]
    assert owners and all(
        o and o["manager"] == "deb" and o["purl"].startswith("pkg:deb/") for o in owners
    )


def test_patchelf_failure_leaves_nothing(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failing = tmp_path / "patchelf"
    failing.write_text("#!/bin/sh\necho 'patchelf: cannot find section .dynstr' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setattr("truewheel.repair.patchelf.find_patchelf", lambda: str(failing))
    out = tmp_path / "out"
    status = main(["repair", "-w", str(out), str(fixture_wheels["system_libs"])])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and "patchelf failed: patchelf: cannot find section .dynstr" in err[0]
    assert not out.exists() or list(out.iterdir()) == []


def test_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "pkg-1.0-cp311-cp311-linux_x86_64.whl"
    bad.write_bytes(b"PK\x03\x04 truncated")
    out = tmp_path / "out"
    assert main(["repair", "-w", str(out), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and bad.name in err[0] and "zip" in err[0]
    assert not out.exists() or list(out.iterdir()) == []
    assert main(["repair", "--provided-by", "no-colon-here", str(bad)]) == 2
    assert "DIST[SPEC]:PATTERN" in capsys.readouterr().err
