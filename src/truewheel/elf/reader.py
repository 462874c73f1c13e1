"""Read the facts of one ELF file from its bytes.

Dependencies are read through ``PT_DYNAMIC`` and the load segments, the way
ld.so does, so a file whose section headers were stripped still tells what it
needs.  Section headers, when present, add the parts the loader ignores:
``.comment`` (toolchain), debug sections and the string sections searched for
build paths.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from truewheel.elf import _layout as L
from truewheel.errors import ElfError

__all__ = ["ElfFile", "Section", "VersionNeed", "is_elf"]


def is_elf(head: bytes) -> bool:
    """Recognise ELF by its magic bytes, never by file name."""
    return head[:4] == L.ELF_MAGIC


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    type: int
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class VersionNeed:
    """Symbol versions one file requires from one dependency (``.gnu.version_r``)."""

    file: str
    versions: tuple[str, ...]


@dataclass(slots=True)
class ElfFile:
    """Everything truewheel knows about one ELF file."""

    elf_class: int
    little_endian: bool
    machine: int
    type: str
    is_pie: bool = False
    interpreter: str | None = None
    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    rpath: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)
    version_needs: list[VersionNeed] = field(default_factory=list)
    version_defs: list[str] = field(default_factory=list)
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
        name = L.MACHINES.get(self.machine, f"machine-{self.machine}")
        if name == "ppc64" and self.little_endian:
            return "ppc64le"
        return name

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
    def parse(cls, data: bytes | memoryview, *, prefix: bool = False) -> ElfFile:
        """Parse a whole file, or with ``prefix`` only its start (see :meth:`prefix_size`).

        A prefix yields the program-header facts (dependencies, SONAME, paths, symbol
        versions, notes) but no sections; a table the prefix does not reach raises
        :class:`ElfError` like a truncated file, and the caller reads the whole.
        """
        return _Parser(memoryview(data), prefix=prefix).parse()

    @classmethod
    def prefix_size(cls, head: bytes | memoryview) -> int | None:
        """How much of the file the dynamic facts need, judged from its first bytes.

        The end of the last PT_DYNAMIC, PT_INTERP or PT_NOTE segment (libraries keep them
        in the first few MB even when their data runs to hundreds), or None when the
        program headers are not inside ``head``.
        """
        try:
            return _Parser(memoryview(head), prefix=True).prefix_size()
        except ElfError:
            return None


class _Parser:
    def __init__(self, data: memoryview, *, prefix: bool = False) -> None:
        self.data = data
        self.prefix = prefix
        if len(data) < 52 or bytes(data[:4]) != L.ELF_MAGIC:
            raise ElfError("not an ELF file (bad magic or too short)")
        elf_class, encoding = data[4], data[5]
        if elf_class not in (L.ELFCLASS32, L.ELFCLASS64):
            raise ElfError(f"unknown ELF class {elf_class}")
        if encoding not in (L.ELFDATA2LSB, L.ELFDATA2MSB):
            raise ElfError(f"unknown ELF data encoding {encoding}")
        self.layout = L.Layout(elf_class, encoding == L.ELFDATA2LSB)
        self.elf_class = elf_class
        self.little = encoding == L.ELFDATA2LSB
        self.loads: list[tuple[int, int, int]] = []

    def _unpack(self, fmt: struct.Struct, offset: int, what: str) -> tuple[int, ...]:
        if offset < 0 or offset + fmt.size > len(self.data):
            raise ElfError(f"truncated ELF ({what} at offset {offset} past end of file)")
        return fmt.unpack_from(self.data, offset)

    def _cstring(self, offset: int, what: str) -> str:
        if offset < 0 or offset >= len(self.data):
            raise ElfError(f"malformed ELF ({what} string offset {offset} out of range)")
        end = bytes(self.data[offset : offset + 4096]).find(b"\0")
        if end < 0:
            raise ElfError(f"malformed ELF ({what} string is not terminated)")
        return bytes(self.data[offset : offset + end]).decode("utf-8", "surrogateescape")

    def prefix_size(self) -> int:
        lay = self.layout
        hdr = self._unpack(lay.header, 16, "ELF header")
        e_phoff, e_phentsize, e_phnum = hdr[4], hdr[8], hdr[9]
        if e_phnum and e_phentsize < lay.phdr.size:
            raise ElfError(f"malformed ELF (program header size {e_phentsize})")
        end = e_phoff + e_phnum * e_phentsize
        for i in range(e_phnum):
            raw = self._unpack(lay.phdr, e_phoff + i * e_phentsize, "program header")
            p_type, _, p_offset, _, p_filesz, _ = lay.program_header(raw)
            if p_type in (L.PT_DYNAMIC, L.PT_INTERP, L.PT_NOTE):
                end = max(end, p_offset + p_filesz)
        return end

    def parse(self) -> ElfFile:
        lay = self.layout
        hdr = self._unpack(lay.header, 16, "ELF header")
        e_type, e_machine, _, _, e_phoff, e_shoff, _, _, e_phentsize, e_phnum = hdr[:10]
        e_shentsize, e_shnum, e_shstrndx = hdr[10:13]
        elf = ElfFile(
            elf_class=32 if self.elf_class == L.ELFCLASS32 else 64,
            little_endian=self.little,
            machine=e_machine,
            type=L.ET_NAMES.get(e_type, f"type-{e_type}"),
        )
        if e_phnum and e_phentsize < lay.phdr.size:
            raise ElfError(f"malformed ELF (program header size {e_phentsize})")
        dynamic: tuple[int, int] | None = None
        notes: list[tuple[int, int, int]] = []
        for i in range(e_phnum):
            raw = self._unpack(lay.phdr, e_phoff + i * e_phentsize, "program header")
            p_type, _, p_offset, p_vaddr, p_filesz, _ = lay.program_header(raw)
            read = (L.PT_DYNAMIC, L.PT_INTERP, L.PT_NOTE) if self.prefix else None
            past_end = p_offset + p_filesz > len(self.data)
            if past_end and p_type != L.PT_LOAD and (read is None or p_type in read):
                raise ElfError(f"truncated ELF (segment type {p_type} runs past end of file)")
            if p_type == L.PT_LOAD:
                self.loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == L.PT_DYNAMIC:
                dynamic = (p_offset, p_filesz)
            elif p_type == L.PT_INTERP:
                elf.interpreter = self._cstring(p_offset, "interpreter")
            elif p_type == L.PT_NOTE:
                notes.append((p_offset, p_filesz, raw[-1]))
        elf.loads = self.loads
        if not self.prefix:
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
            raw_comment = bytes(self.data[comment.offset : comment.offset + comment.size])
            elf.comment = [
                c.decode("utf-8", "replace") for c in dict.fromkeys(raw_comment.split(b"\0")) if c
            ]
        return elf

    def _sections(
        self, shoff: int, shnum: int, shentsize: int, shstrndx: int
    ) -> dict[str, Section]:
        lay = self.layout
        if not shoff or not shnum:
            return {}
        if shentsize < lay.shdr.size:
            raise ElfError(f"malformed ELF (section header size {shentsize})")
        headers = [
            self._unpack(lay.shdr, shoff + i * shentsize, "section header") for i in range(shnum)
        ]
        if shstrndx >= shnum:
            raise ElfError(f"malformed ELF (section name table index {shstrndx})")
        names_at = headers[shstrndx][4]
        sections: dict[str, Section] = {}
        for sh_name, sh_type, _, _, sh_offset, sh_size, *_ in headers:
            if sh_type != L.SHT_NOBITS and sh_offset + sh_size > len(self.data):
                raise ElfError(f"truncated ELF (section at offset {sh_offset} past end of file)")
            name = self._cstring(names_at + sh_name, "section name")
            sections.setdefault(name, Section(name, sh_type, sh_offset, sh_size))
        return sections

    def _offset_of(self, vaddr: int) -> int:
        for p_vaddr, p_offset, p_filesz in self.loads:
            if p_vaddr <= vaddr < p_vaddr + p_filesz:
                return p_offset + (vaddr - p_vaddr)
        raise ElfError(f"malformed ELF (address {vaddr:#x} is not in any load segment)")

    def _read_dynamic(self, elf: ElfFile, offset: int, size: int) -> None:
        lay = self.layout
        entries: list[tuple[int, int]] = []
        for pos in range(offset, offset + size - lay.dyn.size + 1, lay.dyn.size):
            tag, value = self._unpack(lay.dyn, pos, "dynamic entry")
            if tag == L.DT_NULL:
                break
            entries.append((tag, value))
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

    def _version_needs(self, at: int, count: int, strtab: int) -> list[VersionNeed]:
        lay = self.layout
        needs: list[VersionNeed] = []
        seen: set[int] = set()
        for _ in range(count):
            _visit(seen, at, "verneed")
            _, vn_cnt, vn_file, vn_aux, vn_next = self._unpack(lay.verneed, at, "verneed")
            versions = []
            aux = at + vn_aux
            for _ in range(vn_cnt):
                _visit(seen, aux, "vernaux")
                _, _, _, vna_name, vna_next = self._unpack(lay.vernaux, aux, "vernaux")
                versions.append(self._cstring(strtab + vna_name, "version name"))
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
        lay = self.layout
        names: list[str] = []
        seen: set[int] = set()
        for _ in range(count):
            _visit(seen, at, "verdef")
            _, flags, _, vd_cnt, _, vd_aux, vd_next = self._unpack(lay.verdef, at, "verdef")
            if vd_cnt and not flags & 1:  # VER_FLG_BASE names the file itself
                vda_name, _ = self._unpack(lay.verdaux, at + vd_aux, "verdaux")
                names.append(self._cstring(strtab + vda_name, "version definition"))
            if not vd_next:
                break
            at += vd_next
        return names

    def _read_notes(self, elf: ElfFile, offset: int, size: int, align: int) -> None:
        lay = self.layout
        align = 8 if align == 8 else 4
        pos, end = offset, offset + size
        while pos + lay.note.size <= end:
            namesz, descsz, ntype = self._unpack(lay.note, pos, "note")
            name_at = pos + lay.note.size
            desc_at = _align(name_at + namesz, align)
            pos = _align(desc_at + descsz, align)
            if desc_at + descsz > end:
                raise ElfError("malformed ELF (note runs past its segment)")
            if bytes(self.data[name_at : name_at + namesz]) != b"GNU\0":
                continue
            desc = bytes(self.data[desc_at : desc_at + descsz])
            if ntype == L.NT_GNU_BUILD_ID:
                elf.build_id = desc.hex()
            elif ntype == L.NT_GNU_PROPERTY_TYPE_0:
                elf.isa_needed |= self._isa_needed(desc)

    def _isa_needed(self, desc: bytes) -> int:
        u32 = self.layout.u32
        pos, needed = 0, 0
        while pos + 8 <= len(desc):
            pr_type = u32.unpack_from(desc, pos)[0]
            pr_datasz = u32.unpack_from(desc, pos + 4)[0]
            if pr_type == L.GNU_PROPERTY_X86_ISA_1_NEEDED and pr_datasz >= 4:
                needed |= u32.unpack_from(desc, pos + 8)[0]
            pos += 8 + _align(pr_datasz, self.layout.word)
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
