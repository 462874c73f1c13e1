"""Everything truewheel learns from one file's bytes, in one pass as they stream past.

A member of a wheel (or a file of an installed environment) is read as a
stream of chunks: each chunk is hashed, searched for build paths and library
version strings, and the byte ranges the ELF, Mach-O or PE reader will ask for
are kept; nothing else stays in memory.  Mach-O and PE files say what they
need in stages (a fat header, then each slice's load commands; the PE headers,
then the directories, then the names they point to): the reader is asked
again as the stream reaches each range (:class:`_Following`).  For a library whose
family keeps its version behind an exported symbol (GMP's ``__gmp_version``), the
export tables and the sections literals live in are kept as well, so that reading the
symbol costs no extra pass, or one when its code lies past what was kept.

For ELF, which ranges those are is known only as the file goes by: the ELF
and program headers (first bytes) name the dynamic and note segments and the
section header table; the dynamic section names the string and version tables.
So the first :data:`EAGER_BYTES` are kept (linkers put those tables there,
before the dynamic section that points to them), then what the headers point
to, the start of the non-loaded sections (``.comment``) and the end of the file
(section names and headers).

When a file is laid out otherwise, the reader asks for a range that was not
kept (:class:`~truewheel.elf.source.Unavailable`): that range is added and the
stream is read again from the start, only as far as needed.  On real wheels
this is rare (see ``docs/ARCHITECTURE.md``); every pass is bounded, and so is
what may be kept (:data:`KEEP_LIMIT`), so a crafted file costs bounded memory
and a bounded number of passes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from truewheel._files import open_regular
from truewheel.elf import ElfFile, is_elf
from truewheel.elf.reader import ElfLayout
from truewheel.elf.source import ByteSource, RangeSet, SparseSource, Unavailable
from truewheel.errors import BinaryError, ElfError, InputError, MachOError, PEError
from truewheel.macho import MachOFile, is_macho, read_macho, slice_ranges
from truewheel.macho import symbols as macho_symbols
from truewheel.pe import PEFile, is_pe, pe_ranges, pe_tables, read_pe
from truewheel.pe import symbols as pe_symbols

if TYPE_CHECKING:
    from truewheel.elf.buildpaths import BuildPath
    from truewheel.elf.search import StreamSearch
    from truewheel.policy.libraries import LibraryTable, VersionEvidence, VersionSearch

__all__ = [
    "EAGER_BYTES",
    "KEEP_LIMIT",
    "MemberFacts",
    "Stream",
    "analyze_bytes",
    "analyze_file",
    "analyze_stream",
    "file_chunks",
]

EAGER_BYTES = 16 << 20
KEEP_LIMIT = 128 << 20
_TAIL_WINDOW = 64 << 10
_AFTER_LOADS_WINDOW = 1 << 20
_MISS_WINDOW = 64 << 10
_MAX_PASSES = 8
_IMAGE_HEAD = 1 << 20
_IMAGE_WINDOW = 256 << 10
# Passes after which a Mach-O or PE version symbol is given up rather than the file failed.
_SYMBOL_PASSES = 4

Stream = Callable[[], Iterator[bytes]]
"""Opens the file's bytes from the start, as chunks in order (called once per pass)."""


@dataclass(slots=True)
class MemberFacts:
    """What one file's bytes established."""

    size: int
    digests: dict[str, bytes] = field(default_factory=dict)
    elf: ElfFile | None = None
    macho: MachOFile | None = None
    pe: PEFile | None = None
    build_paths: list[BuildPath] = field(default_factory=list)
    versions: list[VersionEvidence] = field(default_factory=list)
    passes: int = 1


def analyze_bytes(data: bytes, name: str, libraries: LibraryTable) -> MemberFacts:
    """The same analysis for a file already in memory."""
    return analyze_stream(lambda: iter((data,)), len(data), name, libraries)


def analyze_file(path: str, name: str, libraries: LibraryTable) -> MemberFacts:
    """The same analysis for a regular file on disk, read in chunks."""
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        return analyze_stream(lambda: file_chunks(fd, size, path), size, name, libraries)
    finally:
        os.close(fd)


def file_chunks(fd: int, size: int, path: str) -> Iterator[bytes]:
    """``size`` bytes of a file from its start, in 1 MiB chunks; a file that shrinks is refused."""
    position = 0
    while position < size:
        try:
            chunk = os.pread(fd, min(1 << 20, size - position), position)
        except OSError as exc:
            raise InputError(f"cannot read ({exc.strerror})", path=path) from exc
        if not chunk:
            raise InputError(f"shrank while being read (at {position} of {size} bytes)", path=path)
        yield chunk
        position += len(chunk)


