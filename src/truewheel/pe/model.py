"""The facts of one PE/COFF image (a DLL, a ``.pyd`` extension module or an ``.exe``).

Plain data, filled by :mod:`truewheel.pe.reader` from the COFF and optional
headers, the section table and the data directories the loader and the
toolchain leave behind.  Section placement is kept so a later planner can
decide where a renamed import would fit, the way delvewheel must.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DebugEntry", "PEFile", "PESection", "RichEntry"]


@dataclass(frozen=True, slots=True)
class PESection:
    name: str  # up to 8 bytes, NUL-trimmed ("/4" long names are left as written)
    virtual_address: int
    virtual_size: int
    offset: int  # PointerToRawData
    size: int  # SizeOfRawData
    characteristics: int


@dataclass(frozen=True, slots=True)
class DebugEntry:
    """One ``IMAGE_DEBUG_DIRECTORY`` entry.

    The CodeView entry names the PDB file, usually an absolute build path on the
    machine that linked it; the timestamps make an image differ build to build
    unless the linker was told ``/Brepro`` (then the type ``repro`` entry is present).
    """

    type: (
        str  # "codeview", "pogo", "repro", "vc_feature", "iltcg", "exdllcharacteristics", "type<N>"
    )
    timestamp: int
    pdb_path: str | None  # CodeView RSDS (or NB10) file name
    pdb_signature: str | None  # RSDS GUID and age, "GUID-age" upper-case hex


@dataclass(frozen=True, slots=True)
class RichEntry:
    """One ``@comp.id`` of the Rich header: which MSVC tool built how many objects."""

    product: int  # high 16 bits of the comp.id
    build: int  # low 16 bits: the tool's build number
    count: int


@dataclass(frozen=True, slots=True)
class PEFile:
    machine: int  # IMAGE_FILE_MACHINE_*
    arch: str  # "amd64", "x86", "arm64", "arm", "machine<0xNNNN>"
    characteristics: int
    is_dll: bool
    pe32_plus: bool  # PE32+ (64-bit optional header)
    subsystem: int
    dll_characteristics: int
    timestamp: int  # COFF header TimeDateStamp (a hash, not a date, under /Brepro)
    sections: tuple[PESection, ...]
    imports: tuple[str, ...]  # DLL names of the import directory, in order, as written
    delay_imports: tuple[str, ...]  # DLL names of the delay-load import directory
    export_name: str | None  # the DLL's own name in its export directory
    export_count: int  # NumberOfNames of the export directory
    debug: tuple[DebugEntry, ...]
    rich: tuple[RichEntry, ...]  # empty when the image has no Rich header
    dependent_load_flags: int | None  # IMAGE_LOAD_CONFIG_DIRECTORY.DependentLoadFlags
    signed: bool  # a certificate table (Authenticode) is present
    # end of the last section's raw data, or of the certificate table or the COFF symbol
    # and string tables (mingw's ld keeps them after the sections) if later
    image_end: int
    overlay: int  # bytes after image_end (data appended to the image), 0 when none

    @property
    def pdb_paths(self) -> tuple[str, ...]:
        return tuple(e.pdb_path for e in self.debug if e.pdb_path)
