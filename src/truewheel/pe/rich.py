"""The Rich header: which Microsoft tools (compiler, assembler, linker builds) made an image.

MSVC's link.exe writes it between the MS-DOS stub and the PE header: ``"DanS"`` and three
zero DWORDs, then one ``(comp.id, count)`` pair of DWORDs per tool, then ``"Rich"`` and a
32-bit key; everything before ``"Rich"`` is XORed with that key.  A comp.id holds the
product id in its high 16 bits and the tool's build number in its low 16 bits.  mingw's
ld and lld-link write none.  A region that does not decode is no Rich header, not an
error: the loader never reads it.
"""

from __future__ import annotations

import struct

from truewheel.elf.source import ByteSource
from truewheel.pe import _layout as L
from truewheel.pe.model import RichEntry

__all__ = ["MAX_RICH_REGION", "read_rich"]

#: Where a Rich header is searched for: the bytes before e_lfanew, at most this many.
MAX_RICH_REGION = 64 << 10


def read_rich(src: ByteSource, e_lfanew: int) -> tuple[RichEntry, ...]:
    end = min(e_lfanew, MAX_RICH_REGION, src.size)
    if end <= L.DOS_HEADER_SIZE:
        return ()
    region = src.read(0, end, "MS-DOS stub")
    marker = region.rfind(L.RICH_MARKER, L.DOS_HEADER_SIZE)
    while marker >= 0 and marker % 4:
        marker = region.rfind(L.RICH_MARKER, L.DOS_HEADER_SIZE, marker + 3)
    if marker < 0 or marker + 8 > len(region):
        return ()
    (key,) = struct.unpack_from("<I", region, marker + 4)
    start = marker - 4
    while start >= L.DOS_HEADER_SIZE:
        (word,) = struct.unpack_from("<I", region, start)
        if word ^ key == L.RICH_START:
            break
        start -= 4
    else:
        return ()
    words = struct.unpack_from(f"<{(marker - start) // 4}I", region, start)
    decoded = [w ^ key for w in words]
    if len(decoded) < 4 or any(decoded[1:4]) or (len(decoded) - 4) % 2:
        return ()
    pairs = zip(decoded[4::2], decoded[5::2], strict=True)
    return tuple(RichEntry(comp_id >> 16, comp_id & 0xFFFF, count) for comp_id, count in pairs)
