"""Write a wheel deterministically, copying unchanged members' compressed bytes as they are.

Members are written in a canonical order (``.dist-info`` last, RECORD last),
with fixed permissions (0644, or 0755 for executables), no extra fields and
one pinned deflate implementation (ISA-L, a pinned dependency), so the same
input always gives the same bytes.  Unchanged members are never inflated or
recompressed: their stored bytes, CRC and sizes are copied from the source.
The archive is written to a temporary file beside the target and renamed only
when complete, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from isal import igzip_lib, isal_zlib

from truewheel.wheel.zipreader import DEFLATED, STORED, ZipMember, ZipReader

__all__ = ["NewMember", "RawMember", "wheel_order", "write_wheel", "zip_level"]

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_ZIP64_EOCD = struct.Struct("<IQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<IIQI")
_MAX32 = 0xFFFFFFFF
_UTF8 = 0x800
_UNIX = 3


@dataclass(frozen=True, slots=True)
class RawMember:
    """A member copied byte for byte from a source archive."""

    source: ZipMember
    name: str
    executable: bool
    dos_datetime: tuple[int, int]


@dataclass(frozen=True, slots=True)
class NewMember:
    """A member whose content is new or changed, compressed on write."""

    name: str
    data: bytes
    executable: bool
    dos_datetime: tuple[int, int]


Member = RawMember | NewMember


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
    workers: int | None = None,
) -> None:
    """Write ``members`` in the given order to ``target`` atomically."""
    ordered = list(members)
    compressed = _compress_all([m for m in ordered if isinstance(m, NewMember)], level, workers)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            central = [_write_member(out, m, source, compressed) for m in ordered]
            _write_central_directory(out, central)
        Path(tmp_name).chmod(0o644)
        Path(tmp_name).replace(target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


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


def _compress_all(
    members: list[NewMember], level: int, workers: int | None
) -> dict[str, tuple[int, int, bytes]]:
    def one(member: NewMember) -> tuple[str, tuple[int, int, bytes]]:
        crc = isal_zlib.crc32(member.data)
        if level < 0:
            return member.name, (STORED, crc, member.data)
        data = igzip_lib.compress(member.data, level=level, flag=igzip_lib.COMP_DEFLATE)
        return member.name, (DEFLATED, crc, data)

    run: Callable[[NewMember], tuple[str, tuple[int, int, bytes]]] = one
    if len(members) < 2:
        return dict(map(run, members))
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return dict(pool.map(run, sorted(members, key=lambda m: -len(m.data))))


def _write_member(
    out: BinaryIO,
    member: Member,
    source: ZipReader | None,
    compressed: dict[str, tuple[int, int, bytes]],
) -> _Entry:
    name = member.name.encode("utf-8")
    flags = 0 if name.isascii() else _UTF8
    if isinstance(member, RawMember):
        if source is None:
            raise ValueError("raw members need their source archive")
        data = source.read_raw(member.source)
        method, crc, size = member.source.method, member.source.crc32, member.source.file_size
    else:
        method, crc, data = compressed[member.name]
        size = len(member.data)
    offset = out.tell()
    zip64 = size >= _MAX32 or len(data) >= _MAX32
    extra = struct.pack("<HHQQ", 1, 16, size, len(data)) if zip64 else b""
    out.write(
        _LOCAL.pack(
            0x04034B50,
            45 if zip64 else 20,
            flags,
            method,
            member.dos_datetime[1],
            member.dos_datetime[0],
            crc,
            _MAX32 if zip64 else len(data),
            _MAX32 if zip64 else size,
            len(name),
            len(extra),
        )
    )
    out.write(name)
    out.write(extra)
    out.write(data)
    mode = 0o100755 if member.executable else 0o100644
    return _Entry(name, flags, method, member.dos_datetime, crc, len(data), size, offset, mode)


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
