"""Facts of ELF files: headers, dynamic section, symbol versions, notes, build paths."""

from truewheel.elf.reader import ElfFile, Section, VersionNeed, is_elf

__all__ = ["ElfFile", "Section", "VersionNeed", "is_elf"]
