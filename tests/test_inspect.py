"""`inspect` on real fixture wheels, cross-checked with readelf and the fixture recipes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport
from truewheel.cli import main


@pytest.fixture(scope="module")
def reports(fixture_wheels: dict[str, Path]) -> dict[str, WheelReport]:
    inspector = Inspector()
    return {key: inspector.inspect(path) for key, path in fixture_wheels.items()}


def codes(report: WheelReport) -> set[str]:
    return {f.code for f in report.findings}


def findings_for(report: WheelReport, code: str) -> list[str]:
    return [f.message for f in report.findings if f.code == code]


def test_elf_facts_match_the_recipes(
    reports: dict[str, WheelReport], wheelbuild: ModuleType
) -> None:
    for key, expected_files in wheelbuild.expected_dynamic().items():
        native = {f.path: f for f in reports[key].native_files}
        assert set(native) == set(expected_files), key
        for path, facts in expected_files.items():
            elf = native[path].elf
            if facts.needed is not None:
                assert set(elf.needed) == set(facts.needed), path
            assert ":".join(elf.runpath) == (facts.runpath or ""), path
            assert ":".join(elf.rpath) == (facts.rpath or ""), path
            assert elf.soname == facts.soname, path


def test_elf_facts_match_readelf(
    fixture_wheels: dict[str, Path], reports: dict[str, WheelReport], tmp_path: Path
) -> None:
    """Every native file's build-id and symbol-version needs agree with binutils."""
    for key, wheel in fixture_wheels.items():
        with zipfile.ZipFile(wheel) as archive:
            for f in reports[key].native_files:
                target = tmp_path / key / f.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(f.path))
                notes = subprocess.run(
                    ["readelf", "-nW", str(target)], capture_output=True, text=True, check=True
                ).stdout
                build_id = re.search(r"Build ID: ([0-9a-f]+)", notes)
                assert f.elf.build_id == (build_id.group(1) if build_id else None)
                versions = subprocess.run(
                    ["readelf", "-VW", str(target)], capture_output=True, text=True, check=True
                ).stdout
                needed_versions = set(re.findall(r"Name: (\S+)\s+Flags", versions))
                ours = {v for n in f.elf.version_needs for v in n.versions}
                assert ours == needed_versions, f.path


def test_extension_is_clean_and_manylinux(reports: dict[str, WheelReport]) -> None:
    report = reports["extension"]
    assert report.platform is not None
    assert report.platform.computed.tag.startswith("manylinux_")
    assert report.platform.external_libraries == []
    assert codes(report) <= {"tag-untagged"}
    assert all(d.status == "system" for f in report.native_files for d in f.dependencies)


def test_internal_library_resolves_through_origin(reports: dict[str, WheelReport]) -> None:
    report = reports["internal_rpath"]
    for f in report.native_files:
        for dep in f.dependencies:
            if dep.name == "libinner.so.1":
                assert dep.status == "bundled"
                assert dep.path == "twinner/_libs/libinner.so.1"
                assert dep.via == ("rpath" if "_legacy" in f.path else "runpath")
    assert "broken-reference" not in codes(report)


def test_system_libraries_are_external(reports: dict[str, WheelReport]) -> None:
    report = reports["system_libs"]
    assert report.platform is not None
    assert set(report.platform.external_libraries) == {"libgmp.so.10", "libgomp.so.1"} | (
        {"libz.so.1"} & set(report.platform.external_libraries)
    )
    assert report.platform.computed.tag == "linux_x86_64"
    assert report.platform.repairable.tag.startswith("manylinux_")
    assert any("libgomp.so.1" in m for m in findings_for(report, "external-library"))


def test_executable_found_by_magic(reports: dict[str, WheelReport]) -> None:
    report = reports["executable"]
    [tool] = report.native_files
    assert tool.path == "twexe/bin/twtool"
    assert tool.elf.type == "DYN" and tool.elf.is_pie
    assert tool.elf.interpreter and "ld-linux" in tool.elf.interpreter


def test_broken_reference(reports: dict[str, WheelReport]) -> None:
    report = reports["broken_ref"]
    [broken] = findings_for(report, "broken-reference")
    assert "libhidden.so.1" in broken and "twbroken/other/libhidden.so.1" in broken
    assert any("libmissing.so.1" in m for m in findings_for(report, "external-library"))
    assert report.worst() == "error"


