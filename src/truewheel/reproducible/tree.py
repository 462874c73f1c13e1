"""The source tree a backend sees: directories, regular files, and links that stay inside.

A build copies whatever the tree holds into the wheel, so a link to
``/etc/passwd`` would publish that file, and a FIFO would hang the copy.  The
same rule holds for an sdist and for a source directory: links are kept as
links only when their target is relative and resolves inside the tree, and
special files (FIFOs, devices, sockets) are refused.  :class:`TreeWriter`
creates an sdist's members without ever writing through a link or over another
member; :func:`check_tree` and :func:`copy_tree` apply the rule to what exists.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
from collections.abc import Iterator
from pathlib import Path

from truewheel._files import open_regular
from truewheel.errors import InputError
from truewheel.reproducible.sdist import MAX_DEPTH, SdistMember, member_parts

__all__ = ["TreeWriter", "check_tree", "copy_tree"]

# Not part of a source directory's build: VCS data and earlier builds' output.  Virtual
# environments (a directory holding pyvenv.cfg) are skipped too: their links are absolute.
COPY_IGNORED = (".git", "build", "dist", "*.egg-info", "__pycache__")
_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class TreeWriter:
    """Creates members below ``root``: never through a link, never over another member."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dirs: set[tuple[str, ...]] = {()}  # verified real directories

    def add(self, member: SdistMember) -> None:
        try:
            if member.kind == "dir":
                self._directory(member.parts, member.name)
            elif member.kind == "file":
                self._file(member)
            elif member.kind == "symlink":
                self._symlink(member)
            else:
                self._hardlink(member)
        except FileExistsError as exc:
            raise InputError("unsafe member refused (duplicate name)", member=member.name) from exc
        except OSError as exc:
            raise InputError(f"cannot unpack ({exc.strerror or exc})", member=member.name) from exc

    def _directory(self, parts: tuple[str, ...], name: str) -> None:
        for depth in range(1, len(parts) + 1):
            sub = parts[:depth]
            if sub in self._dirs:
                continue
            path = self.root.joinpath(*sub)
            try:
                path.mkdir()
            except FileExistsError:
                if not stat.S_ISDIR(path.lstat().st_mode):
                    raise InputError(
                        f"unsafe member refused ({'/'.join(sub)} is a link or a file)", member=name
                    ) from None
            path.chmod(0o755)
            self._dirs.add(sub)

    def _file(self, member: SdistMember) -> None:
        self._directory(member.parts[:-1], member.name)
        fd = os.open(self.root.joinpath(*member.parts), _CREATE, 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in member.chunks():
                out.write(chunk)
            out.flush()
            os.fchmod(fd, 0o755 if member.executable else 0o644)
            if member.mtime is not None:
                # Kept, so that make and autotools see generated files as up to date.
                os.utime(fd, (member.mtime, member.mtime))

    def _symlink(self, member: SdistMember) -> None:
        target = member.link
        inside = posixpath.normpath(posixpath.join("/".join(member.parts[:-1]) or ".", target))
        if not target:
            problem = "a link without a target"
        elif "\0" in target:
            problem = "a link target with a NUL byte"
        elif target.startswith("/"):
            problem = f"absolute link to {target}"
        elif inside == ".." or inside.startswith("../"):
            problem = f"link to {target} leaves the tree"
        else:
            self._directory(member.parts[:-1], member.name)
            self.root.joinpath(*member.parts).symlink_to(target)
            return
        raise InputError(f"unsafe member refused ({problem})", member=member.name)

    def _hardlink(self, member: SdistMember) -> None:
        target = member_parts(member.link)
        source = self.root.joinpath(*target)
        if target[:-1] not in self._dirs or not stat.S_ISREG(source.lstat().st_mode):
            raise InputError(
                f"unsafe member refused (hard link to {member.link}, not a file)",
                member=member.name,
            )
        self._directory(member.parts[:-1], member.name)
        os.link(source, self.root.joinpath(*member.parts), follow_symlinks=False)


def check_tree(root: Path, label: str) -> None:
    """Refuse links out of ``root`` and special files anywhere in it."""
    for _ in _entries(root, label, ignored=()):
        pass


def copy_tree(source: Path, target: Path, label: str) -> None:
    """Copy a source directory (``target`` exists and is empty) under the same rule.

    Links are copied as links, never followed; files are opened as regular files
    only, so one swapped for a FIFO cannot hang the copy.
    """
    for rel, info in _entries(source, label, ignored=COPY_IGNORED):
        src, dst = source / rel, target / rel
        try:
            if stat.S_ISDIR(info.st_mode):
                dst.mkdir()
                dst.chmod(stat.S_IMODE(info.st_mode) | 0o700)
            elif stat.S_ISLNK(info.st_mode):
                dst.symlink_to(src.readlink())
            else:
                _copy_file(src, dst, info)
        except OSError as exc:
            raise InputError(
                f"cannot copy ({exc.strerror or exc})", path=label, member=str(rel)
            ) from exc


def _copy_file(src: Path, dst: Path, info: os.stat_result) -> None:
    fd = open_regular(src)
    with os.fdopen(fd, "rb") as inp, os.fdopen(os.open(dst, _CREATE, 0o600), "wb") as out:
        while block := inp.read(1 << 20):
            out.write(block)
        out.flush()
        os.fchmod(out.fileno(), stat.S_IMODE(info.st_mode))
        os.utime(out.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))


def _entries(
    root: Path, label: str, *, ignored: tuple[str, ...]
) -> Iterator[tuple[Path, os.stat_result]]:
    """(relative path, lstat) of everything below ``root``, parents first, each checked."""
    real_root = os.path.realpath(root)
    pending = [Path()]
    while pending:
        rel = pending.pop()
        try:
            with os.scandir(root / rel) as listing:
                names = sorted(e.name for e in listing)
        except OSError as exc:
            raise InputError(f"cannot list ({exc.strerror})", path=label, member=str(rel)) from exc
        for name in names:
            if any(fnmatch.fnmatch(name, pattern) for pattern in ignored):
                continue
            path = rel / name
            try:
                info = (root / path).lstat()
                if ignored and stat.S_ISDIR(info.st_mode) and (root / path / "pyvenv.cfg").exists():
                    continue
                problem = _problem(root / path, info, real_root)
            except OSError as exc:
                raise InputError(
                    f"cannot read ({exc.strerror})", path=label, member=str(path)
                ) from exc
            if problem:
                raise InputError(f"unsafe file refused ({problem})", path=label, member=str(path))
            yield path, info
            if stat.S_ISDIR(info.st_mode):
                if len(path.parts) >= MAX_DEPTH:
                    raise InputError(
                        f"nested more than {MAX_DEPTH} directories deep",
                        path=label,
                        member=str(path),
                    )
                pending.append(path)


def _problem(path: Path, info: os.stat_result, real_root: str) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        target = str(path.readlink())
        if target.startswith("/"):
            return f"absolute link to {target}"
        resolved = os.path.realpath(path)
        if resolved != real_root and not resolved.startswith(real_root + os.sep):
            return f"link to {target} leaves the tree"
        return None
    return next((name for test, name in _SPECIAL if test(info.st_mode)), None)