def analyze_stream(
    stream: Stream,
    size: int,
    name: str,
    libraries: LibraryTable | None,
    *,
    deep: bool = True,
    digests: tuple[str, ...] = ("sha256",),
) -> MemberFacts:
    """Hash a file with each of ``digests`` and, if it is ELF, Mach-O or PE, read its facts.

    ``deep=False`` reads only what the loader reads (no sections, build paths or
    versions); with no digests either, the stream is left as soon as those facts are
    complete, often a few MB into a file of hundreds.  Without ``libraries`` the file's
    sections are read but not searched.
    """
    return _Analysis(stream, size, name, libraries, deep=deep, digests=digests).run()


class _Analysis:
    def __init__(
        self,
        stream: Stream,
        size: int,
        name: str,
        libraries: LibraryTable | None,
        *,
        deep: bool,
        digests: tuple[str, ...],
    ) -> None:
        self.stream = stream
        self.name = name
        self.libraries = libraries
        self.deep = deep
        self.digests = digests
        self.facts = MemberFacts(size)
        self.source: SparseSource | None = None
        self._layout: ElfLayout | None = None
        self.paths: StreamSearch | None = None
        self.windows_paths: StreamSearch | None = None
        self.versions: VersionSearch | None = None
        self.image: _Following | None = None

    def run(self) -> MemberFacts:
        self._first_pass()
        if self.source is None or (self.facts.elf is not None and not self.deep):
            return self.facts
        for _ in range(_MAX_PASSES):
            try:
                if self.image is None:
                    self._conclude(self.source)
                else:
                    self._conclude_image(self.source)
                return self.facts
            except Unavailable as missing:
                self._keep_more(missing)
        error = self.source.error
        raise error(
            f"malformed {error.format_name} (its tables are scattered over more than "
            f"{_MAX_PASSES} reads)"
        )

    # -- the first pass: hash, search, keep ----------------------------------------------

    def _first_pass(self) -> None:
        hashers = {name: hashlib.new(name) for name in self.digests}
        size = self.facts.size
        position = 0
        tables_at: int | None = None
        ready_at: int | None = None
        for chunk in self.stream():
            for hasher in hashers.values():
                hasher.update(chunk)
            if position == 0:
                if is_elf(chunk[:4]):
                    self.source, tables_at, ready_at = self._start(chunk)
                elif (
                    image := _Following.start(chunk, size, self._wants_symbol, self.name)
                ) is not None:
                    self.image, self.source = image, image.source
                elif not hashers:
                    return
                else:
                    position += len(chunk)
                    continue
                if self.deep and self.libraries is not None:
                    from truewheel.elf.buildpaths import path_search

                    self.paths = path_search()
                    self.versions = self.libraries.version_search(self.name, size)
                    if self.image is not None and self.image.format is PEError:
                        from truewheel.analysis.image_paths import windows_path_search

                        self.windows_paths = windows_path_search()
            source = self.source
            if source is not None:
                source.feed(position, chunk)
                if self.paths is not None and self.versions is not None:
                    self.paths.feed(position, chunk)
                    self.versions.feed(position, chunk)
                    if self.windows_paths is not None:
                        self.windows_paths.feed(position, chunk)
            position += len(chunk)
            if source is None:
                continue
            if self.image is not None:
                self.image.follow(position)
                continue
            if tables_at is not None and position >= tables_at:
                start = position - len(chunk)
                ready_at = max(ready_at or 0, self._keep_tables(source, start))
                source.feed(start, chunk)  # the tables may follow in this very chunk
                tables_at = None
            if not hashers and not self.deep and ready_at is not None and position >= ready_at:
                if self._loader_facts_complete(source):
                    return
                ready_at = None
        self.facts.digests = {name: hasher.digest() for name, hasher in hashers.items()}
        if self.paths is not None and self.versions is not None:
            self.paths.finish()
            self.versions.finish()
            if self.windows_paths is not None:
                self.windows_paths.finish()

    def _wants_symbol(self) -> bool:
        """Whether this file's family may need its version symbol read (Mach-O and PE)."""
        if not self.deep or self.libraries is None:
            return False
        family = self.libraries.family_of(self.name)
        return family is not None and bool(family.version_symbol)

    def _start(self, head: bytes) -> tuple[SparseSource, int | None, int | None]:
        """What to keep, judged from the first chunk; and when the tables can be located."""
        size = self.facts.size
        wanted = RangeSet([(0, min(size, max(EAGER_BYTES, len(head))))])
        probe = SparseSource(size, RangeSet([(0, len(head))]))
        probe.feed(0, head)
        try:
            layout = ElfFile.layout(probe)
        except Unavailable:
            return SparseSource(size, wanted), None, None  # headers beyond the first chunk
        for offset, length in layout.segments:
            wanted.add(offset, offset + min(length, 1 << 20))
        if self.deep:
            if layout.section_table is not None:
                offset, length = layout.section_table
                wanted.add(max(offset - _TAIL_WINDOW, 0), offset + min(length, 16 << 20))
            wanted.add(layout.loads_end, layout.loads_end + _AFTER_LOADS_WINDOW)
        source = SparseSource(size, _clip(wanted, size))
        self._layout = layout
        if layout.dynamic is None:
            return source, None, max((o + n for o, n in layout.segments), default=0)
        return source, layout.dynamic[0] + layout.dynamic[1], None

    def _keep_tables(self, source: SparseSource, position: int) -> int:
        """Keep the string and version tables the dynamic section points to; where they end."""
        assert self._layout is not None
        try:
            tables = ElfFile.dynamic_tables(source, self._layout)
        except (Unavailable, ElfError):
            return position  # the full read will say what is wrong
        end = position
        for offset, length in tables:
            if length > KEEP_LIMIT // 2:
                continue
            source.want(offset, offset + length, position)
            end = max(end, offset + length)
        _check_budget(source.wanted)
        return end

    def _loader_facts_complete(self, source: SparseSource) -> bool:
        try:
            self.facts.elf = ElfFile.read(source, sections=False)
        except Unavailable:
            return False
        return True

    # -- concluding from what was kept -----------------------------------------------------

    def _conclude(self, source: SparseSource) -> None:
        facts = self.facts
        facts.elf = ElfFile.read(source, sections=self.deep)
        if self.paths is None or self.versions is None or self.libraries is None:
            return
        from truewheel.elf.buildpaths import build_paths

        search = self.libraries.version_search(self.name, facts.size, facts.elf.soname)
        if search.family is not (self.versions.family):
            self.versions = search  # known by its SONAME only: its strings must be searched
            self._read_again(RangeSet(iter(source.wanted)), search=search)
        facts.versions = self.libraries.find_versions(
            self.name, facts.elf, self.source or source, self.versions
        )
        facts.build_paths = build_paths(facts.elf, self.paths.hits)

    def _conclude_image(self, source: SparseSource) -> None:
        assert self.image is not None
        facts = self.facts
        if self.image.format is MachOError:
            facts.macho = read_macho(source)
        else:
            facts.pe = read_pe(source)
        if self.paths is None or self.versions is None or self.libraries is None:
            return
        from truewheel.analysis.image_paths import image_build_paths

        image = facts.macho or facts.pe
        try:
            facts.versions = self.libraries.found_versions(self.name, self.versions, image, source)
        except Unavailable:
            if facts.passes < _SYMBOL_PASSES:
                raise
            facts.versions = self.libraries.found_versions(self.name, self.versions)
        windows_hits = self.windows_paths.hits if self.windows_paths is not None else []
        facts.build_paths = image_build_paths(facts.size, facts.pe, self.paths.hits, windows_hits)

    def _keep_more(self, missing: Unavailable) -> None:
        assert self.source is not None
        wanted = RangeSet(iter(self.source.wanted))
        end = min(missing.offset + max(missing.size, _MISS_WINDOW), self.facts.size)
        wanted.add(missing.offset, end)
        try:
            if self.image is None:  # with the section table at hand, ask for the small sections
                for offset, size in ElfFile.small_sections(self.source):
                    wanted.add(offset, offset + size)
            elif self.image.symbols is not None:  # and what a version symbol lookup reads
                for offset, size in self.image.symbols(self.source):
                    wanted.add(offset, offset + size)
        except (Unavailable, BinaryError):
            pass
        self._read_again(_clip(wanted, self.facts.size))

    def _read_again(self, wanted: RangeSet, search: VersionSearch | None = None) -> None:
        """Read the stream again from the start, keeping ``wanted`` (and searching)."""
        error = self.source.error if self.source else ElfError
        _check_budget(wanted, error)
        self.facts.passes += 1
        source = SparseSource(self.facts.size, wanted, error)
        stop = self.facts.size if search is not None else wanted.last_end
        position = 0
        for chunk in self.stream():
            source.feed(position, chunk)
            if search is not None:
                search.feed(position, chunk)
            position += len(chunk)
            if position >= stop:
                break
        if search is not None:
            search.finish()
        self.source = source


