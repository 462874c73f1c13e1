"""Checks that tests/fixtures/wheelbuild.py builds the native wheels it promises."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import load_wheelbuild

wheelbuild = load_wheelbuild()
KEYS = list(wheelbuild.FIXTURE_DISTS)
ELF_MAGIC = b"\x7fELF"


def _extract(wheel: Path, member: str, dest_dir: Path) -> Path:
    with zipfile.ZipFile(wheel) as archive:
        target = dest_dir / member
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(member))
    return target


def _dynamic(path: Path) -> dict[str, list[str]]:
    """Parse ``readelf -d`` into tag -> values (NEEDED, RUNPATH, RPATH, SONAME)."""
    output = subprocess.run(
        ["readelf", "-d", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LC_ALL": "C"},
    ).stdout
    tags: dict[str, list[str]] = {}
    for match in re.finditer(r"\((NEEDED|RUNPATH|RPATH|SONAME)\)\s+[^\[]*\[(.*)\]", output):
        tags.setdefault(match.group(1), []).append(match.group(2))
    return tags


def test_every_fixture_is_built(fixture_wheels: dict[str, Path]) -> None:
    assert list(fixture_wheels) == KEYS
    tag = wheelbuild.wheel_tag()
    assert re.fullmatch(r"cp3\d+-cp3\d+[a-z]*-linux_x86_64", tag)
    for key, wheel in fixture_wheels.items():
        assert wheel.name == f"{wheelbuild.FIXTURE_DISTS[key]}-1.0-{tag}.whl"
        assert wheel.is_file()


@pytest.mark.parametrize("key", KEYS)
def test_wheel_is_valid_and_record_matches(fixture_wheels: dict[str, Path], key: str) -> None:
    dist = wheelbuild.FIXTURE_DISTS[key]
    dist_info = f"{dist}-1.0.dist-info"
    with zipfile.ZipFile(fixture_wheels[key]) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert len(names) == len(set(names))
        assert f"{dist}/__init__.py" in names
        assert {n.split("/")[0] for n in names if ".dist-info/" in n} == {dist_info}

        metadata = archive.read(f"{dist_info}/METADATA").decode()
        assert metadata.startswith("Metadata-Version: 2.1\n")
        assert f"\nName: {dist}\n" in metadata
        assert "\nVersion: 1.0\n" in metadata
        wheel_file = archive.read(f"{dist_info}/WHEEL").decode().splitlines()
        assert "Wheel-Version: 1.0" in wheel_file
        assert "Root-Is-Purelib: false" in wheel_file
        assert f"Tag: {wheelbuild.wheel_tag()}" in wheel_file
        assert any(line.startswith("Generator: ") for line in wheel_file)

        record_name = f"{dist_info}/RECORD"
        rows = list(csv.reader(io.StringIO(archive.read(record_name).decode())))
        assert [row[0] for row in rows] == names  # every member listed once, in archive order
        for path, digest, size in rows:
            if path == record_name:
                assert (digest, size) == ("", "")
                continue
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)

        for info in archive.infolist():
            mode = (info.external_attr >> 16) & 0o777
            is_elf = archive.read(info.filename)[:4] == ELF_MAGIC
            assert mode == (0o755 if is_elf else 0o644), info.filename


@pytest.mark.parametrize("key", KEYS)
def test_dynamic_sections(fixture_wheels: dict[str, Path], key: str, tmp_path: Path) -> None:
    expected = wheelbuild.expected_dynamic()[key]
    wheel = fixture_wheels[key]
    with zipfile.ZipFile(wheel) as archive:
        elf_members = {n for n in archive.namelist() if archive.read(n)[:4] == ELF_MAGIC}
    assert elf_members == set(expected), "every ELF member must be described"
    for member, facts in expected.items():
        tags = _dynamic(_extract(wheel, member, tmp_path))
        if facts.needed is not None:
            assert set(tags.get("NEEDED", [])) == facts.needed, member
        assert tags.get("RUNPATH") == ([facts.runpath] if facts.runpath else None), member
        assert tags.get("RPATH") == ([facts.rpath] if facts.rpath else None), member
        assert tags.get("SONAME") == ([facts.soname] if facts.soname else None), member


def test_broken_ref_layout(fixture_wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(fixture_wheels["broken_ref"]) as archive:
        names = archive.namelist()
    assert "twbroken/other/libhidden.so.1" in names
    assert not any("libmissing" in n for n in names)
    assert not any(n.startswith("twbroken/_libs/") for n in names)


def test_debug_paths_leak_build_dirs(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    out_dir = fixture_wheels["debug_paths"].parent
    member = f"twdebug/_core{wheelbuild.ext_suffix()}"
    core = _extract(fixture_wheels["debug_paths"], member, tmp_path)
    build_dir = str(wheelbuild.debug_build_dir(out_dir))
    source = str(wheelbuild.debug_source_path(out_dir))
    assert "/tmp-build/" in build_dir

    env = {**os.environ, "LC_ALL": "C"}
    info = subprocess.run(
        ["readelf", "--debug-dump=info", str(core)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    comp_dirs = re.findall(r"DW_AT_comp_dir\s*:.*?:\s*(\S+)\s*$", info, re.MULTILINE)
    assert comp_dirs == [build_dir]
    assert re.search(rf"DW_AT_name\s*:.*?:\s*{re.escape(source)}\s*$", info, re.MULTILINE)

    rodata = subprocess.run(
        ["readelf", "--string-dump=.rodata", str(core)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert wheelbuild.DEBUG_BUILD_ROOT_MACRO in rodata


def test_only_debug_fixture_carries_build_paths(fixture_wheels: dict[str, Path]) -> None:
    out_dir = str(fixture_wheels["debug_paths"].parent).encode()
    for key, wheel in fixture_wheels.items():
        with zipfile.ZipFile(wheel) as archive:
            leaking = [n for n in archive.namelist() if out_dir in archive.read(n)]
        assert bool(leaking) == (key == "debug_paths"), (key, leaking)


def test_vendored_copies_of_system_libs(fixture_wheels: dict[str, Path]) -> None:
    libdir = Path("/usr/lib/x86_64-linux-gnu")
    with zipfile.ZipFile(fixture_wheels["duplicate_vendored"]) as archive:
        plain = archive.read("twdup/_vendor/libz.so.1")
        mangled = archive.read(f"twdup.libs/{wheelbuild.ZLIB_MANGLED}")
    with zipfile.ZipFile(fixture_wheels["vendored_mangled"]) as archive:
        gomp = archive.read("twvend.libs/libgomp.so.1")
    assert plain == (libdir / "libz.so.1").resolve().read_bytes()
    assert mangled != plain and wheelbuild.ZLIB_MANGLED.encode() in mangled
    assert gomp == (libdir / "libgomp.so.1").resolve().read_bytes()


def test_executable_runs(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    tool = _extract(fixture_wheels["executable"], "twexe/bin/twtool", tmp_path)
    tool.chmod(0o755)
    result = subprocess.run([str(tool), "a", "b"], capture_output=True, text=True, check=True)
    assert result.stdout == "twtool: 2 argument(s)\n"


# One script per package: each runs in a fresh process so vendored libraries are resolved
# exactly as they would be on first import (no SONAME already loaded by another package).
_IMPORT_CHECKS: dict[str, str] = {
    "twext": "import twext; out = twext.add(2, 3)",
    "twinner": "import twinner; out = [twinner.mul(6, 7), twinner.answer()]",
    "twvend": (
        "import twvend\n"
        "maps = open('/proc/self/maps').read()\n"
        "libs = sorted({l.split()[-1] for l in maps.splitlines() if 'twvend.libs/' in l})\n"
        "out = [twvend.gmp_version(), twvend.omp_sum(1000), twvend.cuda_version(),\n"
        "       [p.rsplit('/', 1)[1] for p in libs]]"
    ),
    "twsys": "import twsys; out = [twsys.versions()[0], twsys.omp_sum(10), twsys.cbrt(27.0)]",
    "twdup": "from twdup import _a, _b; out = [_a.crc32(b'abc'), _b.crc32(b'abc')]",
    "twabs": "import twabs; out = twabs.ping()",
    "twdebug": "import twdebug; out = twdebug.build_root()",
    "twexe": (
        "import os, subprocess, twexe\n"
        "out = [os.access(twexe.TOOL, os.X_OK),\n"
        "       subprocess.run([twexe.TOOL], capture_output=True, text=True).stdout]"
    ),
    "twbroken": (
        "import twbroken\n"
        "try:\n"
        "    import twbroken._core\n"
        "    out = 'imported'\n"
        "except ImportError as exc:\n"
        "    out = str(exc)"
    ),
}


def test_pip_install_and_import(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    keys = [
        "extension",
        "internal_rpath",
        "vendored_mangled",
        "system_libs",
        "duplicate_vendored",
        "absolute_rpath",
        "debug_paths",
        "executable",
        "broken_ref",
    ]
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
        + [str(fixture_wheels[k]) for k in keys],
        check=True,
        env=env,
    )

    results = {}
    for package, code in _IMPORT_CHECKS.items():
        script = code + "\nimport json; print(json.dumps(out))\n"
        proc = subprocess.run(
            [python, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
        )
        assert proc.returncode == 0, (package, proc.stderr)
        results[package] = json.loads(proc.stdout)

    assert results["twext"] == 5
    assert results["twinner"] == [42, 42]
    gmp_version, omp_sum, cuda_version, loaded = results["twvend"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", gmp_version)
    assert (omp_sum, cuda_version) == (499500, 12000)
    assert loaded == sorted([wheelbuild.GMP_MANGLED, "libcudart.so.12", "libgomp.so.1"])
    assert results["twsys"][1:] == [45, pytest.approx(3.0)]
    assert results["twdup"] == [0x352441C2, 0x352441C2]
    assert results["twabs"] == "pong"
    assert results["twdebug"] == wheelbuild.DEBUG_BUILD_ROOT_MACRO
    assert results["twexe"] == [True, "twtool: 0 argument(s)\n"]
    assert "libmissing.so.1" in results["twbroken"]
