"""Find the root cause of a difference between two builds of one ELF file.

Most unreproducible native builds differ for a handful of reasons: a build
directory recorded in DWARF (``DW_AT_comp_dir``, line tables) or in strings,
a date or time baked in by ``__DATE__``/``__TIME__``, different compiler
flags (``DW_AT_producer``), or genuinely different code.  Differences in the
build-id note and ``.gnu_debuglink`` are consequences of any of those, never
causes.  A file edited after the link (a repair's patchelf) differs in its
dynamic section: the edits are named (:mod:`truewheel.diff.dynamic`) and the
tables they rewrite are consequences.  The proof for a build path is
mechanical: replace A's path by B's in A's bytes and see whether the files then
match (apart from consequences).

Neither file is ever whole in memory: each streams past to read its section
table, again to hash every section and collect the strings the explanation
needs, and A once more with the paths replaced, hashed the same way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from truewheel.analysis.member import Stream, analyze_stream
from truewheel.diff.dynamic import DYNAMIC_SECTIONS, dynamic_edits
from truewheel.diff.switches import producer_causes
from truewheel.elf import ElfFile, Section
from truewheel.elf.dwarf import Producers, UnitHeads, producers
from truewheel.elf.search import StreamSearch
from truewheel.elf.source import RangeSet, SparseSource

__all__ = ["ElfDifference", "explain_elf_difference"]

CONSEQUENCE_SECTIONS = (".note.gnu.build-id", ".gnu_debuglink")
_SHT_NOBITS = 8
_DATE = re.compile(rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d{4}")
_TIME = re.compile(rb"\b[0-2]\d:[0-5]\d:[0-5]\d\b")
_ABSOLUTE_PATH = re.compile(rb"/[A-Za-z0-9._+@%~=-]+(?:/[A-Za-z0-9._+@%~=-]+)+")
_MAX_STRINGS = 100_000
_DWARF_PASSES = 4  # abbreviations, string offsets (clang), strings, and one to spare


class _Feeder(Protocol):
    """What reads a section's bytes as they stream past (a search, the DWARF unit walk)."""

    def feed(self, offset: int, chunk: bytes | memoryview) -> None: ...

    def finish(self) -> None: ...


@dataclass
class ElfDifference:
    """What differs in one ELF member and why."""

    causes: list[str] = field(default_factory=list)
    consequences: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    build_paths: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))


@dataclass
class _Side:
    """One file's section digests and the strings its sections hold."""

    elf: ElfFile
    digests: dict[str, bytes]
    strings: dict[tuple[str, str], list[str]]
    producers: Producers

    def found(self, kind: str, section: str) -> set[str]:
        return set(self.strings.get((kind, section), ()))


def explain_elf_difference(a: Stream, size_a: int, b: Stream, size_b: int) -> ElfDifference:
    side_a, side_b = _read(a, size_a), _read(b, size_b)
    result = ElfDifference(sections=_differing(side_a.elf, side_a.digests, side_b))
    result.causes = dynamic_edits(side_a.elf, side_b.elf)
    following = set(CONSEQUENCE_SECTIONS) | (DYNAMIC_SECTIONS if result.causes else set())
    one_sided, debug_sections = _one_sided_sections(side_a.elf, side_b.elf)
    result.causes += one_sided
    if one_sided or debug_sections:
        following.add(".shstrtab")
    searched = [s for s in result.sections if not (result.causes and s in DYNAMIC_SECTIONS)]
    changes, where = _path_changes(side_a, side_b, searched)
    result.build_paths = ([x for x, _ in changes], [y for _, y in changes])
    remaining = result.sections
    if changes:
        result.causes.append(
            f"build path differs ({', '.join(where)}): "
            + "; ".join(f"A {x}  B {y}" for x, y in changes[:3])
        )
        if all(len(x) == len(y) for x, y in changes):
            substituted = _section_digests(side_a.elf, _substituted(a, changes))
            remaining = _differing(side_a.elf, substituted, side_b)
            rest = [s for s in remaining if s not in following]
            if not rest:
                result.causes[-1] += "; with the path replaced the files match (the only cause)"
            elif all(s.startswith(".debug") for s in rest):
                result.causes[-1] += (
                    f"; the other differences are in debug sections only ({', '.join(rest)}), "
                    "where the linker laid the changed strings out in another order"
                )
                remaining = []
    other = [s for s in remaining if s not in following]
    result.causes += _other_causes(side_a, side_b, other)
    if any(c.startswith("compiler") for c in result.causes):
        result.consequences += [f"{d} (follows from the compiler switches)" for d in debug_sections]
    else:
        result.causes += debug_sections
    if not result.causes and other:
        result.causes.append(f"content differs in {', '.join(other[:6])}")
    if ".shstrtab" in following and ".shstrtab" in result.sections:
        result.consequences.append(".shstrtab differs (follows from the sections present)")
    rewritten = [
        s
        for s in result.sections
        if s in following and s not in CONSEQUENCE_SECTIONS and s != ".shstrtab"
    ]
    if rewritten:
        result.consequences.append(
            f"{', '.join(rewritten)} differ (follow from the dynamic section's changes)"
        )
    for section in CONSEQUENCE_SECTIONS:
        if section in result.sections:
            result.consequences.append(f"{section} differs (follows from the content)")
    return result


