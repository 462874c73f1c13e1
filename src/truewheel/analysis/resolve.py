"""Resolve every DT_NEEDED entry the way ld.so would once the wheel is installed.

ld.so looks for a needed library in the needing file's DT_RPATH (only when
it has no DT_RUNPATH), then LD_LIBRARY_PATH, then its DT_RUNPATH, then the
system's cache and default directories (ld.so(8)).  A library already loaded
under the same SONAME satisfies the request whatever the paths say, which is
how a wheel's extension module can pull in a bundled library that a second
bundled library then reuses.  Installed paths follow the wheel spec: members
of ``{name}.data/purelib`` and ``platlib`` land in the same root as the rest.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from truewheel.elf import ElfFile

__all__ = ["Dependency", "installed_path", "resolve_dependencies", "search_path_escape"]

BUNDLED, SYSTEM, EXTERNAL, BROKEN = "bundled", "system", "external", "broken"


@dataclass(frozen=True, slots=True)
class Dependency:
    """One DT_NEEDED entry of one file and where it will come from."""

    name: str
    status: str  # bundled | system | external | broken
    path: str | None = None  # the wheel member that provides it, when bundled or broken
    # "rpath" / "runpath": its own search path; "loaded": a loader already loaded that SONAME;
    # "inherited-rpath": found through a loader's DT_RPATH; "requirement" /
    # "requirement-wheel": a required distribution installs it (analysis/split.py)
    via: str | None = None
    provider: str | None = None  # that required distribution


def installed_path(member: str) -> str:
    """Where a member lands relative to the install root (scripts stay outside)."""
    parts = member.split("/")
    if len(parts) > 2 and parts[0].endswith(".data") and parts[1] in ("purelib", "platlib"):
        return "/".join(parts[2:])
    if len(parts) > 2 and parts[0].endswith(".data"):
        return f"<{parts[1]}>/" + "/".join(parts[2:])
    return member


def search_path_escape(entry: str, origin: str) -> str | None:
    """How a DT_RPATH/DT_RUNPATH entry of a file installed in ``origin`` leaves the install
    root: ``"absolute"`` (a path of the build host), ``"outside"`` (``$ORIGIN`` climbing
    above the root) or ``"relative"`` (relative to the working directory); None when it
    stays inside, where it may name this wheel's or another distribution's directory.
    """
    if entry.startswith("/"):
        return "absolute"
    if "$ORIGIN" not in entry and "${ORIGIN}" not in entry:
        return "relative"
    rel = posixpath.normpath(
        entry.replace("${ORIGIN}", "$ORIGIN").replace("$ORIGIN", origin or ".")
    )
    root = _data_root(origin)
    if root:
        return None if rel == root or rel.startswith(f"{root}/") else "outside"
    return "outside" if rel.startswith("..") else None


def _data_root(origin: str) -> str:
    """``<scripts>`` (or ``<data>``, ``<headers>``) for a file installed there, else "".

    pip installs those ``.data`` directories to places with no fixed relation to the
    packages (``bin/``, the prefix, ``include/``), so a ``$ORIGIN`` path reaches only
    what lies inside the same directory.
    """
    first = origin.split("/", 1)[0]
    return first if first.startswith("<") else ""


def search_dirs(elf: ElfFile, origin: str) -> list[tuple[str, str]]:
    """The directories ld.so tries for this file, with the tag each came from."""
    entries = [(p, "rpath") for p in elf.rpath] if not elf.runpath else []
    entries += [(p, "runpath") for p in elf.runpath]
    result = []
    for raw, kind in entries:
        expanded = raw.replace("${ORIGIN}", "$ORIGIN").replace("$ORIGIN", "/" + origin)
        if search_path_escape(raw, origin) == "outside" and _data_root(origin):
            expanded = raw  # not absolute: reaches nothing in the wheel
        result.append((expanded, kind))
    return result


def resolve_dependencies(
    files: Mapping[str, ElfFile], system_libraries: frozenset[str]
) -> dict[str, list[Dependency]]:
    """For every ELF member (by member name), where each of its DT_NEEDED entries resolves."""
    wheel = _WheelFiles(files)
    resolved = {
        name: [_resolve(needed, name, wheel, system_libraries) for needed in elf.needed]
        for name, elf in files.items()
    }
    return _satisfy_through_loaders(wheel, resolved)


class _WheelFiles:
    """The ELF members indexed the ways ld.so finds them: installed path, name, SONAME."""

    def __init__(self, files: Mapping[str, ElfFile]) -> None:
        self.files = files
        self.by_installed = {installed_path(name): name for name in files}
        self.by_basename: dict[str, str] = {}
        for name, elf in files.items():
            self.by_basename.setdefault(posixpath.basename(name), name)
            if elf.soname:
                self.by_basename.setdefault(elf.soname, name)

    def find(self, needed: str, directory: str) -> str | None:
        if not directory.startswith("/"):
            return None
        candidate = posixpath.normpath(posixpath.join(directory, needed)).lstrip("/")
        return self.by_installed.get(candidate)

    def dirs(self, name: str) -> list[tuple[str, str]]:
        return search_dirs(self.files[name], posixpath.dirname(installed_path(name)))


def _resolve(needed: str, name: str, wheel: _WheelFiles, system: frozenset[str]) -> Dependency:
    if "/" not in needed:
        for directory, kind in wheel.dirs(name):
            found = wheel.find(needed, directory)
            if found:
                return Dependency(needed, BUNDLED, found, kind)
    if needed in system:
        return Dependency(needed, SYSTEM)
    if needed in wheel.by_basename:
        return Dependency(needed, BROKEN, wheel.by_basename[needed])
    return Dependency(needed, EXTERNAL)


def _satisfy_through_loaders(
    wheel: _WheelFiles, resolved: dict[str, list[Dependency]]
) -> dict[str, list[Dependency]]:
    """Resolve what a file's own paths miss through the files that load it.

    ld.so reuses a library a loader already loaded under the same SONAME, and a file
    without DT_RUNPATH also searches the DT_RPATH of every loader up the chain (loaders
    that have DT_RUNPATH contribute nothing), as glibc's _dl_map_object does.
    """
    changed = True
    while changed:
        changed = False
        parents: dict[str, set[str]] = {name: set() for name in resolved}
        for name, deps in resolved.items():
            for dep in deps:
                if dep.status == BUNDLED and dep.path in parents:
                    parents[dep.path].add(name)
        for name, deps in resolved.items():
            for i, dep in enumerate(deps):
                if dep.status in (EXTERNAL, BROKEN):
                    better = _through_loaders(name, dep.name, wheel, parents, resolved)
                    if better:
                        deps[i] = better
                        changed = True
    return resolved


def _through_loaders(
    name: str,
    needed: str,
    wheel: _WheelFiles,
    parents: Mapping[str, set[str]],
    resolved: Mapping[str, list[Dependency]],
) -> Dependency | None:
    inherits_rpath = not wheel.files[name].runpath
    seen: set[str] = set()
    stack = sorted(parents[name], reverse=True)  # set order varies between processes
    while stack:
        loader = stack.pop()
        if loader in seen:
            continue
        seen.add(loader)
        for dep in resolved[loader]:
            if dep.name == needed and dep.status == BUNDLED and dep.path:
                return Dependency(needed, BUNDLED, dep.path, "loaded")
        if inherits_rpath and not wheel.files[loader].runpath:
            for directory, _ in wheel.dirs(loader):
                found = wheel.find(needed, directory)
                if found:
                    return Dependency(needed, BUNDLED, found, "inherited-rpath")
        stack.extend(sorted(parents[loader], reverse=True))
    return None
