"""Where truewheel meets the file system: inputs that cannot hang, outputs that cannot clobber.

An input named by a stranger may be a FIFO, a device or ``/dev/stdin``; a plain
``open()`` of a FIFO blocks forever waiting for a writer.  Every input is
therefore opened with ``O_NONBLOCK`` and checked with ``fstat`` before a byte
is read, so only regular files get through.  Every output directory is
created (or checked) here, so a missing parent, a regular file in the way or a
read-only directory is one :class:`~truewheel.errors.InputError`, and an output
that would land on one of the inputs is refused before anything is written.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from truewheel.errors import InputError

__all__ = [
    "check_not_input",
    "check_output_directory",
    "is_regular_file",
    "open_regular",
    "output_directory",
    "read_regular",
    "sha256_fd",
    "sha256_file",
]

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def open_regular(path: str | os.PathLike[str]) -> int:
    """A blocking read-only descriptor on ``path``, which must be a regular file."""
    name = os.fspath(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(name, flags)
    except OSError as exc:
        raise InputError(f"cannot open ({_reason(exc)})", path=name) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"not a regular file ({_kind(mode)})", path=name)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def sha256_fd(fd: int) -> str:
    """Hex sha256 of an open file's whole content, read by offset (the position is left alone)."""
    digest = hashlib.sha256()
    offset = 0
    while block := os.pread(fd, 1 << 20, offset):
        digest.update(block)
        offset += len(block)
    return digest.hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a regular file (opened like every input, so a FIFO cannot hang it)."""
    fd = open_regular(path)
    try:
        return sha256_fd(fd)
    finally:
        os.close(fd)


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The whole of a small regular file, refusing files over ``limit`` bytes."""
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise InputError(f"too large ({size} bytes, limit {limit})", path=os.fspath(path))
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise InputError(f"grew past {limit} bytes while being read", path=os.fspath(path))
        return data
    except OSError as exc:
        raise InputError(f"cannot read ({_reason(exc)})", path=os.fspath(path)) from exc
    finally:
        os.close(fd)


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """True for a regular file (following links), without opening it."""
    try:
        return stat.S_ISREG(Path(path).stat().st_mode)
    except (OSError, ValueError):
        return False


def output_directory(path: str | os.PathLike[str], *, option: str = "-w") -> Path:
    """Create ``path`` (with parents) for outputs, or say in one line why it cannot be."""
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise InputError(f"{option}: not a directory", path=str(directory)) from exc
    except OSError as exc:
        raise InputError(f"{option}: cannot create ({_reason(exc)})", path=str(directory)) from exc
    if not directory.is_dir():
        raise InputError(f"{option}: not a directory", path=str(directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"{option}: not writable", path=str(directory))
    return directory


def check_output_directory(path: str | os.PathLike[str], *, option: str = "-w") -> None:
    """Say in one line, creating nothing, why ``path`` could never hold outputs.

    The nearest part of ``path`` that exists must be a writable directory; what
    :func:`output_directory` would create below it is checked when it is made.
    """
    directory = Path(path).absolute()
    for candidate in (directory, *directory.parents):
        try:
            mode = candidate.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise InputError(f"{option}: cannot use ({_reason(exc)})", path=str(path)) from exc
        where = "" if candidate == directory else f": {candidate}"
        if not stat.S_ISDIR(mode):
            raise InputError(f"{option}: not a directory{where}", path=str(path))
        if not os.access(candidate, os.W_OK | os.X_OK):
            raise InputError(f"{option}: not writable{where}", path=str(path))
        return


def check_not_input(
    target: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]], *, option: str
) -> None:
    """Refuse an output path that names (or links to) one of the inputs, or a non-file.

    Outputs are renamed into place, which would replace whatever the name holds: a
    device (``-o /dev/null`` run as root), a FIFO, a symbolic link.  Only a regular
    file that is none of the inputs may be replaced.
    """
    try:
        there = Path(target).lstat()
    except OSError:
        return  # nothing there yet: it cannot be an input
    try:
        out = Path(target).stat()
    except OSError:
        out = there  # a dangling link: refused below as a link
    for source in inputs:
        try:
            st = Path(source).stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
            raise InputError(
                f"{option}: refusing to overwrite an input with the output", path=os.fspath(target)
            )
    if not stat.S_ISREG(there.st_mode):
        raise InputError(
            f"{option}: refusing to replace {_kind(there.st_mode)}", path=os.fspath(target)
        )


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "name too long"
    return exc.strerror or type(exc).__name__