def _read(stream: Stream, size: int) -> _Side:
    elf = analyze_stream(stream, size, "", None, digests=()).elf
    assert elf is not None
    searches: dict[tuple[str, str], tuple[Section, StreamSearch]] = {}
    for name, section in elf.sections.items():
        if section.type == _SHT_NOBITS:
            continue
        kinds = []
        if name.startswith(".debug") or name in (".rodata", ".comment", ".dynstr"):
            kinds.append(("path", _ABSOLUTE_PATH))
        if name == ".rodata":
            kinds += [("date", _DATE), ("time", _TIME)]
        for kind, pattern in kinds:
            searches[(kind, name)] = (section, StreamSearch(pattern, max_hits=_MAX_STRINGS))
    info = elf.sections.get(".debug_info")
    units = UnitHeads(elf.little_endian, info.size if info is not None else 0)
    feeders: dict[str, list[_Feeder]] = {}
    for (_, name), (_, search) in searches.items():
        feeders.setdefault(name, []).append(search)
    feeders.setdefault(".debug_info", []).append(units)
    digests = _section_digests(elf, stream(), feeders)
    strings = {
        key: [h.text.decode("utf-8", "replace") for h in search.hits]
        for key, (_, search) in searches.items()
    }
    return _Side(elf, digests, strings, _producers(elf, stream, size, units))


def _producers(elf: ElfFile, stream: Stream, size: int, units: UnitHeads) -> Producers:
    """Each unit's producer, the ranges it lives in kept on further passes over the stream."""
    wanted = RangeSet()
    for _ in range(_DWARF_PASSES):
        source = SparseSource(size, RangeSet(iter(wanted)))
        position = 0
        for chunk in stream() if len(wanted) else ():
            source.feed(position, chunk)
            position += len(chunk)
            if position >= wanted.last_end:
                break
        found = producers(units, source, elf.sections, elf.little_endian)
        if not found.missing:
            return found
        for offset, length in found.missing:
            wanted.add(offset, offset + length)
    return Producers(skipped=len(units.heads), truncated=units.truncated)


def _section_digests(
    elf: ElfFile, chunks: Iterator[bytes], by_section: dict[str, list[_Feeder]] | None = None
) -> dict[str, bytes]:
    """sha256 of every section's file bytes (NOBITS sections: of their size), in one pass."""
    spans = sorted(
        (s.offset, s.offset + s.size, name)
        for name, s in elf.sections.items()
        if s.type != _SHT_NOBITS and s.size
    )
    hashers = {name: hashlib.sha256() for _, _, name in spans}
    by_section = by_section or {}
    position = 0
    for chunk in chunks:
        end = position + len(chunk)
        for lo, hi, name in spans:
            if lo >= end or hi <= position:
                continue
            start = max(lo, position)
            piece = chunk[start - position : min(hi, end) - position]
            hashers[name].update(piece)
            for search in by_section.get(name, ()):
                search.feed(start - lo, piece)
        position = end
    for found in by_section.values():
        for search in found:
            search.finish()
    digests = {name: h.digest() for name, h in hashers.items()}
    for name, s in elf.sections.items():
        if s.type == _SHT_NOBITS or not s.size:
            digests[name] = f"{s.type}:{s.size}".encode()
    return digests


def _differing(elf_a: ElfFile, digests_a: dict[str, bytes], b: _Side) -> list[str]:
    names = sorted(set(elf_a.sections) | set(b.elf.sections))
    return [n for n in names if digests_a.get(n) is None or digests_a.get(n) != b.digests.get(n)]


def _one_sided_sections(a: ElfFile, b: ElfFile) -> tuple[list[str], list[str]]:
    """Causes: debug info on one side only, other sections one side lacks.  Apart: debug
    sections one side lacks when both have debug info (``-O0`` has no .debug_loclists), which
    follow from different switches when those are seen, and are a cause otherwise."""
    causes, debug_sections = [], []
    for label, this, other in (("A", a, b), ("B", b, a)):
        only = [n for n in this.sections if n not in other.sections]
        only = [n for n in only if n not in CONSEQUENCE_SECTIONS]
        debug = sorted(n for n in only if n.startswith((".debug", ".zdebug")))
        rest = sorted(n for n in only if n not in debug)
        if this.has_debug_info and not other.has_debug_info:
            causes.append(f"debug info present in {label} only ({', '.join(debug)})")
        elif debug:
            debug_sections.append(f"sections only in {label}: {', '.join(debug)}")
        if rest:
            causes.append(f"sections only in {label}: {', '.join(rest)}")
    return causes, debug_sections


