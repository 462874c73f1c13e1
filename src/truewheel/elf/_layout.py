"""Binary layouts and constants from the System V ABI and the GNU extensions.

Sources: System V ABI (gABI) chapters 4-5, the Linux Standard Base core
specification (symbol versioning), and binutils' include/elf/common.h for the
GNU note and property numbers.
"""

from __future__ import annotations

import struct

ELF_MAGIC = b"\x7fELF"

ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2

ET_NAMES = {0: "NONE", 1: "REL", 2: "EXEC", 3: "DYN", 4: "CORE"}

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE = 1, 2, 3, 4
SHT_NOBITS = 8

DT_NULL = 0
DT_NEEDED = 1
DT_HASH = 4
DT_STRTAB = 5
DT_SYMTAB = 6
DT_STRSZ = 10
DT_SYMENT = 11
DT_SONAME = 14
DT_RPATH = 15
DT_RUNPATH = 29
DT_GNU_HASH = 0x6FFFFEF5
DT_FLAGS_1 = 0x6FFFFFFB
DT_VERDEF = 0x6FFFFFFC
DT_VERDEFNUM = 0x6FFFFFFD
DT_VERNEED = 0x6FFFFFFE
DT_VERNEEDNUM = 0x6FFFFFFF
DF_1_PIE = 0x08000000
SHN_UNDEF = 0
STB_WEAK = 2

NT_GNU_BUILD_ID = 3
NT_GNU_PROPERTY_TYPE_0 = 5
GNU_PROPERTY_X86_ISA_1_NEEDED = 0xC0008002
X86_ISA_LEVELS = ((1 << 3, "x86-64-v4"), (1 << 2, "x86-64-v3"), (1 << 1, "x86-64-v2"))


class Layout:
    """The struct formats for one ELF class and byte order."""

    def __init__(self, elf_class: int, little: bool) -> None:
        e = "<" if little else ">"
        wide = elf_class == ELFCLASS64
        self.wide = wide
        self.header = struct.Struct(e + ("HHIQQQIHHHHHH" if wide else "HHIIIIIHHHHHH"))
        # Program header fields are normalised to (type, flags, offset, vaddr, filesz, memsz).
        self.phdr = struct.Struct(e + ("IIQQQQQQ" if wide else "IIIIIIII"))
        self.shdr = struct.Struct(e + ("IIQQQQIIQQ" if wide else "IIIIIIIIII"))
        self.dyn = struct.Struct(e + ("qQ" if wide else "iI"))
        self.verneed = struct.Struct(e + "HHIII")
        self.vernaux = struct.Struct(e + "IHHII")
        self.verdef = struct.Struct(e + "HHHHIII")
        self.verdaux = struct.Struct(e + "II")
        self.note = struct.Struct(e + "III")
        self.sym = struct.Struct(e + ("IBBHQQ" if wide else "IIIBBH"))
        #: where st_name, st_info and st_shndx sit in an unpacked symbol
        self.sym_fields = (0, 1, 3) if wide else (0, 3, 5)
        self.u32 = struct.Struct(e + "I")
        self.u16 = struct.Struct(e + "H")
        self.word = 8 if wide else 4

    def program_header(self, raw: tuple[int, ...]) -> tuple[int, int, int, int, int, int]:
        if self.wide:
            p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz, _ = raw
        else:
            p_type, p_offset, p_vaddr, _, p_filesz, p_memsz, p_flags, _ = raw
        return p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz
