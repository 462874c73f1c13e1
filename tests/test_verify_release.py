"""`truewheel verify --release DIR`, `--index SOURCES`, and `verify WHEEL [NAME==VERSION]` with
the sdist fetched from an index: real sdists and wheels made in code, a C extension compiled by
gcc and tagged for another architecture, real process pools and (if installed) a Dask cluster,
a real `file://` Simple API index, and PyPI itself when it can be reached."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import check_document
from test_verify import EXT_C, make_sdist, make_wheel, pkg_info
from truewheel.cli import main
from truewheel.verify.release import release_in, verify_release_files

INIT = b'"""twv: a verify fixture."""\n'
SDIST_FILES = {"src/twv/__init__.py": INIT}
WHEEL_FILES = {"twv/__init__.py": INIT}
LINUX = "py3-none-manylinux_2_17_x86_64"
WINDOWS = "py3-none-win_amd64"


def release(
    directory: Path, linux_requires: str, windows_requires: str, info: str | None = None
) -> Path:
    """twv 1.0: the sdist and two wheels (a Linux and a Windows tag) whose METADATA carry
    the given Requires-Dist lines."""
    directory.mkdir(parents=True, exist_ok=True)
    make_sdist(directory / "twv-1.0.tar.gz", SDIST_FILES, info=info or pkg_info())
    make_wheel(directory, WHEEL_FILES, tag=LINUX, metadata=pkg_info(extra=linux_requires))
    make_wheel(directory, WHEEL_FILES, tag=WINDOWS, metadata=pkg_info(extra=windows_requires))
    return directory


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    status = main(["verify", "--json", *args])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    check_document(document)
    return status, document


def test_wheels_disagreeing_on_requires_dist_without_markers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = release(
        tmp_path / "r", "Requires-Dist: numpy>=1.26\n", "Requires-Dist: numpy>=1.22\n"
    )
    status, document = run_json(capsys, "--release", str(directory))
    assert status == 1 and document["corresponds"] is False
    [finding] = [f for f in document["findings"] if f["severity"] == "finding"]
    assert finding["code"] == "requires-dist-differs"
    assert "'numpy>=1.26' in twv-1.0-py3-none-manylinux_2_17_x86_64.whl" in finding["message"]
    assert len(finding["wheels"]) == 2
    # each wheel alone still corresponds to the 2.1 sdist (a legacy note, not a finding)
    assert all(w["verify"]["corresponds"] for w in document["wheels"])
    assert "Requires-Dist" in document["compared_fields"]
    assert main(["verify", "--release", str(directory)]) == 1
    text = capsys.readouterr().out
    assert "verdict: DOES NOT CORRESPOND (1 finding)" in text
    assert "requires-dist-differs" in text


def test_wheels_differing_only_in_marked_requirements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = "Requires-Dist: numpy>=1.26\n"
    windows = common + 'Requires-Dist: pywin32>=306; sys_platform == "win32"\n'
    directory = release(tmp_path / "r", common, windows)
    status, document = run_json(capsys, "--release", str(directory))
    assert status == 0 and document["corresponds"] is True
    codes = {(f["code"], f["severity"]) for f in document["findings"]}
    assert ("requires-dist-markers-differ", "note") in codes
    # and a Summary that differs between wheels is a finding
    (tmp_path / "s").mkdir()
    directory = release(tmp_path / "s", common, common)
    other = pkg_info(extra=common).replace("verify fixture", "another summary")
    make_wheel(directory, WHEEL_FILES, tag=WINDOWS, metadata=other)
    report = verify_release_files(release_in(directory))
    [finding] = [f for f in report.findings if f.severity == "finding"]
    assert finding.code == "wheels-metadata-differ" and "Summary" in finding.message


def test_a_field_declared_dynamic_may_differ_between_wheels(tmp_path: Path) -> None:
    info = pkg_info("2.2", "Dynamic: Requires-Dist\n")
    directory = release(
        tmp_path / "r", "Requires-Dist: numpy>=1.26\n", "Requires-Dist: numpy>=1.22\n", info
    )
    report = verify_release_files(release_in(directory))
    assert report.corresponds
    assert {f.code for f in report.findings} == {"wheels-differ-dynamic"}


@pytest.fixture(scope="module")
def native_release(
    tmp_path_factory: pytest.TempPathFactory, wheelbuild: ModuleType
) -> dict[str, Path]:
    """twv 1.0 with src/twv/_core.c: the gcc-built extension in a wheel tagged for this host
    (linux_x86_64) and the same extension in a wheel claiming manylinux2014_aarch64."""
    out = tmp_path_factory.mktemp("verify-release-native")
    work = out / "build"
    (work / "src" / "twv").mkdir(parents=True)
    source = work / "src" / "twv" / "_core.c"
    source.write_bytes(EXT_C.replace(b"#include <gmp.h>\n", b"").replace(b"gmp_version", b'"1"'))
    tc = wheelbuild.toolchain(out)
    module = tc.gcc(work / f"_core{tc.ext_suffix}", [source], kind="ext", cwd=work)
    directory = out / "release"
    directory.mkdir()
    make_sdist(
        directory / "twv-1.0.tar.gz", {**SDIST_FILES, "src/twv/_core.c": source.read_bytes()},
        info=pkg_info(),
    )  # fmt: skip
    files = {**WHEEL_FILES, f"twv/_core{tc.ext_suffix}": module.read_bytes()}
    host = wheelbuild.wheel_tag()
    make_wheel(directory, files, tag=host)
    python = host.split("-")[0]
    make_wheel(directory, files, tag=f"{python}-{python}-manylinux2014_aarch64")
    return {"release": directory}


def test_a_tag_its_content_contradicts_is_a_release_finding(
    native_release: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, document = run_json(capsys, "--release", str(native_release["release"]))
    assert status == 1
    [finding] = [f for f in document["findings"] if f["severity"] == "finding"]
    assert finding["code"] == "architecture-mismatch"
    assert finding["wheels"] == [w for w in finding["wheels"] if "aarch64" in w] != []
    assert "aarch64" in finding["message"]
    by_name = {w["filename"]: w for w in document["wheels"]}
    for name, wheel in by_name.items():
        # both wheels hold the extension compiled from the sdist's own source
        assert wheel["verify"]["counts"]["compiled-from-sdist"] == 1, name
        assert wheel["verify"]["corresponds"] is True
    host = next(w for n, w in by_name.items() if "aarch64" not in n)
    assert host["platform"]["allowed"] is not None  # the engine computed a tag
    assert "architecture-mismatch" not in {f["code"] for f in host["platform"]["findings"]}


def test_index_over_two_releases_with_the_local_pool(
    tmp_path: Path, native_release: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "tree"
    release(tree / "twv" / "1.0", "Requires-Dist: numpy\n", "Requires-Dist: numpy\n")
    (tree / "other").mkdir()
    (tree / "other" / "README").write_text("not a release file\n")
    sources = [str(tree), str(native_release["release"])]
    status, document = run_json(capsys, "--index", "-j", "2", *sources)
    # one tree: twv 1.0 found twice (tree and release dir) would be merged per source;
    # here the two sources hold one release each
    assert status == 1
    assert document["executor"] == "2 local processes"
    rows = document["releases"]
    assert [r["verdict"] for r in rows] == ["corresponds", "findings"]
    assert rows[1]["codes"] == ["architecture-mismatch"]
    assert rows[0]["wheels"] == 2 and rows[0]["counts"]["from-sdist-identical"] == 2
    # CSV, written atomically with -o
    target = tmp_path / "out" / "table.csv"
    assert main(["verify", "--index", "--csv", "-o", str(target), *sources]) == 1
    assert capsys.readouterr().out == ""
    table = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [(r["name"], r["verdict"]) for r in table] == [
        ("twv", "corresponds"),
        ("twv", "findings"),
    ]
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".truewheel-")]
    # text: one line per release, then the findings
    assert main(["verify", "--index", *sources]) == 1
    text = capsys.readouterr().out
    assert "2 releases, 1 correspond, 1 with findings, 0 not checked (in process" in text


def test_index_with_a_broken_release_exits_2_and_writes_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "tree"
    release(tree / "a", "", "")
    (tree / "b").mkdir()
    make_wheel(tree / "b", WHEEL_FILES, tag=LINUX)  # twv 1.0 again: merged with a/
    lonely = tree / "c"
    lonely.mkdir()
    (lonely / "twx-2.0-py3-none-any.whl").write_bytes(b"not a zip")
    target = tmp_path / "table.json"
    status = main(["verify", "--index", "--json", "-o", str(target), str(tree)])
    captured = capsys.readouterr()
    assert status == 2 and not target.exists()
    [line] = captured.err.splitlines()
    assert line.startswith("truewheel: error:") and "no sdist of twx 2" in line


def test_index_on_a_dask_local_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    tree = tmp_path / "tree"
    release(tree / "a", "", "")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        status, document = run_json(
            capsys, "--index", "--dask", cluster.scheduler_address, str(tree)
        )
    finally:
        cluster.close()
    assert status == 0 and document["executor"].startswith("dask tcp://")
    assert [r["verdict"] for r in document["releases"]] == ["corresponds"]


def simple_index(
    root: Path, files: list[Path], *, corrupt: str | None = None, name: str = "twv"
) -> str:
    """A PEP 503 index in ``root`` for ``name``: one page linking each file with its sha256."""
    page = root / "simple" / name
    page.mkdir(parents=True)
    store = root / "files"
    store.mkdir()
    anchors = []
    for path in files:
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if path.name == corrupt:
            data += b"tampered"
        (store / path.name).write_bytes(data)
        anchors.append(f'<a href="../../files/{path.name}#sha256={digest}">{path.name}</a>')
    (page / "index.html").write_text("<html><body>\n" + "\n".join(anchors) + "\n</body></html>\n")
    return (root / "simple").as_uri() + "/"


def test_sdist_fetched_from_a_file_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = release(tmp_path / "r", "", "")
    files = sorted(directory.iterdir())
    url = simple_index(tmp_path / "index", files)
    [wheel] = [p for p in files if p.name.endswith("win_amd64.whl")]
    status, document = run_json(capsys, str(wheel), "--index-url", url)  # spec from the name
    assert status == 0 and document["sdist"].endswith("/files/twv-1.0.tar.gz")
    assert document["counts"]["from-sdist-identical"] == 1
    status, document = run_json(capsys, str(wheel), "twv==1.0", "--index-url", url)
    assert status == 0
    # an index list names the release: every file fetched and verified as a release
    listing = tmp_path / "releases.txt"
    listing.write_text("# releases to check\ntwv==1.0\n")
    status, document = run_json(capsys, "--index", "--index-url", url, str(listing))
    assert status == 0 and document["releases"][0]["wheels"] == 2
    # not on the index, a file that does not match its sha256: one line, exit 2
    for args, expected in (
        ([str(wheel), "twv==9.9"], "lists no file of version 9.9"),
        ([str(wheel), "nothere==1.0"], "no such project on the index"),
    ):
        assert main(["verify", *args, "--index-url", url]) == 2
        captured = capsys.readouterr()
        [line] = captured.err.splitlines()
        assert captured.out == "" and expected in line, line
    wheels_only = simple_index(tmp_path / "wheels", [f for f in files if f.suffix == ".whl"])
    assert main(["verify", str(wheel), "--index-url", wheels_only]) == 2
    assert "has no sdist of this release" in capsys.readouterr().err
    bad = simple_index(tmp_path / "bad", files, corrupt="twv-1.0.tar.gz")
    assert main(["verify", str(wheel), "--index-url", bad]) == 2
    assert "does not have the sha256 the index lists" in capsys.readouterr().err


def test_sdist_fetched_from_pypi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """six 1.16.0's wheel against the sdist PyPI serves; skipped when PyPI cannot be reached."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
         "--index-url", "https://pypi.org/simple/", "-d", str(tmp_path), "six==1.16.0"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    wheels = list(tmp_path.glob("six-1.16.0-*.whl"))
    if done.returncode != 0 or not wheels:
        pytest.skip(f"PyPI not reachable: {done.stderr.strip()[-200:]}")
    status = main(["verify", "--json", str(wheels[0]), "--index-url", "https://pypi.org/simple/"])
    captured = capsys.readouterr()
    if status == 2 and "cannot reach the index" in captured.err:
        pytest.skip(captured.err.strip())
    document = json.loads(captured.out)
    check_document(document)
    assert status == 0, document["findings"]
    assert document["sdist"].startswith("https://") and document["sdist"].endswith(".tar.gz")


