"""The canonical build root: the same path on every build, private to its user.

Build paths leak into binaries, so every build must happen at one fixed path.
A fixed path under /tmp could be squatted by another user (the denial of
service pip's maintainers worried about), so the root is a 0700 directory that
must be owned by the user; anything else is refused with a clear message, and
``TRUEWHEEL_BUILD_ROOT`` chooses another place.  Builds by one user take turns
through a lock file.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from truewheel.errors import InputError

__all__ = ["build_root", "locked_root"]


def build_root(environ: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if environ is None else environ
    chosen = environ.get("TRUEWHEEL_BUILD_ROOT")
    # Absolute, so that every build of a --check run (each in its own directory) shares it.
    return Path(chosen).absolute() if chosen else Path("/tmp") / f"truewheel-build-{os.getuid()}"


@contextmanager
def locked_root(root: Path) -> Iterator[Path]:
    """Create or check the private root, hold its lock, and yield it."""
    try:
        root.mkdir(mode=0o700, parents=False, exist_ok=True)
    except FileNotFoundError:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise InputError(
            "build root is not a private directory owned by you (0700); "
            "remove it or set TRUEWHEEL_BUILD_ROOT",
            path=str(root),
        )
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield root
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
