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

__all__ = ["Dependency", "installed_path", "resolve_dependencies"]

BUNDLED, SYSTEM, EXTERNAL, BROKEN = "bundled", "system", "external", "broken"


@dataclass(frozen=True, slots=True)
class Dependency:
    """One DT_NEEDED entry of one file and where it will come from."""

    name: str
    status: str  # bundled | system | external | broken
    path: str | None = None  # the wheel member that provides it, when bundled or broken
    via: str | None = None  # "rpath", "runpath", "loaded" (SONAME already loaded by a parent)


def installed_path(member: str) -> str:
    """Where a member lands relative to the install root (scripts stay outside)."""
    parts = member.split("/")
    if len(parts) > 2 and parts[0].endswith(".data") and parts[1] in ("purelib", "platlib"):
        return "/".join(parts[2:])
    if len(parts) > 2 and parts[0].endswith(".data"):
        return f"<{parts[1]}>/" + "/".join(parts[2:])
    return member


def search_dirs(elf: ElfFile, origin: str) -> list[tuple[str, str]]:
    """The directories ld.so tries for this file, with the tag each came from."""
    entries = [(p, "rpath") for p in elf.rpath] if not elf.runpath else []
    entries += [(p, "runpath") for p in elf.runpath]
    result = []
    for raw, kind in entries:
        expanded = raw.replace("${ORIGIN}", "$ORIGIN").replace("$ORIGIN", "/" + origin)
        result.append((expanded, kind))
    return result


def resolve_dependencies(
    files: Mapping[str, ElfFile], system_libraries: frozenset[str]
) -> dict[str, list[Dependency]]:
    """For every ELF member (by member name), where each of its DT_NEEDED entries resolves."""
    by_installed = {installed_path(name): name for name in files}
    by_basename: dict[str, str] = {}
    for name, elf in files.items():
        by_basename.setdefault(posixpath.basename(name), name)
        if elf.soname:
            by_basename.setdefault(elf.soname, name)
    direct: dict[str, list[Dependency]] = {}
    for name, elf in files.items():
        origin = posixpath.dirname(installed_path(name))
        direct[name] = [
            _resolve(needed, elf, origin, by_installed, by_basename, system_libraries)
            for needed in elf.needed
        ]
    return _satisfy_from_parents(files, direct)


def _resolve(
    needed: str,
    elf: ElfFile,
    origin: str,
    by_installed: Mapping[str, str],
    by_basename: Mapping[str, str],
    system_libraries: frozenset[str],
) -> Dependency:
    if "/" not in needed:
        for directory, kind in search_dirs(elf, origin):
            if not directory.startswith("/"):
                continue
            candidate = posixpath.normpath(posixpath.join(directory, needed)).lstrip("/")
            if candidate in by_installed:
                return Dependency(needed, BUNDLED, by_installed[candidate], kind)
    if needed in system_libraries:
        return Dependency(needed, SYSTEM)
    if needed in by_basename:
        return Dependency(needed, BROKEN, by_basename[needed])
    return Dependency(needed, EXTERNAL)


def _satisfy_from_parents(
    files: Mapping[str, ElfFile], direct: dict[str, list[Dependency]]
) -> dict[str, list[Dependency]]:
    """A library loaded by a parent is reused by SONAME: repair unresolved entries with it."""
    parents: dict[str, set[str]] = {name: set() for name in files}
    changed = True
    resolved = {name: list(deps) for name, deps in direct.items()}
    while changed:
        changed = False
        for name, deps in resolved.items():
            for dep in deps:
                if dep.status == BUNDLED and dep.path in parents and name not in parents[dep.path]:
                    parents[dep.path].add(name)
                    changed = True
        for name, deps in resolved.items():
            for i, dep in enumerate(deps):
                if dep.status not in (EXTERNAL, BROKEN):
                    continue
                provider = _loaded_by_ancestor(name, dep.name, parents, resolved)
                if provider:
                    deps[i] = Dependency(dep.name, BUNDLED, provider, "loaded")
                    changed = True
    return resolved


def _loaded_by_ancestor(
    name: str,
    needed: str,
    parents: Mapping[str, set[str]],
    resolved: Mapping[str, list[Dependency]],
) -> str | None:
    seen: set[str] = set()
    stack = list(parents[name])
    while stack:
        parent = stack.pop()
        if parent in seen:
            continue
        seen.add(parent)
        for dep in resolved[parent]:
            if dep.name == needed and dep.status == BUNDLED and dep.path:
                return dep.path
        stack.extend(parents[parent])
    return None
