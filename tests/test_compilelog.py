"""benchmarks/_compilelog.py: logged real gcc calls from a pip-like and a truewheel-like layout.

The acceptance benchmark says "flags equal to pip's" from these logs, so the canonical
comparison must see through the two layouts (unpack dirs, build environments, a random
tempfile dir) and truewheel's deliberate differences, and must still catch a lost -O3.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@pytest.fixture(scope="module")
def cl() -> ModuleType:
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    import _compilelog

    return _compilelog


def _build(
    wrappers: Path,
    log: Path,
    src: Path,
    site: Path,
    compile_extra: list[str],
    link_extra: list[str],
) -> None:
    """One 'build': compile a.c with the package's flags, then link a shared object."""
    log.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}",
        "TW_COMPILE_LOG": str(log),
    }
    (src / "build").mkdir(exist_ok=True)
    probe = src / "tmpab12cd34"  # a backend's tempfile.mkdtemp() probe
    probe.mkdir(exist_ok=True)
    (probe / "t.c").write_text("int t;\n", encoding="utf-8")
    calls = [
        ["gcc", "-c", str(probe / "t.c"), "-o", str(probe / "t.o")],
        [
            "gcc",
            "-fPIC",
            "-O3",
            "-DNDEBUG",
            "-g",
            f"-I{site}/inc",
            "-c",
            "a.c",
            "-o",
            "build/a.o",
            *compile_extra,
        ],
        ["gcc", "-shared", "build/a.o", *link_extra, "-o", "build/a.so"],
    ]
    for argv in calls:
        subprocess.run(argv, cwd=src, env=env, check=True, capture_output=True)


def _layout(base: Path, src_rel: str, site_rel: str) -> tuple[Path, Path]:
    src, site = base / src_rel, base / site_rel
    src.mkdir(parents=True)
    (site / "inc").mkdir(parents=True)
    (site / "inc" / "h.h").write_text("#define H 1\n", encoding="utf-8")
    (src / "a.c").write_text('#include "h.h"\nint f(void) { return H; }\n', encoding="utf-8")
    return src, site


def _compare(cl: ModuleType, tmp_path: Path, tw_compile: list[str]) -> Any:
    wrappers = tmp_path / "wrappers"
    assert "gcc" in cl.make_wrappers(wrappers)
    libdir = str(tmp_path / "python" / "lib")
    pip_src, pip_site = _layout(
        tmp_path,
        "pip-req-build-k3j2h1g0",
        "pip-build-env-a1b2c3d4/overlay/lib/python3.11/site-packages",
    )
    root = tmp_path / "root"
    tw_src, tw_site = _layout(root, "src/proj-1.0", "env/lib/python3.11/site-packages")
    _build(wrappers, tmp_path / "log-pip", pip_src, pip_site, [], [f"-Wl,-rpath,{libdir}"])
    for _ in range(2):  # a --check 2 log holds two builds
        _build(wrappers, tmp_path / "log-tw", tw_src, tw_site, tw_compile, [])
    pip_calls = cl.read_log(tmp_path / "log-pip")
    tw_calls = cl.read_log(tmp_path / "log-tw")
    assert len(pip_calls) == 3 and len(tw_calls) == 6
    pip_canon = cl.Canonicalizer.for_pip(str(tmp_path / "venv"), libdir)
    roots = cl.truewheel_roots(tw_calls, str(root))
    tw_canon = cl.Canonicalizer.for_truewheel(roots, "proj-1.0", libdir)
    return cl.compare(pip_calls, tw_calls, pip_canon, tw_canon, builds=2)


def test_same_flags_apart_from_prefix_maps_and_rpath(cl: ModuleType, tmp_path: Path) -> None:
    result = _compare(cl, tmp_path, [f"-ffile-prefix-map={tmp_path}/root/src=/truewheel/src"])
    assert result.equal, (result.only_pip, result.only_truewheel)
    assert (result.rpath_pip, result.rpath_truewheel) == (1, 0)
    assert result.prefix_maps_truewheel == 2


def test_lost_optimisation_is_named(cl: ModuleType, tmp_path: Path) -> None:
    result = _compare(cl, tmp_path, ["-O0", "-UNDEBUG"])
    assert not result.equal
    assert result.first_difference == "gcc a.o: pip - | truewheel -O0 -UNDEBUG"
    # The two builds of the check made the same call: listed once, counted twice.
    [pip_only] = result.only_pip
    [tw_only] = result.only_truewheel
    assert pip_only.startswith("gcc -fPIC -O3 -DNDEBUG -g -I{SITE}/inc -c {SRC}/a.c")
    assert tw_only.endswith("-o {SRC}/build/a.o -O0 -UNDEBUG")


def test_compiler_queries_are_left_out(cl: ModuleType) -> None:
    """truewheel's own ``cc --version`` (its shim appends prefix maps even there) is no build."""
    maps = "-ffile-prefix-map=/r=/truewheel"
    assert cl.is_query(cl.Invocation("/w", "c++", ("--version", maps)))
    assert cl.is_query(cl.Invocation("/w", "gcc", ("-dumpmachine",)))
    assert not cl.is_query(cl.Invocation("/w", "gcc", (maps,)))
    assert not cl.is_query(cl.Invocation("/w", "gcc", ("-c", "a.c", "--version")))
