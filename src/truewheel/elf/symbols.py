"""Read a string a library exports through a symbol (e.g. GMP's ``__gmp_version``).

Some libraries carry their version only behind an exported symbol: the symbol
is the string (``array``), points to it (``pointer``, resolved through the
RELATIVE relocation the dynamic linker would apply), or is a function that
returns a literal (``function``: ``lea rel32(%rip),%rax; ret`` on x86-64).
Only the ELF64 little-endian layout of x86-64 and aarch64 is decoded; other
files simply yield no string.
"""

from __future__ import annotations

import struct

from truewheel.elf.reader import ElfFile

__all__ = ["exported_string"]

_SYM64 = struct.Struct("<IBBHQQ")
_RELA64 = struct.Struct("<QQq")
_POINTER = struct.Struct("<Q")
_MAX_STRING = 256
# Optional prologues before ``lea rel32(%rip),%rax``: endbr64, push %rbp; mov %rsp,%rbp
_PROLOGUES = (b"", b"\xf3\x0f\x1e\xfa", b"\x55\x48\x89\xe5", b"\xf3\x0f\x1e\xfa\x55\x48\x89\xe5")
_LEA_RAX = b"\x48\x8d\x05"


def exported_string(elf: ElfFile, data: bytes, symbol: str, kind: str) -> str | None:
    """The C string behind ``symbol``, or None when it cannot be read safely."""
    if elf.elf_class != 64 or not elf.little_endian:
        return None
    address = _symbol_address(elf, data, symbol)
    if address is None:
        return None
    if kind == "array":
        return _string_at(elf, data, address)
    if kind == "pointer":
        target = _pointer_at(elf, data, address)
        return _string_at(elf, data, target) if target else None
    if kind == "function" and elf.architecture == "x86_64":
        return _string_at(elf, data, _lea_target(elf, data, address) or 0)
    return None


def _symbol_address(elf: ElfFile, data: bytes, symbol: str) -> int | None:
    dynsym, dynstr = elf.sections.get(".dynsym"), elf.sections.get(".dynstr")
    if dynsym is None or dynstr is None:
        return None
    wanted = symbol.encode()
    end = min(dynsym.offset + dynsym.size, len(data))
    for pos in range(dynsym.offset, end - _SYM64.size + 1, _SYM64.size):
        st_name, _, _, st_shndx, st_value, _ = _SYM64.unpack_from(data, pos)
        if not st_shndx or not st_value:
            continue
        at = dynstr.offset + st_name
        if data[at : at + len(wanted) + 1] == wanted + b"\0":
            return int(st_value)
    return None


def _string_at(elf: ElfFile, data: bytes, address: int) -> str | None:
    offset = elf.offset_of(address) if address else None
    if offset is None:
        return None
    raw = data[offset : offset + _MAX_STRING]
    end = raw.find(b"\0")
    if end <= 0 or not raw[:end].isascii() or not raw[:end].decode().isprintable():
        return None
    return raw[:end].decode()


def _pointer_at(elf: ElfFile, data: bytes, address: int) -> int | None:
    offset = elf.offset_of(address)
    if offset is None or offset + 8 > len(data):
        return None
    value = int(_POINTER.unpack_from(data, offset)[0])
    if value and elf.offset_of(value) is not None:
        return value
    rela = elf.sections.get(".rela.dyn")
    if rela is None:
        return None
    end = min(rela.offset + rela.size, len(data))
    for pos in range(rela.offset, end - _RELA64.size + 1, _RELA64.size):
        r_offset, _, r_addend = _RELA64.unpack_from(data, pos)
        if r_offset == address:
            return int(r_addend)
    return None


def _lea_target(elf: ElfFile, data: bytes, address: int) -> int | None:
    offset = elf.offset_of(address)
    if offset is None:
        return None
    code = data[offset : offset + 16]
    for prologue in _PROLOGUES:
        lea = len(prologue)
        if code.startswith(prologue + _LEA_RAX) and len(code) >= lea + 7:
            rel32 = struct.unpack_from("<i", code, lea + 3)[0]
            return address + lea + 7 + int(rel32)
    return None
