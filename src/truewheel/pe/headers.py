"""The headers of a PE image: MS-DOS header, COFF header, optional header, section table.

They sit at the start of the file (within SizeOfHeaders), so a stream needs only its
first bytes to know where every directory lives.  Every declared count is bounded
before use, and an RVA is turned into a file offset only when it falls inside the raw
data of a section (or inside the headers themselves, which the loader maps too).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from truewheel.elf.source import ByteSource
from truewheel.errors import PEError
from truewheel.pe import _layout as L
from truewheel.pe.model import PESection

__all__ = ["MAX_SECTIONS", "Headers", "read_headers"]

#: More sections than any real image has (the Windows loader long refused more than 96).
MAX_SECTIONS = 1024
#: e_lfanew beyond this is not a header a loader would look for.
_MAX_LFANEW = 1 << 24


@dataclass(frozen=True, slots=True)
class Headers:
    e_lfanew: int
    machine: int
    timestamp: int
    characteristics: int
    magic: int
    image_base: int
    size_of_headers: int
    subsystem: int
    dll_characteristics: int
    directories: tuple[tuple[int, int], ...]  # (RVA or file offset, size), 16 entries
    symbols_end: int  # end of the COFF symbol table (its string table follows), 0 if none
    sections: tuple[PESection, ...]
    end: int  # end of the section table: the bytes the headers take

    def directory(self, index: int) -> tuple[int, int]:
        return self.directories[index]

    def span(self, rva: int) -> tuple[int, int] | None:
        """(file offset, bytes left in the mapped raw data) for ``rva``, or None."""
        for s in self.sections:
            size = min(s.virtual_size, s.size) if s.virtual_size else s.size
            if s.virtual_address <= rva < s.virtual_address + size:
                return s.offset + rva - s.virtual_address, s.virtual_address + size - rva
        if 0 <= rva < self.size_of_headers:
            return rva, self.size_of_headers - rva
        return None

    def offset_of(self, rva: int, size: int, what: str) -> int:
        """The file offset of ``size`` bytes at ``rva``, all inside one section's raw data."""
        found = self.span(rva)
        if found is None or found[1] < size:
            raise PEError(f"malformed PE ({what} at RVA {rva:#x} is outside every section)")
        return found[0]


def read_headers(src: ByteSource) -> Headers:
    """Parse and bound the headers; :class:`PEError` when they are not a PE image's."""
    if src.size < L.DOS_HEADER_SIZE:
        raise PEError("not a PE file (shorter than an MS-DOS header)")
    dos = src.read(0, L.DOS_HEADER_SIZE, "MS-DOS header")
    if dos[:2] != L.MZ:
        raise PEError("not a PE file (no MZ signature)")
    (e_lfanew,) = struct.unpack_from("<I", dos, L.E_LFANEW_AT)
    if e_lfanew > _MAX_LFANEW or e_lfanew + 24 > src.size:
        raise PEError(f"truncated PE (e_lfanew {e_lfanew:#x} past end of file)")
    head = src.read(e_lfanew, 24, "PE signature and COFF header")
    if head[:4] != L.PE_SIGNATURE:
        raise PEError("not a PE file (no PE signature at e_lfanew)")
    machine, nsections, timestamp, symbols_at, nsymbols, opt_size, characteristics = (
        L.COFF.unpack_from(head, 4)
    )
    if nsections > MAX_SECTIONS:
        raise PEError(f"malformed PE ({nsections} sections)")
    opt_at = e_lfanew + 24
    if opt_size < 2:
        raise PEError(f"malformed PE (optional header of {opt_size} bytes)")
    opt = src.read(opt_at, opt_size, "optional header")
    (magic,) = struct.unpack_from("<H", opt, 0)
    if magic not in (L.PE32_MAGIC, L.PE32_PLUS_MAGIC):
        raise PEError(f"malformed PE (optional header magic {magic:#x})")
    rva_count_at = L.OPT_NUMBER_OF_RVA[magic]
    if opt_size < rva_count_at + 4:
        raise PEError(f"malformed PE (optional header of {opt_size} bytes)")
    base_at, base_fmt = L.OPT_IMAGE_BASE[magic]
    (image_base,) = struct.unpack_from(base_fmt, opt, base_at)
    (size_of_headers,) = struct.unpack_from("<I", opt, L.OPT_SIZE_OF_HEADERS)
    subsystem, dll_characteristics = struct.unpack_from("<HH", opt, L.OPT_SUBSYSTEM)
    (declared,) = struct.unpack_from("<I", opt, rva_count_at)
    fits = (opt_size - rva_count_at - 4) // L.DIRECTORY.size
    count = min(declared, L.DIRECTORY_COUNT, fits)
    directories = [
        L.DIRECTORY.unpack_from(opt, rva_count_at + 4 + i * L.DIRECTORY.size) for i in range(count)
    ]
    directories += [(0, 0)] * (L.DIRECTORY_COUNT - count)
    table_at = opt_at + opt_size
    table = src.read(table_at, nsections * L.SECTION.size, "section table")
    sections = []
    for i in range(nsections):
        name, vsize, vaddr, raw_size, raw_at, *_, flags = L.SECTION.unpack_from(
            table, i * L.SECTION.size
        )
        label = name.rstrip(b"\0").decode("utf-8", "surrogateescape")
        if raw_size and raw_at + raw_size > src.size:
            raise PEError(f"truncated PE (section {label!r} runs past end of file)")
        sections.append(PESection(label, vaddr, vsize, raw_at, raw_size, flags))
    return Headers(
        e_lfanew=e_lfanew,
        machine=machine,
        timestamp=timestamp,
        characteristics=characteristics,
        magic=magic,
        image_base=image_base,
        size_of_headers=min(size_of_headers, src.size),
        subsystem=subsystem,
        dll_characteristics=dll_characteristics,
        directories=tuple(directories),
        symbols_end=symbols_at + nsymbols * L.COFF_SYMBOL_SIZE if symbols_at else 0,
        sections=tuple(sections),
        end=table_at + nsections * L.SECTION.size,
    )