def test_bad_release_and_usage_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = release(tmp_path / "two", "", "")
    make_wheel(two, WHEEL_FILES, metadata=pkg_info(), tag="py3-none-any")
    (two / "twx-2.0.tar.gz").write_bytes(b"")
    no_sdist = tmp_path / "nosdist"
    no_sdist.mkdir()
    make_wheel(no_sdist, WHEEL_FILES)
    listing = tmp_path / "list.txt"
    listing.write_text("twv==1.0\nrequests>=2\n")
    cases = [
        (["--release", str(two)], "holds 2 releases"),
        (["--release", str(no_sdist)], "no sdist of twv 1"),
        (["--release", str(tmp_path / "missing")], "not a directory"),
        (["--index", str(listing)], "line 2: not NAME==VERSION"),
        (["--index", str(tmp_path / "missing.txt")], "cannot open (No such file"),
    ]
    for args, expected in cases:
        status = main(["verify", "--json", *args])
        captured = capsys.readouterr()
        assert status == 2, args
        assert captured.out == ""
        [line] = captured.err.splitlines()
        assert line.startswith("truewheel: error:") and expected in line, line
    for usage in (["--csv", "--release", str(two)], ["--release", str(two), "x.whl"], []):
        assert main(["verify", *usage]) == 2, usage
        capsys.readouterr()


