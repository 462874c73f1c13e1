"""Plan a repair: which host libraries to graft, which to leave out, and every ELF edit.

Planning reads only facts (the inspect report, host library files, the target
policy) and produces a :class:`RepairPlan`; nothing is written or patched here.
All edits to one file are gathered in one :class:`ElfEdit` and checked for
conflicts before anything is applied (auditwheel's patcher does the same).
"""

from __future__ import annotations

import posixpath
import re
from collections import deque
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from packaging.utils import canonicalize_name

from truewheel.analysis.member import analyze_file
from truewheel.analysis.report import LoaderFacts
from truewheel.analysis.resolve import EXTERNAL, SYSTEM, installed_path, search_path_escape
from truewheel.elf import ElfFile
from truewheel.errors import InputError, TruewheelError
from truewheel.policy.libraries import LibraryName, LibraryTable, VersionEvidence
from truewheel.policy.manylinux import Policy
from truewheel.repair.hostlibs import HostLibraries
from truewheel.repair.model import (
    DroppedLibpython,
    ExcludedLibrary,
    GraftedLibrary,
    MovedScript,
    ProvidedLibrary,
)
from truewheel.repair.scripts import is_script, program_path

__all__ = ["ElfEdit", "Provider", "RepairError", "RepairPlan", "check_lib_sdir", "plan_repair"]

_LIB_SDIR = re.compile(r"[A-Za-z0-9._+-]{1,64}")
_NAME_MAX = 255  # bytes in one file name on Linux file systems
# auditwheel's LIBPYTHON_RE, with ABI flags: free-threaded (3.13t) and debug (3.11d) builds
_LIBPYTHON = re.compile(r"libpython\d+\.\d+[a-z]*\.so(\.\d+)*")


class RepairError(TruewheelError):
    """The wheel cannot be repaired as asked (a missing library, an unreachable tag)."""


@dataclass(frozen=True, slots=True)
class Provider:
    """One ``--provided-by DIST[SPEC]:PATTERN`` option."""

    requirement: str
    distribution: str
    pattern: str

    @classmethod
    def parse(cls, option: str) -> Provider:
        """Validate the option: the requirement goes into METADATA, the pattern into code."""
        spec, sep, pattern = option.rpartition(":")
        if not sep or not spec or not pattern:
            raise InputError(f"--provided-by needs DIST[SPEC]:PATTERN, got {option[:200]!r}")
        if "/" in pattern or "\0" in pattern or not pattern.isprintable():
            raise InputError(
                "--provided-by: PATTERN must be a library file name or glob "
                f"(no '/', no control characters): {pattern[:200]!r}"
            )
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0] if str(exc) else "not PEP 508"
            raise InputError(
                f"--provided-by: invalid requirement {spec[:200]!r} ({reason})"
            ) from exc
        text = str(requirement)
        if not text.isprintable():
            raise InputError(f"--provided-by: control characters in requirement {text[:200]!r}")
        return cls(text, canonicalize_name(requirement.name), pattern)


@dataclass(slots=True)
class ElfEdit:
    """Everything to change in one ELF file, applied in a single patchelf run."""

    set_soname: str | None = None
    replace_needed: dict[str, str] = field(default_factory=dict)
    remove_needed: list[str] = field(default_factory=list)
    set_rpath: list[str] | None = None  # [] removes DT_RPATH and DT_RUNPATH
    force_rpath: bool = True  # write DT_RPATH (as auditwheel does); False keeps DT_RUNPATH

    def replace(self, old: str, new: str, where: str) -> None:
        if self.replace_needed.get(old, new) != new:
            raise RepairError(
                f"conflicting edits: {old} -> {self.replace_needed[old]} and {new}", member=where
            )
        self.replace_needed[old] = new


@dataclass(slots=True)
class RepairPlan:
    libs_dir: str
    grafted: list[GraftedLibrary] = field(default_factory=list)
    graft_sources: dict[str, str] = field(default_factory=dict)
    graft_elves: dict[str, ElfFile] = field(default_factory=dict)
    excluded: list[ExcludedLibrary] = field(default_factory=list)
    provided: list[ProvidedLibrary] = field(default_factory=list)
    edits: dict[str, ElfEdit] = field(default_factory=dict)
    # member -> RPATH/RUNPATH entries removed from it (they pointed outside the wheel)
    removed_search_paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dropped_libpython: list[DroppedLibpython] = field(default_factory=list)
    moved_scripts: list[MovedScript] = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return bool(self.grafted or self.provided or self.excluded or self.edits)


def check_lib_sdir(lib_sdir: str) -> str:
    """``--lib-sdir`` if it is a plain suffix of the top-level directory name; else InputError.

    The suffix is glued to the distribution's name (``<dist>.libs``), so anything but
    letters, digits and ``._+-`` could leave that directory or the wheel.
    """
    if not _LIB_SDIR.fullmatch(lib_sdir) or ".." in lib_sdir:
        raise InputError(
            "--lib-sdir must be 1 to 64 letters, digits or '._+-' without '..' "
            f"(a suffix such as .libs): {lib_sdir[:80]!r}"
        )
    if lib_sdir.lower().endswith((".dist-info", ".data")):
        raise InputError(
            f"--lib-sdir must not name a .dist-info or .data directory (the wheel spec's "
            f"own): {lib_sdir!r}"
        )
    return lib_sdir


