"""Read a string a Mach-O library exports through a symbol (GMP's ``___gmp_version``).

The Mach-O counterpart of :mod:`truewheel.elf.symbols`: some libraries carry their
version only behind an exported symbol, which is the string (``array``), points to it
(``pointer``) or is a function returning it (``function``, see :mod:`truewheel._literal`).

A symbol (C names get a leading ``_``) is found through the export trie
(``LC_DYLD_INFO(_ONLY)`` or ``LC_DYLD_EXPORTS_TRIE``: the loader's own view of what a
dylib exports), or, without one, through the external symbols of ``LC_SYMTAB``.  Its
address is mapped to a file offset through the slice's segments.  A pointer slot holds
the target's address, slid at load time by the rebase opcodes; under
``LC_DYLD_CHAINED_FIXUPS`` it holds a chained-fixup pointer instead, whose format the
segment's ``dyld_chained_starts_in_segment`` names: ``DYLD_CHAINED_PTR_64`` keeps the
target address in its low 36 bits, ``DYLD_CHAINED_PTR_64_OFFSET`` the target's offset
from the image base; bit 63 marks a bind (a symbol from elsewhere), not an answer.

Of a universal file, the ``arm64`` and then the ``x86_64`` slice are asked (at most two
slices).  Every table read is capped and every offset checked against the slice, so a
crafted file gives None, never an error; only
:class:`~truewheel.elf.source.Unavailable` escapes, for a streaming caller to keep the
range and read again.  :func:`symbol_ranges` names what to keep up front.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from truewheel._literal import CODE_BYTES, returned_address
from truewheel.elf.source import ByteSource, Unavailable
from truewheel.macho import _layout as L
from truewheel.macho.model import MachOFile, MachOSlice
from truewheel.macho.reader import read_macho

__all__ = ["exported_string", "symbol_ranges"]

#: A symbol, string or export table read whole is cut at this size.
MAX_TABLE = 8 << 20
#: Sections kept up front for the literal and the pointer (larger ones are read on a miss).
MAX_KEPT_SECTION = 2 << 20
#: What :func:`symbol_ranges` names at most, all slices together.
MAX_KEPT = 32 << 20
_MAX_STRING = 256
_PREFERRED = ("arm64", "x86_64")
_MAX_SLICES = 2
#: Where compilers put string literals, const arrays and (const) pointers.
_DATA_SECTIONS = frozenset(
    {
        (b"__TEXT", b"__cstring"),
        (b"__TEXT", b"__const"),
        (b"__DATA", b"__data"),
        (b"__DATA", b"__const"),
        (b"__DATA_CONST", b"__const"),
    }
)

_LC_SYMTAB = 0x2
_LC_DYSYMTAB = 0xB
_LC_DYLD_INFO = 0x22
_LC_DYLD_INFO_ONLY = 0x22 | L.LC_REQ_DYLD
_LC_DYLD_EXPORTS_TRIE = 0x33 | L.LC_REQ_DYLD
_LC_DYLD_CHAINED_FIXUPS = 0x34 | L.LC_REQ_DYLD

# export trie flags (mach-o/loader.h)
_EXPORT_KIND_MASK = 0x03
_EXPORT_REEXPORT = 0x08
_EXPORT_STUB_AND_RESOLVER = 0x10
# nlist n_type
_N_STAB, _N_TYPE, _N_SECT, _N_EXT = 0xE0, 0x0E, 0x0E, 0x01
# fixup-chains.h
_CHAINED_PTR_64, _CHAINED_PTR_64_OFFSET = 2, 6
_CHAINED_TARGET = (1 << 36) - 1


@dataclass(frozen=True, slots=True)
class _Segment:
    vmaddr: int
    vmsize: int
    fileoff: int  # in the slice
    filesize: int


@dataclass(slots=True)
class _Image:
    """The parts of one slice's load commands a symbol lookup needs (offsets in the slice)."""

    slice: MachOSlice
    order: str
    segments: list[_Segment] = field(default_factory=list)
    sections: list[tuple[int, int]] = field(default_factory=list)  # data sections: off, size
    symtab: tuple[int, int, int, int] | None = None  # symoff, nsyms, stroff, strsize
    extdef: tuple[int, int] | None = None  # iextdefsym, nextdefsym
    exports: tuple[int, int] | None = None  # export trie: offset, size
    fixups: tuple[int, int] | None = None  # LC_DYLD_CHAINED_FIXUPS: offset, size

    @property
    def base(self) -> int:
        """The address of the mach header: the segment mapping file offset 0 (__TEXT)."""
        return next((s.vmaddr for s in self.segments if s.fileoff == 0 and s.filesize), 0)

    def table(self, offset: int, size: int) -> tuple[int, int] | None:
        """(file offset, size) of slice data, cut at :data:`MAX_TABLE`; None when outside."""
        if size <= 0 or offset < 0 or offset + size > self.slice.size:
            return None
        return self.slice.offset + offset, min(size, MAX_TABLE)

    def locate(self, address: int) -> tuple[int, int, int] | None:
        """(file offset, bytes of file data left in its segment, segment index) of ``address``."""
        for index, s in enumerate(self.segments):
            if s.vmaddr <= address < s.vmaddr + min(s.filesize, s.vmsize):
                left = s.vmaddr + min(s.filesize, s.vmsize) - address
                return self.slice.offset + s.fileoff + address - s.vmaddr, left, index
        return None

    def table_ranges(self) -> list[tuple[int, int]]:
        if self.exports is not None:
            tables = [self.table(*self.exports)]
        elif self.symtab is not None:
            tables = [self._symbols(), self.table(self.symtab[2], self.symtab[3])]
        else:
            tables = []
        if self.fixups is not None:
            tables.append(self.table(*self.fixups))
        return [t for t in tables if t is not None]

    def _symbols(self) -> tuple[int, int] | None:
        assert self.symtab is not None
        symoff, nsyms = self.symtab[:2]
        first, count = self.extdef if self.extdef and self.extdef[1] else (0, nsyms)
        if first + count > nsyms:
            return None
        size = struct.calcsize("<" + _NLIST[self.slice.bits])
        return self.table(symoff + first * size, count * size)


