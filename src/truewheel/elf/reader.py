"""Read the facts of one ELF file through the byte ranges they live in.

Dependencies are read through ``PT_DYNAMIC`` and the load segments, the way
ld.so does, so a file whose section headers were stripped still tells what it
needs.  Section headers, when present, add the parts the loader ignores:
``.comment`` (toolchain), debug sections and the string sections searched for
build paths.  The parser asks a :class:`~truewheel.elf.source.ByteSource` for
each range, so a file streaming out of a zip needs only those ranges kept.
Every count and size a file declares is bounded before it is used, so a
crafted file costs neither unbounded memory nor unbounded time.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from truewheel.elf import _layout as L
from truewheel.elf import dynsym
from truewheel.elf.machine import architecture, describe
from truewheel.elf.source import ByteSource, BytesSource, Unavailable
from truewheel.elf.versions import DynamicSymbols, read_symbols
from truewheel.errors import ElfError

__all__ = ["HEADER_SIZE", "ElfFile", "ElfHeader", "ElfLayout", "Section", "VersionNeed", "is_elf"]

# Real files stay far below these; a crafted file above them is refused, not read.
_MAX_DYNAMIC = 1 << 20
_MAX_NOTES = 1 << 20
_MAX_SECTION_TABLE = 16 << 20
_MAX_VERSION_ENTRIES = 1 << 16
_MAX_STRING = 4096
_MAX_COMMENT = 1 << 20

HEADER_SIZE = 64  # bytes that hold the ELF header of either class


def is_elf(head: bytes) -> bool:
    """Recognise ELF by its magic bytes, never by file name."""
    return head[:4] == L.ELF_MAGIC


@dataclass(frozen=True, slots=True)
class ElfHeader:
    """What kind of object a file is, from its ELF header alone (no other byte is read).

    Enough for a loader's first check of a candidate library: class, byte order,
    identification version, type and machine must suit the file that needs it.
    """

    elf_class: int  # 32 or 64
    little_endian: bool
    ident_version: int  # EI_VERSION; 1 (EV_CURRENT) for every file a loader accepts
    type: str
    machine: int
    flags: int = 0  # e_flags: processor-specific (the ARM EABI version and float ABI)

    @classmethod
    def parse(cls, head: bytes) -> ElfHeader:
        """The header at the start of ``head`` (at least :data:`HEADER_SIZE` bytes for
        a 64-bit file); :class:`~truewheel.errors.ElfError` when it is not one."""
        return _Parser(BytesSource(head)).identify()


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    type: int
    offset: int
    size: int
    flags: int = 0  # sh_flags: SHF_COMPRESSED (0x800) marks zlib/zstd-compressed debug sections


@dataclass(frozen=True, slots=True)
class VersionNeed:
    """Symbol versions one file requires from one dependency (``.gnu.version_r``)."""

    file: str
    versions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ElfLayout:
    """Where a file keeps what the reader needs, as its header and program headers say.

    ``segments`` are the PT_DYNAMIC, PT_INTERP and PT_NOTE ranges; ``section_table`` the
    section header table; ``loads_end`` where the last load segment's file bytes end (the
    non-allocated sections such as ``.comment`` usually follow it).
    """

    header_end: int
    segments: tuple[tuple[int, int], ...]
    dynamic: tuple[int, int] | None
    section_table: tuple[int, int] | None
    loads_end: int


@dataclass(slots=True)
class ElfFile:
    """Everything truewheel knows about one ELF file."""

    elf_class: int
    little_endian: bool
    machine: int
    type: str
    flags: int = 0
    is_pie: bool = False
    interpreter: str | None = None
    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    rpath: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)
    version_needs: list[VersionNeed] = field(default_factory=list)
    version_defs: list[str] = field(default_factory=list)
    imports: frozenset[str] = frozenset()  # non-weak undefined dynamic symbols
    build_id: str | None = None
    isa_needed: int = 0
    comment: list[str] = field(default_factory=list)
    sections: dict[str, Section] = field(default_factory=dict)
    loads: list[tuple[int, int, int]] = field(default_factory=list)

    def offset_of(self, vaddr: int) -> int | None:
        """The file offset that a virtual address in a load segment maps to."""
        for p_vaddr, p_offset, p_filesz in self.loads:
            if p_vaddr <= vaddr < p_vaddr + p_filesz:
                return p_offset + (vaddr - p_vaddr)
        return None

    @property
    def architecture(self) -> str:
        """The platform-tag name of the file's ABI (``elf/machine.py``)."""
        return architecture(self.machine, self.elf_class, self.little_endian, self.flags)

    @property
    def abi_description(self) -> str:
        """The header facts that name the architecture, for messages."""
        return describe(self.machine, self.elf_class, self.little_endian, self.flags)

    @property
    def x86_isa_level(self) -> str | None:
        """The x86-64 micro-architecture level the file declares it needs, above baseline."""
        for bit, name in L.X86_ISA_LEVELS:
            if self.isa_needed & bit:
                return name
        return None

    @property
    def has_debug_info(self) -> bool:
        return ".debug_info" in self.sections or ".zdebug_info" in self.sections

    @property
    def is_shared_object(self) -> bool:
        return self.type == "DYN" and not self.is_pie

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> ElfFile:
        """Parse a whole file held in memory, sections included."""
        return _Parser(BytesSource(data)).parse(sections=True)

    @classmethod
    def read(cls, source: ByteSource, *, sections: bool = True) -> ElfFile:
        """Parse through ``source``; without ``sections`` only what the loader reads.

        A :class:`~truewheel.elf.source.SparseSource` raises
        :class:`~truewheel.elf.source.Unavailable` for a range it did not keep.
        """
        return _Parser(source).parse(sections=sections)

    @classmethod
    def dynamic_symbols(cls, source: ByteSource) -> DynamicSymbols:
        """Every dynamic symbol with its version (``elf/versions.py``): the whole table is
        read, so this is asked only of the files an ABI question is about."""
        return _Parser(source).dynamic_symbols()

    @classmethod
    def layout(cls, source: ByteSource) -> ElfLayout:
        """The ranges worth keeping, from the ELF header and the program headers."""
        return _Parser(source).layout()

    @classmethod
    def small_sections(cls, source: ByteSource) -> list[tuple[int, int]]:
        """Ranges of the sections the loader ignores and the reader reads (names, notes...).

        Judged from the section table alone, before names are known: every section that
        is not allocated or is a note, of at most 1 MiB.
        """
        return _Parser(source).small_sections()

    @classmethod
    def dynamic_tables(cls, source: ByteSource, layout: ElfLayout) -> list[tuple[int, int]]:
        """Ranges of the string and version tables that the dynamic section points to."""
        return _Parser(source).dynamic_tables(layout)


