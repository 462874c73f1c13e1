"""Prove that a repaired wheel can load before it is published.

Planning decides what to graft from the input; this check judges the output,
read back through the inspect engine, so a library the plan never looked at
(shipped in the wheel but out of every search path, or found on the build
host only through ``LD_LIBRARY_PATH``) cannot slip through.  Every DT_NEEDED
entry of every ELF file must resolve inside the wheel, be a system library
the target policy allows, or be one the user left out on purpose
(``--exclude``, ``--provided-by``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from truewheel.analysis.report import LoaderFacts
from truewheel.analysis.resolve import BROKEN, BUNDLED, SYSTEM
from truewheel.policy.manylinux import Policy

__all__ = ["Unresolved", "describe_unresolved", "unresolved"]


@dataclass(frozen=True, slots=True)
class Unresolved:
    """One DT_NEEDED entry the loader would not satisfy on a system of the target policy."""

    file: str
    library: str
    why: str


def unresolved(
    report: LoaderFacts, policy: Policy, *, left_out: Iterable[str] = ()
) -> list[Unresolved]:
    """Every dependency of ``report``'s ELF files that would fail to load, in file order.

    ``left_out`` are names and glob patterns the user chose to leave out of the wheel.
    """
    patterns = tuple(left_out)
    problems: list[Unresolved] = []
    for f in report.native_files:
        for dep in f.dependencies:
            if dep.status == BUNDLED or any(fnmatchcase(dep.name, p) for p in patterns):
                continue
            if dep.status == SYSTEM and dep.name in policy.libraries:
                continue
            if dep.status == BROKEN:
                why = f"the wheel ships it as {dep.path}, but no search path of the file reaches it"
            elif dep.status == SYSTEM:
                why = "a system library the target policy does not allow"
            else:
                why = "neither in the wheel nor allowed by the target policy"
            problems.append(Unresolved(f.path, dep.name, why))
    return problems


def describe_unresolved(problems: list[Unresolved], tag: str) -> str:
    """One line naming every file and library, for the refusal."""
    listed = "; ".join(f"{p.file} needs {p.library} ({p.why})" for p in problems)
    count = f"{len(problems)} unresolved libraries" if len(problems) > 1 else "unresolved library"
    return f"the repaired wheel would not load on {tag} ({count}): {listed}"
