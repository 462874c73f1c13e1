"""The data directories truewheel reads: imports, delay-load imports, exports, debug, load config.

Each directory is found through the headers' RVA-to-file-offset mapping; the strings and
CodeView records they point to are read with a length cap.  Descriptor tables end at
their all-zero entry, at the end of the raw data they sit in, or at a cap, whichever
comes first; a table without its terminator inside its section is refused.

Strings (DLL names, the export name, PDB paths) are bytes in the file; they are decoded
as UTF-8 with ``surrogateescape``, as the ELF reader does, so any byte sequence gives a
``str`` that still encodes back to the same bytes (MSVC writes RSDS paths in UTF-8; DLL
names are ASCII in practice).
"""

from __future__ import annotations

import struct

from truewheel.elf.source import ByteSource, Unavailable
from truewheel.errors import PEError
from truewheel.pe import _layout as L
from truewheel.pe.headers import Headers
from truewheel.pe.model import DebugEntry

__all__ = [
    "MAX_DEBUG_ENTRIES",
    "MAX_DESCRIPTORS",
    "MAX_STRING",
    "debug_entries",
    "debug_ranges",
    "delay_import_names",
    "delay_name_rva",
    "dependent_load_flags",
    "descriptors",
    "export_directory",
    "export_facts",
    "import_names",
    "load_config_range",
    "string_range",
]

MAX_DESCRIPTORS = 1024
MAX_STRING = 4096
MAX_DEBUG_ENTRIES = 64
_MAX_CODEVIEW = 24 + MAX_STRING


def _cstring(src: ByteSource, hdr: Headers, rva: int, what: str) -> str:
    if not rva:
        raise PEError(f"malformed PE ({what} at RVA 0)")
    offset, left = string_range(src, hdr, rva, what)
    raw = src.read_prefix(offset, left, what)
    end = raw.find(b"\0")
    if end < 0:
        if len(raw) < left:
            raise Unavailable(offset, left)
        raise PEError(f"malformed PE ({what} string at RVA {rva:#x} is not terminated)")
    return raw[:end].decode("utf-8", "surrogateescape")


def string_range(src: ByteSource, hdr: Headers, rva: int, what: str) -> tuple[int, int]:
    """(file offset, bytes to read) of the NUL-terminated string at ``rva``."""
    found = hdr.span(rva)
    if found is None:
        raise PEError(f"malformed PE ({what} string at RVA {rva:#x} is outside every section)")
    offset, left = found
    return offset, min(left, MAX_STRING, src.size - offset)