class _Parser:
    def __init__(self, source: ByteSource) -> None:
        self.src = source
        ident = source.read(0, 16, "ELF identification") if source.size >= 52 else b""
        if len(ident) < 16 or ident[:4] != L.ELF_MAGIC:
            raise ElfError("not an ELF file (bad magic or too short)")
        elf_class, encoding = ident[4], ident[5]
        if elf_class not in (L.ELFCLASS32, L.ELFCLASS64):
            raise ElfError(f"unknown ELF class {elf_class}")
        if encoding not in (L.ELFDATA2LSB, L.ELFDATA2MSB):
            raise ElfError(f"unknown ELF data encoding {encoding}")
        self.lay = L.Layout(elf_class, encoding == L.ELFDATA2LSB)
        self.elf_class = elf_class
        self.little = encoding == L.ELFDATA2LSB
        self.ident_version = ident[6]
        self.header = self._unpack(self.lay.header, 16, "ELF header")
        self.loads: list[tuple[int, int, int]] = []
        # Version index (vd_ndx, vna_other) -> name, as the version walkers meet them.
        self.version_index: dict[int, str] = {}

    def _unpack(self, fmt: struct.Struct, offset: int, what: str) -> tuple[int, ...]:
        return fmt.unpack(self.src.read(offset, fmt.size, what))

    def _cstring(self, offset: int, what: str) -> str:
        if offset < 0 or offset >= self.src.size:
            raise ElfError(f"malformed ELF ({what} string offset {offset} out of range)")
        want = min(_MAX_STRING, self.src.size - offset)
        raw = self.src.read_prefix(offset, want, what)
        end = raw.find(b"\0")
        if end < 0:
            if len(raw) < want:
                raise Unavailable(offset, want)
            raise ElfError(f"malformed ELF ({what} string is not terminated)")
        return raw[:end].decode("utf-8", "surrogateescape")

    def _program_headers(self) -> list[tuple[int, int, int, int, int, int, int]]:
        """(type, flags, offset, vaddr, filesz, memsz, align) of every program header."""
        e_phoff, e_phentsize, e_phnum = self.header[4], self.header[8], self.header[9]
        if not e_phnum:
            return []
        if e_phentsize < self.lay.phdr.size:
            raise ElfError(f"malformed ELF (program header size {e_phentsize})")
        table = self.src.read(e_phoff, e_phnum * e_phentsize, "program headers")
        out = []
        for i in range(e_phnum):
            raw = self.lay.phdr.unpack_from(table, i * e_phentsize)
            out.append((*self.lay.program_header(raw), raw[-1]))
        return out

    def layout(self) -> ElfLayout:
        e_phoff, e_shoff = self.header[4], self.header[5]
        e_phentsize, e_phnum, e_shentsize, e_shnum = self.header[8:12]
        segments: list[tuple[int, int]] = []
        dynamic = None
        loads_end = 0
        for p_type, _, p_offset, _, p_filesz, _, _ in self._program_headers():
            if p_type == L.PT_LOAD:
                loads_end = max(loads_end, p_offset + p_filesz)
            elif p_type in (L.PT_DYNAMIC, L.PT_INTERP, L.PT_NOTE):
                segments.append((p_offset, p_filesz))
                if p_type == L.PT_DYNAMIC:
                    dynamic = (p_offset, p_filesz)
        table = (e_shoff, e_shnum * e_shentsize) if e_shoff and e_shnum else None
        return ElfLayout(
            header_end=e_phoff + e_phnum * e_phentsize,
            segments=tuple(segments),
            dynamic=dynamic,
            section_table=table,
            loads_end=loads_end,
        )

    def dynamic_tables(self, layout: ElfLayout) -> list[tuple[int, int]]:
        if layout.dynamic is None:
            return []
        self.loads = [(v, o, f) for t, _, o, v, f, _, _ in self._program_headers() if t == 1]
        tags = dict(self._dynamic_entries(*layout.dynamic))
        ranges = []
        for address_tag, size_tag in (
            (L.DT_STRTAB, L.DT_STRSZ),
            (L.DT_VERNEED, None),
            (L.DT_VERDEF, None),
        ):
            if address_tag not in tags:
                continue
            offset = self._offset_of(tags[address_tag])
            size = tags.get(size_tag, 0) if size_tag else 1 << 16
            ranges.append((offset, min(size, self.src.size - offset)))
        program = self.identify().type == "EXEC" or bool(tags.get(L.DT_FLAGS_1, 0) & L.DF_1_PIE)
        symbols = dynsym.symbol_ranges(self.src, self.lay, tags, self._offset_of, program=program)
        return ranges + symbols

    def small_sections(self) -> list[tuple[int, int]]:
        e_shoff, e_shentsize, e_shnum = self.header[5], self.header[10], self.header[11]
        if not e_shoff or not e_shnum or e_shentsize < self.lay.shdr.size:
            return []
        if e_shnum * e_shentsize > _MAX_SECTION_TABLE:
            return []
        table = self.src.read(e_shoff, e_shnum * e_shentsize, "section headers")
        out = []
        for i in range(e_shnum):
            _, sh_type, sh_flags, _, sh_offset, sh_size, *_ = self.lay.shdr.unpack_from(
                table, i * e_shentsize
            )
            small = 0 < sh_size <= _MAX_COMMENT and sh_offset + sh_size <= self.src.size
            if small and sh_type != L.SHT_NOBITS and (not sh_flags & 2 or sh_type == 7):
                out.append((sh_offset, sh_size))
        return out

    def identify(self) -> ElfHeader:
        e_type, e_machine = self.header[0], self.header[1]
        return ElfHeader(
            elf_class=32 if self.elf_class == L.ELFCLASS32 else 64,
            little_endian=self.little,
            ident_version=self.ident_version,
            type=L.ET_NAMES.get(e_type, f"type-{e_type}"),
            machine=e_machine,
            flags=self.header[6],
        )

    def parse(self, *, sections: bool) -> ElfFile:
        e_shoff, e_shentsize, e_shnum, e_shstrndx = (
            self.header[5],
            self.header[10],
            self.header[11],
            self.header[12],
        )
        header = self.identify()
        elf = ElfFile(
            elf_class=header.elf_class,
            little_endian=header.little_endian,
            machine=header.machine,
            type=header.type,
            flags=header.flags,
        )
        dynamic: tuple[int, int] | None = None
        notes: list[tuple[int, int, int]] = []
        for p_type, _, p_offset, p_vaddr, p_filesz, _, p_align in self._program_headers():
            if p_type in (L.PT_DYNAMIC, L.PT_INTERP, L.PT_NOTE) and (
                p_offset + p_filesz > self.src.size
            ):
                raise ElfError(f"truncated ELF (segment type {p_type} runs past end of file)")
            if p_type == L.PT_LOAD:
                if p_offset + p_filesz > self.src.size:  # ld.so would map bytes that are not there
                    raise ElfError("truncated ELF (a load segment runs past end of file)")
                self.loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == L.PT_DYNAMIC:
                dynamic = (p_offset, p_filesz)
            elif p_type == L.PT_INTERP:
                elf.interpreter = self._cstring(p_offset, "interpreter")
            elif p_type == L.PT_NOTE:
                notes.append((p_offset, p_filesz, p_align))
        elf.loads = self.loads
        if sections:
            elf.sections = self._sections(e_shoff, e_shnum, e_shentsize, e_shstrndx)
        if dynamic:
            self._read_dynamic(elf, *dynamic)
        if not notes:
            notes = [
                (s.offset, s.size, 4) for s in elf.sections.values() if s.name.startswith(".note")
            ]
        for offset, size, align in notes:
            self._read_notes(elf, offset, size, align)
        comment = elf.sections.get(".comment")
        if comment and comment.type != L.SHT_NOBITS:
            size = min(comment.size, _MAX_COMMENT)
            raw_comment = self.src.read(comment.offset, size, ".comment")
            elf.comment = [
                c.decode("utf-8", "replace") for c in dict.fromkeys(raw_comment.split(b"\0")) if c
            ]
        return elf

    def _sections(
        self, shoff: int, shnum: int, shentsize: int, shstrndx: int
    ) -> dict[str, Section]:
        lay = self.lay
        if not shoff or not shnum:
            return {}
        if shentsize < lay.shdr.size:
            raise ElfError(f"malformed ELF (section header size {shentsize})")
        if shnum * shentsize > _MAX_SECTION_TABLE:
            raise ElfError(f"malformed ELF (section header table of {shnum * shentsize} bytes)")
        if shstrndx >= shnum:
            raise ElfError(f"malformed ELF (section name table index {shstrndx})")
        table = self.src.read(shoff, shnum * shentsize, "section headers")
        headers = [lay.shdr.unpack_from(table, i * shentsize) for i in range(shnum)]
        names_at, names_size = headers[shstrndx][4], headers[shstrndx][5]
        if names_at + names_size > self.src.size:
            raise ElfError(f"truncated ELF (section at offset {names_at} past end of file)")
        names = self.src.read(names_at, names_size, "section names")
        sections: dict[str, Section] = {}
        for sh_name, sh_type, sh_flags, _, sh_offset, sh_size, *_ in headers:
            if sh_type != L.SHT_NOBITS and sh_offset + sh_size > self.src.size:
                raise ElfError(f"truncated ELF (section at offset {sh_offset} past end of file)")
            end = names.find(b"\0", sh_name)
            if sh_name >= len(names) or end < 0:
                raise ElfError(f"malformed ELF (section name offset {sh_name} out of range)")
            name = names[sh_name:end].decode("utf-8", "surrogateescape")
            sections.setdefault(name, Section(name, sh_type, sh_offset, sh_size, sh_flags))
        return sections

    def dynamic_symbols(self) -> DynamicSymbols:
        dynamic = None
        for p_type, _, p_offset, p_vaddr, p_filesz, _, _ in self._program_headers():
            if p_type == L.PT_LOAD:
                self.loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == L.PT_DYNAMIC:
                dynamic = (p_offset, p_filesz)
        tags = dict(self._dynamic_entries(*dynamic)) if dynamic else {}
        if L.DT_STRTAB not in tags:
            return DynamicSymbols(frozenset(), frozenset())
        strtab = self._offset_of(tags[L.DT_STRTAB])
        if L.DT_VERNEED in tags:
            self._version_needs(
                self._offset_of(tags[L.DT_VERNEED]), tags.get(L.DT_VERNEEDNUM, 0), strtab
            )
        if L.DT_VERDEF in tags:
            self._version_defs(
                self._offset_of(tags[L.DT_VERDEF]), tags.get(L.DT_VERDEFNUM, 0), strtab
            )
        return read_symbols(self.src, self.lay, tags, self._offset_of, strtab, self.version_index)

    def _offset_of(self, vaddr: int) -> int:
        for p_vaddr, p_offset, p_filesz in self.loads:
            if p_vaddr <= vaddr < p_vaddr + p_filesz:
                return p_offset + (vaddr - p_vaddr)
        raise ElfError(f"malformed ELF (address {vaddr:#x} is not in any load segment)")

    def _dynamic_entries(self, offset: int, size: int) -> list[tuple[int, int]]:
        dyn = self.lay.dyn
        size = min(size, _MAX_DYNAMIC, max(self.src.size - offset, 0))
        raw = self.src.read(offset, size - size % dyn.size, "dynamic section")
        entries: list[tuple[int, int]] = []
        for tag, value in dyn.iter_unpack(raw):
            if tag == L.DT_NULL:
                break
            entries.append((tag, value))
        return entries

    def _read_dynamic(self, elf: ElfFile, offset: int, size: int) -> None:
        entries = self._dynamic_entries(offset, size)
        tags = dict(entries)
        if L.DT_STRTAB not in tags:
            if any(t in (L.DT_NEEDED, L.DT_SONAME) for t, _ in entries):
                raise ElfError("malformed ELF (dynamic section without DT_STRTAB)")
            return
        strtab = self._offset_of(tags[L.DT_STRTAB])
        elf.is_pie = bool(tags.get(L.DT_FLAGS_1, 0) & L.DF_1_PIE)
        for tag, value in entries:
            if tag == L.DT_NEEDED:
                elf.needed.append(self._cstring(strtab + value, "DT_NEEDED"))
            elif tag == L.DT_SONAME:
                elf.soname = self._cstring(strtab + value, "DT_SONAME")
            elif tag == L.DT_RPATH:
                elf.rpath.extend(_split_path(self._cstring(strtab + value, "DT_RPATH")))
            elif tag == L.DT_RUNPATH:
                elf.runpath.extend(_split_path(self._cstring(strtab + value, "DT_RUNPATH")))
        if L.DT_VERNEED in tags:
            at = self._offset_of(tags[L.DT_VERNEED])
            elf.version_needs = self._version_needs(at, tags.get(L.DT_VERNEEDNUM, 0), strtab)
        if L.DT_VERDEF in tags:
            at = self._offset_of(tags[L.DT_VERDEF])
            elf.version_defs = self._version_defs(at, tags.get(L.DT_VERDEFNUM, 0), strtab)
        program = elf.type == "EXEC" or elf.is_pie
        elf.imports = dynsym.imports(
            self.src, self.lay, tags, self._offset_of, strtab, program=program
        )

    def _version_needs(self, at: int, count: int, strtab: int) -> list[VersionNeed]:
        lay = self.lay
        needs: list[VersionNeed] = []
        seen: set[int] = set()
        for _ in range(min(count, _MAX_VERSION_ENTRIES)):
            _visit(seen, at, "verneed")
            _, vn_cnt, vn_file, vn_aux, vn_next = self._unpack(lay.verneed, at, "verneed")
            versions = []
            aux = at + vn_aux
            for _ in range(vn_cnt):
                _visit(seen, aux, "vernaux")
                _, _, vna_other, vna_name, vna_next = self._unpack(lay.vernaux, aux, "vernaux")
                versions.append(self._cstring(strtab + vna_name, "version name"))
                self.version_index[vna_other] = versions[-1]
                if not vna_next:
                    break
                aux += vna_next
            needs.append(
                VersionNeed(self._cstring(strtab + vn_file, "verneed file"), tuple(versions))
            )
            if not vn_next:
                break
            at += vn_next
        return needs

    def _version_defs(self, at: int, count: int, strtab: int) -> list[str]:
        lay = self.lay
        names: list[str] = []
        seen: set[int] = set()
        for _ in range(min(count, _MAX_VERSION_ENTRIES)):
            _visit(seen, at, "verdef")
            _, flags, vd_ndx, vd_cnt, _, vd_aux, vd_next = self._unpack(lay.verdef, at, "verdef")
            if vd_cnt and not flags & 1:  # VER_FLG_BASE names the file itself
                vda_name, _ = self._unpack(lay.verdaux, at + vd_aux, "verdaux")
                names.append(self._cstring(strtab + vda_name, "version definition"))
                self.version_index[vd_ndx] = names[-1]
            if not vd_next:
                break
            at += vd_next
        return names

    def _read_notes(self, elf: ElfFile, offset: int, size: int, align: int) -> None:
        lay = self.lay
        align = 8 if align == 8 else 4
        size = min(size, _MAX_NOTES, max(self.src.size - offset, 0))
        raw = self.src.read(offset, size, "notes")
        pos = 0
        while pos + lay.note.size <= len(raw):
            namesz, descsz, ntype = lay.note.unpack_from(raw, pos)
            name_at = pos + lay.note.size
            desc_at = _align(name_at + namesz, align)
            pos = _align(desc_at + descsz, align)
            if desc_at + descsz > len(raw):
                raise ElfError("malformed ELF (note runs past its segment)")
            if raw[name_at : name_at + namesz] != b"GNU\0":
                continue
            desc = raw[desc_at : desc_at + descsz]
            if ntype == L.NT_GNU_BUILD_ID:
                elf.build_id = desc.hex()
            elif ntype == L.NT_GNU_PROPERTY_TYPE_0:
                elf.isa_needed |= self._isa_needed(desc)

    def _isa_needed(self, desc: bytes) -> int:
        """The x86 ISA-needed bits of a GNU property note; a malformed property is ignored."""
        u32 = self.lay.u32
        pos, needed = 0, 0
        while pos + 8 <= len(desc):
            pr_type, pr_datasz = u32.unpack_from(desc, pos)[0], u32.unpack_from(desc, pos + 4)[0]
            if pos + 8 + pr_datasz > len(desc):
                raise ElfError("malformed ELF (GNU property runs past its note)")
            if pr_type == L.GNU_PROPERTY_X86_ISA_1_NEEDED and pr_datasz >= 4:
                needed |= u32.unpack_from(desc, pos + 8)[0]
            pos += 8 + _align(pr_datasz, self.lay.word)
        return needed


def _visit(seen: set[int], offset: int, what: str) -> None:
    """Refuse version chains that loop back on themselves (a crafted file could spin forever)."""
    if offset in seen:
        raise ElfError(f"malformed ELF ({what} chain loops)")
    seen.add(offset)


def _align(value: int, to: int) -> int:
    return (value + to - 1) & ~(to - 1)


def _split_path(value: str) -> list[str]:
    return [p for p in value.split(":") if p]
