"""What ``truewheel verify --rebuild`` establishes, as plain data.

A rebuild answers a narrower question than the content step: not "does the sdist hold this
member's source" but "does building the sdist here give this member's bytes".  Each member
of the published wheel gets a status, and a difference gets the causes ``truewheel diff``
names (a build path, compiler switches, another compiler, an embedded date, code), each
also sorted into a :data:`CauseKind` so a reader (or an index table) can tell a toolchain
that cannot match here from code that should have.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CAUSE_KINDS",
    "REBUILD_STATUSES",
    "CauseKind",
    "RebuildResult",
    "RebuildStatus",
    "RebuiltMember",
    "RepairReplay",
    "Toolchain",
]

RebuildStatus = Literal[
    "identical",
    "identical-after-repair-edits",
    "different",
    "only-in-published",
    "only-in-rebuild",
]

#: In the order a report lists them.
REBUILD_STATUSES: tuple[RebuildStatus, ...] = (
    "different",
    "only-in-published",
    "only-in-rebuild",
    "identical-after-repair-edits",
    "identical",
)

CauseKind = Literal[
    "toolchain",  # another compiler (DW_AT_producer, .comment)
    "flags",  # other compiler switches (DW_AT_producer)
    "build-path",  # a build directory recorded in the binary
    "dates",  # __DATE__/__TIME__ in .rodata
    "debug-info",  # debug info or debug sections on one side only
    "sections",  # other sections on one side only
    "repair-edits",  # DT_NEEDED renamed, RPATH/RUNPATH, SONAME: what a repair changes
    "linking",  # DT_NEEDED added or removed (glibc 2.34 folded libpthread into libc)
    "tags",  # WHEEL Tag lines (the platform tag a repair chose)
    "backend",  # another build backend version (WHEEL Generator)
    "metadata",  # METADATA text
    "follows",  # RECORD: follows from the other members' differences
    "code",  # nothing else explains it
]

CAUSE_KINDS: tuple[CauseKind, ...] = (
    "toolchain",
    "flags",
    "build-path",
    "dates",
    "debug-info",
    "sections",
    "repair-edits",
    "linking",
    "tags",
    "backend",
    "metadata",
    "follows",
    "code",
)

MemberKind = Literal["python", "native", "graft", "metadata", "data"]


@dataclass(frozen=True, slots=True)
class RebuiltMember:
    """One published member against its rebuilt counterpart.

    ``rebuilt_path`` is set when the two carry other names: a grafted library whose
    mangling hash differs because this machine's copy has other bytes.
    """

    path: str
    status: RebuildStatus
    kind: MemberKind
    rebuilt_path: str | None = None
    causes: tuple[str, ...] = ()
    cause_kinds: tuple[CauseKind, ...] = ()
    consequences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RepairReplay:
    """How the published wheel was repaired, and what the rebuild's repair did.

    ``target`` is the platform tag the rebuild was repaired for (None: not repaired);
    ``unavailable`` the published grafts (by SONAME) this machine has no copy of.
    """

    published_tags: tuple[str, ...]
    grafts: tuple[str, ...]
    sboms: tuple[str, ...]
    target: str | None
    rebuilt_tags: tuple[str, ...]
    unavailable: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Toolchain:
    """Which compilers made the native files, read from their own bytes.

    ``published`` and ``rebuilt``: the distinct ``.comment`` strings (``GCC: (GNU) 10.2.1
    ...``) of each wheel's native files; ``buildinfo``: the compiler line a truewheel
    buildinfo beside the published wheel records.  ``same`` is False when the native files
    name other compilers: their bytes cannot match here, whatever their source.
    """

    published: tuple[str, ...]
    rebuilt: tuple[str, ...]
    buildinfo: str | None
    same: bool


@dataclass(frozen=True, slots=True)
class RebuildResult:
    """The sdist built here, repaired like the published wheel, compared member by member.

    ``reproduced``: every member identical, or identical after the edits a repair makes.
    ``proven``: sentences saying what the comparison still established when it did not
    reproduce (all pure-Python members identical; native modules differing only where
    the toolchain differs).
    """

    rebuilt_wheel: str
    rebuilt_sha256: str
    published_sha256: str
    bit_identical: bool
    reproduced: bool
    buildinfo: str | None
    applied: tuple[tuple[str, str], ...]  # settings taken from the buildinfo
    pins: tuple[str, ...]  # constraints the build environment was held to (name==version)
    repair: RepairReplay | None
    toolchain: Toolchain
    members: tuple[RebuiltMember, ...]
    proven: tuple[str, ...]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(m.status for m in self.members)
        return {status: found.get(status, 0) for status in REBUILD_STATUSES}

    @property
    def causes(self) -> dict[str, int]:
        """How many differing members each kind of cause explains."""
        found = Counter(k for m in self.members for k in m.cause_kinds)
        return {kind: found[kind] for kind in CAUSE_KINDS if found.get(kind)}
