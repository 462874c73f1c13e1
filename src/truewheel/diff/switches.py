"""Compiler switches two builds differ in, from their units' ``DW_AT_producer`` strings.

A producer is the compiler's name and version followed by the switches it recorded (GCC:
``GNU C17 12.2.0 -mtune=generic -march=x86-64 -g -O2 -fPIC``; clang records none by default).
Units whose producer is the same on both sides say nothing; of the rest, the switches on one
side only are paired by what they set (``-O3 -> -O0``, ``-march=x86-64 -> -march=native``,
``-fwrapv -> -fno-wrapv``), and what has no partner is named as on one side only.  -D and -I
are never recorded, so a missing ``-DNDEBUG`` cannot be seen here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["producer_causes"]

_LEVEL = re.compile(r"-(O|g)(?:[0-3sgz]|fast)?$")


def producer_causes(a: tuple[str, ...], b: tuple[str, ...]) -> list[str]:
    """Causes naming the compilers and switches that differ; [] when the producers agree."""
    only_a = [p for p in a if p not in b]
    only_b = [p for p in b if p not in a]
    if not only_a and not only_b:
        return []
    causes = []
    compilers_a = _unique(_split(p)[0] for p in only_a)
    compilers_b = _unique(_split(p)[0] for p in only_b)
    if compilers_a and compilers_b and set(compilers_a) != set(compilers_b):
        causes.append(
            f"compiler differs (DW_AT_producer): A {', '.join(compilers_a)}"
            f"  B {', '.join(compilers_b)}"
        )
    switches_a = _unique(s for p in only_a for s in _split(p)[1])
    switches_b = _unique(s for p in only_b for s in _split(p)[1])
    removed = [s for s in switches_a if s not in switches_b]
    changes = _switch_changes(removed, [s for s in switches_b if s not in switches_a])
    if changes:
        causes.append(f"compiler switches differ (DW_AT_producer): {changes}")
    if not causes:
        causes.append(
            "compiler switches differ between units (DW_AT_producer): "
            f"{len(a)} distinct in A, {len(b)} in B"
        )
    return causes


def _split(producer: str) -> tuple[str, list[str]]:
    """(compiler, switches): the words before the first one starting with ``-``, and the rest."""
    words = producer.split()
    first = next((i for i, w in enumerate(words) if w.startswith("-")), len(words))
    return " ".join(words[:first]), words[first:]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _kind(switch: str) -> str:
    """What a switch sets: ``-O2`` and ``-O3`` both set the optimization level."""
    level = _LEVEL.match(switch)
    if level:
        return "-" + level.group(1)
    if "=" in switch:
        return switch.split("=", 1)[0] + "="
    if switch.startswith(("-fno-", "-mno-", "-Wno-")):
        return switch[:2] + switch[5:]
    return switch


def _switch_changes(removed: list[str], added: list[str]) -> str:
    pairs, gone = [], []
    unpaired = list(added)
    for switch in removed:
        partner = next((s for s in unpaired if _kind(s) == _kind(switch)), None)
        if partner is None:
            gone.append(switch)
        else:
            unpaired.remove(partner)
            pairs.append(f"{switch} -> {partner}")
    parts = [", ".join(pairs)] if pairs else []
    if gone:
        parts.append(f"only in A: {' '.join(gone)}")
    if unpaired:
        parts.append(f"only in B: {' '.join(unpaired)}")
    return "; ".join(parts)
