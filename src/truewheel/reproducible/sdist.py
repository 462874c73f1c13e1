"""An sdist opened once, as a regular file, and read as a stream of checked members.

Everything ``build`` learns from an sdist (its digest, its newest time, its
files) comes through :class:`Sdist`, so every way in is guarded the same way:
the file is opened non-blocking and must be regular, the format is taken from
its first bytes (a ``.zip`` that is really a tarball is read as one), member
names must stay inside the tree, and the bytes it may unpack to are limited
before a byte is written and counted again as they are produced.  Any failure
of the archive or its compression is one :class:`~truewheel.errors.InputError`
naming the sdist.
"""

from __future__ import annotations

import bz2
import calendar
import lzma
import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import BinaryIO, cast

from isal import igzip, isal_zlib

from truewheel._files import open_regular, sha256_fd
from truewheel.errors import InputError
from truewheel.reproducible.environment import recorded_time
from truewheel.reproducible.tarreader import MAX_HEADER, Readable, TarReader
from truewheel.wheel.zipreader import STORED, Limits, ZipMember, ZipReader, unsafe_name_reason

__all__ = ["MAX_DEPTH", "Sdist", "SdistMember", "UnpackLimits", "member_parts"]

# Deeper trees exist in no real project; they break recursive tools (shutil.rmtree raises
# RecursionError near 1,000 levels), and a tree left behind would break every later build.
MAX_DEPTH = 100

_CHUNK = 1 << 20
_ISAL_ERROR = cast("type[Exception]", isal_zlib.error)  # corrupt deflate data, as ISA-L says it
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}


@dataclass(frozen=True)
class UnpackLimits:
    """Ceilings on what one sdist may unpack to.

    Bytes: the larger of 200 times the archive's size and 64 MiB, never over
    4 GiB.  Source code compresses 3-10 times; 200 leaves room for generated
    data files while a 1 MB archive can no longer write a gigabyte, and the
    floor keeps small projects with a large test file working.  The decompressed
    tar stream may exceed that by its headers (4 KiB a member, a tar header and
    its pax record with padding being about 2 KiB).  Members: 200,000, generous
    for sdists that vendor whole C and C++ trees, while empty files can no
    longer exhaust inodes.
    """

    max_bytes: int = 4 * 2**30
    max_ratio: int = 200
    ratio_floor: int = 64 * 2**20
    max_members: int = 200_000
    header_allowance: int = 4096

    def allowance(self, archive_size: int) -> int:
        return min(self.max_bytes, max(self.max_ratio * archive_size, self.ratio_floor))


@dataclass(frozen=True)
class SdistMember:
    """A member, checked: ``parts`` is its path below the archive's top, never empty."""

    name: str
    parts: tuple[str, ...]
    kind: str  # "file", "dir", "symlink" or "hardlink"
    size: int  # bytes it adds to the tree (a hard link: its target's)
    executable: bool
    mtime: int | None  # a usable time (see recorded_time), or None
    link: str  # a symlink's target as written, or a hard link's target member
    chunks: Callable[[], Iterator[bytes]]  # a file's data; read it before the next member


def member_parts(name: str) -> tuple[str, ...]:
    """The path components of a member name; refused if it could leave the tree."""
    problem = unsafe_name_reason(name)
    if problem:
        raise InputError(f"unsafe member refused ({problem})", member=name)
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if len(parts) > MAX_DEPTH:
        raise InputError(f"nested {len(parts)} directories deep (limit {MAX_DEPTH})", member=name)
    return parts


