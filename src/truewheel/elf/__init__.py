"""Facts of ELF files: headers, dynamic section, symbol versions, notes, build paths."""

from truewheel.elf.reader import HEADER_SIZE, ElfFile, ElfHeader, Section, VersionNeed, is_elf

__all__ = ["HEADER_SIZE", "ElfFile", "ElfHeader", "Section", "VersionNeed", "is_elf"]
