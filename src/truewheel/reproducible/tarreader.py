"""A strict, streaming reader for the tar container of an sdist.

Why not :mod:`tarfile`: it keeps every member in a list, reads a pax header of
any size into memory, parses pax records with regular expressions that
backtrack (a few KiB of digits cost seconds on Pythons still in use,
CVE-2024-6232), takes a corrupt header in the middle of an archive for its end,
and follows negative sizes backwards.  An sdist needs ustar headers, pax
records and GNU long names; this reader takes those one block at a time from a
stream, with every size bounded, and refuses the rest.  Format facts: POSIX.1-2008
``pax`` (ustar and extended headers) and GNU tar's manual (long names).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from truewheel.errors import InputError

__all__ = ["BLOCK", "MAX_HEADER", "Readable", "TarMember", "TarReader"]

BLOCK = 512
# Extended headers (pax records, GNU long names) of one member; PATH_MAX is 4096.
MAX_HEADER = 64 * 1024
# pax records in one extended header; tar programs write about five per member.
_MAX_RECORDS = 256
_CHUNK = 1 << 20

_KINDS = {b"0": "file", b"\0": "file", b"7": "file", b"5": "dir", b"2": "symlink", b"1": "hardlink"}
_SPECIAL = {b"3": "a character device", b"4": "a block device", b"6": "a FIFO"}
_EXTENDED = (b"x", b"X", b"g", b"L", b"K")  # X: Solaris tar's name for a pax header
_LOW = bytes(range(128))


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class TarMember:
    """One member, its extended headers applied."""

    name: str
    kind: str  # "file", "dir", "symlink" or "hardlink"
    size: int
    mode: int
    mtime: float
    linkname: str


class TarReader:
    """Members of a tar stream, in order; each member's data must be read before the next."""

    def __init__(self, stream: Readable, count: Callable[[int], None], *, not_tar: str) -> None:
        self._stream = stream
        self._count = count  # told of every byte read, so the caller can stop a bomb
        self._not_tar = not_tar  # what to call input whose first block is no tar header
        self._offset = 0
        self._unread = 0  # data and padding of the current member not read by the caller

    def members(self) -> Iterator[tuple[TarMember, Callable[[], Iterator[bytes]]]]:
        """(member, data) pairs; ``data()`` streams a file's bytes, in chunks of at most 1 MiB."""
        while True:
            self._skip(self._unread)
            member = self._next()
            if member is None:
                return
            size = member.size if member.kind == "file" else 0
            self._unread = size + _padding(size)
            yield member, partial(self._data, size)

    def _data(self, size: int) -> Iterator[bytes]:
        while size > 0:
            chunk = self._read(min(size, _CHUNK))
            size -= len(chunk)
            self._unread -= len(chunk)
            yield chunk

    def _next(self) -> TarMember | None:
        pax: dict[str, bytes] = {}
        long_name = long_link = None
        extended = 0
        while True:
            at = self._offset
            block = self._read(BLOCK, empty_ok=at == 0)
            if not block:
                return None  # no bytes at all: the caller reports an empty archive
            if block == bytes(BLOCK):
                if extended:
                    raise InputError(
                        f"corrupt archive (ends after an extended header at byte {at})"
                    )
                return None
            kind, size, mode, mtime, name, linkname = self._header(block, at)
            if kind not in _EXTENDED:
                break
            extended += size
            if extended > MAX_HEADER:
                raise InputError(
                    f"corrupt archive (extended headers over {MAX_HEADER} bytes at byte {at})"
                )
            data = self._read(size)
            self._skip(_padding(size))
            if kind in (b"x", b"X"):
                pax.update(_pax_records(data, at))
            elif kind == b"g":
                _pax_records(data, at)  # checked, then ignored: git writes its commit id here
            elif kind == b"L":
                long_name = _text(data.split(b"\0", 1)[0])
            else:
                long_link = _text(data.split(b"\0", 1)[0])
        name = _text(pax["path"]) if "path" in pax else long_name or name
        linkname = _text(pax["linkpath"]) if "linkpath" in pax else long_link or linkname
        if kind == b"S" or any(key.startswith("GNU.sparse.") for key in pax):
            raise InputError("unsupported member type (a GNU sparse file)", member=name)
        if kind in _SPECIAL:
            raise InputError(f"unsafe member refused ({_SPECIAL[kind]})", member=name)
        if kind == b"\0" and name.endswith("/"):
            kind = b"5"  # pre-POSIX tar marks directories by the slash alone
        if kind not in _KINDS:
            raise InputError(f"unsupported member type ({kind.decode('latin-1')!r})", member=name)
        size = _pax_number(pax["size"], at) if "size" in pax else size
        if _KINDS[kind] != "file":
            # As tarfile reads it: no data follows a directory or a link, whatever its size says.
            size = 0
        mtime = _pax_time(pax["mtime"]) if "mtime" in pax else mtime
        return TarMember(name, _KINDS[kind], size, mode, mtime, linkname)

    def _header(self, block: bytes, at: int) -> tuple[bytes, int, int, float, str, str]:
        try:
            stored = _number(block[148:156], at, "checksum")
        except InputError:
            stored = -1
        unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
        high = len(block[:148].translate(None, _LOW)) + len(block[156:].translate(None, _LOW))
        if stored not in (unsigned, unsigned - 256 * high):  # old tars summed signed bytes
            if at == 0:
                raise InputError(self._not_tar)
            raise InputError(f"corrupt archive (bad header checksum at byte {at})")
        size = _number(block[124:136], at, "size")
        if size < 0:
            raise InputError(f"corrupt archive (negative size at byte {at})")
        name = block[0:100].split(b"\0", 1)[0]
        prefix = block[345:500].split(b"\0", 1)[0]
        if block[257:263] == b"ustar\0" and prefix:
            name = prefix + b"/" + name
        return (
            block[156:157],
            size,
            _number(block[100:108], at, "mode") & 0o7777,
            _number(block[136:148], at, "mtime"),
            _text(name),
            _text(block[157:257].split(b"\0", 1)[0]),
        )

    def _read(self, size: int, *, empty_ok: bool = False) -> bytes:
        data = b""
        while len(data) < size:  # decompressors may return less than asked
            more = self._stream.read(size - len(data))
            if not more:
                if empty_ok and not data:
                    return b""
                if self._offset < BLOCK:
                    raise InputError(self._not_tar)  # not even one header long
                raise InputError("truncated archive (unexpected end of data)")
            self._count(len(more))
            self._offset += len(more)
            data += more
        return data

    def _skip(self, size: int) -> None:
        while size > 0:
            size -= len(self._read(min(size, _CHUNK)))
        self._unread = 0


