"""Recognise third-party libraries by identity: family, version, and how they are named.

A vendored copy is recognised from its file name or SONAME with any hash
mangling removed (auditwheel appends ``-<8 hex>``, delvewheel
``-<32 hex>``), and its version from strings the library itself embeds (e.g.
``OpenBLAS 0.3.27``).  The table lives in ``data/libraries.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from truewheel.elf import ElfFile
from truewheel.policy._data import load_table

__all__ = ["Family", "LibraryName", "LibraryTable", "VersionEvidence"]

_MANGLED = re.compile(
    r"^(?P<stem>.+?)-(?P<hash>[0-9a-f]{8}|[0-9a-f]{32})(?P<rest>(?:\.[0-9]+)*\.so(?:\.[0-9]+)*)$"
)
_PLAIN = re.compile(r"^(?P<stem>.+?)(?P<rest>(?:\.so)(?:\.[0-9A-Za-z_]+)*)$")
_VERSION_SECTIONS = (".rodata", ".comment", ".data.rel.ro", ".data")


@dataclass(frozen=True, slots=True)
class LibraryName:
    """A shared-library file name split into stem, mangling hash and suffix."""

    stem: str
    hash: str | None
    suffix: str

    @classmethod
    def parse(cls, basename: str) -> LibraryName:
        match = _MANGLED.match(basename)
        if match:
            return cls(match["stem"], match["hash"], match["rest"])
        match = _PLAIN.match(basename)
        if match:
            return cls(match["stem"], None, match["rest"])
        return cls(basename, None, "")

    @property
    def unmangled(self) -> str:
        return self.stem + self.suffix


@dataclass(frozen=True)
class Family:
    """A library as people know it: GNU MP, OpenBLAS, the CUDA runtime..."""

    id: str
    name: str
    patterns: tuple[str, ...]
    version_patterns: tuple[re.Pattern[bytes], ...]
    category: str
    license: str | None
    restricted: bool
    note: str | None
    version_from_toolchain: bool

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Family:
        return cls(
            id=raw["id"],
            name=raw["name"],
            patterns=tuple(raw.get("soname_patterns", ())),
            version_patterns=tuple(re.compile(p.encode()) for p in raw.get("version_patterns", ())),
            category=raw.get("category", "other"),
            license=raw.get("license"),
            restricted=raw.get("redistribution") == "restricted",
            note=raw.get("note"),
            version_from_toolchain=raw.get("version_from") == "toolchain",
        )

    def matches(self, stem: str) -> bool:
        for pattern in self.patterns:
            if stem == pattern:
                return True
            if stem.startswith(pattern):
                following = stem[len(pattern)]
                if pattern[-1] in "-_." or following in "-_.0123456789" or following.isupper():
                    return True
        return False


@dataclass(frozen=True, slots=True)
class VersionEvidence:
    """A version and the string inside the binary that told it."""

    family: str
    version: str
    evidence: str


class LibraryTable:
    """The families from ``libraries.json``, matched most specific first."""

    def __init__(self, families: list[Family]) -> None:
        self.families = families
        self._by_pattern = sorted(
            ((p, f) for f in families for p in f.patterns), key=lambda pf: -len(pf[0])
        )

    @classmethod
    def load(cls) -> LibraryTable:
        table = load_table("libraries.json")
        return cls([Family.from_json(raw) for raw in table["families"]])

    def family_for(self, basename: str) -> Family | None:
        stem = LibraryName.parse(basename).stem
        for pattern, family in self._by_pattern:
            if stem.startswith(pattern) and family.matches(stem):
                return family
        return None

    def find_versions(self, member: str, elf: ElfFile, data: bytes) -> list[VersionEvidence]:
        """Version strings of the family this file belongs to, searched in its data sections."""
        names = [member.rsplit("/", 1)[-1]] + ([elf.soname] if elf.soname else [])
        family = next((f for f in map(self.family_for, names) if f), None)
        if family is None or not family.version_patterns:
            return []
        view = memoryview(data)
        for section_name in _VERSION_SECTIONS:
            section = elf.sections.get(section_name)
            if section is None or section.type == 8:
                continue
            chunk = view[section.offset : section.offset + section.size]
            for pattern in family.version_patterns:
                match = pattern.search(chunk)
                if match:
                    evidence = match.group().decode("utf-8", "replace")
                    version = match.group(1).decode("utf-8", "replace")
                    return [VersionEvidence(family.id, version, evidence)]
        return []
