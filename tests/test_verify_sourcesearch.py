"""The verify source-name search: the same hits whole or in chunks, runs bounded."""

from __future__ import annotations

import pytest

from truewheel.verify.sourcesearch import SourceSearch

BLOB = (
    b"\x00PyInit__core\x00"
    + b"\x90" * 700
    + b"\x00/build/src/pkg/_core.c\x00"
    + b"\x00twv.sub__mypyc\x00"
    + b"\x00a.c/b.c\x00"
    + b"\x00"
    + b"x" * 400
    + b".c\x00"
    + b"\x00mod.pyx.bak\x00"
)


def _hits(chunk: int) -> list[tuple[int, bytes, int]]:
    search = SourceSearch(max_hits=100)
    for at in range(0, len(BLOB), chunk):
        search.feed(at, BLOB[at : at + chunk])
    search.finish()
    return [(h.offset, h.text, h.before) for h in search.hits]


@pytest.mark.parametrize("chunk", [1, 7, 64, 509, 513, len(BLOB)])
def test_chunks_do_not_change_the_hits(chunk: int) -> None:
    texts = [text for _, text, _ in _hits(chunk)]
    expected = [b"PyInit__core", b"/build/src/pkg/_core.c", b"twv.sub__mypyc", b"a.c/b.c"]
    assert texts == [*expected, b"mod.pyx"]  # a run of 400 bytes is no name
    assert _hits(chunk) == _hits(len(BLOB))


def test_offsets_and_the_byte_before() -> None:
    for offset, text, before in _hits(len(BLOB)):
        assert BLOB[offset : offset + len(text)] == text
        assert before == BLOB[offset - 1]