class Sdist:
    """One open sdist: :meth:`sha256`, then :meth:`members` once."""

    def __init__(self, path: str | os.PathLike[str], limits: UnpackLimits | None = None) -> None:
        self.path = os.fspath(path)
        self.limits = limits or UnpackLimits()
        self._file = os.fdopen(open_regular(self.path), "rb")
        self.size = os.fstat(self._file.fileno()).st_size
        self.allowance = self.limits.allowance(self.size)
        self._declared = self._produced = self._streamed = self._count = 0
        self._sizes: dict[tuple[str, ...], int] = {}

    def __enter__(self) -> Sdist:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._file.close()

    def sha256(self) -> str:
        with self._translated():
            return sha256_fd(self._file.fileno())

    def members(self) -> Iterator[SdistMember]:
        with self._translated():
            head = os.pread(self._file.fileno(), 6, 0)
            if not head:
                raise InputError("empty file (not an sdist archive)")
            if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
                source = self._zip_members()
            else:
                source = self._tar_members(head)
            for member in source:
                self._count += 1
                if self._count > self.limits.max_members:
                    raise InputError(f"more than {self.limits.max_members} members")
                yield member
            if not self._count:
                raise InputError("empty archive (no members)")

    # -- zip -------------------------------------------------------------------

    def _zip_members(self) -> Iterator[SdistMember]:
        limits = Limits(
            max_member_size=self.allowance,
            max_total_size=self.allowance,
            max_members=self.limits.max_members,
        )
        with ZipReader(self.path, limits) as reader:
            for m in reader.members:
                yield self._member(
                    m.name,
                    "dir" if m.is_dir else "file",
                    m.file_size,
                    bool(m.mode & 0o111),
                    _dos_time(m.dos_datetime),
                    "",
                    partial(self._inflate, reader, m),
                )

    def _inflate(self, reader: ZipReader, member: ZipMember) -> Iterator[bytes]:
        """The member's bytes, a chunk at a time, held to its declared size and CRC."""
        offset = reader.data_offset(member)
        left = member.compressed_size
        inflater = None if member.method == STORED else zlib.decompressobj(-zlib.MAX_WBITS)
        produced = crc = 0
        with self._translated(member.name):
            while left:
                raw = os.pread(self._file.fileno(), min(_CHUNK, left), offset)
                if not raw:
                    raise InputError("truncated archive (unexpected end of data)")
                offset += len(raw)
                left -= len(raw)
                while raw:
                    out = inflater.decompress(raw, _CHUNK) if inflater else raw
                    raw = inflater.unconsumed_tail if inflater else b""
                    produced += len(out)
                    if produced > member.file_size:
                        raise InputError(
                            f"inflates to more than its declared {member.file_size} bytes"
                        )
                    crc = zlib.crc32(out, crc)
                    yield self._spend(out)
            if (inflater and not inflater.eof) or produced != member.file_size:
                raise InputError("truncated archive (member data ends early)")
            if crc != member.crc32:
                raise InputError("CRC-32 mismatch (corrupt member)")

    # -- tar -------------------------------------------------------------------

    def _tar_members(self, head: bytes) -> Iterator[SdistMember]:
        self._file.seek(0)
        compression = next((c for magic, c in _COMPRESSED.items() if head.startswith(magic)), None)
        not_tar = (
            f"not a tar archive inside the {compression} data"
            if compression
            else "not an sdist archive (neither a zip nor a tar, plain or compressed)"
        )
        with _decompressed(self._file, compression) as stream:
            reader = TarReader(stream, self._stream_bytes, not_tar=not_tar)
            for t, data in reader.members():
                yield self._member(
                    t.name,
                    t.kind,
                    t.size,
                    bool(t.mode & 0o111),
                    recorded_time(t.mtime),
                    t.linkname,
                    partial(self._guarded, data, t.name),
                )

    def _stream_bytes(self, size: int) -> None:
        """The decompressed tar stream: data within the allowance, plus headers."""
        self._streamed += size
        headers = (self._count + 1) * self.limits.header_allowance + MAX_HEADER
        if self._streamed > self.allowance + headers:
            raise InputError(self._too_large())

    # -- shared ----------------------------------------------------------------

    def _member(
        self,
        name: str,
        kind: str,
        size: int,
        executable: bool,
        mtime: int | None,
        link: str,
        chunks: Callable[[], Iterator[bytes]],
    ) -> SdistMember:
        parts = member_parts(name)
        if not parts and kind != "dir":
            raise InputError(f"unsafe member refused (a {kind} named as the archive's top)")
        if kind == "hardlink":
            problem = unsafe_name_reason(link)
            if problem:
                raise InputError(
                    f"unsafe member refused (hard link to {link}: {problem})", member=name
                )
            target = member_parts(link)
            if target not in self._sizes:
                raise InputError(
                    f"unsafe member refused (hard link to {link}, not an earlier file)", member=name
                )
            size = self._sizes[target]
        if kind in ("file", "hardlink"):
            self._sizes[parts] = size
        if kind in ("file", "hardlink"):
            self._declared += size
            if self._declared > self.allowance:
                raise InputError(self._too_large(), member=name)
        return SdistMember(name, parts, kind, size, executable, mtime, link, chunks)

    def _spend(self, chunk: bytes) -> bytes:
        """Count bytes actually produced: the check that holds even if a header lied."""
        self._produced += len(chunk)
        if self._produced > self.allowance:
            raise InputError(self._too_large())
        return chunk

    def _guarded(self, chunks: Callable[[], Iterator[bytes]], name: str) -> Iterator[bytes]:
        with self._translated(name):
            for chunk in chunks():
                yield self._spend(chunk)

    def _too_large(self) -> str:
        return (
            f"unpacks to more than {self.allowance} bytes, the limit for a "
            f"{self.size}-byte sdist (a decompression bomb?)"
        )

    def _translated(self, member: str | None = None) -> AbstractContextManager[None]:
        return _translated(self.path, member)


@contextmanager
def _translated(path: str, member: str | None) -> Iterator[None]:
    """Whatever the archive and compression libraries raise becomes one located error."""
    try:
        yield
    except InputError as exc:
        exc.located(path=path, member=member)
        raise
    except EOFError as exc:
        raise InputError(
            "truncated archive (compressed data ends early)", path=path, member=member
        ) from exc
    except (OSError, zlib.error, _ISAL_ERROR, lzma.LZMAError) as exc:
        if isinstance(exc, OSError) and exc.errno:
            message = f"cannot read ({exc.strerror})"
        else:
            message = f"corrupt archive ({exc})"
        raise InputError(message, path=path, member=member) from exc


def _decompressed(file: BinaryIO, compression: str | None) -> AbstractContextManager[Readable]:
    """The tar stream inside ``file``; closing it leaves ``file`` open."""
    if compression == "gzip":
        opened: AbstractContextManager[Readable] = igzip.IGzipFile(  # type: ignore[no-untyped-call]
            fileobj=file, mode="rb"
        )
        return opened  # ISA-L inflates twice as fast as zlib
    if compression == "bzip2":
        return bz2.BZ2File(file)
    if compression == "xz":
        return lzma.LZMAFile(file)
    return nullcontext(file)


def _dos_time(stamp: tuple[int, int]) -> int | None:
    """A zip entry's time, read as UTC so that the local zone cannot change it."""
    date, clock = stamp
    year, month, day = 1980 + (date >> 9), (date >> 5) & 15, date & 31
    hour, minute, second = clock >> 11, (clock >> 5) & 63, (clock & 31) * 2
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        return None
    return recorded_time(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
