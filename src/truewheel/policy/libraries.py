"""Recognise third-party libraries by identity: family, version, and how they are named.

A vendored copy is recognised from its file name or SONAME with any hash
mangling removed (see :class:`LibraryName` for the schemes in use), and its
version from what the library itself carries: a version string in its bytes,
a string behind an exported symbol, its file name, or the RPM debuglink name
of a GCC runtime.  The table and its matching rules live in
``data/libraries.json`` (see ``data/libraries.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from packaging.utils import canonicalize_name

from truewheel.elf import ElfFile
from truewheel.elf.search import StreamSearch
from truewheel.elf.source import ByteSource
from truewheel.elf.symbols import exported_string
from truewheel.macho import MachOFile
from truewheel.macho import symbols as macho_symbols
from truewheel.pe import PEFile
from truewheel.pe import symbols as pe_symbols
from truewheel.policy._data import load_table

__all__ = ["SINGLETON_CATEGORIES", "Family", "LibraryName", "LibraryTable", "VersionEvidence"]

#: Categories of runtimes of which a process must load exactly one copy (two OpenMP or BLAS
#: runtimes make two thread pools; two MPI or CUDA runtimes two states).
SINGLETON_CATEGORIES = frozenset({"openmp", "blas", "lapack", "cuda-runtime", "mpi"})

_HASH_SUFFIX = re.compile(r"-(?:[0-9a-f]{8}|[0-9a-f]{32})$")
_PART = r"\.[0-9A-Za-z_]+"
_MANGLING = (
    # auditwheel, delvewheel and the OpenBLAS builds numpy/scipy ship: the hash after a '-',
    # before the suffix; release parts may come first (libopenblas64_p-r0-0cf96a72.3.23.dev.so)
    # and need not be numeric (libcrypto-5409cd36.so.1.1.1k).
    re.compile(
        rf"^(?P<stem>.+?)-(?P<hash>[0-9a-f]{{8}}|[0-9a-f]{{32}})"
        rf"(?P<rest>(?:{_PART})*?\.(?:so|dll)(?:{_PART})*)$"
    ),
    # torchvision and NVIDIA's repairs: the hash as a dot-separated part (libcudart.faf08d9a.so.13).
    re.compile(rf"^(?P<stem>[^.]+)\.(?P<hash>[0-9a-f]{{8}})(?P<rest>\.so(?:{_PART})*)$"),
)
_MAX_VERSION_SCAN = 512 * 2**20
_MAX_TOOLCHAIN_SECTION = 1 << 20


@dataclass(frozen=True, slots=True)
class LibraryName:
    """A shared-library file name split into its stem, mangling hash and suffix.

    A repair tool renames a library it grafts so that no other copy in the process
    can stand in for it.  The schemes in use: auditwheel ``libz-0a1b2c3d.so.1.2.13``
    (a second pass adds a second hash), delvewheel ``zlib-<32 hex>.dll``, numpy's and
    scipy's OpenBLAS ``libscipy_openblas64_-ff651d7f.so`` and
    ``libopenblas64_p-r0-0cf96a72.3.23.dev.so``, torchvision's and NVIDIA's
    ``libcudart.faf08d9a.so.13``.
    """

    stem: str
    hash: str | None
    suffix: str

    @classmethod
    def parse(cls, basename: str) -> LibraryName:
        match = next((m for p in _MANGLING if (m := p.match(basename))), None)
        if match:
            stem, hash_, suffix = match["stem"], match["hash"], match["rest"]
        elif basename.endswith(".dylib"):
            stem, sep, tail = basename.partition(".")
            hash_, suffix = None, sep + tail
        elif basename.lower().endswith(".dll"):
            stem, hash_, suffix = basename[:-4], None, basename[-4:]
        else:
            head, sep, tail = basename.partition(".so")
            stem, hash_, suffix = head, None, sep + tail
        while _HASH_SUFFIX.search(stem):  # a second auditwheel pass adds a second hash
            stem = _HASH_SUFFIX.sub("", stem)
        return cls(stem, hash_, suffix)

    @property
    def unmangled(self) -> str:
        return self.stem + self.suffix


@dataclass(frozen=True)
class Family:
    """A library as people know it: GNU MP, OpenBLAS, the CUDA runtime..."""

    id: str
    name: str
    patterns: tuple[str, ...]
    exact: bool
    version_sources: tuple[str, ...]
    version_symbol: str | None
    version_symbol_kind: str | None
    version_symbol_encoding: str | None
    filename_version_source: str | None
    version_from_toolchain: bool
    category: str
    license: str | None
    restricted: bool
    note: str | None
    first_party_dists: frozenset[str]
    #: a file name (whole, with its suffix) the stem rule cannot express: Qt's frameworks
    #: (``QtCore``) and DLLs (``Qt6Core.dll``), whose bindings' modules are ``QtCore.abi3.so``
    basename_pattern: re.Pattern[str] | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Family:
        return cls(
            id=raw["id"],
            name=raw["name"],
            patterns=tuple(raw.get("soname_patterns", ())),
            exact=raw.get("soname_match") == "exact",
            version_sources=tuple(raw.get("version_patterns", ())),
            version_symbol=raw.get("version_symbol"),
            version_symbol_kind=raw.get("version_symbol_kind"),
            version_symbol_encoding=raw.get("version_symbol_encoding"),
            filename_version_source=raw.get("filename_version_pattern") or None,
            version_from_toolchain=raw.get("version_from") == "toolchain",
            category=raw.get("category", "other"),
            license=raw.get("license"),
            restricted=raw.get("redistribution") == "restricted",
            note=raw.get("note"),
            first_party_dists=frozenset(
                canonicalize_name(d) for d in raw.get("first_party_dists", ())
            ),
            basename_pattern=re.compile(raw["basename_pattern"])
            if "basename_pattern" in raw
            else None,
        )

    @cached_property
    def version_patterns(self) -> tuple[re.Pattern[bytes], ...]:
        """Compiled on first use: a run touches few families, compiling all costs ~30 ms."""
        return tuple(re.compile(p.encode()) for p in self.version_sources)

    @cached_property
    def filename_version(self) -> re.Pattern[str] | None:
        source = self.filename_version_source
        return re.compile(source) if source else None

    def match_length(self, stem: str) -> int:
        """Length of the longest pattern naming this stem, 0 when none does."""
        best = 0
        for p in self.patterns:
            if stem == p or (
                not self.exact
                and stem.startswith(p)
                and (p[-1] in "-_" or not stem[len(p)].isalpha())
            ):
                best = max(best, len(p))
        return best


@dataclass(frozen=True, slots=True)
class VersionEvidence:
    """A version and what inside the binary told it."""

    family: str
    version: str
    evidence: str


class LibraryTable:
    """The families from ``libraries.json``; the longest matching pattern wins."""

    def __init__(self, families: list[Family], generic: dict[str, re.Pattern[bytes]]) -> None:
        self.families = families
        self.generic = generic

    @classmethod
    def load(cls) -> LibraryTable:
        table = load_table("libraries.json")
        generic = {
            g["id"]: re.compile(g["pattern"].encode())
            for g in table.get("generic_version_patterns", ())
        }
        return cls([Family.from_json(raw) for raw in table["families"]], generic)

    def family_for(self, basename: str) -> Family | None:
        stem = LibraryName.parse(basename).stem
        scored = [
            (len(basename) if f.basename_pattern.fullmatch(basename) else 0, f)
            for f in self.families
            if f.basename_pattern is not None
        ]
        scored += [(f.match_length(stem), f) for f in self.families]
        length, family = max(scored, key=lambda s: s[0], default=(0, None))
        return family if length else None

    def family_of(self, member: str, soname: str | None = None) -> Family | None:
        """The family a file belongs to, by its base name first and then its SONAME."""
        names = [member.rsplit("/", 1)[-1]] + ([soname] if soname else [])
        return next((f for f in map(self.family_for, names) if f), None)

    def version_search(self, member: str, size: int, soname: str | None = None) -> VersionSearch:
        """What to look for in the bytes of ``member`` while they stream past."""
        family = self.family_of(member, soname)
        if family is None or size > _MAX_VERSION_SCAN:
            return VersionSearch(family, ())
        return VersionSearch(
            family,
            tuple(StreamSearch(p, max_hits=1, overlap=1024) for p in family.version_patterns),
        )

    def find_versions(
        self, member: str, elf: ElfFile, source: ByteSource, search: VersionSearch
    ) -> list[VersionEvidence]:
        """The version of the library this file is, from the best evidence it carries.

        ``search`` must have seen every byte of the file, and be for the family
        :meth:`family_of` gives with the file's SONAME (see :meth:`version_search`).
        """
        basename = member.rsplit("/", 1)[-1]
        family = search.family
        if family is None:
            return []
        found = (
            search.found()
            or self._from_symbol(family, elf, source)
            or self._from_filename(family, basename)
            or self._from_toolchain(family, elf, source)
        )
        return [VersionEvidence(family.id, found[0], found[1])] if found else []

    def found_versions(
        self,
        member: str,
        search: VersionSearch,
        image: MachOFile | PEFile | None = None,
        source: ByteSource | None = None,
    ) -> list[VersionEvidence]:
        """The version of a Mach-O or PE library: from its strings, else the string behind
        its exported version symbol (read from ``image`` through ``source``; without them
        the symbol is not read), else its file name.  Toolchain notes are ELF only.

        ``search`` must have seen every byte of the file.  Reading the symbol may raise
        :class:`~truewheel.elf.source.Unavailable` for a streaming ``source``.
        """
        family = search.family
        if family is None:
            return []
        found = (
            search.found()
            or self._from_image_symbol(family, image, source)
            or self._from_filename(family, member.rsplit("/", 1)[-1])
        )
        return [VersionEvidence(family.id, found[0], found[1])] if found else []

    def _from_symbol(
        self, family: Family, elf: ElfFile, source: ByteSource
    ) -> tuple[str, str] | None:
        if not family.version_symbol or not family.version_symbol_kind:
            return None
        value = exported_string(elf, source, family.version_symbol, family.version_symbol_kind)
        return _symbol_version(family, value)

    def _from_image_symbol(
        self, family: Family, image: MachOFile | PEFile | None, source: ByteSource | None
    ) -> tuple[str, str] | None:
        symbol, kind = family.version_symbol, family.version_symbol_kind
        if not symbol or not kind or image is None or source is None:
            return None
        if isinstance(image, MachOFile):
            value = macho_symbols.exported_string(image, source, symbol, kind)
        else:
            value = pe_symbols.exported_string(source, symbol, kind)
        return _symbol_version(family, value)

    def _from_filename(self, family: Family, basename: str) -> tuple[str, str] | None:
        if family.filename_version is None:
            return None
        match = family.filename_version.match(LibraryName.parse(basename).unmangled)
        return (match.group(1), f"file name {basename}") if match else None

    def _from_toolchain(
        self, family: Family, elf: ElfFile, source: ByteSource
    ) -> tuple[str, str] | None:
        if not family.version_from_toolchain:
            return None
        sources = [("rpm-debuglink", ".gnu_debuglink", 2), ("gcc-comment", ".comment", 1)]
        for pattern_id, section_name, group in sources:
            section, pattern = elf.sections.get(section_name), self.generic.get(pattern_id)
            if section is None or pattern is None or section.type == 8:
                continue
            size = min(section.size, _MAX_TOOLCHAIN_SECTION)
            match = pattern.search(source.read(section.offset, size, section_name))
            if match:
                return match.group(group).decode(
                    errors="replace"
                ), f"toolchain: {match.group().decode(errors='replace')}"
        return None


def _symbol_version(family: Family, value: str | None) -> tuple[str, str] | None:
    """(version, evidence) from the string behind ``family``'s version symbol."""
    if not value:
        return None
    version = value
    if family.version_symbol_encoding == "MMmmpp" and value.isascii() and value.isdigit():
        number = int(value)
        version = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    return version, f"{family.version_symbol} = {value!r}"


@dataclass(frozen=True)
class VersionSearch:
    """The version patterns of one family, searched for in a file as it streams past."""

    family: Family | None
    searches: tuple[StreamSearch, ...]

    def feed(self, offset: int, chunk: bytes) -> None:
        for search in self.searches:
            search.feed(offset, chunk)

    def finish(self) -> None:
        for search in self.searches:
            search.finish()

    def found(self) -> tuple[str, str] | None:
        """The first pattern (in the table's order) that matched: (version, what matched)."""
        for search in self.searches:
            if search.hits:
                hit = search.hits[0]
                version = hit.groups[0] if hit.groups and hit.groups[0] is not None else hit.text
                return version.decode(errors="replace"), hit.text.decode(errors="replace")
        return None
