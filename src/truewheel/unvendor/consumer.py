"""What changes in a consumer wheel: copies removed, DT_NEEDED renamed, preloads added.

Every file of the wheel whose DT_NEEDED resolves to a removed copy gets that entry
renamed to the shared SONAME (one ``ElfEdit`` per file, applied by patchelf as in
repair).  The wheel requires each library wheel at its exact version (the ABI
pin) and preloads, in its top-level packages' ``__init__.py``, every library its
files reach through removed copies, those needed first (``--provided-by``'s
block, :mod:`truewheel.repair.preload`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from truewheel.analysis.report import LoaderFacts, NativeFile
from truewheel.analysis.resolve import BUNDLED
from truewheel.repair.model import ProvidedLibrary
from truewheel.repair.plan import ElfEdit
from truewheel.unvendor.library import LibraryWheel

__all__ = ["ConsumerPlan", "plan_consumer"]


@dataclass(slots=True)
class ConsumerPlan:
    wheel: str
    removed: dict[str, LibraryWheel] = field(default_factory=dict)  # member -> where it went
    edits: dict[str, ElfEdit] = field(default_factory=dict)
    provided: list[ProvidedLibrary] = field(default_factory=list)  # load order
    requirements: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)  # files outside removed copies that need them


def plan_consumer(
    facts: LoaderFacts,
    removed: Mapping[str, LibraryWheel],
    load_order: Mapping[str, int],
    library_wheels: Mapping[str, LibraryWheel],
) -> ConsumerPlan:
    """``removed``: member -> the library wheel that replaces it; ``load_order`` and
    ``library_wheels``: every library wheel of the run by distribution, and its rank (a
    library wheel ranks after those it needs, which the preload loads first)."""
    plan = ConsumerPlan(facts.path, dict(removed))
    by_path = {f.path: f for f in facts.native_files}
    reached: dict[str, set[str]] = {}  # file -> distributions it reaches through removed copies
    for f in facts.native_files:
        if f.path in removed:
            continue
        for dep in f.dependencies:
            target = removed.get(dep.path or "") if dep.status == BUNDLED else None
            if target is not None and dep.name != target.soname:
                plan.edits.setdefault(f.path, ElfEdit()).replace(dep.name, target.soname, f.path)
        reached[f.path] = _reach(f.path, by_path, removed)
    wheels = library_wheels
    direct = {d for f, ds in reached.items() if f in plan.edits for d in ds}
    plan.users = sorted(f for f, ds in reached.items() if ds)
    everything = {d for ds in reached.values() for d in ds}
    chained = list(everything)
    while chained:
        for required, _, _ in wheels[chained.pop()].requires:
            if required not in everything:
                everything.add(required)
                chained.append(required)
    for name in sorted(everything, key=lambda d: (load_order[d], d)):
        w = wheels[name]
        plan.provided.append(
            ProvidedLibrary(
                name=w.soname,
                requirement=w.requirement,
                distribution=w.distribution,
                pattern=w.soname,
                needed_by=tuple(f for f, ds in sorted(reached.items()) if name in ds),
                order=load_order[name],
            )
        )
    plan.requirements = sorted(wheels[d].requirement for d in direct | everything)
    return plan


def _reach(
    start: str, by_path: Mapping[str, NativeFile], removed: Mapping[str, LibraryWheel]
) -> set[str]:
    """The library wheels ``start`` needs, directly or through other files of its wheel."""
    found: set[str] = set()
    seen = {start}
    todo = [start]
    while todo:
        f = by_path[todo.pop()]
        for dep in f.dependencies:
            if dep.status != BUNDLED or dep.path is None or dep.path in seen:
                continue
            seen.add(dep.path)
            if dep.path in removed:
                found.add(removed[dep.path].distribution)
            elif dep.path in by_path:
                todo.append(dep.path)
    return found