_NLIST = {64: "IBBHQ", 32: "IBBhI"}  # n_strx, n_type, n_sect, n_desc, n_value


def exported_string(macho: MachOFile, source: ByteSource, symbol: str, kind: str) -> str | None:
    """The C string behind the C symbol ``symbol`` in the first slice that has it, or None."""
    for s in _slices(macho):
        image = _image(source, s)
        if image is None:
            continue
        address = _address(image, source, b"_" + symbol.encode())
        value = _read_kind(image, source, address, kind) if address is not None else None
        if value is not None:
            return value
    return None


def symbol_ranges(source: ByteSource) -> list[tuple[int, int]]:
    """``(offset, size)`` of what :func:`exported_string` reads besides the symbol's own
    bytes: the export trie (or the external symbols and their names), the chained-fixup
    table and the sections literals and pointers live in (each at most
    :data:`MAX_KEPT_SECTION`), :data:`MAX_KEPT` bytes at most."""
    ranges: list[tuple[int, int]] = []
    for s in _slices(read_macho(source)):
        image = _image(source, s)
        if image is not None:
            ranges += image.table_ranges()
            ranges += [(o, n) for o, n in image.sections if n <= MAX_KEPT_SECTION]
    return _capped(ranges)


def _capped(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept, total = [], 0
    for offset, size in ranges:
        if total + size <= MAX_KEPT:
            kept.append((offset, size))
            total += size
    return kept


def _slices(macho: MachOFile) -> list[MachOSlice]:
    def rank(s: MachOSlice) -> int:
        return _PREFERRED.index(s.arch) if s.arch in _PREFERRED else len(_PREFERRED)

    return sorted(macho.slices, key=rank)[:_MAX_SLICES]


def _image(source: ByteSource, s: MachOSlice) -> _Image | None:
    """The slice's segments and symbol tables, from load commands :func:`read_macho`
    already checked (their extent and each ``cmdsize``)."""
    order = "<" if s.little_endian else ">"
    header_size = L.MACH_HEADER_SIZE[s.bits]
    ncmds, _ = struct.unpack(order + "II", source.read(s.offset + 16, 8, "mach header"))
    data = source.read(s.offset + header_size, s.load_commands_end - header_size, "commands")
    image = _Image(s, order)
    position = 0
    for _ in range(ncmds):
        if position + 8 > len(data):
            return None
        cmd, cmdsize = struct.unpack_from(order + "II", data, position)
        if cmdsize < 8 or position + cmdsize > len(data):
            return None
        _command(image, cmd, data[position : position + cmdsize])
        position += cmdsize
    return image


def _command(image: _Image, cmd: int, body: bytes) -> None:
    def fields(fmt: str) -> tuple[int, ...] | None:
        layout = struct.Struct(image.order + fmt)
        return layout.unpack_from(body) if len(body) >= layout.size else None

    if cmd in (L.LC_SEGMENT, L.LC_SEGMENT_64):
        _segment(image, cmd, body)
    elif cmd == _LC_SYMTAB and (f := fields("6I")):
        image.symtab = (f[2], f[3], f[4], f[5])
    elif cmd == _LC_DYSYMTAB and (f := fields("6I")):
        image.extdef = (f[4], f[5])
    elif cmd in (_LC_DYLD_INFO, _LC_DYLD_INFO_ONLY) and (f := fields("12I")):
        image.exports = (f[10], f[11]) if f[11] else image.exports
    elif cmd == _LC_DYLD_EXPORTS_TRIE and (f := fields("4I")):
        image.exports = (f[2], f[3]) if f[3] else image.exports
    elif cmd == _LC_DYLD_CHAINED_FIXUPS and (f := fields("4I")):
        image.fixups = (f[2], f[3])


def _segment(image: _Image, cmd: int, body: bytes) -> None:
    bits = 32 if cmd == L.LC_SEGMENT else 64
    layout = struct.Struct(image.order + L.SEGMENT_COMMAND[bits])
    if len(body) < layout.size:
        return
    _, _, _, vmaddr, vmsize, fileoff, filesize, _, _, nsects, _ = layout.unpack_from(body)
    image.segments.append(_Segment(vmaddr, vmsize, fileoff, filesize))
    section, stride = struct.Struct(image.order + L.SECTION[bits]), L.SECTION_SIZE[bits]
    for i in range(min(nsects, (len(body) - layout.size) // stride)):
        name, seg, _, size, offset, *_ = section.unpack_from(body, layout.size + i * stride)
        wanted = (seg.rstrip(b"\0"), name.rstrip(b"\0")) in _DATA_SECTIONS
        found = image.table(offset, size) if wanted and offset else None
        if found is not None and found[1] == size:
            image.sections.append(found)


# -- finding the symbol ------------------------------------------------------------------


def _read_table(image: _Image, source: ByteSource, offset: int, size: int) -> bytes:
    found = image.table(offset, size)
    return source.read(found[0], found[1], "symbol table") if found else b""


def _address(image: _Image, source: ByteSource, name: bytes) -> int | None:
    if image.exports is not None:
        offset = _trie_lookup(_read_table(image, source, *image.exports), name)
        return image.base + offset if offset is not None else None
    if image.symtab is None:
        return None
    found = image._symbols()
    symbols = source.read(found[0], found[1], "symbol table") if found else b""
    names = _read_table(image, source, image.symtab[2], image.symtab[3])
    layout = struct.Struct(image.order + _NLIST[image.slice.bits])
    wanted = name + b"\0"
    for n_strx, n_type, _, _, n_value in layout.iter_unpack(
        symbols[: len(symbols) - len(symbols) % layout.size]
    ):
        if n_type & _N_STAB or n_type & _N_TYPE != _N_SECT or not n_type & _N_EXT:
            continue
        if names[n_strx : n_strx + len(wanted)] == wanted:
            return int(n_value)
    return None


def _uleb(data: bytes, at: int) -> tuple[int, int] | None:
    """(value, position after) of the ULEB128 at ``at``; None when cut or over 64 bits."""
    value = shift = 0
    while at < len(data) and shift < 64:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7
    return None


def _trie_lookup(trie: bytes, name: bytes) -> int | None:
    """The image offset a regular export ``name`` has in the export trie, or None.

    Each step follows an edge whose non-empty label continues the name, so the walk
    ends after at most ``len(name)`` steps whatever the trie says.
    """
    node, matched = 0, 0
    while True:
        terminal = _uleb(trie, node)
        if terminal is None:
            return None
        size, at = terminal
        if matched == len(name):
            return _terminal(trie, at) if size else None
        at += size
        if at >= len(trie):
            return None
        count, at = trie[at], at + 1
        for _ in range(count):
            end = trie.find(b"\0", at)
            child = _uleb(trie, end + 1) if end >= 0 else None
            if child is None:
                return None
            label = trie[at:end]
            if label and name.startswith(label, matched):
                node, matched = child[0], matched + len(label)
                break
            at = child[1]
        else:
            return None


def _terminal(trie: bytes, at: int) -> int | None:
    flags = _uleb(trie, at)
    if flags is None or flags[0] & (_EXPORT_REEXPORT | _EXPORT_STUB_AND_RESOLVER | 3):
        return None  # re-exported, resolved at run time, thread-local or absolute
    address = _uleb(trie, flags[1])
    return address[0] if address else None


# -- reading what it holds ---------------------------------------------------------------


def _read_kind(image: _Image, source: ByteSource, address: int, kind: str) -> str | None:
    if kind == "array":
        return _string_at(image, source, address)
    if kind == "pointer":
        target = _pointer_at(image, source, address)
        return _string_at(image, source, target) if target is not None else None
    if kind == "function":
        found = image.locate(address)
        if found is None or found[1] < 4:
            return None
        code = source.read(found[0], min(found[1], CODE_BYTES), "code")
        target = returned_address(image.slice.arch, code, address)
        return _string_at(image, source, target) if target is not None else None
    return None


def _string_at(image: _Image, source: ByteSource, address: int) -> str | None:
    found = image.locate(address)
    if found is None:
        return None
    offset, left = found[:2]
    want = min(left, _MAX_STRING)
    raw = source.read_prefix(offset, want, "exported string")
    end = raw.find(b"\0")
    if end < 0 and len(raw) < want:
        raise Unavailable(offset, want)
    text = raw[:end] if end > 0 else b""
    if not text or not text.isascii() or not text.decode().isprintable():
        return None
    return text.decode()


def _pointer_at(image: _Image, source: ByteSource, address: int) -> int | None:
    width = image.slice.bits // 8
    found = image.locate(address)
    if found is None or found[1] < width:
        return None
    offset, _, segment = found
    raw = source.read(offset, width, "pointer")
    value = int.from_bytes(raw, "little" if image.order == "<" else "big")
    if image.fixups is None or width != 8:
        return value  # the unslid address; dyld's rebase opcodes slide it
    pointer_format = _pointer_format(image, source, segment)
    if value >> 63 or pointer_format not in (_CHAINED_PTR_64, _CHAINED_PTR_64_OFFSET):
        return None  # a bind, or a format (arm64e, 32-bit) not read here
    target = value & _CHAINED_TARGET | ((value >> 36) & 0xFF) << 56
    return target if pointer_format == _CHAINED_PTR_64 else image.base + target


def _pointer_format(image: _Image, source: ByteSource, segment: int) -> int | None:
    """``pointer_format`` of the chained starts of segment number ``segment``."""
    assert image.fixups is not None
    blob = _read_table(image, source, *image.fixups)
    if len(blob) < 28:
        return None
    starts = struct.unpack_from(image.order + "I", blob, 4)[0]
    if starts + 4 > len(blob):
        return None
    (count,) = struct.unpack_from(image.order + "I", blob, starts)
    if segment >= count or starts + 8 + 4 * segment > len(blob):
        return None
    (info,) = struct.unpack_from(image.order + "I", blob, starts + 4 + 4 * segment)
    at = starts + info
    if not info or at + 8 > len(blob):
        return None
    return int(struct.unpack_from(image.order + "H", blob, at + 6)[0])
