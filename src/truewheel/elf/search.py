"""Search a file for a pattern while it streams past in chunks.

Build paths and library version strings are searched for in every byte of a
file, but the file is never whole in memory: each chunk is searched together
with the end of the one before, so a match that straddles two chunks is found
once.  Matches are reported with their offset in the file and the byte before
them, which callers use to tell a path from the middle of a longer one; a pattern's
look-behind sees the two bytes before a match at a chunk's start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Hit", "StreamSearch"]


@dataclass(frozen=True, slots=True)
class Hit:
    offset: int
    text: bytes
    before: int  # the byte before the match, -1 at the start of the file
    groups: tuple[bytes | None, ...] = ()


class StreamSearch:
    """Matches of ``pattern`` in a stream, each at most ``overlap`` bytes long.

    A longer match is cut where a chunk ends.  After ``max_hits`` matches the search stops.
    """

    def __init__(self, pattern: re.Pattern[bytes], *, max_hits: int, overlap: int = 4096) -> None:
        self.pattern = pattern
        self.max_hits = max_hits
        self.overlap = overlap
        self.hits: list[Hit] = []
        self._tail = b""
        self._tail_at = 0
        self._next = 0  # matches starting before this offset are reported or impossible

    @property
    def done(self) -> bool:
        return len(self.hits) >= self.max_hits

    def feed(self, offset: int, chunk: bytes | memoryview, *, final: bool = False) -> None:
        """Search the next ``chunk``, which starts at ``offset``."""
        if self.done:
            return
        if offset != self._tail_at + len(self._tail):
            self._tail, self._tail_at, self._next = b"", offset, offset  # a gap: start afresh
        buffer = self._tail + bytes(chunk) if self._tail else bytes(chunk)
        base = self._tail_at
        defer_from = len(buffer) if final else max(len(buffer) - self.overlap, 0)
        for match in self.pattern.finditer(buffer, self._next - base):
            at = match.start()
            if at >= defer_from:
                break
            self.hits.append(
                Hit(base + at, match.group(), buffer[at - 1] if at else -1, match.groups())
            )
            self._next = base + match.end()
            if self.done:
                return
        self._next = max(self._next, base + defer_from)
        keep_from = max(self._next - base - 2, 0)  # the two bytes a look-behind may read
        self._tail, self._tail_at = buffer[keep_from:], base + keep_from

    def finish(self) -> None:
        """Report what was held back at the end of the last chunk."""
        self.feed(self._tail_at + len(self._tail), b"", final=True)
        self._tail = b""
