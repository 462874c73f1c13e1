"""Dynamic symbols with their versions: what a library defines, what a file needs.

Sharing one copy of a library between wheels is safe only if that copy defines
every symbol, at the version, that each consumer binds to its own copy today.
The facts come from the dynamic symbol table (``DT_SYMTAB``, counted through
the hash tables as in :mod:`truewheel.elf.dynsym`), ``DT_VERSYM`` (one 16-bit
index per symbol; bit 15 marks a hidden, non-default version) and the index
each ``Elfxx_Verdef`` (``vd_ndx``) and ``Elfxx_Vernaux`` (``vna_other``) gives
its name (the GNU symbol versioning extension to the gABI).  Index 1 is a global
symbol without a version; 0 makes a definition local, but on a reference (gold and
some older linkers write 0 there) it means no version: ld.so binds it by name.

A library's definitions include hidden versions (``foo@VER_1`` kept for old
consumers): a consumer linked against them still binds to them by name and
version.  Local symbols, and those of hidden or internal visibility, are not
definitions any other file can bind to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from truewheel.elf import _layout as L
from truewheel.elf import dynsym
from truewheel.elf.source import ByteSource
from truewheel.errors import ElfError

__all__ = ["DynamicSymbols", "Symbol", "read_symbols"]

DT_VERSYM = 0x6FFFFFF0
_VERSYM_HIDDEN = 0x8000
_STB_LOCAL = 0
_STV_DEFAULT, _STV_PROTECTED = 0, 3
_MAX_NAME = 4096

Symbol = tuple[str, str | None]  # name, version (None: unversioned)


@dataclass(frozen=True, slots=True)
class DynamicSymbols:
    """Versioned names a file defines for others, and the non-weak ones it needs."""

    defined: frozenset[Symbol]
    needed: frozenset[Symbol]


def read_symbols(
    source: ByteSource,
    lay: L.Layout,
    tags: Mapping[int, int],
    offset_of: Callable[[int], int],
    strtab: int,
    versions: Mapping[int, str],
) -> DynamicSymbols:
    """The whole dynamic symbol table, each symbol with its version.

    ``versions``: index -> name, as the reader's version-table walkers found them.
    """
    table = dynsym.whole_table(source, lay, tags, offset_of)
    if table is None:
        return DynamicSymbols(frozenset(), frozenset())
    offset, count, stride = table
    raw = source.read(offset, count * stride, "dynamic symbols")
    indices: list[int] = []
    if DT_VERSYM in tags:
        at = offset_of(tags[DT_VERSYM])
        if at + count * 2 > source.size:
            raise ElfError("malformed ELF (symbol versions run past end of file)")
        indices = [v for (v,) in lay.u16.iter_unpack(source.read(at, count * 2, "symbol versions"))]
    strsz = tags.get(L.DT_STRSZ, 0)
    if strtab + strsz > source.size:
        raise ElfError("malformed ELF (string table runs past end of file)")
    strings = source.read(strtab, strsz, "dynamic strings")
    name_at, info_at, shndx_at = lay.sym_fields
    other_at = 2 if lay.word == 8 else 4
    defined: set[Symbol] = set()
    needed: set[Symbol] = set()
    for i in range(1, count):  # entry 0 is the reserved null symbol
        entry = lay.sym.unpack_from(raw, i * stride)
        st_name, info = entry[name_at], entry[info_at]
        if not st_name or info >> 4 == _STB_LOCAL:
            continue
        if st_name >= len(strings):
            raise ElfError("malformed ELF (symbol name offset past the string table)")
        end = strings.find(b"\0", st_name, st_name + _MAX_NAME)
        if end < 0:
            raise ElfError("malformed ELF (symbol name is not terminated)")
        name = strings[st_name:end].decode("utf-8", "surrogateescape")
        index = indices[i] & ~_VERSYM_HIDDEN if i < len(indices) else 1
        version = None if index in (0, 1) else versions.get(index)
        if entry[shndx_at] == L.SHN_UNDEF:
            # index 0 on a reference (gold writes it) is no version: ld.so binds it by name
            if info >> 4 != L.STB_WEAK:
                needed.add((name, version))
        elif index == 0:
            continue  # a definition made local by a version script
        elif entry[other_at] & 3 in (_STV_DEFAULT, _STV_PROTECTED):
            defined.add((name, version))
    return DynamicSymbols(frozenset(defined), frozenset(needed))
