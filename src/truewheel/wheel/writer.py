"""Write a wheel deterministically, copying unchanged members' compressed bytes as they are.

Members are written in a canonical order (``.dist-info`` last, RECORD last),
with fixed permissions (0644, or 0755 for executables), no extra fields and
one pinned deflate implementation (ISA-L, a pinned dependency, fed in chunks
of a fixed size), so the same input always gives the same bytes.  Unchanged
members are never inflated or recompressed: their stored bytes, CRC and sizes
are copied from the source in chunks.  New members are compressed as they
stream in and their local header is completed afterwards, so no member is ever
whole in memory.
The archive is written to a temporary file beside the target and renamed only
when complete, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from isal import isal_zlib

from truewheel._atomic import atomic_output
from truewheel.errors import WheelArchiveError
from truewheel.wheel.record import format_record
from truewheel.wheel.zipreader import (
    DEFLATED,
    STORED,
    ZipMember,
    ZipReader,
    unsafe_name_reason,
)

__all__ = [
    "Chunks",
    "NewMember",
    "RawMember",
    "RecordSpec",
    "wheel_order",
    "write_wheel",
    "zip_level",
]

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_ZIP64_EOCD = struct.Struct("<IQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<IIQI")
_MAX32 = 0xFFFFFFFF
_UTF8 = 0x800
_UNIX = 3
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class RawMember:
    """A member copied byte for byte from a source archive."""

    source: ZipMember
    name: str
    executable: bool
    dos_datetime: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Chunks:
    """Content produced on demand, ``size`` bytes in chunks (e.g. inflated from a source)."""

    size: int
    open: Callable[[], Iterator[bytes]]


@dataclass(frozen=True, slots=True)
class NewMember:
    """A member whose content is new or changed, compressed on write.

    The content is bytes, a file, or :class:`Chunks`; files and chunks are compressed as
    they are read, so a member of any size costs one chunk of memory.
    """

    name: str
    data: bytes | Path | Chunks
    executable: bool
    dos_datetime: tuple[int, int]


Member = RawMember | NewMember


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """Where the writer puts the RECORD it makes of everything it wrote, and its time.

    ``digests`` gives the RECORD digest and size of each raw member (the writer never
    inflates those); the writer computes them for new members as they stream through.
    """

    name: str
    dos_datetime: tuple[int, int]
    digests: Mapping[str, tuple[str, int]]


def zip_level(level: int | None) -> int:
    """Map zlib-style levels (auditwheel's -z, 0-9) onto ISA-L's 0-3; 0 means stored."""
    if level is None or level < 0:
        return 3
    if level == 0:
        return -1
    return min(3, (level + 2) // 3)


def wheel_order(name: str, dist_info: str) -> tuple[int, str]:
    """Sort key: everything else by name, then .dist-info, RECORD last."""
    if name == f"{dist_info}/RECORD":
        return (2, name)
    if name.startswith(f"{dist_info}/"):
        return (1, name)
    return (0, name)


def write_wheel(
    target: Path,
    members: Iterable[Member],
    source: ZipReader | None,
    *,
    level: int = 3,
    record: RecordSpec | None = None,
) -> dict[str, tuple[str, int]]:
    """Write ``members`` in the given order to ``target`` atomically, RECORD last if asked.

    Returns the RECORD digest and size of every new member.
    """
    written: dict[str, tuple[str, int]] = {}
    with atomic_output(target) as out:
        central = []
        rows: list[tuple[str, str, int]] = []
        for member in members:
            entry, digest = _write_member(out, member, source, level)
            central.append(entry)
            if digest is not None:
                written[member.name] = digest
            if record is not None:
                row = digest if digest is not None else record.digests[member.name]
                rows.append((member.name, *row))
        if record is not None:
            text = format_record(rows, record.name)
            entry, _ = _write_member(
                out, NewMember(record.name, text, False, record.dos_datetime), None, level
            )
            central.append(entry)
        _write_central_directory(out, central)
    return written


@dataclass(frozen=True, slots=True)
class _Entry:
    name: bytes
    flags: int
    method: int
    dos_datetime: tuple[int, int]
    crc: int
    compressed_size: int
    file_size: int
    offset: int
    mode: int


def _content(data: bytes | Path | Chunks) -> tuple[int, Iterator[bytes]]:
    if isinstance(data, bytes):
        return len(data), iter(data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK))
    if isinstance(data, Path):
        return data.stat().st_size, _file_chunks(data)
    return data.size, data.open()


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _write_member(
    out: BinaryIO, member: Member, source: ZipReader | None, level: int
) -> tuple[_Entry, tuple[str, int] | None]:
    reason = unsafe_name_reason(member.name)
    if reason:  # the last guard: no option, host file or caller makes an unsafe member
        raise WheelArchiveError(
            f"refusing to write an unsafe member name ({reason})", member=member.name
        )
    name = member.name.encode("utf-8")
    flags = 0 if name.isascii() else _UTF8
    offset = out.tell()
    if isinstance(member, RawMember):
        if source is None:
            raise ValueError("raw members need their source archive")
        method, crc = member.source.method, member.source.crc32
        size, compressed = member.source.file_size, member.source.compressed_size
        zip64 = size >= _MAX32 or compressed >= _MAX32
        _local_header(out, name, flags, method, member.dos_datetime, crc, compressed, size, zip64)
        for chunk in source.stream_raw(member.source):
            out.write(chunk)
        digest = None
    else:
        size, chunks = _content(member.data)
        # Deflate adds at most 5 bytes per 16 KiB block: sizes near 4 GiB get zip64 up front.
        zip64 = size + (size >> 12) + 1024 >= _MAX32
        method = STORED if level < 0 else DEFLATED
        _local_header(out, name, flags, method, member.dos_datetime, 0, 0, size, zip64)
        start = out.tell()
        crc, produced, sha256 = _compress_into(out, chunks, level)
        compressed = out.tell() - start
        if produced != size:
            raise ValueError(f"{member.name}: content changed size while written")
        end = out.tell()
        out.seek(offset)
        _local_header(out, name, flags, method, member.dos_datetime, crc, compressed, size, zip64)
        out.seek(end)
        digest = (base64.urlsafe_b64encode(sha256).rstrip(b"=").decode(), size)
    mode = 0o100755 if member.executable else 0o100644
    entry = _Entry(name, flags, method, member.dos_datetime, crc, compressed, size, offset, mode)
    return entry, digest


def _local_header(
    out: BinaryIO,
    name: bytes,
    flags: int,
    method: int,
    dos_datetime: tuple[int, int],
    crc: int,
    compressed: int,
    size: int,
    zip64: bool,
) -> None:
    extra = struct.pack("<HHQQ", 1, 16, size, compressed) if zip64 else b""
    out.write(
        _LOCAL.pack(
            0x04034B50,
            45 if zip64 else 20,
            flags,
            method,
            dos_datetime[1],
            dos_datetime[0],
            crc,
            _MAX32 if zip64 else compressed,
            _MAX32 if zip64 else size,
            len(name),
            len(extra),
        )
    )
    out.write(name)
    out.write(extra)


def _compress_into(out: BinaryIO, chunks: Iterator[bytes], level: int) -> tuple[int, int, bytes]:
    """Deflate (or store) the chunks into ``out``: their CRC-32, size and sha256.

    The input is fed to ISA-L in chunks of exactly :data:`_CHUNK` bytes, so the
    compressed bytes depend only on the content and the level.
    """
    crc, size = 0, 0
    sha256 = hashlib.sha256()
    compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15) if level >= 0 else None
    pending = b""
    for chunk in chunks:
        crc = isal_zlib.crc32(chunk, crc)
        size += len(chunk)
        sha256.update(chunk)
        if compressor is None:
            out.write(chunk)
            continue
        pending += chunk
        while len(pending) >= _CHUNK:
            out.write(compressor.compress(pending[:_CHUNK]))
            pending = pending[_CHUNK:]
    if compressor is not None:
        if pending:
            out.write(compressor.compress(pending))
        out.write(compressor.flush())
    return crc, size, sha256.digest()


def _write_central_directory(out: BinaryIO, entries: list[_Entry]) -> None:
    start = out.tell()
    for e in entries:
        big = e.file_size >= _MAX32 or e.compressed_size >= _MAX32 or e.offset >= _MAX32
        extra = (
            struct.pack("<HHQQQ", 1, 24, e.file_size, e.compressed_size, e.offset) if big else b""
        )
        out.write(
            _CENTRAL.pack(
                0x02014B50,
                (_UNIX << 8) | (45 if big else 20),
                45 if big else 20,
                e.flags,
                e.method,
                e.dos_datetime[1],
                e.dos_datetime[0],
                e.crc,
                _MAX32 if big else e.compressed_size,
                _MAX32 if big else e.file_size,
                len(e.name),
                len(extra),
                0,
                0,
                0,
                e.mode << 16,
                _MAX32 if big else e.offset,
            )
        )
        out.write(e.name)
        out.write(extra)
    end = out.tell()
    size = end - start
    count = len(entries)
    if count >= 0xFFFF or size >= _MAX32 or start >= _MAX32:
        out.write(
            _ZIP64_EOCD.pack(0x06064B50, 44, (_UNIX << 8) | 45, 45, 0, 0, count, count, size, start)
        )
        out.write(_ZIP64_LOCATOR.pack(0x07064B50, 0, end, 1))
        out.write(_EOCD.pack(0x06054B50, 0, 0, 0xFFFF, 0xFFFF, _MAX32, _MAX32, 0))
    else:
        out.write(_EOCD.pack(0x06054B50, 0, 0, count, count, size, start, 0))