_DLL_SUFFIXES = (".pyd", ".dll", ".exe")
_MACHO_SUFFIXES = (".so", ".dylib")
_FAT_MAGICS = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")


def claimed_format(name: str, head: bytes) -> type[BinaryError] | None:
    """The format a file's name and first bytes claim, however broken its headers.

    A ``.pyd``/``.dll``/``.exe`` that starts with ``MZ`` is a PE image and a ``.so`` or
    ``.dylib`` that starts with the universal magic a Mach-O file, even when the headers
    that prove it are corrupt (an ``e_lfanew`` past the end, a slice count of 65535):
    such a file must fail as a malformed binary, not pass as a data file.  (``CAFEBABE``
    alone also starts a Java class, which is why the name must agree.)
    """
    lower = name.lower()
    if lower.endswith(_DLL_SUFFIXES) and head[:2] == b"MZ":
        return PEError
    if (lower.endswith(_MACHO_SUFFIXES) or ".so." in lower) and head[:4] in _FAT_MAGICS:
        return MachOError
    return None


def _clip(ranges: RangeSet, size: int) -> RangeSet:
    return RangeSet((lo, min(hi, size)) for lo, hi in ranges if lo < size)


def _check_budget(wanted: RangeSet, error: type[BinaryError] = ElfError) -> None:
    if wanted.total > KEEP_LIMIT:
        raise error(
            f"malformed {error.format_name} (its tables would need more than "
            f"{KEEP_LIMIT >> 20} MiB kept)"
        )


