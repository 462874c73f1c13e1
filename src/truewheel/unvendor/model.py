"""Plain data of an unvendor run: the copies found, the verdict per library, the outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

from truewheel.analysis.report import LoaderFacts
from truewheel.elf.versions import Symbol
from truewheel.errors import TruewheelError

__all__ = ["Copy", "LibraryPlan", "Output", "Refusal", "UnvendorError", "WheelInput"]


class UnvendorError(TruewheelError):
    """The ABI gate (or a chain, or a name) refused a library: nothing is written."""


@dataclass(frozen=True, slots=True)
class Copy:
    """One vendored copy of a library inside one input wheel."""

    wheel: str  # the input wheel's path
    member: str  # e.g. gmpy2.libs/libgmp-a6f47472.so.10.5.0
    library: str  # what it is, unmangled: libgmp.so.10 (stem and SONAME major)
    soname: str | None  # its own SONAME, as consumers name it in DT_NEEDED
    size: int
    compressed_size: int
    sha256: str
    family: str | None  # from the library table: gmp
    family_name: str | None  # GNU MP
    version: str | None  # 6.3.0, when the bytes say so
    toolchain: str | None
    architecture: str
    libc: str | None
    users: tuple[str, ...]  # members of its wheel whose DT_NEEDED resolves to it
    needs: tuple[str, ...]  # members of its wheel it needs itself (other vendored copies)
    needed_names: dict[str, str] = field(default_factory=dict)  # DT_NEEDED -> member it names

    @property
    def key(self) -> tuple[str, str]:
        return (self.wheel, self.member)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why no copy of a library may be shared; ``missing`` per consumer file."""

    reason: str
    missing: dict[str, list[Symbol]] = field(default_factory=dict)


@dataclass(slots=True)
class LibraryPlan:
    """One library across the input wheels: its copies and the ABI gate's verdict."""

    library: str  # libgmp.so.10
    revision: str  # libgmp.so.10.5.0
    architecture: str
    libc: str | None
    copies: list[Copy]
    chosen: Copy | None = None
    refusal: Refusal | None = None
    checked_symbols: int = 0  # needs the gate checked, over every consumer
    consumers: int = 0  # consumer files the gate checked
    # set when a library wheel is planned
    distribution: str | None = None
    version: str | None = None
    soname: str | None = None  # the shared copy's SONAME
    requires: list[str] = field(default_factory=list)  # other library plans it needs (library)
    notes: list[str] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return self.chosen is not None

    @property
    def unpacked_bytes(self) -> int:
        return sum(c.size for c in self.copies)

    @property
    def compressed_bytes(self) -> int:
        return sum(c.compressed_size for c in self.copies)

    @property
    def duplicated_bytes(self) -> tuple[int, int]:
        """Unpacked and compressed bytes beyond one copy per version: byte-identical
        copies and builds of the same version (a copy of unknown version counts only
        with copies of the same bytes)."""
        groups: dict[str, list[Copy]] = {}
        for c in self.copies:
            groups.setdefault(f"version {c.version}" if c.version else c.sha256, []).append(c)
        return (
            sum(sum(c.size for c in g) - max(c.size for c in g) for g in groups.values()),
            sum(
                sum(c.compressed_size for c in g) - max(c.compressed_size for c in g)
                for g in groups.values()
            ),
        )

    @property
    def saved_bytes(self) -> tuple[int, int]:
        """Unpacked and compressed bytes no longer shipped: every copy but one."""
        if self.chosen is None:
            return (0, 0)
        return (
            self.unpacked_bytes - self.chosen.size,
            self.compressed_bytes - self.chosen.compressed_size,
        )


@dataclass
class WheelInput:
    """One input wheel as the planner keeps it: its facts, member names and sizes."""

    path: str
    facts: LoaderFacts
    dist_info: str
    compressed: dict[str, int]
    copies: list[Copy] = field(default_factory=list)
    top_level: frozenset[str] = frozenset()  # importable names it installs (packages, modules)


@dataclass
class Output:
    """A written wheel: a library wheel (``input`` None) or a rewritten consumer."""

    kind: str  # "library" | "consumer"
    input: str | None
    output: str
    distribution: str
    version: str
    removed: list[str] = field(default_factory=list)
    patched: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    note: str = ""
