"""Read a string a library exports through a symbol (e.g. GMP's ``__gmp_version``).

Some libraries carry their version only behind an exported symbol: the symbol
is the string (``array``), points to it (``pointer``, resolved through the
RELATIVE relocation the dynamic linker would apply), or is a function that
returns a literal (``function``: ``lea rel32(%rip),%rax; ret`` on x86-64,
``adrp x0; add x0; ret`` on aarch64, see :mod:`truewheel._literal`).  Only the
ELF64 little-endian layout of x86-64 and aarch64 is decoded; other files simply
yield no string.
"""

from __future__ import annotations

import struct

from truewheel._literal import CODE_BYTES, returned_address
from truewheel.elf.reader import ElfFile
from truewheel.elf.source import ByteSource

__all__ = ["exported_string"]

_SYM64 = struct.Struct("<IBBHQQ")
_RELA64 = struct.Struct("<QQq")
_POINTER = struct.Struct("<Q")
_MAX_STRING = 256
# The symbol and relocation tables read whole; larger ones (a crafted size) are cut.
_MAX_TABLE = 64 << 20
# ELF architecture -> the name truewheel._literal decodes it under
_CODE = {"x86_64": "x86_64", "aarch64": "arm64"}


def exported_string(elf: ElfFile, source: ByteSource, symbol: str, kind: str) -> str | None:
    """The C string behind ``symbol``, or None when it cannot be read safely."""
    if elf.elf_class != 64 or not elf.little_endian:
        return None
    address = _symbol_address(elf, source, symbol)
    if address is None:
        return None
    if kind == "array":
        return _string_at(elf, source, address)
    if kind == "pointer":
        target = _pointer_at(elf, source, address)
        return _string_at(elf, source, target) if target else None
    if kind == "function" and elf.architecture in _CODE:
        return _string_at(elf, source, _returned(elf, source, address) or 0)
    return None


def _table(source: ByteSource, offset: int, size: int, what: str) -> bytes:
    size = min(size, _MAX_TABLE, max(source.size - offset, 0))
    return source.read(offset, size, what)


def _symbol_address(elf: ElfFile, source: ByteSource, symbol: str) -> int | None:
    dynsym, dynstr = elf.sections.get(".dynsym"), elf.sections.get(".dynstr")
    if dynsym is None or dynstr is None:
        return None
    wanted = symbol.encode() + b"\0"
    symbols = _table(source, dynsym.offset, dynsym.size, ".dynsym")
    names = _table(source, dynstr.offset, dynstr.size, ".dynstr")
    for st_name, _, _, st_shndx, st_value, _ in _SYM64.iter_unpack(
        symbols[: len(symbols) - len(symbols) % _SYM64.size]
    ):
        if st_shndx and st_value and names[st_name : st_name + len(wanted)] == wanted:
            return int(st_value)
    return None


def _string_at(elf: ElfFile, source: ByteSource, address: int) -> str | None:
    offset = elf.offset_of(address) if address else None
    if offset is None or offset >= source.size:
        return None
    raw = source.read(offset, min(_MAX_STRING, source.size - offset), "exported string")
    end = raw.find(b"\0")
    if end <= 0 or not raw[:end].isascii() or not raw[:end].decode().isprintable():
        return None
    return raw[:end].decode()


def _pointer_at(elf: ElfFile, source: ByteSource, address: int) -> int | None:
    offset = elf.offset_of(address)
    if offset is None or offset + 8 > source.size:
        return None
    value = int(_POINTER.unpack(source.read(offset, 8, "pointer"))[0])
    if value and elf.offset_of(value) is not None:
        return value
    rela = elf.sections.get(".rela.dyn")
    if rela is None:
        return None
    table = _table(source, rela.offset, rela.size, ".rela.dyn")
    for r_offset, _, r_addend in _RELA64.iter_unpack(table[: len(table) - len(table) % 24]):
        if r_offset == address:
            return int(r_addend)
    return None


def _returned(elf: ElfFile, source: ByteSource, address: int) -> int | None:
    offset = elf.offset_of(address)
    if offset is None or offset + 8 > source.size:
        return None
    code = source.read(offset, min(CODE_BYTES, source.size - offset), "code")
    return returned_address(_CODE[elf.architecture], code, address)
