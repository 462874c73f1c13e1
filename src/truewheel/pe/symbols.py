"""Read a string a PE DLL exports through a symbol (GMP's ``__gmp_version``).

The PE counterpart of :mod:`truewheel.elf.symbols`: some libraries carry their version
only behind an exported symbol, which is the string (``array``), points to it
(``pointer``) or is a function returning it (``function``, see :mod:`truewheel._literal`).

The export directory maps a name to an ordinal (a binary search of the sorted name
pointer table, as the loader's ``GetProcAddress`` does) and the ordinal to an RVA; an RVA
inside the export directory is a forwarder (``OTHER.dll!name``), not an answer.  RVAs
become file offsets only inside a section's raw data.  A pointer slot holds a VA
(ImageBase + RVA) that base relocations fix at load time; an i386 function returns such
a VA too (``mov $VA,%eax``).

Every table is capped and every RVA checked, so a crafted image gives None, never an
error; only :class:`~truewheel.elf.source.Unavailable` escapes, for a streaming caller
to keep the range and read again.  :func:`symbol_ranges` names what to keep up front.
"""

from __future__ import annotations

import struct

from truewheel._literal import CODE_BYTES, returned_address
from truewheel.elf.source import ByteSource, Unavailable
from truewheel.errors import PEError
from truewheel.pe import _layout as L
from truewheel.pe.headers import Headers, read_headers

__all__ = ["MAX_EXPORTS", "exported_string", "symbol_ranges"]

#: Name pointers read at most (real DLLs export a few thousand; libflint about 10 000).
MAX_EXPORTS = 1 << 20
#: Sections kept up front for the literal and the pointer (larger ones are read on a miss).
MAX_KEPT_SECTION = 2 << 20
#: What :func:`symbol_ranges` names at most.
MAX_KEPT = 32 << 20
_MAX_STRING = 256
_MAX_NAME = 1024
_DATA_SECTIONS = frozenset({".rdata", ".data"})
_ARCH = {0x8664: "x86_64", 0x14C: "i386", 0xAA64: "arm64"}


def exported_string(source: ByteSource, symbol: str, kind: str) -> str | None:
    """The C string behind the exported ``symbol`` of the image in ``source``, or None."""
    try:
        hdr = read_headers(source)
        directory = _export_directory(source, hdr)
    except PEError:
        return None
    if directory is None:
        return None
    rva = _export_rva(source, hdr, directory, symbol.encode())
    if rva is None:
        return None
    if kind == "array":
        return _string_at(source, hdr, rva)
    if kind == "pointer":
        width = 8 if hdr.magic == L.PE32_PLUS_MAGIC else 4
        raw = _read(source, hdr, rva, width)
        target = int.from_bytes(raw, "little") - hdr.image_base if raw else 0
        return _string_at(source, hdr, target)
    if kind == "function":
        return _function(source, hdr, rva)
    return None


def symbol_ranges(source: ByteSource) -> list[tuple[int, int]]:
    """``(offset, size)`` of what :func:`exported_string` reads besides the symbol's own
    bytes: the sections literals and pointers live in (each at most
    :data:`MAX_KEPT_SECTION`) and, once the export directory is at hand, its tables and
    names (which linkers keep inside the directory's extent, kept anyway);
    :data:`MAX_KEPT` bytes at most."""
    hdr = read_headers(source)
    ranges = [
        (s.offset, s.size)
        for s in hdr.sections
        if s.name in _DATA_SECTIONS and 0 < s.size <= MAX_KEPT_SECTION
    ]
    try:
        directory = _export_directory(source, hdr)
    except (PEError, Unavailable):
        return ranges
    if directory is not None:
        count, functions = min(directory[7], MAX_EXPORTS), min(directory[6], MAX_EXPORTS)
        for rva, size in ((directory[8], 4 * functions), (directory[9], 4 * count),
                          (directory[10], 2 * count)):  # fmt: skip
            found = hdr.span(rva)
            if found is not None and size:
                ranges.append((found[0], min(size, found[1])))
    kept, total = [], 0
    for offset, size in ranges:
        if total + size <= MAX_KEPT:
            kept.append((offset, size))
            total += size
    return kept


def _export_directory(source: ByteSource, hdr: Headers) -> tuple[int, ...] | None:
    rva, size = hdr.directory(L.DIR_EXPORT)
    found = hdr.span(rva) if rva and size else None
    if found is None or found[1] < L.EXPORT_DIRECTORY.size:
        return None
    return L.EXPORT_DIRECTORY.unpack(source.read(found[0], L.EXPORT_DIRECTORY.size, "export"))


def _read(source: ByteSource, hdr: Headers, rva: int, size: int) -> bytes | None:
    """``size`` bytes at ``rva``, all inside one section's raw data; None otherwise."""
    found = hdr.span(rva) if rva >= 0 else None
    if found is None or found[1] < size:
        return None
    return source.read(found[0], size, "export data")


def _export_rva(
    source: ByteSource, hdr: Headers, directory: tuple[int, ...], name: bytes
) -> int | None:
    functions, count = directory[6], min(directory[7], MAX_EXPORTS)
    names = _read(source, hdr, directory[9], 4 * count)
    ordinals = _read(source, hdr, directory[10], 2 * count)
    if not names or not ordinals:
        return None
    low, high = 0, count
    while low < high:  # the name pointer table is sorted (the loader searches it so too)
        middle = (low + high) // 2
        (name_rva,) = struct.unpack_from("<I", names, 4 * middle)
        found = _name(source, hdr, name_rva)
        if found is None:
            return None
        if found == name:
            (index,) = struct.unpack_from("<H", ordinals, 2 * middle)
            if index >= functions:
                return None
            raw = _read(source, hdr, directory[8] + 4 * index, 4)
            rva = int.from_bytes(raw, "little") if raw else 0
            start, size = hdr.directory(L.DIR_EXPORT)
            return rva if rva and not start <= rva < start + size else None  # forwarder
        low, high = (middle + 1, high) if found < name else (low, middle)
    return None


def _name(source: ByteSource, hdr: Headers, rva: int) -> bytes | None:
    found = hdr.span(rva)
    if found is None:
        return None
    want = min(found[1], _MAX_NAME)
    raw = source.read_prefix(found[0], want, "export name")
    end = raw.find(b"\0")
    if end < 0 and len(raw) < want:
        raise Unavailable(found[0], want)
    return raw[:end] if end >= 0 else None


def _string_at(source: ByteSource, hdr: Headers, rva: int) -> str | None:
    found = hdr.span(rva) if rva > 0 else None
    if found is None:
        return None
    want = min(found[1], _MAX_STRING)
    raw = source.read_prefix(found[0], want, "exported string")
    end = raw.find(b"\0")
    if end < 0 and len(raw) < want:
        raise Unavailable(found[0], want)
    text = raw[:end] if end > 0 else b""
    if not text or not text.isascii() or not text.decode().isprintable():
        return None
    return text.decode()


def _function(source: ByteSource, hdr: Headers, rva: int) -> str | None:
    arch = _ARCH.get(hdr.machine)
    found = hdr.span(rva)
    if arch is None or found is None:
        return None
    code = source.read(found[0], min(found[1], CODE_BYTES), "code")
    target = returned_address(arch, code, rva)
    if target is not None and arch == "i386":
        target -= hdr.image_base  # an absolute VA
    return _string_at(source, hdr, target) if target is not None else None
