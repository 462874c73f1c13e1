"""Read the facts of a Mach-O file, thin or universal, through the byte ranges they live in.

Everything the loader needs to find a slice's dependencies sits in its first bytes:
the fat header and architecture table, then per slice the mach header and the load
commands (``sizeofcmds`` bytes).  :func:`slice_ranges` names those ranges so a member
streaming out of a zip keeps only them; :func:`read_macho` reads nothing else, through a
:class:`~truewheel.elf.source.ByteSource` (a
:class:`~truewheel.elf.source.SparseSource` raises
:class:`~truewheel.elf.source.Unavailable` for a range it did not keep).

Every count and size the file declares is bounded before use (architectures, commands,
``sizeofcmds``, each ``cmdsize``, sections, string offsets), so a crafted file costs
bounded time and memory and fails with :class:`~truewheel.errors.MachOError` alone.

Two rendering rules, chosen to match ``otool -l`` and ``llvm-objdump --macho``:
OS versions (minos, sdk) are ``X.Y`` plus ``.Z`` only when Z is not 0 (``11.0``,
``10.13.4``); dylib versions always have three parts (``1311.100.3``, ``0.0.0``).
Strings (install names, rpaths) are decoded as UTF-8 with ``surrogateescape``, as the ELF
reader does, so odd bytes survive and map back to the exact bytes a later edit must match.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass

from truewheel.elf.source import ByteSource
from truewheel.errors import MachOError
from truewheel.macho import _layout as L
from truewheel.macho.commands import Commands
from truewheel.macho.model import MachOFile, MachOSlice

__all__ = [
    "HEAD_SIZE",
    "MAX_FAT_ARCHS",
    "MAX_SIZEOFCMDS",
    "arch_name",
    "is_macho",
    "read_macho",
    "slice_ranges",
]

HEAD_SIZE = 12  # bytes is_macho needs: a thin magic, or fat magic, count and first cputype
MAX_FAT_ARCHS = 30  # file(1) reads a larger count after CAFEBABE as a Java class version
MAX_SIZEOFCMDS = 16 << 20  # real files stay under a few hundred KiB
MAX_NCMDS = 1 << 16

_THIN = {
    L.MH_MAGIC: (32, "<"),
    L.MH_CIGAM: (32, ">"),
    L.MH_MAGIC_64: (64, "<"),
    L.MH_CIGAM_64: (64, ">"),
}
_FAT = {
    L.FAT_MAGIC: (32, ">"),
    L.FAT_CIGAM: (32, "<"),
    L.FAT_MAGIC_64: (64, ">"),
    L.FAT_CIGAM_64: (64, "<"),
}


def is_macho(head: bytes) -> bool:
    """Recognise a Mach-O or universal file by its first :data:`HEAD_SIZE` bytes.

    ``CAFEBABE`` also starts a Java class file; like file(1), a universal file is one whose
    architecture count is small and whose first architecture is a CPU type Apple defines.
    """
    if len(head) < 4:
        return False
    if int.from_bytes(head[:4], "little") in _THIN:
        return True
    fat = _FAT.get(int.from_bytes(head[:4], "big"))
    if fat is None or len(head) < 12:
        return False
    count, cputype = struct.unpack_from(fat[1] + "Ii", head, 4)
    return 1 <= count <= MAX_FAT_ARCHS and cputype in L.KNOWN_CPU_TYPES


@dataclass(frozen=True, slots=True)
class _Arch:
    """One entry of a fat architecture table (or the whole file when thin)."""

    offset: int
    size: int
    cputype: int | None = None


@dataclass(frozen=True, slots=True)
class _Header:
    offset: int
    size: int
    bits: int
    order: str
    cputype: int
    cpusubtype: int
    filetype: int
    ncmds: int
    sizeofcmds: int
    flags: int

    @property
    def header_size(self) -> int:
        return L.MACH_HEADER_SIZE[self.bits]

    @property
    def load_commands_end(self) -> int:
        return self.header_size + self.sizeofcmds


def slice_ranges(source: ByteSource) -> list[tuple[int, int]]:
    """The ``(offset, size)`` ranges :func:`read_macho` reads: the fat header and its
    architecture table, then each slice's mach header and load commands.

    Raises :class:`~truewheel.elf.source.Unavailable` when a slice's header was not kept
    (its load commands' extent is not known before it is read).
    """
    arches, table_end = _architectures(source)
    ranges = [(0, table_end)] if table_end else []
    for arch in arches:
        header = _header(source, arch)
        ranges.append((arch.offset, header.load_commands_end))
    return ranges


def read_macho(source: ByteSource) -> MachOFile:
    """Every slice of the file behind ``source``, from its headers and load commands.

    All slice headers are checked before any load command is read, as :func:`slice_ranges`
    does, so a file with several faults gives the same error whichever way it is read.
    """
    arches, table_end = _architectures(source)
    headers = [_header(source, arch) for arch in arches]
    return MachOFile(fat=table_end > 0, slices=tuple(_slice(source, h) for h in headers))


def _architectures(source: ByteSource) -> tuple[list[_Arch], int]:
    """The slices, and where the fat header and table end (0 for a thin file)."""
    magic = source.read(0, 4, "magic")
    if int.from_bytes(magic, "little") in _THIN:
        return [_Arch(0, source.size)], 0
    fat = _FAT.get(int.from_bytes(magic, "big"))
    if fat is None:
        raise MachOError(f"not a Mach-O file (bad magic): {magic.hex()}")
    bits, order = fat
    (count,) = struct.unpack(order + "I", source.read(4, 4, "fat header"))
    if not 1 <= count <= MAX_FAT_ARCHS:
        raise MachOError(f"malformed Mach-O (fat header architecture count): {count}")
    entry = struct.Struct(order + (L.FAT_ARCH if bits == 32 else L.FAT_ARCH_64))
    table = source.read(8, count * entry.size, "fat architecture table")
    table_end = 8 + count * entry.size
    arches = []
    for i in range(count):
        cputype, _, offset, size = entry.unpack_from(table, i * entry.size)[:4]
        if offset < table_end or size < L.MACH_HEADER_SIZE[32] or offset + size > source.size:
            raise MachOError(
                f"malformed Mach-O (fat architecture {i} outside the file or over the fat "
                f"header): offset {offset} size {size} in a file of {source.size} bytes"
            )
        arches.append(_Arch(offset, size, cputype))
    placed = sorted(arches, key=lambda a: a.offset)
    for before, after in itertools.pairwise(placed):
        if before.offset + before.size > after.offset:
            raise MachOError(
                f"malformed Mach-O (fat architectures overlap): offsets {before.offset} "
                f"and {after.offset}"
            )
    return arches, table_end


def _header(source: ByteSource, arch: _Arch) -> _Header:
    magic = int.from_bytes(source.read(arch.offset, 4, "mach header"), "little")
    if magic not in _THIN:
        raise MachOError(
            f"malformed Mach-O (slice at {arch.offset} has no mach header): {magic:#x}"
        )
    bits, order = _THIN[magic]
    size = L.MACH_HEADER_SIZE[bits]
    if arch.size < size:
        raise MachOError(f"truncated Mach-O (mach header at offset {arch.offset} past its slice)")
    raw = source.read(arch.offset, size, "mach header")
    _, cputype, cpusubtype, filetype, ncmds, sizeofcmds, flags = struct.unpack_from(
        order + L.MACH_HEADER, raw
    )
    if sizeofcmds > MAX_SIZEOFCMDS or size + sizeofcmds > arch.size:
        raise MachOError(
            f"malformed Mach-O (sizeofcmds past the end of the slice at {arch.offset}): "
            f"{sizeofcmds}"
        )
    if ncmds > MAX_NCMDS or ncmds * 8 > sizeofcmds:
        raise MachOError(
            f"malformed Mach-O (ncmds does not fit in sizeofcmds {sizeofcmds}): {ncmds}"
        )
    if arch.cputype is not None and arch.cputype != cputype:
        raise MachOError(
            f"malformed Mach-O (fat table and slice header at {arch.offset} disagree on the "
            f"CPU type): {arch.cputype} and {cputype}"
        )
    return _Header(
        arch.offset, arch.size, bits, order, cputype, cpusubtype & ~L.CPU_SUBTYPE_MASK,
        filetype, ncmds, sizeofcmds, flags,
    )  # fmt: skip


def _slice(source: ByteSource, header: _Header) -> MachOSlice:
    data = source.read(header.offset + header.header_size, header.sizeofcmds, "load commands")
    commands = Commands(data, header.bits, header.order, header.size)
    commands.walk(header.ncmds)
    return MachOSlice(
        offset=header.offset,
        size=header.size,
        cpu_type=header.cputype,
        cpu_subtype=header.cpusubtype,
        arch=arch_name(header.cputype, header.cpusubtype),
        bits=header.bits,
        little_endian=header.order == "<",
        filetype=L.FILETYPES.get(header.filetype, f"type{header.filetype}"),
        flags=header.flags,
        install_name=commands.install_name,
        dylibs=tuple(commands.dylibs),
        rpaths=tuple(commands.rpaths),
        build_versions=tuple(commands.build_versions),
        uuid=commands.uuid,
        code_signature=commands.code_signature,
        load_commands_end=header.load_commands_end,
        first_section_offset=commands.first_section_offset,
    )


def arch_name(cputype: int, cpusubtype: int) -> str:
    """The name ``lipo`` gives a CPU type and subtype (capability bits already masked off)."""
    name = L.ARCH_NAMES.get((cputype, cpusubtype)) or L.ARCH_NAMES.get((cputype, None))
    return name or f"cpu{cputype}"