def test_crlf_line_endings_alone_are_not_a_difference(tmp_path: Path) -> None:
    """Windows wheels built from a checkout with autocrlf carry CRLF .py files (msgpack
    1.0.8, wrapt 1.16.0): the same code.  Any other change still differs."""
    body = b'"""twv."""\n\ndef f():\n    return """a\nb"""\n'
    directory = tmp_path / "r"
    directory.mkdir()
    make_sdist(directory / "twv-1.0.tar.gz", {"src/twv/__init__.py": body}, info=pkg_info())
    crlf = body.replace(b"\n", b"\r\n")
    make_wheel(directory, {"twv/__init__.py": crlf}, tag=WINDOWS)
    make_wheel(directory, {"twv/__init__.py": body}, tag=LINUX)
    report = verify_release_files(release_in(directory))
    assert report.corresponds
    windows = next(w for w in report.wheels if "win" in w.filename)
    [member] = [m for m in windows.verify.members if m.path == "twv/__init__.py"]
    assert member.category == "from-sdist-identical" and "line endings" in member.evidence[0]
    changed = crlf.replace(b"return", b"return 1 or")
    (tmp_path / "x").mkdir()
    make_sdist(tmp_path / "x" / "twv-1.0.tar.gz", {"src/twv/__init__.py": body}, info=pkg_info())
    make_wheel(tmp_path / "x", {"twv/__init__.py": changed}, tag=WINDOWS)
    make_wheel(tmp_path / "x", {"twv/__init__.py": body}, tag=LINUX)
    report = verify_release_files(release_in(tmp_path / "x"))
    assert not report.corresponds


