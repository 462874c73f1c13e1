"""Byte ranges of a file the ELF reader asks for, whether it is in memory or streaming past.

A member of a wheel arrives as a deflate stream: it cannot be seeked, and
holding all of it (434 MB for torch's ``libtorch_cpu.so``) is what bounded
memory rules out.  The reader therefore never indexes a buffer; it asks a
:class:`ByteSource` for ``(offset, size)``.  :class:`BytesSource` answers from
bytes in memory (tests, small files, patched copies); :class:`SparseSource`
answers from the ranges kept while the stream went by and raises
:class:`Unavailable` for anything else, which tells the caller what to keep on
its next pass over the stream.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import Protocol

from truewheel.errors import BinaryError, ElfError

__all__ = ["ByteSource", "BytesSource", "RangeSet", "SparseSource", "Unavailable"]


class Unavailable(Exception):  # a signal to the caller, not an error
    """The reader needs bytes that were not kept; keep ``(offset, size)`` and read again."""

    def __init__(self, offset: int, size: int) -> None:
        super().__init__(f"bytes {offset}..{offset + size} were not kept")
        self.offset = offset
        self.size = size


class ByteSource(Protocol):
    """Random access to the bytes of one file of known size."""

    @property
    def size(self) -> int: ...

    def read(self, offset: int, size: int, what: str) -> bytes:
        """Exactly ``size`` bytes at ``offset``; the source's :class:`BinaryError` when past
        the end (:class:`ElfError` unless the source was made for another format)."""
        ...

    def read_prefix(self, offset: int, size: int, what: str) -> bytes:
        """At least one and at most ``size`` bytes at ``offset`` (for strings of unknown end)."""
        ...


def _check_bounds(
    offset: int, size: int, total: int, what: str, error: type[BinaryError] = ElfError
) -> None:
    if offset < 0 or size < 0 or offset + size > total:
        raise error(f"truncated {error.format_name} ({what} at offset {offset} past end of file)")


class BytesSource:
    """The whole file in memory."""

    def __init__(
        self, data: bytes | bytearray | memoryview, error: type[BinaryError] = ElfError
    ) -> None:
        self._data = memoryview(data)
        self.error = error

    @property
    def size(self) -> int:
        return len(self._data)

    def read(self, offset: int, size: int, what: str) -> bytes:
        _check_bounds(offset, size, len(self._data), what, self.error)
        return bytes(self._data[offset : offset + size])

    def read_prefix(self, offset: int, size: int, what: str) -> bytes:
        _check_bounds(offset, 1, len(self._data), what, self.error)
        return bytes(self._data[offset : offset + size])


class RangeSet:
    """Disjoint, sorted ``[start, end)`` ranges; adding merges what overlaps or touches."""

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in ranges:
            self.add(start, end)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(zip(self._starts, self._ends, strict=True))

    def __len__(self) -> int:
        return len(self._starts)

    @property
    def total(self) -> int:
        return sum(e - s for s, e in zip(self._starts, self._ends, strict=True))

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        i = bisect.bisect_left(self._ends, start)
        j = bisect.bisect_right(self._starts, end)
        if i < j:
            start = min(start, self._starts[i])
            end = max(end, self._ends[j - 1])
        self._starts[i:j] = [start]
        self._ends[i:j] = [end]

    def covers(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, start) - 1
        return i >= 0 and self._ends[i] >= end

    def overlapping(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of the set inside ``[start, end)``."""
        i = max(bisect.bisect_right(self._starts, start) - 1, 0)
        out = []
        while i < len(self._starts) and self._starts[i] < end:
            lo, hi = max(self._starts[i], start), min(self._ends[i], end)
            if lo < hi:
                out.append((lo, hi))
            i += 1
        return out

    @property
    def last_end(self) -> int:
        return self._ends[-1] if self._ends else 0


class SparseSource:
    """Ranges of a file kept while it streamed past, filled chunk by chunk in file order."""

    def __init__(self, size: int, wanted: RangeSet, error: type[BinaryError] = ElfError) -> None:
        self._size = size
        self.error = error
        self.wanted = wanted
        self._pieces: dict[int, bytearray] = {start: bytearray() for start, _ in wanted}
        self._ends: dict[int, int] = dict(iter(wanted))
        self._starts = sorted(self._pieces)

    @property
    def size(self) -> int:
        return self._size

    @property
    def kept_bytes(self) -> int:
        return sum(len(p) for p in self._pieces.values())

    def feed(self, offset: int, chunk: bytes | memoryview) -> None:
        """Keep the parts of ``chunk`` (which starts at ``offset``) that are wanted.

        Feeding a chunk again adds only what is newly wanted, and a piece grows only
        from where it stops, so what is kept is always contiguous and in order.
        """
        end = offset + len(chunk)
        i = max(bisect.bisect_right(self._starts, offset) - 1, 0)
        while i < len(self._starts) and self._starts[i] < end:
            start = self._starts[i]
            filled = start + len(self._pieces[start])
            lo, hi = max(filled, offset), min(self._ends[start], end)
            if lo < hi:
                self._pieces[start] += chunk[lo - offset : hi - offset]
            i += 1

    def read(self, offset: int, size: int, what: str) -> bytes:
        _check_bounds(offset, size, self._size, what, self.error)
        data = self._kept_from(offset, size)
        if len(data) < size:
            raise Unavailable(offset, size)
        return data

    def read_prefix(self, offset: int, size: int, what: str) -> bytes:
        _check_bounds(offset, 1, self._size, what, self.error)
        data = self._kept_from(offset, min(size, self._size - offset))
        if not data:
            raise Unavailable(offset, min(size, self._size - offset))
        return data

    def want(self, start: int, end: int, position: int) -> None:
        """Also keep ``[start, end)`` from here on; bytes before ``position`` have gone by."""
        start = max(start, position)
        if end <= start:
            return
        gaps = [(start, end)]
        for lo, hi in self.wanted.overlapping(start, end):
            gaps = [g for a, b in gaps for g in ((a, min(b, lo)), (max(a, hi), b)) if g[0] < g[1]]
        for lo, hi in gaps:
            self._pieces[lo] = bytearray()
            bisect.insort(self._starts, lo)
            self._ends[lo] = hi
        self.wanted.add(start, end)

    def _kept_from(self, offset: int, size: int) -> bytes:
        """The kept bytes from ``offset`` on (up to ``size``), across touching pieces."""
        i = bisect.bisect_right(self._starts, offset) - 1
        out = b""
        position = offset
        while i >= 0 and i < len(self._starts) and len(out) < size:
            start = self._starts[i]
            piece = self._pieces[start]
            if not start <= position < start + len(piece):
                break
            take = piece[position - start : position - start + size - len(out)]
            out += take
            position += len(take)
            if start + len(piece) < self._ends[start]:
                break  # this piece is not filled to its end yet
            i += 1
        return out
