"""The ``DW_AT_producer`` of every compilation unit: the compiler and the switches it recorded.

GCC writes the switches that affect code generation into each unit's producer string
(``-grecord-gcc-switches``, on by default): ``GNU C17 12.2.0 -mtune=generic -march=x86-64 -g
-O2 -fPIC``.  Two builds of one source at ``-O3`` and ``-O0`` say so there and nowhere else a
reader can see, so ``diff`` reads it.

Only what that needs is read.  Units are found by following ``unit_length`` from one to the
next as ``.debug_info`` streams past (:class:`UnitHeads`), keeping at most :data:`HEAD_BYTES`
of each (its header and the start of its first DIE, the unit's own) and at most
:data:`MAX_UNITS` units.  The one abbreviation that DIE uses and the string it points to are
then read through a :class:`~truewheel.elf.source.ByteSource` (a window of the abbreviation
table, a bounded string); a stream's source says which
ranges it lacks, and :func:`producers` returns them for another pass.  Facts from DWARF 5
(7.4 32- and 64-bit formats, 7.5.1 unit headers, 7.5.3 abbreviations, 7.5.5-7.5.6 forms, 7.26
string offsets) and DWARF 2-4 unit headers.  A declared offset outside its section is
:class:`~truewheel.errors.ElfError`; a form or version this reader does not know skips that
unit (``skipped``), never guesses.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from truewheel.elf.reader import ElfFile, Section
from truewheel.elf.source import ByteSource, Unavailable
from truewheel.errors import ElfError

__all__ = ["HEAD_BYTES", "MAX_UNITS", "Producers", "UnitHeads", "producers", "read_producers"]

MAX_UNITS = 2048
HEAD_BYTES = 256
# GCC orders a unit's abbreviations by use, so the unit's own may come last in a table of
# several KiB; the windows of all units together keep at most the section, which is refused
# above a size no real file reaches.
_ABBREV_WINDOW = 64 << 10
_MAX_ABBREV = 16 << 20
_STRING_MAX = 2048
_SHF_COMPRESSED = 0x800
_DW_AT_PRODUCER = 0x25
_DW_AT_STR_OFFSETS_BASE = 0x72

# Forms by how their value is laid out (DWARF 5 table 7.6, GNU extensions 0x1f01-0x1f21).
_FIXED = {
    **dict.fromkeys((0x0B, 0x0C, 0x11, 0x25, 0x29), 1),
    **dict.fromkeys((0x05, 0x12, 0x26, 0x2A), 2),
    **dict.fromkeys((0x27, 0x2B), 3),
    **dict.fromkeys((0x06, 0x13, 0x1C, 0x28, 0x2C), 4),
    **dict.fromkeys((0x07, 0x14, 0x20, 0x24), 8),
    0x1E: 16,
    0x19: 0,  # flag_present
    0x21: 0,  # implicit_const: the value is in the abbreviation
}
_OFFSET_SIZED = {0x0E, 0x10, 0x17, 0x1D, 0x1F, 0x1F20, 0x1F21}
_ULEB = {0x0F, 0x15, 0x1A, 0x1B, 0x22, 0x23, 0x1F01, 0x1F02}
_BLOCKS = {0x0A: 1, 0x03: 2, 0x04: 4}  # block1, block2, block4: length prefix size
_FORM_ADDR, _FORM_STRING, _FORM_SDATA, _FORM_INDIRECT = 0x01, 0x08, 0x0D, 0x16
_FORM_BLOCK, _FORM_EXPRLOC, _FORM_IMPLICIT_CONST = 0x09, 0x18, 0x21
_FORM_STRP, _FORM_LINE_STRP, _FORM_STRX = 0x0E, 0x1F, 0x1A
_STRX_SIZES = {0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4}


class _Short(Exception):
    """The bytes at hand end before the value does."""


class UnitHeads:
    """The first :data:`HEAD_BYTES` of each unit of ``.debug_info``, fed as it streams past.

    ``feed`` takes the section's bytes in order (offset within the section, piece); a gap
    stops the walk (``error``), and so does a unit that runs past the section.
    """

    def __init__(self, little_endian: bool, size: int) -> None:
        self._size = size  # of .debug_info: no unit may run past it
        self._u32 = struct.Struct("<I" if little_endian else ">I")
        self._u64 = struct.Struct("<Q" if little_endian else ">Q")
        self.heads: list[tuple[int, bytes]] = []
        self.truncated = False  # more than MAX_UNITS units
        self.error: str | None = None
        self._seen = 0
        self._unit = 0
        self._buffer = bytearray()
        self._need = 4
        self._total: int | None = None

    def feed(self, offset: int, chunk: bytes | memoryview) -> None:
        at, piece = offset, chunk
        if self.truncated or self.error is not None:
            return
        if at != self._seen:
            self.error = f"malformed DWARF (.debug_info read out of order at {at})"
            return
        self._seen = at + len(piece)
        while True:
            index = self._unit + len(self._buffer) - at
            if index >= len(piece):
                return
            self._buffer += piece[index : index + self._need - len(self._buffer)]
            if len(self._buffer) < self._need:
                return
            if self._total is None:
                self._read_length()
                if self.error is not None:
                    return
                continue
            self.heads.append((self._unit, bytes(self._buffer)))
            self._unit += self._total
            self._buffer, self._need, self._total = bytearray(), 4, None
            if len(self.heads) >= MAX_UNITS:
                self.truncated = True
                return

    def _read_length(self) -> None:
        (length,) = self._u32.unpack_from(self._buffer)
        if length == 0xFFFFFFFF:
            if len(self._buffer) < 12:
                self._need = 12
                return
            self._total = 12 + self._u64.unpack_from(self._buffer, 4)[0]
        elif length >= 0xFFFFFFF0:
            self.error = f"malformed DWARF (reserved unit length {length:#x} at {self._unit})"
            return
        else:
            self._total = 4 + length
        if self._unit + self._total > self._size:
            self.error = f"malformed DWARF (unit at {self._unit} runs past .debug_info)"
            return
        self._need = min(HEAD_BYTES, self._total)

    def finish(self) -> None:
        """The section is over: a unit begun but not complete runs past its end."""
        if self._buffer and self.error is None and not self.truncated:
            self.error = f"malformed DWARF (unit at {self._unit} runs past .debug_info)"


@dataclass(frozen=True)
class Producers:
    """The distinct producer strings of one file, in the order their units come."""

    names: tuple[str, ...] = ()
    skipped: int = 0  # units whose producer this reader could not read (form, version)
    truncated: bool = False  # more than MAX_UNITS units: only the first were read
    missing: tuple[tuple[int, int], ...] = ()  # (file offset, size) the source did not keep


class _Cursor:
    def __init__(self, data: bytes, little: bool, offset_size: int, address_size: int) -> None:
        self.data, self.pos = data, 0
        self.byteorder: Literal["little", "big"] = "little" if little else "big"
        self.offset_size, self.address_size = offset_size, address_size

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise _Short
        self.pos += size
        return self.data[self.pos - size : self.pos]

    def unsigned(self, size: int) -> int:
        return int.from_bytes(self.take(size), self.byteorder)

    def uleb(self, *, signed: bool = False) -> int:
        """A LEB128 number of at most 10 bytes (DWARF 5 7.6)."""
        value = shift = 0
        while shift < 70:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value - (1 << shift) if signed and byte & 0x40 else value
        raise _Short

    def cstring(self) -> bytes:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise _Short
        text, self.pos = self.data[self.pos : end], end + 1
        return text


def read_producers(elf: ElfFile, source: ByteSource) -> Producers:
    """The producers of a file the source holds whole (in memory): no range is ever missing."""
    info = elf.sections.get(".debug_info")
    heads = UnitHeads(elf.little_endian, info.size if info is not None else 0)
    if info is not None and info.type != 8:
        for at in range(0, info.size, 1 << 16):
            size = min(1 << 16, info.size - at)
            heads.feed(at, source.read(info.offset + at, size, ".debug_info"))
        heads.finish()
    return producers(heads, source, elf.sections, elf.little_endian)


def producers(
    heads: UnitHeads, source: ByteSource, sections: dict[str, Section], little_endian: bool
) -> Producers:
    """Read each unit's producer through ``source``; what it lacks comes back as ``missing``."""
    if heads.error is not None:
        raise ElfError(heads.error)
    wanted = [sections.get(n) for n in (".debug_info", ".debug_abbrev", ".debug_str")]
    if any(s is not None and s.flags & _SHF_COMPRESSED for s in wanted):
        return Producers(skipped=len(heads.heads), truncated=heads.truncated)
    names: dict[str, None] = {}
    skipped = 0
    missing: list[tuple[int, int]] = []
    for _, head in heads.heads:
        try:
            name = _producer(head, source, sections, little_endian)
        except Unavailable as lacking:
            missing.append((lacking.offset, lacking.size))
            continue
        if name is None:
            skipped += 1
        else:
            names.setdefault(name)
    return Producers(tuple(names), skipped, heads.truncated, tuple(missing))


