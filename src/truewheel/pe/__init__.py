"""Facts of PE/COFF images (DLLs, ``.pyd`` modules): headers, imports, exports, debug, Rich."""

from truewheel.pe.model import DebugEntry, PEFile, PESection, RichEntry
from truewheel.pe.reader import is_pe, pe_ranges, pe_tables, read_pe

__all__ = [
    "DebugEntry",
    "PEFile",
    "PESection",
    "RichEntry",
    "is_pe",
    "pe_ranges",
    "pe_tables",
    "read_pe",
]
