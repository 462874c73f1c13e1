"""Facts of Mach-O files (thin and universal), read from bytes on any host."""

from truewheel.macho.model import BuildVersion, DylibReference, MachOFile, MachOSlice
from truewheel.macho.reader import HEAD_SIZE, arch_name, is_macho, read_macho, slice_ranges

__all__ = [
    "HEAD_SIZE",
    "BuildVersion",
    "DylibReference",
    "MachOFile",
    "MachOSlice",
    "arch_name",
    "is_macho",
    "read_macho",
    "slice_ranges",
]
