"""What ``verify --release`` and ``verify --index`` establish, as plain data.

A release is the sdist and every wheel of one version; its report holds each wheel's
:class:`~truewheel.verify.model.VerifyReport` against the sdist, what the inspect engine
says of each wheel's tags against its content, and what the wheels' metadata says when
compared with one another.  An index is a table of releases.  Like the per-wheel
reports, everything here is a frozen dataclass of strings, numbers and tuples: it
pickles to a worker (local or Dask) and back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from truewheel.verify.model import CATEGORIES, Severity, VerifyReport

__all__ = [
    "IndexReport",
    "IndexRow",
    "ReleaseFinding",
    "ReleaseReport",
    "WheelPlatform",
    "WheelResult",
]


@dataclass(frozen=True, slots=True)
class ReleaseFinding:
    """A statement about the release as a whole, naming the wheels (file names) it is about.

    ``severity`` "finding" fails the release's verdict; a note never does.
    """

    severity: Severity
    code: str
    message: str
    wheels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WheelPlatform:
    """The inspect engine's verdict on one wheel's tags: what it claims, what its content
    allows (None for a pure wheel, or content no tag fits), and the engine's findings as
    ``(severity, code, message, file)``, errors first."""

    claimed: tuple[str, ...]
    allowed: str | None
    findings: tuple[tuple[str, str, str, str | None], ...]


@dataclass(frozen=True, slots=True)
class WheelResult:
    """One wheel of the release: its comparison with the sdist and its platform verdict."""

    wheel: str  # path
    verify: VerifyReport
    platform: WheelPlatform

    @property
    def filename(self) -> str:
        return self.wheel.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ReleaseReport:
    """The sdist and every wheel of one version, each checked and all compared."""

    name: str
    version: str
    sdist: str
    wheels: tuple[WheelResult, ...]
    findings: tuple[ReleaseFinding, ...]  # the release's own: consistency and platform
    compared_fields: tuple[str, ...]  # METADATA fields compared across the wheels

    @property
    def corresponds(self) -> bool:
        own = any(f.severity == "finding" for f in self.findings)
        return not own and all(w.verify.corresponds for w in self.wheels)

    @property
    def counts(self) -> dict[str, int]:
        """Members per category over every wheel."""
        total: Counter[str] = Counter()
        for w in self.wheels:
            total.update(w.verify.counts)
        return {category: total.get(category, 0) for category in CATEGORIES}

    @property
    def finding_count(self) -> int:
        per_wheel = sum(
            1 for w in self.wheels for f in w.verify.findings if f.severity == "finding"
        )
        return per_wheel + sum(1 for f in self.findings if f.severity == "finding")

    @property
    def note_count(self) -> int:
        per_wheel = sum(1 for w in self.wheels for f in w.verify.findings if f.severity == "note")
        return per_wheel + sum(1 for f in self.findings if f.severity == "note")


Verdict = Literal["corresponds", "findings", "error"]


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One release of an index run: its verdict and counts, or why it could not be checked.

    ``problems`` are the release's findings (severity "finding" only: the release's own
    and each wheel's, the wheel named), so a table says what is wrong without carrying
    every member of every wheel back from the workers.
    """

    name: str
    version: str
    source: str  # the directory, or NAME==VERSION as listed
    verdict: Verdict
    wheels: int = 0
    findings: int = 0
    notes: int = 0
    counts: tuple[tuple[str, int], ...] = ()
    problems: tuple[ReleaseFinding, ...] = ()
    seconds: float = 0.0
    error: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(sorted({p.code for p in self.problems}))


@dataclass(frozen=True, slots=True)
class IndexReport:
    """Every release an index run was asked about, in the order of their sources."""

    rows: tuple[IndexRow, ...]
    executor: str
    seconds: float

    @property
    def corresponds(self) -> bool:
        return all(r.verdict == "corresponds" for r in self.rows)

    @property
    def errors(self) -> tuple[IndexRow, ...]:
        return tuple(r for r in self.rows if r.verdict == "error")
