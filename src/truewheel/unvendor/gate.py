"""Choose the one copy of a library that may serve every consumer, or say why none may.

A copy may be shared when, for every input wheel's copy, each file that binds to
that copy today finds every symbol it binds there, by name and version, in the
shared copy (:mod:`truewheel.analysis.abi`); when it is at least the version each
copy is; when its platform needs are met by every tag the consumer wheels claim
(the caller's ``platform_problem``).  All copies are one ABI revision
(:func:`truewheel.unvendor.copies.group_copies`).

A version the bytes do not tell cannot be shown to be "at least" another, so copies
of unknown version are shared only when they are byte-identical.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from packaging.version import Version

from truewheel.analysis.abi import abi_gate, bound_to
from truewheel.elf.versions import DynamicSymbols, Symbol
from truewheel.unvendor.model import Copy, LibraryPlan, Refusal
from truewheel.unvendor.names import pep440

__all__ = ["consumer_label", "decide"]

SymbolsOf = Callable[[str, str], DynamicSymbols]  # (wheel, member) -> its dynamic symbols
PlatformProblem = Callable[[Copy], str | None]


def consumer_label(wheel: str, member: str) -> str:
    return f"{posixpath.basename(wheel)}:{member}"


def decide(plan: LibraryPlan, symbols_of: SymbolsOf, platform_problem: PlatformProblem) -> None:
    """Set ``plan.chosen`` or ``plan.refusal``."""
    copies = plan.copies
    needs = _consumer_needs(copies, symbols_of)
    plan.consumers = len(needs)
    plan.checked_symbols = sum(len(n) for n in needs.values())
    identical = len({c.sha256 for c in copies}) == 1
    candidates, version_problem = _by_version(copies, identical)
    lacking: list[tuple[int, Copy, dict[str, list[Symbol]]]] = []
    problems: list[str] = []
    for candidate in candidates:
        verdict = abi_gate(symbols_of(candidate.wheel, candidate.member), needs)
        if not verdict.passes:
            missing = {k: v for k, v in verdict.missing.items() if v}
            lacking.append((sum(len(v) for v in missing.values()), candidate, missing))
            continue
        problem = platform_problem(candidate)
        if problem is not None:
            problems.append(f"{consumer_label(candidate.wheel, candidate.member)}: {problem}")
            continue
        if version_problem is None:
            plan.chosen = candidate
            return
        plan.refusal = Refusal(version_problem)
        return
    if problems:
        plan.refusal = Refusal(
            "no copy meets every consumer wheel's platform tag: " + "; ".join(problems)
        )
    elif lacking:
        closest = min(lacking, key=lambda item: item[0])
        plan.refusal = Refusal(_describe_missing(lacking), closest[2])
    else:
        plan.refusal = Refusal(version_problem or "no copy to choose")


def _consumer_needs(copies: list[Copy], symbols_of: SymbolsOf) -> dict[str, frozenset[Symbol]]:
    """Per consumer file (labelled by wheel), what it binds to its own copy."""
    needs: dict[str, frozenset[Symbol]] = {}
    for c in copies:
        own = symbols_of(c.wheel, c.member)
        for user in c.users:
            needs[consumer_label(c.wheel, user)] = bound_to(symbols_of(c.wheel, user), own)
    return needs


def _by_version(copies: list[Copy], identical: bool) -> tuple[list[Copy], str | None]:
    """The copies of the newest version (all when unknown), and a version problem if any."""
    if identical:
        return copies[:1], None
    if len({c.version for c in copies}) == 1 and copies[0].version is not None:
        return _smallest_first(copies), None  # one version, even one PEP 440 cannot read (1.1.1k)
    unknown = [c for c in copies if pep440(c.version) is None]
    if unknown:
        return copies, (
            "version unknown for "
            + ", ".join(consumer_label(c.wheel, c.member) for c in unknown)
            + ": copies that differ are shared only when each one's version is known"
        )
    newest = max(pep440(c.version) or Version("0") for c in copies)
    return _smallest_first([c for c in copies if pep440(c.version) == newest]), None


def _smallest_first(copies: list[Copy]) -> list[Copy]:
    """Among builds of one version, the one that ships fewest bytes is tried first (an
    unstripped 2.1 MB bzip2 need not serve wheels whose own copy is 71 kB); the gate decides."""
    return sorted(copies, key=lambda c: (c.size, c.key))


def _describe_missing(lacking: list[tuple[int, Copy, dict[str, list[Symbol]]]]) -> str:
    """What each candidate copy lacks, and who binds it (three copies named at most)."""
    parts = []
    for _, copy, missing in sorted(lacking, key=lambda item: item[0])[:3]:
        needs = []
        for file, symbols in sorted(missing.items()):
            names = ", ".join(f"{n}@{v}" if v else n for n, v in symbols[:5])
            more = f" and {len(symbols) - 5} more" if len(symbols) > 5 else ""
            needs.append(f"{names}{more} (bound by {file})")
        parts.append(f"{consumer_label(copy.wheel, copy.member)} lacks " + "; ".join(needs))
    more = f" (and {len(lacking) - 3} more copies)" if len(lacking) > 3 else ""
    return "ABI gate: no copy serves every consumer: " + " | ".join(parts) + more
