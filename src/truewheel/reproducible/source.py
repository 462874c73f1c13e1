"""Turn SOURCE (an sdist, a directory or a requirement) into a source tree at a fixed path.

An sdist is read once through :class:`~truewheel.reproducible.sdist.Sdist` (digest,
newest time and members in one pass) and unpacked by
:class:`~truewheel.reproducible.tree.TreeWriter` into a scratch directory beside the
target, so nothing is written outside the build root and a refused archive
leaves nothing behind.  A directory is copied under the same rule.  Either
way the result must be a Python project: ``pyproject.toml`` or ``setup.py`` at
its top.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from truewheel._files import is_regular_file, sha256_file
from truewheel.errors import InputError
from truewheel.reproducible.process import failure_line, run_group
from truewheel.reproducible.sdist import Sdist, UnpackLimits
from truewheel.reproducible.tree import TreeWriter, check_tree, copy_tree

__all__ = [
    "ARCHIVE_SUFFIXES",
    "SourceTree",
    "fetch_sdist",
    "is_archive",
    "newest_member_time",
    "prepare_source",
    "sha256_file",
]

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")


@dataclass(frozen=True)
class SourceTree:
    project: Path
    newest: int | None  # an sdist's newest usable member time
    sha256: str | None  # an sdist's digest


def is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVE_SUFFIXES) and is_regular_file(path)


def fetch_sdist(requirement: str, into: Path) -> Path:
    """Download the sdist of a requirement such as ``pyyaml==6.0.2`` with pip.

    pip prepares an sdist's metadata before it saves it.  Without build isolation that
    is quick but needs the project's backend here already; when it is not (meson-python,
    scikit-build-core, hatchling...), pip is asked again with isolation, which installs
    the backend, as ``pip download --no-binary NAME`` does.
    """
    try:
        name = Requirement(requirement).name
    except InvalidRequirement as exc:
        raise InputError(
            f"not a file, a directory or a requirement ({str(exc).splitlines()[0]})",
            path=requirement,
        ) from exc
    into.mkdir(parents=True, exist_ok=True)
    # Not quiet: pip then passes on the backend's output, which says why it failed.
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(into)]
    attempts = [
        ["--no-binary", ":all:", "--no-build-isolation"],
        ["--no-binary", name],
    ]
    for options in attempts:
        # In the empty download directory, a requirement named like a local file finds none.
        argv = [*base, *options, "--", requirement]
        done = run_group(argv, cwd=into)
        found = [p for p in into.iterdir() if is_archive(p)]
        if done.returncode == 0 and len(found) == 1:
            return found[0]
        for leftover in into.iterdir():  # a partial download, before the next attempt
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
    raise InputError(f"cannot fetch an sdist for {requirement!r}: {_pip_error(done.stderr)}")


def _pip_error(stderr: str) -> str:
    """Why pip failed: the backend's own reason when pip ran one, else pip's error line
    (its closing hint, "See above for details", says nothing here)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR:", "error:"))]
    return failure_line(stderr) or (errors or lines or ["no sdist downloaded"])[-1]


def newest_member_time(archive: Path) -> int | None:
    """The newest usable modification time inside an sdist: its natural SOURCE_DATE_EPOCH."""
    with Sdist(archive) as sdist:
        times = (m.mtime for m in sdist.members() if m.mtime is not None)
        return max(times, default=None)


def prepare_source(source: Path, target: Path, limits: UnpackLimits | None = None) -> SourceTree:
    """Put the project at ``target`` (emptied first); nothing is left there on failure."""
    if source.is_dir() and target.resolve().is_relative_to(source.resolve()):
        raise InputError(
            "the build root is inside the source directory; set TRUEWHEEL_BUILD_ROOT elsewhere",
            path=str(source),
        )
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    try:
        if source.is_dir():
            copy_tree(source, target, str(source))
            tree = SourceTree(target, None, None)
        else:
            tree = _unpack(source, target, limits)
            check_tree(target, str(source))
        if not any((target / name).is_file() for name in ("pyproject.toml", "setup.py")):
            raise InputError("not a Python project (no pyproject.toml or setup.py at its top)")
    except BaseException as exc:
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, InputError):
            exc.located(path=str(source))
        raise
    return tree


def _unpack(source: Path, target: Path, limits: UnpackLimits | None) -> SourceTree:
    newest: int | None = None
    with Sdist(source, limits) as sdist, tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        digest = sdist.sha256()
        scratch = Path(tmp)
        writer = TreeWriter(scratch)
        for member in sdist.members():
            writer.add(member)
            if member.mtime is not None:
                newest = max(newest or 0, member.mtime)
        entries = list(scratch.iterdir())
        # The usual sdist holds one directory, name-version/, with the project inside.
        single = len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink()
        for item in (entries[0] if single else scratch).iterdir():
            item.rename(target / item.name)
    return SourceTree(target, newest, digest)
