"""Find the root cause of a difference between two builds of one ELF file.

Most unreproducible native builds differ for a handful of reasons: a build
directory recorded in DWARF (``DW_AT_comp_dir``, line tables) or in strings,
a date or time baked in by ``__DATE__``/``__TIME__``, different compiler
flags (``DW_AT_producer``), or genuinely different code.  Differences in the
build-id note and ``.gnu_debuglink`` are consequences of any of those, never
causes.  The proof for a build path is mechanical: replace A's path by B's
in A's bytes and see whether the files then match (apart from consequences).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from truewheel.elf import ElfFile

__all__ = ["ElfDifference", "explain_elf_difference"]

CONSEQUENCE_SECTIONS = (".note.gnu.build-id", ".gnu_debuglink")
_SHT_NOBITS = 8
_DATE = re.compile(rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d{4}")
_TIME = re.compile(rb"\b[0-2]\d:[0-5]\d:[0-5]\d\b")
_ABSOLUTE_PATH = re.compile(rb"/[A-Za-z0-9._+@%~=-]+(?:/[A-Za-z0-9._+@%~=-]+)+")
_PRODUCER = re.compile(rb"GNU (?:C|C\+\+|Fortran|Assembler)[\w+]* [\x20-\x7e]+")


@dataclass
class ElfDifference:
    """What differs in one ELF member and why."""

    causes: list[str] = field(default_factory=list)
    consequences: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    build_paths: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))


def explain_elf_difference(a: bytes, b: bytes) -> ElfDifference:
    elf_a, elf_b = ElfFile.parse(a), ElfFile.parse(b)
    result = ElfDifference(sections=_differing_sections(elf_a, a, elf_b, b))
    changes, where = _path_changes(elf_a, a, elf_b, b, result.sections)
    paths_a, paths_b = [x for x, _ in changes], [y for _, y in changes]
    result.build_paths = (paths_a, paths_b)
    remaining = result.sections
    if changes:
        result.causes.append(
            f"build path differs ({', '.join(where)}): "
            + "; ".join(f"A {x}  B {y}" for x, y in changes[:3])
        )
        substituted = _substitute_paths(a, changes)
        if substituted is not None:
            remaining = _differing_sections(ElfFile.parse(substituted), substituted, elf_b, b)
            rest = [s for s in remaining if s not in CONSEQUENCE_SECTIONS]
            if not rest:
                result.causes[-1] += "; with the path replaced the files match (the only cause)"
            elif all(s.startswith(".debug") for s in rest):
                result.causes[-1] += (
                    f"; the other differences are in debug sections only ({', '.join(rest)}), "
                    "where the linker laid the changed strings out in another order"
                )
                remaining = []
    other = [s for s in remaining if s not in CONSEQUENCE_SECTIONS]
    result.causes += _other_causes(elf_a, a, elf_b, b, other)
    if not result.causes and other:
        result.causes.append(f"content differs in {', '.join(other[:6])}")
    for section in CONSEQUENCE_SECTIONS:
        if section in result.sections:
            result.consequences.append(f"{section} differs (follows from the content)")
    return result


def _path_changes(
    elf_a: ElfFile, a: bytes, elf_b: ElfFile, b: bytes, sections: list[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Absolute paths that differ between A and B, cut down to the differing directory."""
    pairs: set[tuple[str, str]] = set()
    where: list[str] = []
    for name in sections:
        if not (name.startswith(".debug") or name in (".rodata", ".comment", ".dynstr")):
            continue
        strings_a, strings_b = _paths_in(elf_a, a, name), _paths_in(elf_b, b, name)
        only_a, only_b = sorted(strings_a - strings_b), sorted(strings_b - strings_a)
        found = {_differing_directory(x, y) for x, y in zip(only_a, only_b, strict=False)}
        found.discard(None)
        if found:
            where.append(name)
            pairs |= {p for p in found if p is not None}
    return sorted(pairs), where


def _paths_in(elf: ElfFile, data: bytes, name: str) -> set[str]:
    section = elf.sections[name]
    chunk = data[section.offset : section.offset + section.size]
    return {m.group().decode("utf-8", "replace") for m in _ABSOLUTE_PATH.finditer(chunk)}


def _differing_directory(x: str, y: str) -> tuple[str, str] | None:
    """``/a/b/buildA/src/x.c`` vs ``/a/b/buildB/src/x.c`` -> (``/a/b/buildA``, ``/a/b/buildB``)."""
    px, py = x.split("/"), y.split("/")
    first = next((i for i, (u, v) in enumerate(zip(px, py, strict=False)) if u != v), None)
    if first is None:
        return None
    return "/".join(px[: first + 1]), "/".join(py[: first + 1])


def _differing_sections(elf_a: ElfFile, a: bytes, elf_b: ElfFile, b: bytes) -> list[str]:
    names = sorted(set(elf_a.sections) | set(elf_b.sections))
    out = []
    for name in names:
        sa, sb = elf_a.sections.get(name), elf_b.sections.get(name)
        if sa is None or sb is None:
            out.append(name)
            continue
        if sa.type == sb.type == _SHT_NOBITS:  # .bss and friends occupy no file bytes
            if sa.size != sb.size:
                out.append(name)
            continue
        if a[sa.offset : sa.offset + sa.size] != b[sb.offset : sb.offset + sb.size]:
            out.append(name)
    return out


def _substitute_paths(a: bytes, changes: list[tuple[str, str]]) -> bytes | None:
    """A's bytes with its differing directories replaced by B's, when lengths allow it."""
    out = a
    for old, new in changes:
        if len(old) != len(new):
            return None
        out = out.replace(old.encode(), new.encode())
    return out


def _other_causes(
    elf_a: ElfFile, a: bytes, elf_b: ElfFile, b: bytes, sections: list[str]
) -> list[str]:
    causes = []
    producers_a, producers_b = _strings(elf_a, a, _PRODUCER), _strings(elf_b, b, _PRODUCER)
    if producers_a != producers_b:
        only_a = sorted(set(producers_a) - set(producers_b))[:1]
        only_b = sorted(set(producers_b) - set(producers_a))[:1]
        causes.append(f"compiler flags differ (DW_AT_producer): A {only_a}  B {only_b}")
    for label, pattern in (("date", _DATE), ("time", _TIME)):
        va, vb = _strings(elf_a, a, pattern, ".rodata"), _strings(elf_b, b, pattern, ".rodata")
        if va != vb:
            causes.append(f"embedded {label} differs (.rodata): A {va[:2]}  B {vb[:2]}")
    code = [s for s in sections if s in (".text", ".data", ".rodata", ".init", ".fini", ".plt")]
    if code and not causes:
        causes.append(f"code or data differs: {', '.join(code)}")
    return causes


def _strings(elf: ElfFile, data: bytes, pattern: re.Pattern[bytes], *only: str) -> list[str]:
    names = only or tuple(n for n in elf.sections if n.startswith(".debug") or n == ".comment")
    found: list[str] = []
    for name in names:
        section = elf.sections.get(name)
        if section is None or section.type == 8:
            continue
        chunk = data[section.offset : section.offset + section.size]
        found += [m.group().decode("utf-8", "replace") for m in pattern.finditer(chunk)]
    return sorted(set(found))
