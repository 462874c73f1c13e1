"""Read the facts of one PE image through the byte ranges they live in.

Three steps serve a stream that cannot seek: :func:`pe_ranges` names, from the headers
alone, the ranges of the directories the reader walks; :func:`pe_tables`, once those
are kept, names the strings and CodeView records they point to (which may sit anywhere
in the image); :func:`read_pe` then reads everything.  Each raises
:class:`~truewheel.elf.source.Unavailable` when a
:class:`~truewheel.elf.source.SparseSource` lacks a range, and
:class:`~truewheel.errors.PEError` for a malformed image: nothing else escapes.
"""

from __future__ import annotations

import struct

from truewheel.elf.source import ByteSource
from truewheel.errors import PEError
from truewheel.pe import _layout as L
from truewheel.pe import directories as D
from truewheel.pe.headers import Headers, read_headers
from truewheel.pe.model import PEFile
from truewheel.pe.rich import MAX_RICH_REGION, read_rich

__all__ = ["is_pe", "pe_ranges", "pe_tables", "read_pe"]


def is_pe(head: bytes) -> bool:
    """An MS-DOS header whose e_lfanew points, inside ``head``, at the PE signature."""
    if len(head) < L.DOS_HEADER_SIZE or head[:2] != L.MZ:
        return False
    (e_lfanew,) = struct.unpack_from("<I", head, L.E_LFANEW_AT)
    return head[e_lfanew : e_lfanew + 4] == L.PE_SIGNATURE


def _directory_range(hdr: Headers, index: int, minimum: int) -> tuple[int, int] | None:
    rva, size = hdr.directory(index)
    found = hdr.span(rva) if rva else None
    if found is None:
        return None
    offset, left = found
    return offset, min(max(size, minimum), left)


def pe_ranges(source: ByteSource) -> list[tuple[int, int]]:
    """``(offset, size)`` of the headers, the Rich header's region and the directories."""
    hdr = read_headers(source)
    ranges = [(0, max(hdr.end, min(hdr.e_lfanew, MAX_RICH_REGION)))]
    for index, minimum in (
        (L.DIR_IMPORT, L.IMPORT_DESCRIPTOR.size),
        (L.DIR_DELAY_IMPORT, L.DELAY_DESCRIPTOR.size),
        (L.DIR_EXPORT, L.EXPORT_DIRECTORY.size),
        (L.DIR_DEBUG, L.DEBUG_ENTRY.size),
    ):
        found = _directory_range(hdr, index, minimum)
        if found is not None:
            ranges.append(found)
    load_config = _load_config(hdr)
    if load_config is not None:
        ranges.append(load_config)
    cert = _certificate(hdr, source.size)
    if cert is not None:
        ranges.append((cert[0], L.WIN_CERTIFICATE.size))
    if hdr.symbols_end > 0 and hdr.symbols_end + 4 <= source.size:
        ranges.append((hdr.symbols_end, 4))
    return ranges


def _load_config(hdr: Headers) -> tuple[int, int] | None:
    try:
        return D.load_config_range(hdr)
    except PEError:
        return None  # read_pe reports it


def pe_tables(source: ByteSource) -> list[tuple[int, int]]:
    """``(offset, size)`` of the DLL names, the export name and the CodeView records."""
    hdr = read_headers(source)
    names = [
        (row[3], "import")
        for row in D.descriptors(source, hdr, L.DIR_IMPORT, L.IMPORT_DESCRIPTOR, "import")
    ] + [
        (D.delay_name_rva(hdr, row), "delay import")
        for row in D.descriptors(
            source, hdr, L.DIR_DELAY_IMPORT, L.DELAY_DESCRIPTOR, "delay import"
        )
    ]
    ranges = [D.string_range(source, hdr, rva, what) for rva, what in names if rva]
    directory = D.export_directory(source, hdr)
    if directory is not None and directory[4]:
        ranges.append(D.string_range(source, hdr, directory[4], "export name"))
    return ranges + D.debug_ranges(source, hdr)


def _certificate(hdr: Headers, file_size: int) -> tuple[int, int] | None:
    """(file offset, size) of the certificate table, when the directory names one."""
    offset, size = hdr.directory(L.DIR_SECURITY)
    if not offset or not size:
        return None
    if size < L.WIN_CERTIFICATE.size:
        raise PEError(f"malformed PE (certificate table of {size} bytes)")
    if offset + size > file_size:
        raise PEError(f"truncated PE (certificate table at {offset:#x} past end of file)")
    return offset, size


def _symbols_end(src: ByteSource, hdr: Headers) -> int:
    """Where the COFF symbol table and its string table end; 0 when absent or out of the
    file (the loader ignores them, so a bad one is not an error)."""
    end = hdr.symbols_end
    if not end or end + 4 > src.size:
        return 0
    strings: int = struct.unpack("<I", src.read(end, 4, "COFF string table size"))[0]
    return min(end + max(strings, 4), src.size)


def read_pe(source: ByteSource) -> PEFile:
    """Every fact of :class:`~truewheel.pe.model.PEFile` from ``source``."""
    hdr = read_headers(source)
    cert = _certificate(hdr, source.size)
    signed = False
    if cert is not None:
        length, _, _ = L.WIN_CERTIFICATE.unpack(
            source.read(cert[0], L.WIN_CERTIFICATE.size, "certificate table")
        )
        signed = L.WIN_CERTIFICATE.size <= length <= cert[1]
    export_name, export_count = D.export_facts(source, hdr)
    image_end = max(
        [hdr.size_of_headers, hdr.end, _symbols_end(source, hdr)]
        + [s.offset + s.size for s in hdr.sections if s.size]
        + ([cert[0] + cert[1]] if cert else [])
    )
    return PEFile(
        machine=hdr.machine,
        arch=L.MACHINES.get(hdr.machine, f"machine<{hdr.machine:#06x}>"),
        characteristics=hdr.characteristics,
        is_dll=bool(hdr.characteristics & L.IMAGE_FILE_DLL),
        pe32_plus=hdr.magic == L.PE32_PLUS_MAGIC,
        subsystem=hdr.subsystem,
        dll_characteristics=hdr.dll_characteristics,
        timestamp=hdr.timestamp,
        sections=hdr.sections,
        imports=D.import_names(source, hdr),
        delay_imports=D.delay_import_names(source, hdr),
        export_name=export_name,
        export_count=export_count,
        debug=D.debug_entries(source, hdr),
        rich=read_rich(source, hdr.e_lfanew),
        dependent_load_flags=D.dependent_load_flags(source, hdr),
        signed=signed,
        image_end=image_end,
        overlay=max(source.size - image_end, 0),
    )