def test_absolute_rpath(reports: dict[str, WheelReport]) -> None:
    assert findings_for(reports["absolute_rpath"], "absolute-rpath") == [
        "search path /opt/twabs-build/lib is outside the wheel; unused: the file needs only "
        "the C library, which is always loaded before it"
    ]


def test_debug_build_paths(
    reports: dict[str, WheelReport], fixture_wheels: dict[str, Path], wheelbuild: ModuleType
) -> None:
    [f] = reports["debug_paths"].native_files
    assert f.elf.has_debug_info
    roots = {(b.root, b.section, b.randomized) for b in f.build_paths}
    assert ("/tmp/pip-req-build-abc123", ".rodata", True) in roots
    build_dir = str(wheelbuild.debug_build_dir(fixture_wheels["debug_paths"].parent))
    assert any(
        build_dir.startswith(b.root) and b.section.startswith(".debug") for b in f.build_paths
    )
    messages = findings_for(reports["debug_paths"], "build-path")
    assert any("pip-req-build-abc123" in m and "differs on every build" in m for m in messages)


def test_vendored_identity(reports: dict[str, WheelReport]) -> None:
    report = reports["vendored_mangled"]
    identities = {f.path.rsplit("/", 1)[-1]: f.identity for f in report.native_files}
    gmp = identities["libgmp-1a2b3c4d.so.10.4.1"]
    assert gmp is not None and gmp.family == "gmp" and gmp.mangled_hash == "1a2b3c4d"
    gomp = identities["libgomp.so.1"]
    assert gomp is not None and gomp.mangled_hash is None
    cudart = identities["libcudart.so.12"]
    assert cudart is not None and cudart.restricted
    assert identities[next(k for k in identities if k.startswith("_core"))] is None
    unmangled = findings_for(report, "vendored-unmangled")
    assert any("libgomp.so.1" in m for m in unmangled)
    assert findings_for(report, "restricted-library")
    assert report.vendored_bytes > 0.9 * report.native_bytes


def test_duplicate_vendored(reports: dict[str, WheelReport]) -> None:
    """The grafted copy is the other copy with its SONAME rewritten: one link output (the
    same GNU build-id, which patchelf leaves alone) shipped twice, not another build."""
    report = reports["duplicate_vendored"]
    assert not findings_for(report, "duplicate-library")
    [dup] = [f for f in report.findings if f.code == "duplicate-build"]
    assert dup.severity == "info" and "same GNU build-id" in dup.message
    assert "twdup.libs/libz-0a1b2c3d.so.1.2.13" in dup.message
    assert "twdup/_vendor/libz.so.1" in dup.message
    ids = {f.elf.build_id for f in report.native_files if "libz" in f.path}
    assert len(ids) == 1 and None not in ids


def test_record_verified(reports: dict[str, WheelReport]) -> None:
    for report in reports.values():
        assert not {"record-mismatch", "record-missing-file", "record-malformed"} & codes(report)


def test_cli_json_and_exit_status(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["inspect", "--json", str(fixture_wheels["extension"])])
    doc = json.loads(capsys.readouterr().out)
    assert status == 0
    assert doc["wheels"][0]["name"] == "twext"
    assert main(["inspect", "--json", str(fixture_wheels["broken_ref"])]) == 1
    capsys.readouterr()
    assert main(["inspect", "--fail-on", "never", str(fixture_wheels["broken_ref"])]) == 0
    assert "broken-reference" in capsys.readouterr().out
    assert main(["inspect", "--fail-on", "warning", str(fixture_wheels["absolute_rpath"])]) == 0
    assert main(["inspect", "--fail-on", "info", str(fixture_wheels["absolute_rpath"])]) == 1


