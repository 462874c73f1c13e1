"""What ``truewheel verify`` establishes about one wheel and its sdist, as plain data.

A release or an index layer aggregates these: every result is a frozen dataclass of
strings, numbers and tuples, so it pickles to a worker pool and maps to JSON field for
field.  A *finding* is something verify is sure is wrong (exit status 1); a *note* is
worth knowing but proves nothing (older metadata that may differ, a tag WHEEL lists that
the file name does not).  Trust first: when in doubt, a note.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal, get_args

from truewheel.verify.rebuild_model import RebuildResult

__all__ = [
    "CATEGORIES",
    "Category",
    "FieldComparison",
    "Finding",
    "MemberResult",
    "VerifyReport",
]

Category = Literal[
    "unexplained",
    "from-sdist-different",
    "from-sdist-identical",
    "compiled-from-sdist",
    "generated",
    "added-by-repair",
    "metadata",
]

#: In the order a report lists them (the order of ``Category``): what needs a look first.
CATEGORIES: tuple[Category, ...] = get_args(Category)

Severity = Literal["finding", "note"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One statement about the pair; ``severity`` "finding" makes the verdict fail."""

    severity: Severity
    code: str
    message: str
    member: str | None = None


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """One core metadata field, PKG-INFO against METADATA.

    ``status``: ``match``; ``differs``; ``dynamic`` (declared Dynamic in PKG-INFO, so any
    value is allowed); ``absent`` (in neither file).  Values are shown as read, each
    occurrence of a multiple-use field one item.
    """

    field: str
    status: Literal["match", "differs", "dynamic"]
    sdist: tuple[str, ...]
    wheel: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MemberResult:
    """One wheel member: what accounts for it, and the evidence.

    ``source`` is the sdist path (below its top directory) the member corresponds to, or
    for a compiled module the source file the evidence names.  ``diff`` is a bounded
    unified diff when a text member differs from its source.
    """

    path: str
    category: Category
    size: int
    sha256: str
    source: str | None = None
    evidence: tuple[str, ...] = ()
    diff: str | None = None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The whole answer for one wheel against one sdist."""

    wheel: str
    sdist: str
    name: str
    version: str
    sdist_metadata_version: str
    wheel_metadata_version: str
    static_metadata: bool  # PKG-INFO is Metadata-Version 2.2 or later (PEP 643 applies)
    dynamic: tuple[str, ...]  # fields PKG-INFO declares Dynamic
    fields: tuple[FieldComparison, ...]
    layout: tuple[str, ...]  # sdist directories the wheel's files were found under ("" = top)
    members: tuple[MemberResult, ...]
    findings: tuple[Finding, ...]
    rebuild: RebuildResult | None = None  # --rebuild: the sdist built here, compared

    @property
    def reproduced(self) -> bool | None:
        """--rebuild: whether building the sdist here reproduced every member (None: not
        rebuilt)."""
        return None if self.rebuild is None else self.rebuild.reproduced

    @property
    def corresponds(self) -> bool:
        return not any(f.severity == "finding" for f in self.findings)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(m.category for m in self.members)
        return {category: found.get(category, 0) for category in CATEGORIES}

    @property
    def unexplained(self) -> tuple[MemberResult, ...]:
        return tuple(m for m in self.members if m.category == "unexplained")
