"""``truewheel build``: build a wheel bit-for-bit reproducibly, and prove it with ``--check``.

The source is placed at the canonical build root, built through its PEP 517
backend in an isolated environment at a canonical path with a neutralized
environment, normalized, and described by a buildinfo record.  ``--check``
builds N times in fresh processes while varying what users' machines vary
(working directory, build root, clock, umask, time zone, locale, CPU count) and
compares the results bit for bit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truewheel import __version__
from truewheel._atomic import write_atomically
from truewheel._files import check_output_directory, output_directory
from truewheel.commands.diff import WheelDiff, diff_wheels
from truewheel.commands.normalize import normalize_wheel
from truewheel.errors import InputError
from truewheel.reproducible.backend import BuildSystem, ensure_environment, pip_for, run_build_wheel
from truewheel.reproducible.compilers import command_words, write_shims
from truewheel.reproducible.environment import (
    backend_config_settings,
    build_environment,
    recorded_time,
)
from truewheel.reproducible.process import run_group
from truewheel.reproducible.root import build_root, locked_root
from truewheel.reproducible.source import (
    ARCHIVE_SUFFIXES,
    SourceTree,
    fetch_sdist,
    prepare_source,
    sha256_file,
)
from truewheel.wheel.ziptime import ZIP_FIRST, source_date_epoch

__all__ = ["BuildResult", "CheckResult", "build_wheel", "check_build"]

_APPLIED_ENV = ("SOURCE_DATE_EPOCH", "PYTHONHASHSEED", "TZ", "LC_ALL")
# What the user chose reaches the backend as under pip wheel; the record says what it was.
_USER_ENV = ("CC", "CXX", "FC", "LDSHARED", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "FFLAGS")


@dataclass
class BuildResult:
    wheel: Path
    sha256: str
    buildinfo: Path


@dataclass
class CheckResult:
    identical: bool
    wheels: list[Path]
    digests: list[str]
    variations: list[dict[str, str]]
    diff: WheelDiff | None = None
    kept: Path | None = None
    seconds: list[float] = field(default_factory=list)


def build_wheel(source: str, out_dir: Path, environ: dict[str, str] | None = None) -> BuildResult:
    environ = dict(os.environ) if environ is None else environ
    chosen = _chosen_epoch(environ)
    with tempfile.TemporaryDirectory(prefix="truewheel-fetch-") as fetched:
        path = _resolve_source(source, Path(fetched))
        # Refused before a long build; created only when there is a wheel to put in it.
        check_output_directory(out_dir, option="-w")
        with locked_root(build_root(environ)) as root:
            tree = prepare_source(path, root / "src")
            src = tree.project
            epoch = chosen if chosen is not None else _source_epoch(path, tree)
            system = BuildSystem(src, label=str(path))
            tmp = _fresh(root / "tmp")
            shims = write_shims(root, tmp, environ)
            env = build_environment(environ, root, epoch, shims, tmp)
            python = ensure_environment(root, system.requires, env)
            with tempfile.TemporaryDirectory(dir=root) as raw:
                built = run_build_wheel(
                    src, python, system, env, Path(raw), backend_config_settings(system.backend)
                )
                output_directory(out_dir, option="-w")
                result = normalize_wheel(built, out_dir, environ={"SOURCE_DATE_EPOCH": str(epoch)})
            wheel = Path(str(result.output))
            info = _buildinfo(path, tree, epoch, env, environ, python, system.backend, wheel)
            info["compiler_shims"] = shims.record(root)
    buildinfo = wheel.with_name(wheel.name + ".buildinfo.json")
    write_atomically(str(buildinfo), json.dumps(info, indent=2, sort_keys=True) + "\n")
    return BuildResult(wheel, info["wheel"]["sha256"], buildinfo)


def _fresh(directory: Path) -> Path:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(mode=0o700)
    return directory


def check_build(source: str, out_dir: Path, runs: int = 2) -> CheckResult:
    """Build ``runs`` times in fresh processes under varied conditions; compare bit for bit."""
    if runs < 2:
        raise InputError("--check needs at least 2 builds")
    environ = dict(os.environ)
    _chosen_epoch(environ)  # refused here once, not by every child build
    root = build_root(environ)
    with tempfile.TemporaryDirectory(prefix="truewheel-check-") as work:
        path = _resolve_source(source, Path(work) / "fetched")
        check_output_directory(out_dir, option="-w")
        result = CheckResult(identical=True, wheels=[], digests=[], variations=[])
        for index in range(runs):
            variation = _variation(index, root)
            run_dir = Path(work) / f"run-{index}-{variation['name']}"
            run_dir.mkdir()
            started = time.monotonic()
            wheel = _build_in_child(path, run_dir, variation)
            result.seconds.append(time.monotonic() - started)
            result.wheels.append(wheel)
            result.digests.append(sha256_file(wheel))
            result.variations.append(variation)
        result.identical = len(set(result.digests)) == 1
        # Every build is named by a wheel that outlives the work directory: the first one
        # kept, each differing one kept beside it, an identical one by the first's copy.
        output_directory(out_dir, option="-w")
        first = _keep(result.wheels[0], out_dir)
        kept = [first]
        for index, (wheel, digest, variation) in enumerate(
            zip(result.wheels, result.digests, result.variations, strict=True)
        ):
            if digest == result.digests[0]:
                result.wheels[index] = first
            else:
                result.wheels[index] = _keep(wheel, out_dir / f"check-{variation['name']}")
                kept.append(result.wheels[index])
        if not result.identical:
            result.diff = diff_wheels(kept[0], kept[1])
        result.kept = first
        return result


def _keep(wheel: Path, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / wheel.name
    shutil.copyfile(wheel, target)
    info = wheel.with_name(wheel.name + ".buildinfo.json")
    if info.exists():
        shutil.copyfile(info, target.with_name(target.name + ".buildinfo.json"))
    return target


def _variation(index: int, root: Path) -> dict[str, str]:
    """What differs between users' machines, cycled through the check runs.

    The build root alternates between two directories, so a path that escapes the
    canonical maps (a backend's own prefix map, a random directory) shows as a difference.
    """
    table = [
        {"name": "a", "TZ": "UTC", "LC_ALL": "C.UTF-8", "umask": "022", "cpus": "all"},
        {"name": "b", "TZ": "America/New_York", "LC_ALL": "C", "umask": "077", "cpus": "1"},
        {"name": "c", "TZ": "Asia/Kolkata", "LC_ALL": "C.UTF-8", "umask": "002", "cpus": "all"},
    ]
    roots = [root, root.with_name(root.name + "-alt")]
    return {**table[index % len(table)], "root": str(roots[index % len(roots)])}


def _build_in_child(source: Path, run_dir: Path, variation: dict[str, str]) -> Path:
    out = run_dir / "out"
    env = {
        **os.environ,
        "TZ": variation["TZ"],
        "LC_ALL": variation["LC_ALL"],
        "TRUEWHEEL_BUILD_ROOT": variation["root"],
    }
    argv = [sys.executable, "-m", "truewheel", "build", str(source.resolve()), "-w", str(out)]
    if variation["cpus"] == "1" and shutil.which("taskset"):
        argv = ["taskset", "-c", "0", *argv]
    done = run_group(argv, env=env, cwd=run_dir, umask=int(variation["umask"], 8))
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        last = last.removeprefix("truewheel: error: ")
        raise InputError(f"build {variation['name']} failed: {last}")
    [wheel] = list(out.glob("*.whl"))
    return wheel


def _resolve_source(source: str, scratch: Path) -> Path:
    path = Path(source)
    try:
        exists = path.exists() or path.is_symlink()
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path=source) from exc
    if exists:
        # Only the name is checked here: the sdist opener refuses FIFOs and devices.
        if not (path.is_dir() or source.endswith(ARCHIVE_SUFFIXES)):
            raise InputError("not an sdist archive or a source directory", path=source)
        return path.resolve()
    if "/" in source or source.endswith(ARCHIVE_SUFFIXES):
        raise InputError("no such file or directory", path=source)
    return fetch_sdist(source, scratch)


def _chosen_epoch(environ: dict[str, str]) -> int | None:
    return source_date_epoch(environ)


def _source_epoch(path: Path, tree: SourceTree) -> int:
    """The source's own time: an sdist's newest member, a checkout's last commit."""
    if tree.sha256 is not None:
        return ZIP_FIRST if tree.newest is None else tree.newest
    done = subprocess.run(
        ["git", "-C", str(path), "log", "-1", "--format=%ct", "--", "."],
        capture_output=True,
        text=True,
        check=False,
    )
    stamp = done.stdout.strip()
    usable = done.returncode == 0 and stamp.isascii() and stamp.isdigit() and len(stamp) < 20
    found = recorded_time(int(stamp)) if usable else None
    return ZIP_FIRST if found is None else found


def _first_line(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0] if lines else None


def _buildinfo(
    source: Path,
    tree: SourceTree,
    epoch: int,
    env: dict[str, str],
    user: dict[str, str],
    python: Path,
    backend: str,
    wheel: Path,
) -> dict[str, Any]:
    freeze = subprocess.run(
        [*pip_for(python), "freeze", "--all"], capture_output=True, text=True, check=False
    )
    return {
        "format": 1,
        "tool": {"name": "truewheel", "version": __version__},
        "source": {
            "name": source.name,
            "sha256": tree.sha256,
        },
        "source_date_epoch": epoch,
        "environment": {k: env[k] for k in _APPLIED_ENV if k in env}
        | {k: user[k] for k in _USER_ENV if k in user},
        "umask": "022",
        "toolchain": {
            "compiler": _first_line([*(command_words(user.get("CC", "")) or ["cc"]), "--version"]),
            "linker": _first_line(["ld", "--version"]),
            "python": sys.version.split()[0],
        },
        "backend": backend,
        "build_requirements": sorted(freeze.stdout.split()),
        "wheel": {"name": wheel.name, "sha256": sha256_file(wheel)},
    }