def _producer(
    head: bytes, source: ByteSource, sections: dict[str, Section], little: bool
) -> str | None:
    values: dict[int, tuple[int, bytes | int]] = {}
    try:
        found, version, abbrev_offset = _unit_header(head, little)
    except _Short:
        return None
    if found is None:
        return None
    cursor = found
    try:
        attributes = _abbreviation(source, sections, abbrev_offset, cursor.uleb())
        if attributes is None:
            return None
        for name, form_value in _values(cursor, attributes, version):
            values[name] = form_value
    except _Short:
        pass  # the DIE goes on past the bytes kept, or uses a form this reader does not know
    if _DW_AT_PRODUCER not in values:
        return None
    form, value = values[_DW_AT_PRODUCER]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if form in (_FORM_STRP, _FORM_LINE_STRP):
        table = ".debug_str" if form == _FORM_STRP else ".debug_line_str"
        return _string(source, sections, table, value)
    if form == _FORM_STRX or form in _STRX_SIZES:
        base = values.get(_DW_AT_STR_OFFSETS_BASE, (0, b""))[1]
        if not isinstance(base, int):
            return None
        size = cursor.offset_size
        raw = _section_read(source, sections, ".debug_str_offsets", base + value * size, size)
        return _string(source, sections, ".debug_str", int.from_bytes(raw, cursor.byteorder))
    return None  # in a supplementary or split DWARF file this reader does not open


