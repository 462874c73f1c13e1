"""`truewheel build`: the same sdist or tree gives the same bytes, wherever and whenever."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import check_document
from truewheel.cli import main

PROJECT = Path(__file__).parent / "fixtures" / "buildproj"


@pytest.fixture(scope="module", autouse=True)
def build_root(private_build_root: Path) -> Path:
    return private_build_root


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_project(to: Path) -> Path:
    shutil.copytree(PROJECT, to)
    return to


def add_a_nonce(source: Path) -> None:
    """Make every build of ``source`` differ: a random file packaged with it."""
    (source / "setup.py").write_text(
        "import os\n"
        "os.makedirs('twbuild', exist_ok=True)\n"
        "open('twbuild/nonce.txt', 'w').write(os.urandom(8).hex())\n"
        "from setuptools import setup\n"
        "setup(packages=['twbuild'], package_data={'twbuild': ['nonce.txt']})\n"
    )


def test_two_builds_from_different_places_are_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = copy_project(tmp_path / "checkout-one")
    second = copy_project(tmp_path / "elsewhere" / "checkout-two")
    assert main(["build", str(first), "-w", str(tmp_path / "out1")]) == 0
    assert main(["build", str(second), "-w", str(tmp_path / "out2")]) == 0
    [one] = (tmp_path / "out1").glob("*.whl")
    [two] = (tmp_path / "out2").glob("*.whl")
    assert sha(one) == sha(two)
    with zipfile.ZipFile(one) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".so"))
        binary = archive.read(name)
    optimization = [
        f for f in (sysconfig.get_config_var("OPT") or "").split() if f.startswith("-O")
    ]
    assert b".debug_info" in binary, "debug info is kept"
    for flag in optimization:
        assert flag.encode() in binary, f"the interpreter's {flag} must survive truewheel's CFLAGS"
    info = (tmp_path / "out1" / (one.name + ".buildinfo.json")).read_text()
    assert '"SOURCE_DATE_EPOCH"' in info and "setuptools==" in info and '"compiler"' in info


def test_plain_pip_wheel_differs_and_diff_names_the_build_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = []
    for name in ("pip-one", "pip-two"):
        source = copy_project(tmp_path / name)
        out = tmp_path / f"{name}-out"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "--no-cache-dir",
                "-w",
                str(out),
                str(source),
            ],
            check=True,
            capture_output=True,
        )
        [wheel] = out.glob("*.whl")
        wheels.append(wheel)
    assert sha(wheels[0]) != sha(wheels[1])
    assert main(["diff", str(wheels[0]), str(wheels[1])]) == 1
    lines = capsys.readouterr().out.splitlines()
    cause = next(i for i, line in enumerate(lines) if "build path differs" in line)
    assert cause < 10 and "pip-one" in lines[cause] and "pip-two" in lines[cause]


def test_check_builds_twice_and_agrees(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = copy_project(tmp_path / "checked")
    assert main(["build", "--check", "-w", str(tmp_path / "out"), str(source)]) == 0
    out = capsys.readouterr().out
    assert "reproducible" in out and "umask=077" in out and "TZ=America/New_York" in out
    assert len(list((tmp_path / "out").glob("*.whl"))) == 1


def test_check_before_source_and_json_names_wheels_that_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--check SOURCE``: the optional N does not swallow the source."""
    source = copy_project(tmp_path / "checked")
    assert main(["build", "--check", str(source), "-w", str(tmp_path / "out"), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    builds = document["check"]["builds"]
    assert len(builds) == 2 and all(Path(b["wheel"]).is_file() for b in builds)


def test_sigterm_stops_the_check_and_its_builds(tmp_path: Path) -> None:
    """timeout(1) or a CI cancel: no build left running (holding the root's lock), no output."""
    import signal
    import time

    source = copy_project(tmp_path / "slow")
    (source / "setup.py").write_text(
        "import time\ntime.sleep(60)\nfrom setuptools import setup\nsetup()\n"
    )
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "truewheel", "build", "--check", "2", "-w", str(out)]
    child = subprocess.Popen([*argv, str(source)], start_new_session=True)
    time.sleep(8)
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == 128 + signal.SIGTERM
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", str(source)], capture_output=True, text=True)
    assert left.stdout.strip() == "", "no build of it is still running"
    assert not out.exists()


def test_sdist_with_path_traversal_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(evil, "w:gz") as tf:
        data = b"pwned"
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert main(["build", str(evil), "-w", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unsafe member refused" in err[0]
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_failing_build_shows_the_backend_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = copy_project(tmp_path / "broken")
    (broken / "src" / "twbuild_core.c").write_text("this is not C;\n")
    assert main(["build", str(broken), "-w", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "build backend" in err[0] and "failed" in err[0]
    assert "twbuild_core.c:1:" in err[0] and "error:" in err[0], "the compiler's own diagnostic"
    assert not (tmp_path / "out").exists()


def test_missing_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "-w", str(tmp_path / "out"), str(tmp_path / "nothing.tar.gz")]) == 2
    assert not (tmp_path / "out").exists(), "a bad source leaves no output directory"
    assert "no such file" in capsys.readouterr().err


def test_link_out_of_the_tree_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = tmp_path / "links-1.0.tar.gz"
    with tarfile.open(evil, "w:gz") as tf:
        link = tarfile.TarInfo("links-1.0/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    assert main(["build", str(evil), "-w", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unsafe member refused" in err[0]


def test_missing_compiler_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = copy_project(tmp_path / "nocc")
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert main(["build", str(source), "-w", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-compiler" in err[0]
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_zip_sdist_epoch_does_not_depend_on_the_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from truewheel.reproducible.source import newest_member_time

    sdist = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(sdist, "w") as zf:
        zf.writestr(zipfile.ZipInfo("pkg-1.0/setup.py", (2024, 10, 18, 15, 3, 18)), "")
    epochs = set()
    for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        epochs.add(newest_member_time(sdist))
    monkeypatch.delenv("TZ")
    time.tzset()
    assert epochs == {1729263798}


def test_relative_build_root_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from truewheel.reproducible.root import build_root

    monkeypatch.chdir(tmp_path)
    assert build_root({"TRUEWHEEL_BUILD_ROOT": "relroot"}) == tmp_path / "relroot"


def test_check_reports_a_build_that_is_not_reproducible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = copy_project(tmp_path / "random")
    add_a_nonce(source)
    out = tmp_path / "out"
    assert main(["build", "--check", "-w", str(out), str(source)]) == 1
    report = capsys.readouterr().out
    assert "NOT reproducible" in report and "twbuild/nonce.txt: text differs" in report
    assert len(list(out.glob("*.whl"))) == 1 and len(list(out.glob("check-b/*.whl"))) == 1


def test_build_json_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plain build and a --check that is not reproducible, both as schema-valid JSON."""
    source = copy_project(tmp_path / "plain")
    assert main(["build", "--json", "-w", str(tmp_path / "out"), str(source)]) == 0
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    assert document["check"] is None and Path(document["wheel"]).exists()
    assert sha(Path(document["wheel"])) == document["sha256"]
    add_a_nonce(source)
    assert main(["build", "--check", "--json", "-w", str(tmp_path / "c"), str(source)]) == 1
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    check = document["check"]
    assert check["reproducible"] is False and len(check["builds"]) == 2
    assert check["builds"][1]["conditions"]["umask"] == "077"
    [nonce] = [m for m in check["diff"]["members"] if m["name"] == "twbuild/nonce.txt"]
    assert nonce["causes"] == ["text differs"]


def test_fetch_installs_a_backend_that_is_not_here(tmp_path: Path) -> None:
    """iniconfig builds with hatchling, which truewheel's own environment does not hold."""
    from truewheel.reproducible.source import fetch_sdist

    sdist = fetch_sdist("iniconfig==2.0.0", tmp_path / "fetched")
    assert sdist.name == "iniconfig-2.0.0.tar.gz"
    assert [p.name for p in sdist.parent.iterdir()] == [sdist.name]


def test_fetch_failure_says_what_pip_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "iniconfig==0.0.999", "-w", str(tmp_path / "out")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "cannot fetch an sdist" in line and "iniconfig==0.0.999" in line
    assert "See above" not in line and "No matching distribution" in line


def test_diff_of_pip_and_truewheel_builds_names_each_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same tree under two roots of different depth: each pair of roots in full."""
    source = copy_project(tmp_path / "pip-src")
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-cache-dir"]
    subprocess.run([*argv, "-w", str(tmp_path / "pip"), str(source)], check=True)
    [plain] = (tmp_path / "pip").glob("*.whl")
    assert main(["build", str(PROJECT), "-w", str(tmp_path / "tw")]) == 0
    [built] = (tmp_path / "tw").glob("*.whl")
    capsys.readouterr()
    assert main(["diff", str(plain), str(built)]) == 1
    [cause] = [line for line in capsys.readouterr().out.splitlines() if "build path" in line]
    assert f"A {source}  B /truewheel/src" in cause