def libs_dir_name(report: LoaderFacts, lib_sdir: str) -> str:
    """auditwheel's layout: ``<distribution>.libs`` beside the packages."""
    return f"{_distribution(report)}{check_lib_sdir(lib_sdir)}"


def _distribution(report: LoaderFacts) -> str:
    """The distribution part of the wheel's file name, as auditwheel names its directories."""
    return report.filename.split("-")[0]


def libpython_needed(elf: ElfFile) -> list[str]:
    """The libpython entries of a file the interpreter loads, which it must not keep.

    An executable (it has PT_INTERP) is started by the system, not loaded by Python,
    and really needs the libpython it embeds: it keeps the entry.
    """
    if elf.interpreter is not None:
        return []
    return [n for n in elf.needed if _LIBPYTHON.fullmatch(n)]


def plan_repair(
    report: LoaderFacts,
    policy: Policy,
    *,
    host: HostLibraries,
    libraries: LibraryTable,
    excludes: list[str],
    providers: list[Provider],
    lib_sdir: str = ".libs",
    keep_rpath: bool = False,
) -> RepairPlan:
    """Grafts, exclusions and ELF edits that make ``report``'s wheel meet ``policy``.

    Search paths that leave the wheel (build-host directories) are removed from every
    ELF file unless ``keep_rpath``; a grafted library never keeps its host's.  A program
    in ``.data/scripts/`` that needs a graft is planned at its new place (repair.scripts);
    libpython entries of what the interpreter loads are dropped, never grafted.
    """
    plan = RepairPlan(libs_dir=libs_dir_name(report, lib_sdir))
    grafts: dict[str, _Graft] = {}
    left_out: dict[str, tuple[str, str, set[str]]] = {}
    missing: dict[str, set[str]] = {}
    queue: deque[tuple[str, str, ElfFile, str | None]] = deque()
    for f in report.native_files:
        dropped = libpython_needed(f.elf)
        for dep in f.dependencies:
            if dep.name in dropped:
                continue
            if dep.status == EXTERNAL or (
                dep.status == SYSTEM and dep.name not in policy.libraries
            ):
                queue.append((dep.name, f.path, f.elf, None))
    while queue:
        name, requester, requester_elf, origin = queue.popleft()
        if name in grafts:
            grafts[name].needed_by.add(requester)
            continue
        if name in left_out:
            left_out[name][2].add(requester)
            continue
        if name in missing:
            missing[name].add(requester)
            continue
        found = host.find_for(name, requester_elf, origin, requester_elf.little_endian)
        reason = _left_out(name, found, excludes, providers)
        if reason:
            left_out[name] = (reason[0], reason[1], {requester})
            continue
        if found is None:
            missing[name] = {requester}
            continue
        graft = _Graft.read(name, found, plan.libs_dir, requester, libraries)
        grafts[name] = graft
        for needed in graft.elf.needed:
            if needed not in policy.libraries and needed not in libpython_needed(graft.elf):
                queue.append((needed, graft.wheel_path, graft.elf, str(Path(found).parent)))
    if missing:
        raise RepairError(_not_found(missing), path=report.path)
    _record_left_out(plan, left_out, providers)
    for graft in sorted(grafts.values(), key=lambda g: g.wheel_path):
        version = graft.versions
        family = libraries.family_for(Path(graft.source).name)
        plan.grafted.append(
            graft.result(
                family.id if family else None,
                family.name if family else None,
                version[0].version if version else None,
            )
        )
        plan.graft_sources[graft.wheel_path] = graft.source
        plan.graft_elves[graft.wheel_path] = graft.elf
    _plan_edits(plan, report, grafts, keep_rpath)
    return plan


def _not_found(missing: dict[str, set[str]]) -> str:
    """Every library that was not found, with what needs it, in one line."""
    names = sorted(missing)
    listed = "; ".join(f"{n} (needed by {', '.join(sorted(missing[n]))})" for n in names)
    if len(names) == 1:
        what, them, hint = "needed library was", "it", names[0]
    else:
        what, them, hint = f"{len(names)} needed libraries were", "them", "PATTERN"
    return (
        f"{what} not found on this system: {listed}; install {them}, or leave {them} out "
        f"with --exclude '{hint}' or --provided-by 'DIST:{hint}'"
    )


def _left_out(
    name: str, found: str | None, excludes: list[str], providers: list[Provider]
) -> tuple[str, str] | None:
    candidates = [name] + ([found] if found else [])
    for pattern in excludes:
        if any(
            fnmatchcase(c, pattern) or fnmatchcase(posixpath.basename(c), pattern)
            for c in candidates
        ):
            return ("exclude", pattern)
    for provider in providers:
        if fnmatchcase(name, provider.pattern):
            return ("provided", provider.pattern)
    return None


