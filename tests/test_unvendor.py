"""``truewheel unvendor`` end to end on gcc-built wheels: one copy of libgmp, proven to load.

Two distributions each get their own copy of the system's libgmp from ``truewheel repair``;
unvendoring them gives a library wheel and two consumers that pip installs side by side.
Both import in one process, with the system's libgmp hidden from the loader, and exactly one
libgmp is mapped: the library wheel's.  A refused unvendor (two builds of one library, each
lacking a symbol the other's consumer binds) writes nothing and names the symbol.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from conftest import (
    check_document,
    run_hidden,
    run_python,
    skip_without_mount_namespace,
    venv_python,
)
from truewheel.analysis.inspector import Inspector
from truewheel.cli import main

_IMPORT_BOTH = """
import json, twgmpa, twgmpb
maps = sorted({l.split()[-1] for l in open("/proc/self/maps") if "libgmp" in l})
print(json.dumps({"a": twgmpa.power(3, 200), "b": twgmpb.power(3, 200), "maps": maps,
                  "version": twgmpa.version()}))
"""


@pytest.fixture(scope="module")
def gmp_wheels(
    tmp_path_factory: pytest.TempPathFactory, wheelbuild: ModuleType, unvendorbuild: ModuleType
) -> tuple[Path, Path]:
    """twgmpa and twgmpb, each repaired by truewheel with its own grafted libgmp."""
    work = tmp_path_factory.mktemp("unvendor-gmp")
    built = unvendorbuild.build_gmp_consumers(wheelbuild, work / "built")
    assert main(["repair", "-w", str(work / "repaired"), *map(str, built)]) == 0
    a, b = sorted((work / "repaired").glob("*.whl"))
    return a, b


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _sbom(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/sboms/truewheel.cdx.json"))
        return z.read(name).decode()


def _cyclonedx_error(text: str) -> object:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)


def test_plan_changes_nothing(
    gmp_wheels: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status = main(
        ["unvendor", "--plan", "--lib", "libgmp*", "-w", str(out), "--json", *map(str, gmp_wheels)]
    )
    assert status == 0
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    [library] = document["libraries"]
    assert library["library"] == "libgmp.so.10" and library["passes"]
    assert len(library["copies"]) == 2
    assert library["saved_unpacked_bytes"] == library["copies"][1]["size"]
    assert library["duplicated_unpacked_bytes"] == library["saved_unpacked_bytes"]
    assert document["outputs"] == [] and not out.exists()


def test_one_copy_shared_and_proven_to_load(
    gmp_wheels: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skip_without_mount_namespace()
    before = [_digest(w) for w in gmp_wheels]
    out = tmp_path / "out"
    status = main(["unvendor", "--lib", "libgmp*", "-w", str(out), "--json", *map(str, gmp_wheels)])
    assert status == 0
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    assert [_digest(w) for w in gmp_wheels] == before, "inputs are never modified"
    [library] = document["libraries"]
    kinds = sorted(o["kind"] for o in document["outputs"])
    assert kinds == ["consumer", "consumer", "library"]
    [lib_wheel] = out.glob("libgmp-*.whl")
    consumers = sorted(out.glob("twgmp*.whl"))
    assert len(consumers) == 2 and sorted(out.iterdir()) == sorted([lib_wheel, *consumers])

    # The library wheel: the loader module, one copy under its shared SONAME, an SBOM.
    soname = library["soname"]
    names = _members(lib_wheel)
    # Nothing in the copy changes (its SONAME is already mangled): its compressed bytes are
    # copied as they are, as are the files whose DT_NEEDED already names it.
    chosen = library["chosen"]
    with zipfile.ZipFile(chosen["wheel"]) as z, zipfile.ZipFile(lib_wheel) as out_zip:
        original = z.getinfo(chosen["member"])
        after = out_zip.getinfo(f"libgmp/lib/{soname}")
        assert (after.CRC, after.compress_size) == (original.CRC, original.compress_size)
    assert f"libgmp/lib/{soname}" in names and "libgmp/__init__.py" in names
    assert any(n.endswith("/sboms/truewheel.cdx.json") for n in names)
    # The consumers: their copy gone, the pin and the preload in.
    for consumer in consumers:
        names = _members(consumer)
        assert not [n for n in names if "libgmp" in n.rsplit("/", 1)[-1]]
        with zipfile.ZipFile(consumer) as z:
            metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        assert f"Requires-Dist: libgmp=={library['version']}".encode() in metadata
    # Both SBOMs are valid CycloneDX 1.6; the consumer's no longer lists its copy.
    for wheel in (lib_wheel, *consumers):
        text = _sbom(wheel)
        assert _cyclonedx_error(text) is None, wheel.name
        if wheel != lib_wheel:
            refs = {c["bom-ref"] for c in json.loads(text)["components"]}
            assert not [r for r in refs if ".libs/libgmp-" in r], "the removed copy is gone"
            assert f"pkg:pypi/libgmp@{library['version']}" in refs
    # truewheel's own outputs inspect clean: no warning, no error.
    for wheel in (lib_wheel, *consumers):
        report = Inspector().inspect(wheel)
        assert [f for f in report.findings if f.severity != "info"] == [], wheel.name
        assert report.platform is not None and report.platform.computed.policy is not None

    # Installed side by side with real pip; the system's libgmp hidden from the loader.
    python, env = venv_python(tmp_path / "venv", lib_wheel, *consumers)
    done = run_hidden([python, "-c", _IMPORT_BOTH], ["libgmp.so.10"], env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["a"] == result["b"] == str(3**200)
    [mapped] = result["maps"]
    assert mapped.endswith(f"/site-packages/libgmp/lib/{soname}")

    # Without the library wheel: the preload's one-line ImportError, naming the pin.
    subprocess.run([python, "-m", "pip", "uninstall", "-q", "-y", "libgmp"], check=True, env=env)
    done = run_python(python, env, "import twgmpa")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"ImportError: twgmpa: {soname} is provided by libgmp=={library['version']}, "
        f"which is not installed: pip install 'libgmp=={library['version']}'"
    )


def test_abi_refusal_names_the_symbol_and_writes_nothing(
    tmp_path: Path,
    wheelbuild: ModuleType,
    unvendorbuild: ModuleType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b, v1, v2 = unvendorbuild.build_version_consumers(wheelbuild, tmp_path / "built")
    repaired = tmp_path / "repaired"
    assert main(["repair", "-w", str(repaired), "--ldpaths", str(v1), str(a)]) == 0
    assert main(["repair", "-w", str(repaired), "--ldpaths", str(v2), str(b)]) == 0
    wheels = sorted(map(str, repaired.glob("*.whl")))
    capsys.readouterr()

    out = tmp_path / "out"
    assert main(["unvendor", "--lib", "libtwver*", "-w", str(out), *wheels]) == 2
    error = capsys.readouterr().err
    assert "nothing written" in error
    assert "no copy serves every consumer" in error
    assert "lacks tw_plain@TW_2, tw_value@TW_2 (bound by twverb-" in error
    assert "lacks tw_legacy@TW_1 (bound by twvera-" in error
    assert not out.exists()

    assert main(["unvendor", "--plan", "--lib", "libtwver*", "--json", *wheels]) == 1
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    [library] = document["libraries"]
    assert not library["passes"]
    [(consumer, missing)] = library["refusal"]["missing"].items()
    assert consumer.startswith("twvera-") and missing == [["tw_legacy", "TW_1"]]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["unvendor", "x.whl"], "say which libraries to share with --lib"),
        (["unvendor", "--catalog", "c.sqlite", "--lib", "x"], "--catalog asks a question only"),
        (["unvendor", "--plan", "--catalog", "missing.sqlite"], "no such catalog"),
        (["unvendor", "--lib", "libgmp*", "missing.whl"], "no such file or directory"),
    ],
)
def test_usage_errors_are_one_line(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert message in line


def test_bad_name_and_not_a_wheel(
    gmp_wheels: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "bogus-1.0-py3-none-any.whl"
    bogus.write_bytes(b"not a zip")
    assert main(["unvendor", "--lib", "libgmp*", "-w", str(tmp_path / "o"), str(bogus)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert str(bogus) in line
    argv = ["unvendor", "--lib", "libgmp*", "--name", "bad name!", "-w", str(tmp_path / "o")]
    assert main([*argv, *map(str, gmp_wheels)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "--name 'bad name!' is not a valid project name" in line
    for name, message in [
        ("twgmpa", "--name twgmpa: the library wheel twgmpa would clash with twgmpa-"),
        ("", "--name is empty"),
        ("x" * 101, "is not a valid project name"),
    ]:
        argv = ["unvendor", "--lib", "libgmp*", "--name", name, "-w", str(tmp_path / "o")]
        assert main([*argv, *map(str, gmp_wheels)]) == 2
        [line] = capsys.readouterr().err.splitlines()
        assert message in line
    argv = ["unvendor", "--lib", "libnothing*", "-w", str(tmp_path / "o")]
    assert main([*argv, *map(str, gmp_wheels)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "no vendored library matches --lib 'libnothing*'" in line
    assert (
        main(
            [
                "unvendor",
                "--lib",
                "libgmp*",
                "-w",
                str(tmp_path / "o"),
                *map(str, gmp_wheels),
                str(gmp_wheels[0]),
            ]
        )
        == 2
    )
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith(f"{gmp_wheels[0]}: given twice")
    assert not (tmp_path / "o").exists()


def test_outputs_are_deterministic_and_the_loader_loads(
    gmp_wheels: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = []
    for name in ("one", "two"):
        out = tmp_path / name
        assert main(["unvendor", "--lib", "libgmp*", "-w", str(out), *map(str, gmp_wheels)]) == 0
        runs.append({w.name: _digest(w) for w in out.glob("*.whl")})
    assert runs[0] == runs[1] and len(runs[0]) == 3
    capsys.readouterr()
    [lib_wheel] = (tmp_path / "one").glob("libgmp-*.whl")
    python, env = venv_python(tmp_path / "venv", lib_wheel)
    code = "import libgmp, os; libgmp.load(); print(os.path.isfile(libgmp.library_path()))"
    done = run_python(python, env, code)
    assert (done.returncode, done.stdout) == (0, "True\n"), done.stderr


def test_letter_releases_are_ordered_versions() -> None:
    """OpenSSL's 1.1.1k and 1.1.1w: PEP 440 reads neither, the gate must still order them."""
    from truewheel.unvendor.names import pep440

    k, w = pep440("1.1.1k"), pep440("1.1.1w")
    assert k is not None and w is not None and k < w
    assert str(k) == "1.1.1.post11" and pep440("6.3.0") < pep440("6.3.1")  # type: ignore[operator]
    assert pep440("not a version") is None