def descriptors(
    src: ByteSource, hdr: Headers, index: int, entry: struct.Struct, what: str
) -> list[tuple[int, ...]]:
    """The descriptors of an import-like directory, up to the all-zero one."""
    rva, _ = hdr.directory(index)
    if not rva:
        return []
    found = hdr.span(rva)
    if found is None:
        raise PEError(f"malformed PE ({what} directory at RVA {rva:#x} is outside every section)")
    offset, left = found
    want = min(left // entry.size, MAX_DESCRIPTORS + 1) * entry.size
    raw = src.read_prefix(offset, want, what) if want else b""
    out: list[tuple[int, ...]] = []
    for fields in entry.iter_unpack(raw[: len(raw) - len(raw) % entry.size]):
        if not any(fields):
            return out
        out.append(fields)
    if len(raw) < want:  # a sparse source kept part of the table: ask for all of it at once
        raise Unavailable(offset, want)
    if len(out) > MAX_DESCRIPTORS:
        raise PEError(f"malformed PE ({what} directory has over {MAX_DESCRIPTORS} entries)")
    raise PEError(f"malformed PE ({what} directory runs past its section unterminated)")


def import_names(src: ByteSource, hdr: Headers) -> tuple[str, ...]:
    rows = descriptors(src, hdr, L.DIR_IMPORT, L.IMPORT_DESCRIPTOR, "import")
    return tuple(_cstring(src, hdr, row[3], "import DLL name") for row in rows)


def delay_name_rva(hdr: Headers, row: tuple[int, ...]) -> int:
    attributes, name = row[0], row[1]
    if attributes & L.DELAY_ATTRIBUTE_RVA:
        return name
    return name - hdr.image_base if name >= hdr.image_base else name  # VC6: a VA


def delay_import_names(src: ByteSource, hdr: Headers) -> tuple[str, ...]:
    rows = descriptors(src, hdr, L.DIR_DELAY_IMPORT, L.DELAY_DESCRIPTOR, "delay import")
    return tuple(_cstring(src, hdr, delay_name_rva(hdr, r), "delay DLL name") for r in rows)


def export_directory(src: ByteSource, hdr: Headers) -> tuple[int, ...] | None:
    rva, size = hdr.directory(L.DIR_EXPORT)
    if not rva or not size:
        return None
    offset = hdr.offset_of(rva, L.EXPORT_DIRECTORY.size, "export directory")
    return L.EXPORT_DIRECTORY.unpack(src.read(offset, L.EXPORT_DIRECTORY.size, "export"))


def export_facts(src: ByteSource, hdr: Headers) -> tuple[str | None, int]:
    """The export directory's own DLL name and its NumberOfNames."""
    directory = export_directory(src, hdr)
    if directory is None:
        return None, 0
    name_rva, names = directory[4], directory[7]
    name = _cstring(src, hdr, name_rva, "export name") if name_rva else None
    return name, names


def _debug_rows(src: ByteSource, hdr: Headers) -> list[tuple[int, ...]]:
    rva, size = hdr.directory(L.DIR_DEBUG)
    if not rva or not size:
        return []
    count = size // L.DEBUG_ENTRY.size
    if count > MAX_DEBUG_ENTRIES:
        raise PEError(f"malformed PE (debug directory of {count} entries)")
    offset = hdr.offset_of(rva, count * L.DEBUG_ENTRY.size, "debug directory")
    raw = src.read(offset, count * L.DEBUG_ENTRY.size, "debug directory")
    return [L.DEBUG_ENTRY.unpack_from(raw, i * L.DEBUG_ENTRY.size) for i in range(count)]


def debug_ranges(src: ByteSource, hdr: Headers) -> list[tuple[int, int]]:
    """The file ranges of the CodeView records the debug directory points to."""
    out = []
    for row in _debug_rows(src, hdr):
        size, pointer = row[5], row[7]
        if row[4] == L.DEBUG_CODEVIEW and 0 < pointer < src.size:
            out.append((pointer, min(size, _MAX_CODEVIEW, src.size - pointer)))
    return out


def debug_entries(src: ByteSource, hdr: Headers) -> tuple[DebugEntry, ...]:
    entries = []
    for row in _debug_rows(src, hdr):
        timestamp, kind, size, pointer = row[1], row[4], row[5], row[7]
        name = L.DEBUG_TYPES.get(kind, f"type{kind}")
        path = signature = None
        if kind == L.DEBUG_CODEVIEW and size:
            path, signature = _codeview(src, pointer, size)
        entries.append(DebugEntry(name, timestamp, path, signature))
    return tuple(entries)


def _codeview(src: ByteSource, pointer: int, size: int) -> tuple[str | None, str | None]:
    """PDB path and signature of an RSDS or NB10 record; (None, None) for other kinds."""
    if pointer + size > src.size:
        raise PEError(f"truncated PE (CodeView record at {pointer:#x} past end of file)")
    raw = src.read(pointer, min(size, _MAX_CODEVIEW), "CodeView record")
    if raw[:4] == L.CV_RSDS and len(raw) >= L.CV_RSDS_HEADER.size:
        _, d1, d2, d3, d4, age = L.CV_RSDS_HEADER.unpack_from(raw)
        guid = f"{d1:08X}{d2:04X}{d3:04X}{d4.hex().upper()}"
        return _path(raw[L.CV_RSDS_HEADER.size :]), f"{guid}-{age:X}"
    if raw[:4] == L.CV_NB10 and len(raw) >= L.CV_NB10_HEADER.size:
        _, _, stamp, age = L.CV_NB10_HEADER.unpack_from(raw)
        return _path(raw[L.CV_NB10_HEADER.size :]), f"{stamp:08X}-{age:X}"
    return None, None


def _path(raw: bytes) -> str:
    end = raw.find(b"\0")
    if end < 0:
        raise PEError("malformed PE (CodeView PDB path is not terminated)")
    return raw[:end].decode("utf-8", "surrogateescape")


def load_config_range(hdr: Headers) -> tuple[int, int] | None:
    """Where the bytes up to DependentLoadFlags of the load config directory are."""
    rva, size = hdr.directory(L.DIR_LOAD_CONFIG)
    field_end = L.LOAD_CONFIG_DEPENDENT_LOAD_FLAGS[hdr.magic] + 2
    if not rva or size < field_end:
        return None
    return hdr.offset_of(rva, field_end, "load config directory"), field_end


def dependent_load_flags(src: ByteSource, hdr: Headers) -> int | None:
    """DependentLoadFlags, when the directory (and the structure's own Size) covers it."""
    where = load_config_range(hdr)
    if where is None:
        return None
    raw = src.read(*where, "load config directory")
    (own_size,) = struct.unpack_from("<I", raw, 0)
    if own_size < where[1]:
        return None
    value: int = struct.unpack_from("<H", raw, where[1] - 2)[0]
    return value
