"""Write command output atomically: a failed run leaves no partial file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from truewheel._files import check_not_input
from truewheel.errors import InputError


def write_atomically(
    path: str, text: str, *, inputs: Iterable[str | os.PathLike[str]] = (), option: str = "-o"
) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it, never over an input."""
    target = Path(path)
    check_not_input(target, inputs, option=option)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".truewheel-", suffix=".tmp", dir=target.parent or ".")
    except OSError as exc:
        raise InputError(
            f"{option}: cannot write here ({exc.strerror or type(exc).__name__})", path=path
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(
            f"{option}: cannot write ({exc.strerror or type(exc).__name__})", path=path
        ) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