def test_release_text_escapes_what_the_wheels_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = release(tmp_path / "r", "", "")
    hostile = pkg_info().replace("verify fixture", "[bold]x[/bold] \x1b[2J\u202e")
    make_wheel(directory, WHEEL_FILES, tag=WINDOWS, metadata=hostile)
    assert main(["verify", "--release", str(directory)]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "[bold]x[/bold] \\x1b[2J\\u202e" in out


def test_release_text_names_what_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new user: the per-wheel counts said 1 from-sdist-different but not which member."""
    directory = tmp_path / "r"
    directory.mkdir()
    make_sdist(directory / "twv-1.0.tar.gz", {"src/twv/__init__.py": b"x = 1\n"}, info=pkg_info())
    make_wheel(directory, {"twv/__init__.py": b"x = 2\n", "twv/extra.txt": b"?"}, tag=LINUX)
    assert main(["verify", "--release", str(directory)]) == 1
    out = capsys.readouterr().out
    assert "    unexplained: twv/extra.txt\n" in out
    assert "    from-sdist-different: twv/__init__.py\n" in out


def test_a_metadata_written_with_crlf_says_the_same(tmp_path: Path) -> None:
    """tiktoken 0.11.0's Windows METADATA has CRLF line ends inside its multi-line License:
    the same text as the other wheels', and the sdist's."""
    license_text = "License: MIT License\n        \n        Copyright (c) 2022 someone\n"
    info = pkg_info("2.1", license_text)
    directory = tmp_path / "r"
    directory.mkdir()
    make_sdist(directory / "twv-1.0.tar.gz", {"src/twv/__init__.py": b"x = 1\n"}, info=info)
    files = {"twv/__init__.py": b"x = 1\n"}
    make_wheel(directory, files, tag=WINDOWS, metadata=info.replace("\n", "\r\n"))
    make_wheel(directory, files, tag=LINUX, metadata=info)
    report = verify_release_files(release_in(directory))
    assert report.corresponds, report.findings
    assert not [f for w in report.wheels for f in w.verify.findings if "License" in f.message]
