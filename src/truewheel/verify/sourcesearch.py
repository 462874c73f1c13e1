"""Names a native file gives its sources, found as its bytes stream past.

A source name is a run of path bytes ending in a source suffix (``src/_core.c``,
``pkg/mod.pyx``); an init function is ``PyInit_<name>``; a mypyc group is a dotted
name ending in ``__mypyc``; ``__pythran__`` marks a module Pythran compiled.  A pattern
that starts with a repeated character class would try a match at every byte of every
identifier in a symbol table (quadratic in the runs, 15 s on pyarrow's libraries); this
search looks only for the literal anchors (``PyInit_``, ``__mypyc``, ``.c``...) and
walks back from each to the start of its run, so its cost is one pass of the regex
engine's literal scan.

A run longer than the bound (300 bytes for a source name, 200 for a mypyc group) is
no name anyone wrote, and is dropped; several suffixes in one run (``a.c/b.c``) make
one name, up to the last.
"""

from __future__ import annotations

import re

from truewheel.elf.search import Hit

__all__ = ["SourceSearch"]

_PYTHRAN = b"__pythran__"  # Pythran's module attribute: the module was compiled by Pythran
_ANCHOR = re.compile(
    rb"PyInit_[A-Za-z0-9_]{1,200}"
    rb"|__pythran__(?![A-Za-z0-9_])"
    rb"|__mypyc(?![A-Za-z0-9_])"
    rb"|\.(?:c|cc|cpp|cxx|c\+\+|m|mm|pyx|py|rs|f|f90|go|zig)(?![A-Za-z0-9_+])"
)
_PATH_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-")
_DOTTED_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.")
_MAX_SOURCE = 300
_MAX_GROUP = 200
_KEEP = 512  # bytes of the previous chunk kept: a run's start (at most 300 back) is in them
_LOOKAHEAD = 8  # a match ending this close to the end waits for the next chunk's bytes


class SourceSearch:
    """Hits (offset, text, byte before) of init functions, mypyc groups and source names."""

    def __init__(self, max_hits: int) -> None:
        self.max_hits = max_hits
        self.hits: list[Hit] = []
        self._tail = b""
        self._tail_at = 0
        self._done = 0  # anchors starting before this offset were handled

    def feed(self, offset: int, chunk: bytes | memoryview, *, final: bool = False) -> None:
        if len(self.hits) >= self.max_hits:
            return
        if offset != self._tail_at + len(self._tail):
            self._tail, self._tail_at, self._done = b"", offset, offset  # a gap: start afresh
        buffer = self._tail + bytes(chunk)
        base = self._tail_at
        stop = len(buffer) if final else max(len(buffer) - _LOOKAHEAD, 0)
        resume = base + stop
        for match in _ANCHOR.finditer(buffer, max(self._done - base, 0)):
            if match.end() > stop:  # its end (a name, a suffix's next byte) may come next
                resume = base + match.start()
                break
            if len(self.hits) >= self.max_hits:
                break
            self._take(buffer, base, match)
            self._done = base + match.end()
        self._done = max(self._done, resume)
        keep_from = max(len(buffer) - _KEEP, 0)
        self._tail, self._tail_at = buffer[keep_from:], base + keep_from

    def finish(self) -> None:
        self.feed(self._tail_at + len(self._tail), b"", final=True)
        self._tail = b""

    def _take(self, buffer: bytes, base: int, match: re.Match[bytes]) -> None:
        at, end = match.start(), match.end()
        if buffer[at] == ord("P") or buffer[at:end] == _PYTHRAN:
            self._add(base + at, buffer[at:end], buffer[at - 1] if at else -1)
            return
        dotted = buffer[at] == ord("_")
        allowed, bound = (_DOTTED_BYTES, _MAX_GROUP) if dotted else (_PATH_BYTES, _MAX_SOURCE)
        start = at
        while start > 0 and at - start < bound + 1 and buffer[start - 1] in allowed:
            start -= 1
        if start == at or (start > 0 and buffer[start - 1] in allowed):
            return  # nothing before the anchor, or a run longer than any name
        before = buffer[start - 1] if start else -1
        last = self.hits[-1] if self.hits else None
        if not dotted and last is not None and last.offset == base + start:
            self.hits[-1] = Hit(last.offset, buffer[start:end], last.before)  # a.c/b.c
            return
        self._add(base + start, buffer[start:end], before)

    def _add(self, offset: int, text: bytes, before: int) -> None:
        self.hits.append(Hit(offset, text, before))