def _path_changes(
    a: _Side, b: _Side, sections: list[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Absolute paths that differ between A and B, cut down to the differing directory."""
    pairs: set[tuple[str, str]] = set()
    where: list[str] = []
    for name in sections:
        strings_a, strings_b = a.found("path", name), b.found("path", name)
        only_a, only_b = sorted(strings_a - strings_b), sorted(strings_b - strings_a)
        found = {_differing_directory(x, y) for x, y in _paired(only_a, only_b)}
        found.discard(None)
        if found:
            where.append(name)
            pairs |= {p for p in found if p is not None}
    return sorted(pairs), where


_MAX_MATCHED = 512


def _paired(only_a: list[str], only_b: list[str]) -> Iterator[tuple[str, str]]:
    """Each path of A with the path of B that ends the same way (the same file of the same
    tree, built under another root); by sorted order when there are too many to match."""
    if len(only_a) * len(only_b) > _MAX_MATCHED**2:
        yield from zip(only_a, only_b, strict=False)
        return
    split_a = [x.split("/") for x in only_a]
    split_b = [y.split("/") for y in only_b]
    scored = sorted(
        (
            (-_common_tail(px, py), i, j)
            for i, px in enumerate(split_a)
            for j, py in enumerate(split_b)
        ),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    for _, i, j in scored:  # the best-matching pairs first, ties in sorted order
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            yield only_a[i], only_b[j]


def _common_tail(px: list[str], py: list[str]) -> int:
    tail = 0
    while tail < min(len(px), len(py)) - 1 and px[-1 - tail] == py[-1 - tail]:
        tail += 1
    return tail


def _differing_directory(x: str, y: str) -> tuple[str, str] | None:
    """The roots two paths of one tree sit under: their common ending left out.

    ``/a/b/buildA/src/x.c`` vs ``/a/b/buildB/src/x.c`` -> (``/a/b/buildA``, ``/a/b/buildB``);
    ``/tmp/pip-req-build-q1/src/x.c`` vs ``/truewheel/src/src/x.c`` -> (``/tmp/pip-req-build-q1``,
    ``/truewheel/src``).  Paths that end differently are shown whole.
    """
    px, py = x.split("/"), y.split("/")
    if px == py:
        return None
    tail = _common_tail(px, py)
    return "/".join(px[: len(px) - tail]), "/".join(py[: len(py) - tail])


def _substituted(stream: Stream, changes: list[tuple[str, str]]) -> Iterator[bytes]:
    """A's bytes with its differing directories replaced by B's (all of equal length)."""
    pairs = [(old.encode(), new.encode()) for old, new in changes]
    keep = max(len(old) for old, _ in pairs) - 1
    carry = b""
    for chunk in stream():
        buffer = carry + chunk
        for old, new in pairs:
            buffer = buffer.replace(old, new)
        cut = max(len(buffer) - keep, 0)
        yield buffer[:cut]
        carry = buffer[cut:]
    yield carry


def _other_causes(a: _Side, b: _Side, sections: list[str]) -> list[str]:
    causes = []
    pa, pb = a.producers, b.producers
    if pa.names and pb.names and not (pa.truncated or pb.truncated):
        causes += producer_causes(pa.names, pb.names)
    if ".comment" in sections and not any(c.startswith("compiler differs") for c in causes):
        causes += _comment_causes(a.elf.comment, b.elf.comment)
    for label in ("date", "time"):
        va, vb = sorted(a.found(label, ".rodata")), sorted(b.found(label, ".rodata"))
        if va != vb:
            causes.append(f"embedded {label} differs (.rodata): A {va[:2]}  B {vb[:2]}")
    code = [s for s in sections if s in (".text", ".data", ".rodata", ".init", ".fini", ".plt")]
    if code and not causes:
        causes.append(f"code or data differs: {', '.join(code)}")
    return causes


def _comment_causes(a: list[str], b: list[str]) -> list[str]:
    """Another compiler named in ``.comment`` (``GCC: (GNU) 10.2.1`` vs ``GCC: (Debian
    12.2.0-14) 12.2.0``): what a stripped file still says about its toolchain."""
    if set(a) == set(b):
        return []
    # Whole lists: a clang-linked file also carries the GCC line of the C runtime's objects.
    shown_a, shown_b = "; ".join(a) or "-", "; ".join(b) or "-"
    return [f"compiler differs (.comment): A {shown_a}  B {shown_b}"]