def _record_left_out(
    plan: RepairPlan, left_out: dict[str, tuple[str, str, set[str]]], providers: list[Provider]
) -> None:
    for name, (kind, pattern, needed_by) in sorted(left_out.items()):
        users = tuple(sorted(needed_by))
        if kind == "exclude":
            plan.excluded.append(ExcludedLibrary(name, pattern, users))
            continue
        provider = next(p for p in providers if p.pattern == pattern)
        plan.provided.append(
            ProvidedLibrary(name, provider.requirement, provider.distribution, pattern, users)
        )


@dataclass(slots=True)
class _Graft:
    name: str
    source: str
    elf: ElfFile
    wheel_path: str
    soname: str
    sha256: str
    size: int
    needed_by: set[str]
    versions: list[VersionEvidence]

    @classmethod
    def read(
        cls, name: str, source: str, libs_dir: str, requester: str, libraries: LibraryTable
    ) -> _Graft:
        try:
            facts = analyze_file(source, Path(source).name, libraries)
        except TruewheelError as exc:
            raise exc.located(path=source) from None
        if facts.elf is None:
            raise RepairError("not an ELF file", path=source)
        digest = facts.digests["sha256"].hex()
        parsed = LibraryName.parse(Path(source).name)
        soname = f"{parsed.stem}-{digest[:8]}{parsed.suffix}"
        if len(soname.encode("utf-8", "surrogateescape")) > _NAME_MAX:
            raise RepairError(f"cannot graft {source}: its file name is too long to be renamed")
        wheel_path = f"{libs_dir}/{soname}"
        return cls(
            name,
            source,
            facts.elf,
            wheel_path,
            soname,
            digest,
            facts.size,
            {requester},
            facts.versions,
        )

    def result(
        self, family: str | None, family_name: str | None, version: str | None
    ) -> GraftedLibrary:
        return GraftedLibrary(
            original_name=self.name,
            source_path=self.source,
            wheel_path=self.wheel_path,
            soname=self.soname,
            sha256=self.sha256,
            size=self.size,
            family=family,
            family_name=family_name,
            version=version,
            needed_by=tuple(sorted(self.needed_by)),
        )


def _plan_edits(
    plan: RepairPlan, report: LoaderFacts, grafts: dict[str, _Graft], keep_rpath: bool
) -> None:
    new_names = {name: g.soname for name, g in grafts.items()}
    for graft in grafts.values():
        edit = plan.edits.setdefault(graft.wheel_path, ElfEdit())
        edit.set_soname = graft.soname
        _drop_libpython(plan, graft.wheel_path, graft.elf, edit)
        for needed in graft.elf.needed:
            if needed in new_names:
                edit.replace(needed, new_names[needed], graft.wheel_path)
        siblings = ["$ORIGIN"] if edit.replace_needed else []
        _set_search_path(plan, graft.wheel_path, graft.elf, siblings, edit)
    for f in report.native_files:
        needs = [n for n in f.elf.needed if n in new_names]
        moved = program_path(f.path, _distribution(report)) if needs and is_script(f.path) else None
        origin = posixpath.dirname(installed_path(moved or f.path))
        entries = [*f.elf.rpath, *f.elf.runpath]
        if moved:  # its $ORIGIN entries meant the scripts directory
            kept = list(entries) if keep_rpath else []
            plan.moved_scripts.append(MovedScript(f.path, moved))
        else:
            kept = [p for p in entries if keep_rpath or search_path_escape(p, origin) is None]
        if not needs and kept == entries and not libpython_needed(f.elf):
            continue
        edit = plan.edits.setdefault(f.path, ElfEdit())
        _drop_libpython(plan, f.path, f.elf, edit)
        for needed in needs:
            edit.replace(needed, new_names[needed], f.path)
        if needs:
            rel = posixpath.relpath(plan.libs_dir, origin or ".")
            kept.append("$ORIGIN" if rel == "." else f"$ORIGIN/{rel}")
        else:
            edit.force_rpath = not f.elf.runpath
        _set_search_path(plan, f.path, f.elf, kept, edit)


def _drop_libpython(plan: RepairPlan, member: str, elf: ElfFile, edit: ElfEdit) -> None:
    dropped = libpython_needed(elf)
    edit.remove_needed = dropped
    plan.dropped_libpython += [DroppedLibpython(name, member) for name in dropped]


def _set_search_path(
    plan: RepairPlan, member: str, elf: ElfFile, entries: list[str], edit: ElfEdit
) -> None:
    """Give ``member`` these search path entries; record the ones it loses."""
    old = [*elf.rpath, *elf.runpath]
    if entries == old and not edit.replace_needed:
        return
    edit.set_rpath = list(dict.fromkeys(entries))
    removed = tuple(p for p in dict.fromkeys(old) if p not in edit.set_rpath)
    if removed:
        plan.removed_search_paths[member] = removed