def _padding(size: int) -> int:
    return -size % BLOCK


def _text(raw: bytes) -> str:
    # As tarfile and the file system do: bytes that are not UTF-8 survive as surrogates.
    return raw.decode("utf-8", "surrogateescape")


def _number(field: bytes, at: int, what: str) -> int:
    """An octal number, or GNU's base-256 for values that do not fit."""
    if field[:1] in (b"\x80", b"\xff"):
        value = int.from_bytes(field[1:], "big")
        return value - 256 ** (len(field) - 1) if field[0] == 0xFF else value
    digits = field.split(b"\0", 1)[0].strip(b" ")
    if not digits:
        return 0
    if digits.translate(None, b"01234567"):  # anything left is not an octal digit
        raise InputError(f"corrupt archive (bad {what} field at byte {at})")
    return int(digits, 8)


def _pax_records(data: bytes, at: int) -> dict[str, bytes]:
    """``"%d %s=%s\\n" % (length, keyword, value)`` records, parsed without backtracking."""
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos, pos + 12)
        digits = data[pos:space]
        length = int(digits) if space > pos and digits.isdigit() else 0
        end = pos + length
        record = data[space + 1 : end - 1]
        keyword, equals, value = record.partition(b"=")
        if length < 5 or end > len(data) or data[end - 1 : end] != b"\n" or not equals:
            raise InputError(f"corrupt archive (bad pax record at byte {at})")
        records[_text(keyword)] = value
        if len(records) > _MAX_RECORDS:
            raise InputError(f"corrupt archive (over {_MAX_RECORDS} pax records at byte {at})")
        pos = end
    return records


def _pax_number(value: bytes, at: int) -> int:
    if not (value.isdigit() and len(value) <= 20):
        raise InputError(f"corrupt archive (bad pax size at byte {at})")
    return int(value)


def _pax_time(value: bytes) -> float:
    """A pax time (``1700000000.123``); one that is no number counts as unknown (NaN)."""
    try:
        return float(value[:64])
    except ValueError:
        return float("nan")
