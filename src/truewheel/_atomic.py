"""Publish outputs atomically: a failed run leaves no partial file and no changed target.

Every output (wheels, reports, buildinfo) is written to a temporary file beside its
target, under a short name (the target's own may already be 255 bytes long), and
renamed over the target only when it is complete; on any error the temporary file
is removed and the target is as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from truewheel._files import check_not_input
from truewheel.errors import InputError

__all__ = ["atomic_output", "write_atomically"]


@contextmanager
def atomic_output(target: Path, *, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary file that becomes ``target`` (with ``mode``) only if the block completes."""
    fd, name = tempfile.mkstemp(prefix=".truewheel-", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        tmp.chmod(mode)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(
    path: str, text: str, *, inputs: Iterable[str | os.PathLike[str]] = (), option: str = "-o"
) -> None:
    """Write ``text`` to ``path`` atomically, never over an input; errors name the option."""
    target = Path(path)
    check_not_input(target, inputs, option=option)
    try:
        with atomic_output(target) as out:
            out.write(text.encode("utf-8"))
    except OSError as exc:
        raise InputError(
            f"{option}: cannot write ({exc.strerror or type(exc).__name__})", path=path
        ) from exc
