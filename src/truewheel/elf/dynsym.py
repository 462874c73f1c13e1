"""The symbols a file imports: undefined entries of its dynamic symbol table.

The table is found the way ld.so finds it, through ``DT_SYMTAB`` in the
dynamic section, so stripped section headers do not hide it.  The dynamic
section gives no symbol count; the hash tables do.  ``DT_GNU_HASH`` holds only
defined symbols, all placed after the unhashed prefix it names
(``symoffset``): every undefined symbol of a shared object lies in that
prefix, so the rest of a table of 100 000 exports is never read.  A program
is the exception: an undefined function whose address it takes gets a
canonical PLT address and is exported (hashed) like a definition, so a
program's table is read whole, its length found by walking the hash chains
from the last bucket.  A file with only the SysV ``DT_HASH`` gives the full
count (``nchain``).  Every read is bounded, and the ranges are announced
ahead of time (:func:`symbol_ranges`) so a file streaming out of a zip keeps
them.

Weak undefined symbols are left out: the loader binds them to zero when no
object defines them, so they never stop a file from loading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from truewheel.elf import _layout as L
from truewheel.elf.source import ByteSource, Unavailable
from truewheel.errors import ElfError

__all__ = ["imports", "symbol_ranges", "whole_table"]

# The unhashed prefix of real files holds their imports (thousands at most); a crafted
# count beyond this is cut, never allocated.
_MAX_SYMBOLS = 1 << 20
_MAX_NAME = 4096
_HASH_HEADER = 16  # GNU: nbuckets, symoffset, bloom size, bloom shift; SysV: nbucket, nchain
_MAX_BUCKETS = 1 << 22

OffsetOf = Callable[[int], int]


def symbol_ranges(
    source: ByteSource,
    lay: L.Layout,
    tags: Mapping[int, int],
    offset_of: OffsetOf,
    *,
    program: bool,
) -> list[tuple[int, int]]:
    """The hash table header, and the part of the symbol table :func:`imports` reads.

    The second range needs the header: when it has not streamed past yet, only the
    header is named and the reader asks for the rest later.
    """
    header = _hash_header(tags, offset_of)
    if header is None:
        return []
    ranges = [(header, min(_HASH_HEADER, max(source.size - header, 0)))]
    try:
        table = _table(source, lay, tags, offset_of, program=program)
    except (Unavailable, ElfError):
        return ranges
    if table is not None:
        ranges.append((table[0], table[1] * table[2]))
    return ranges


def imports(
    source: ByteSource,
    lay: L.Layout,
    tags: Mapping[int, int],
    offset_of: OffsetOf,
    strtab: int,
    *,
    program: bool,
) -> frozenset[str]:
    """Names of the non-weak undefined dynamic symbols (what must resolve elsewhere).

    ``program``: the file is an executable (``ET_EXEC`` or PIE), whose whole table is read.
    """
    table = _table(source, lay, tags, offset_of, program=program)
    if table is None:
        return frozenset()
    offset, count, stride = table
    raw = source.read(offset, count * stride, "dynamic symbols")
    name_at, info_at, shndx_at = lay.sym_fields
    entries = (  # entry 0 is the reserved null symbol
        lay.sym.iter_unpack(raw[stride:])
        if stride == lay.sym.size
        else (lay.sym.unpack_from(raw, i * stride) for i in range(1, count))
    )
    wanted = [
        e[name_at]
        for e in entries
        if e[shndx_at] == L.SHN_UNDEF and e[name_at] and e[info_at] >> 4 != L.STB_WEAK
    ]
    if not wanted:
        return frozenset()
    strsz = tags.get(L.DT_STRSZ, 0)
    low, high = min(wanted), min(max(wanted) + _MAX_NAME, strsz)
    if high <= low or strtab + high > source.size:
        raise ElfError("malformed ELF (symbol name offset past the string table)")
    names = source.read(strtab + low, high - low, "symbol names")
    out = set()
    for st_name in wanted:
        start = st_name - low
        end = names.find(b"\0", start)
        if end < 0:
            raise ElfError("malformed ELF (symbol name is not terminated)")
        out.add(names[start:end].decode("utf-8", "surrogateescape"))
    return frozenset(out)


def whole_table(
    source: ByteSource, lay: L.Layout, tags: Mapping[int, int], offset_of: OffsetOf
) -> tuple[int, int, int] | None:
    """(offset, entries, entry size) of the whole dynamic symbol table, definitions included."""
    return _table(source, lay, tags, offset_of, program=True)


def _hash_header(tags: Mapping[int, int], offset_of: OffsetOf) -> int | None:
    for tag in (L.DT_GNU_HASH, L.DT_HASH):
        if tag in tags:
            return offset_of(tags[tag])
    return None


def _table(
    source: ByteSource,
    lay: L.Layout,
    tags: Mapping[int, int],
    offset_of: OffsetOf,
    *,
    program: bool,
) -> tuple[int, int, int] | None:
    """(offset, entries to read, entry size) of the symbol table, from the hash table."""
    if L.DT_SYMTAB not in tags:
        return None
    stride = tags.get(L.DT_SYMENT, lay.sym.size)
    if stride < lay.sym.size:
        raise ElfError(f"malformed ELF (symbol entry size {stride})")
    if L.DT_GNU_HASH in tags:
        at = offset_of(tags[L.DT_GNU_HASH])
        count = _gnu_count(source, lay, at) if program else _symoffset(source, lay, at)
    elif L.DT_HASH in tags:
        at = offset_of(tags[L.DT_HASH])
        count = lay.u32.unpack(source.read(at + 4, 4, "hash table"))[0]  # nchain
    else:
        return None
    offset = offset_of(tags[L.DT_SYMTAB])
    count = min(count, _MAX_SYMBOLS, max(source.size - offset, 0) // stride)
    return offset, count, stride


def _symoffset(source: ByteSource, lay: L.Layout, at: int) -> int:
    return int(lay.u32.unpack(source.read(at + 4, 4, "GNU hash table"))[0])


def _gnu_count(source: ByteSource, lay: L.Layout, at: int) -> int:
    """The number of symbols a GNU hash table covers: past the last bucket's chain end."""
    nbuckets, symoffset, bloom_size, _ = (
        lay.u32.unpack_from(source.read(at, 16, "GNU hash table"), i)[0] for i in (0, 4, 8, 12)
    )
    if nbuckets > _MAX_BUCKETS or bloom_size > _MAX_BUCKETS:
        raise ElfError("malformed ELF (GNU hash table too large)")
    buckets_at = at + 16 + bloom_size * lay.word
    raw = source.read(buckets_at, nbuckets * 4, "GNU hash buckets")
    last = max((bucket for (bucket,) in lay.u32.iter_unpack(raw)), default=0)
    if last < symoffset:
        return int(symoffset)
    chain_at = buckets_at + nbuckets * 4 + (last - symoffset) * 4
    index = last
    while index < last + _MAX_SYMBOLS:  # the chain ends at the first value with bit 0 set
        count = min(64, (source.size - chain_at) // 4)
        if count <= 0:
            break
        raw = source.read(chain_at, count * 4, "GNU hash chain")
        for i, (value,) in enumerate(lay.u32.iter_unpack(raw)):
            if value & 1:
                return index + i + 1
        index, chain_at = index + count, chain_at + count * 4
    raise ElfError("malformed ELF (GNU hash chain does not end)")