def test_cli_directory_means_every_wheel(
    fixture_wheels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    directory = fixture_wheels["extension"].parent
    main(["inspect", "--json", "--fail-on", "never", str(directory)])
    doc = json.loads(capsys.readouterr().out)
    assert {w["filename"] for w in doc["wheels"]} == {p.name for p in fixture_wheels.values()}


def test_cli_output_file(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    assert (
        main(["inspect", "--files", "-o", str(out), str(fixture_wheels["vendored_mangled"])]) == 0
    )
    text = out.read_text()
    assert "twvend-1.0" in text and "native files" in text and "GNU MP" in text


def test_json_matches_the_schema(
    fixture_wheels: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from importlib.resources import files

    import jsonschema

    schema = json.loads(
        files("truewheel").joinpath("schemas").joinpath("inspect.schema.json").read_text()
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    bad = tmp_path / "broken-1.0-py3-none-any.whl"
    bad.write_text("not a zip")
    main(["inspect", "--json", str(fixture_wheels["extension"].parent), str(bad)])
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert len(doc["wheels"]) == len(fixture_wheels) and len(doc["errors"]) == 1
    assert doc["errors"][0]["path"] == str(bad)


def _gcc(out: Path, source: str, *link: str) -> None:
    src = out.with_suffix(".c")
    src.write_text(source)
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(out), str(src), "-Wl,--no-as-needed", *link],
        check=True,
    )


def _two_loaders_wheel(tmp_path: Path) -> Path:
    """libtwb.so needs libtwc.so and finds it only through its loaders: e1 has loaded it,
    e2's DT_RPATH reaches it. Which explanation is given must not follow set order."""
    libs = tmp_path / "libs"
    libs.mkdir()
    _gcc(libs / "libtwc.so", "int c(void) { return 1; }\n", "-Wl,-soname,libtwc.so")
    _gcc(libs / "libtwb.so", "int c(void);\nint b(void) { return c(); }\n",
         "-Wl,-soname,libtwb.so", str(libs / "libtwc.so"))  # fmt: skip
    _gcc(tmp_path / "e1.so", "int b(void); int c(void);\nint e1(void) { return b() + c(); }\n",
         str(libs / "libtwb.so"), str(libs / "libtwc.so"), "-Wl,--enable-new-dtags",
         "-Wl,-rpath,$ORIGIN/libs")  # fmt: skip
    _gcc(tmp_path / "e2.so", "int b(void);\nint e2(void) { return b(); }\n",
         str(libs / "libtwb.so"), "-Wl,--disable-new-dtags", "-Wl,-rpath,$ORIGIN/libs")  # fmt: skip
    members = {
        "twtwo/__init__.py": b"",
        "twtwo/e1.so": (tmp_path / "e1.so").read_bytes(),
        "twtwo/e2.so": (tmp_path / "e2.so").read_bytes(),
        "twtwo/libs/libtwb.so": (libs / "libtwb.so").read_bytes(),
        "twtwo/libs/libtwc.so": (libs / "libtwc.so").read_bytes(),
        "twtwo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: twtwo\nVersion: 1.0\n",
        "twtwo-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n"
        b"Tag: cp311-cp311-linux_x86_64\n",
    }
    record = "".join(
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
        f"{len(data)}\n"
        for name, data in members.items()
    )
    members["twtwo-1.0.dist-info/RECORD"] = (record + "twtwo-1.0.dist-info/RECORD,,\n").encode()
    wheel = tmp_path / "twtwo-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return wheel


def test_report_does_not_depend_on_hash_seed(
    fixture_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """String hashing varies between processes; nothing reported may follow set order."""
    wheels = [*sorted(fixture_wheels.values()), _two_loaders_wheel(tmp_path)]
    outputs = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        done = subprocess.run(
            [sys.executable, "-m", "truewheel", "inspect", "--json", "--fail-on", "never"]
            + [str(w) for w in wheels],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    [twtwo] = [w for w in json.loads(outputs.pop())["wheels"] if w["name"] == "twtwo"]
    [libtwb] = [f for f in twtwo["native_files"] if f["path"].endswith("libtwb.so")]
    assert (libtwb["needed"][0]["name"], libtwb["needed"][0]["status"]) == ("libtwc.so", "bundled")


def test_cli_directory_is_searched_like_scan(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wheels below a directory are found at any depth, as ``scan`` finds them."""
    nested = tmp_path / "index" / "twext" / "1.0"
    nested.mkdir(parents=True)
    shutil.copyfile(fixture_wheels["extension"], nested / fixture_wheels["extension"].name)
    assert main(["inspect", "--json", "--fail-on", "never", str(tmp_path / "index")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [w["filename"] for w in doc["wheels"]] == [fixture_wheels["extension"].name]