def _unit_header(head: bytes, little: bool) -> tuple[_Cursor | None, int, int]:
    """A cursor at the unit's first DIE, the DWARF version and the abbreviation offset."""
    cursor = _Cursor(head, little, 4, 8)
    if cursor.unsigned(4) == 0xFFFFFFFF:
        cursor.offset_size = 8
        cursor.take(8)
    version = cursor.unsigned(2)
    if version == 5:
        unit_type = cursor.unsigned(1)
        cursor.address_size = cursor.unsigned(1)
        abbrev_offset = cursor.unsigned(cursor.offset_size)
        if unit_type in (0x04, 0x05):  # skeleton, split_compile: dwo_id
            cursor.take(8)
        elif unit_type in (0x02, 0x06):  # type, split_type: signature and type offset
            cursor.take(8 + cursor.offset_size)
        elif unit_type not in (0x01, 0x03):
            return None, version, 0
    elif 2 <= version <= 4:
        abbrev_offset = cursor.unsigned(cursor.offset_size)
        cursor.address_size = cursor.unsigned(1)
    else:
        return None, version, 0
    return cursor, version, abbrev_offset


def _abbreviation(
    source: ByteSource, sections: dict[str, Section], offset: int, code: int
) -> list[tuple[int, int, int]] | None:
    """(attribute, form, implicit constant) of abbreviation ``code`` in the table at ``offset``."""
    table = sections.get(".debug_abbrev")
    if table is None or table.type == 8 or table.size > _MAX_ABBREV:
        return None  # .debug_info without its abbreviations (removed by objcopy, say)
    if offset >= table.size:
        raise ElfError(f"malformed DWARF (abbreviation offset {offset} past .debug_abbrev)")
    size = min(_ABBREV_WINDOW, table.size - offset)
    cursor = _Cursor(source.read_prefix(table.offset + offset, size, ".debug_abbrev"), True, 4, 8)
    while True:
        entry = cursor.uleb()
        if entry == 0:
            return None
        cursor.uleb()  # tag
        cursor.take(1)  # has children
        specs = []
        while True:
            name, form = cursor.uleb(), cursor.uleb()
            if name == 0 and form == 0:
                break
            implicit = cursor.uleb(signed=True) if form == _FORM_IMPLICIT_CONST else 0
            specs.append((name, form, implicit))
        if entry == code:
            return specs