_Stage = Callable[[ByteSource], list[tuple[int, int]]]


class _Following:
    """The ranges a Mach-O or PE reader needs, asked for stage by stage as the stream
    reaches them: what a stage names is kept from then on; a range it still lacks is
    kept when the stream gets there, and the stage is asked again past it.  A range
    that already went by is left to a second pass (``_keep_more``)."""

    def __init__(
        self,
        format: type[BinaryError],
        stages: tuple[_Stage, ...],
        size: int,
        symbols: _Stage | None = None,
    ) -> None:
        self.format = format
        self.stages = list(stages)
        self.symbols = symbols  # what a version symbol lookup reads, also asked on a miss
        self.source = SparseSource(size, RangeSet([(0, min(size, _IMAGE_HEAD))]), format)
        self.waiting_until = 0

    @classmethod
    def start(
        cls,
        head: bytes,
        size: int,
        symbols: Callable[[], bool] = lambda: False,
        name: str = "",
    ) -> _Following | None:
        """``symbols()``: also keep what a version symbol lookup reads (tables, data sections;
        asked only of a Mach-O or PE file, since the family lookup costs a scan of the table):
        only the sections after the headers can still be kept, so that stage comes early.
        A file named and begun like a binary is read as one (see :func:`claimed_format`)."""
        claimed = claimed_format(name, head)
        if is_macho(head) or claimed is MachOError:
            extra = macho_symbols.symbol_ranges if symbols() else None
            return cls(MachOError, (slice_ranges, *([extra] if extra else [])), size, extra)
        if is_pe(head) or claimed is PEError:
            extra = pe_symbols.symbol_ranges if symbols() else None
            return cls(PEError, (pe_ranges, *([extra] if extra else []), pe_tables), size, extra)
        return None

    def follow(self, position: int) -> None:
        """Ask the stages what they need, now that the stream reached ``position``."""
        while self.stages and position >= self.waiting_until:
            try:
                ranges = self.stages[0](self.source)
            except Unavailable as missing:
                if missing.offset < position:
                    self.stages.clear()  # it went by: the final read asks for it again
                    return
                end = missing.offset + max(missing.size, _IMAGE_WINDOW)
                self.source.want(missing.offset, min(end, self.source.size), position)
                self.waiting_until = missing.offset + missing.size
                return
            except BinaryError:
                self.stages.clear()  # the final read says what is wrong
                return
            for offset, length in ranges:
                if length <= KEEP_LIMIT // 2:
                    self.source.want(offset, min(offset + length, self.source.size), position)
            _check_budget(self.source.wanted, self.format)
            self.stages.pop(0)