def _values(
    cursor: _Cursor, specs: list[tuple[int, int, int]], version: int
) -> Iterator[tuple[int, tuple[int, bytes | int]]]:
    """Each attribute's form and value: strings' bytes or offsets, other values skipped (0)."""
    for name, declared, _ in specs:
        form = declared
        for _ in range(4):  # DW_FORM_indirect names the form in the data; a chain is bounded
            if form != _FORM_INDIRECT:
                break
            form = cursor.uleb()
        yield name, (form, _value(cursor, form, version))


def _value(cursor: _Cursor, form: int, version: int) -> bytes | int:
    if form == _FORM_STRING:
        return cursor.cstring()
    if form in _OFFSET_SIZED:
        size = cursor.address_size if form == 0x10 and version == 2 else cursor.offset_size
        return cursor.unsigned(size)
    if form in _STRX_SIZES:
        return cursor.unsigned(_STRX_SIZES[form])
    if form in _FIXED:
        cursor.take(_FIXED[form])
        return 0
    if form in _ULEB:
        return cursor.uleb()
    if form == _FORM_SDATA:
        cursor.uleb(signed=True)
        return 0
    if form == _FORM_ADDR:
        cursor.take(cursor.address_size)
        return 0
    if form in _BLOCKS:
        cursor.take(cursor.unsigned(_BLOCKS[form]))
        return 0
    if form in (_FORM_BLOCK, _FORM_EXPRLOC):
        cursor.take(cursor.uleb())
        return 0
    raise _Short  # a form this reader does not know: the unit is skipped


def _section_read(
    source: ByteSource, sections: dict[str, Section], name: str, offset: int, size: int
) -> bytes:
    section = sections.get(name)
    if section is None or section.type == 8 or section.flags & _SHF_COMPRESSED:
        raise ElfError(f"malformed DWARF ({name} is needed and missing or compressed)")
    if offset + size > section.size:
        raise ElfError(f"malformed DWARF (offset {offset} past {name})")
    return source.read(section.offset + offset, size, name)


def _string(source: ByteSource, sections: dict[str, Section], name: str, offset: int) -> str | None:
    section = sections.get(name)
    if section is None or section.type == 8 or section.flags & _SHF_COMPRESSED:
        return None
    if offset >= section.size:
        raise ElfError(f"malformed DWARF (string offset {offset} past {name})")
    want = min(_STRING_MAX, section.size - offset)
    raw = source.read_prefix(section.offset + offset, want, name)
    end = raw.find(b"\0")
    if end < 0:
        if len(raw) < want:
            raise Unavailable(section.offset + offset, want)
        if want < _STRING_MAX:
            raise ElfError(f"malformed DWARF (string at {offset} in {name} is not terminated)")
        return None  # longer than any producer this reader keeps
    return raw[:end].decode("utf-8", "replace")
