"""Where a macOS wheel's Mach-O files find their dylibs, and the tag their slices allow.

dyld resolves a dependency by its install name as written: ``@loader_path/``
is the directory of the file that needs it, ``@rpath/`` tries each LC_RPATH of
that file and then of the images that loaded it (the run-path stack), an
absolute path is taken as it is (the system's libraries live in the dyld
shared cache since macOS 11, so only the name can be judged), and
``@executable_path/`` is the directory of the process's program: the
interpreter's, which no wheel controls, unless the program is one the wheel
ships (Qt Designer in PySide6), which is also the main executable whose run
paths dlopen searches for the plugins it loads.
Each slice of a fat file is resolved on its own; a file's dependency is as bad
as its worst slice makes it.

A wheel tagged ``macosx_X_Y_ARCH`` is installed by pip on every macOS from X.Y
on that runs ARCH; a slice is built to run from its minimum OS on (dyld does not
check that minimum, but the code may bind symbols an older macOS lacks).  A slice
is at risk somewhere the tag lets it be installed when its minimum is newer than
both the tag's version and the oldest macOS its architecture exists on (arm64: 11.0).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from truewheel.analysis.resolve import BROKEN, BUNDLED, EXTERNAL, SYSTEM, Dependency, installed_path
from truewheel.analysis.split import RequirementLocator
from truewheel.macho import MachOFile, MachOSlice
from truewheel.policy.systems import MacSystem

__all__ = [
    "MacTag",
    "content_architecture",
    "is_loadable",
    "needed_version",
    "parse_mac_tag",
    "resolve_macos",
    "tag_for",
]

_TAG = re.compile(r"macosx_(?P<major>[0-9]+)_(?P<minor>[0-9]+)_(?P<arch>[a-z0-9_]+)")
_WORSE = {BUNDLED: 0, SYSTEM: 0, EXTERNAL: 1, BROKEN: 2}
_MAX_LOADER_DEPTH = 16
_LOADABLE = ("dylib", "bundle", "execute")


@dataclass(frozen=True, slots=True)
class MacTag:
    """``macosx_11_0_universal2``: the oldest macOS pip installs it on, and its architectures."""

    tag: str
    version: tuple[int, int]
    arch: str
    architectures: frozenset[str]


def parse_mac_tag(tag: str, system: MacSystem) -> MacTag | None:
    match = _TAG.fullmatch(tag)
    if match is None:
        return None
    arch = match["arch"]
    return MacTag(
        tag, (int(match["major"]), int(match["minor"])), arch, system.tag_architectures(arch)
    )


def is_loadable(macho: MachOFile) -> bool:
    """A file dyld loads (dylib, bundle, program), not an object file or a dSYM."""
    return all(s.filetype in _LOADABLE for s in macho.slices)


def content_architecture(files: Mapping[str, MachOFile], system: MacSystem) -> str | None:
    """The tag architecture every loadable file has a slice for: arm64, x86_64, universal2..."""
    loadable = [m for m in files.values() if is_loadable(m)]
    if not loadable:
        return None
    common = set.intersection(*(set(m.architectures) for m in loadable))
    return system.tag_architecture(frozenset(common))


def needed_version(
    files: Mapping[str, MachOFile], architectures: frozenset[str], system: MacSystem
) -> tuple[tuple[int, ...], list[str]] | None:
    """The newest minimum macOS of a slice that a machine accepting the tag would run,
    above the oldest macOS of its architecture; and the files that need it."""
    best: tuple[int, ...] | None = None
    by: list[str] = []
    for path, macho in files.items():
        if not is_loadable(macho):
            continue
        for piece in macho.slices:
            minimum = piece.macos_minimum
            if piece.arch not in architectures or minimum is None:
                continue
            key = minimum.minos_key
            if key <= system.first_macos(piece.arch):
                continue
            if best is None or key > best:
                best, by = key, [path]
            elif key == best and path not in by:
                by.append(path)
    return (best, sorted(by)) if best is not None else None


def tag_for(version: tuple[int, ...] | None, arch: str, system: MacSystem) -> str:
    """The most compatible tag for content needing ``version`` (None: nothing newer than
    its architectures' first macOS) on the tag architecture ``arch``.

    pip on macOS 11 and later accepts only ``macosx_N_0`` tags, so content that needs
    11.3 is safe only under ``macosx_12_0``: under 11_0 it installs on 11.0-11.2.
    """
    floor = min(system.first_macos(a) for a in system.tag_architectures(arch))
    major, minor = max((*(version or floor), 0)[:2], floor[:2])
    if major >= 11 and minor > 0:
        major, minor = major + 1, 0
    return f"macosx_{major}_{minor}_{arch}"


def resolve_macos(
    files: Mapping[str, MachOFile],
    system: MacSystem,
    requirements: RequirementLocator | None = None,
) -> dict[str, list[Dependency]]:
    """For every Mach-O member, where each dylib it loads comes from (worst slice wins);
    ``requirements`` says which of the places dyld looks at a required distribution fills."""
    by_installed = {installed_path(name): name for name in files}
    by_basename: dict[str, str] = {}
    for name in sorted(files):
        by_basename.setdefault(posixpath.basename(name), name)
    loaders = _loaders(files, by_installed)
    programs = sorted(n for n, m in files.items() if all(s.filetype == "execute" for s in m.slices))
    out: dict[str, list[Dependency]] = {}
    for name, macho in files.items():
        found: dict[str, Dependency] = {}
        hosts = _hosts(name, macho, programs, loaders)
        for piece in macho.slices:
            for ref in piece.dylibs:
                if system.is_system(ref.name):  # even when the wheel has a file of that name
                    dep = Dependency(ref.name, SYSTEM)
                else:
                    dep = _resolve(ref.name, name, piece, files, by_installed, by_basename, loaders)
                    if dep.status in (BROKEN, EXTERNAL) and hosts:
                        dep = _in_program(dep, piece.arch, hosts, files, by_installed) or dep
                    if dep.status in (BROKEN, EXTERNAL) and dep.path is None and requirements:
                        # also when a run path leaves the wheel: the one inside may be filled
                        places = _places(ref.name, name, piece, files, loaders)
                        dep = requirements.at_location(ref.name, places) or dep
                if ref.kind == "weak":
                    dep = Dependency(dep.name, dep.status, dep.path, "weak")
                old = found.get(ref.name)
                if old is None or _WORSE[dep.status] > _WORSE[old.status]:
                    found[ref.name] = dep
        out[name] = list(found.values())
    return out


def _hosts(
    name: str, macho: MachOFile, programs: list[str], loaders: Mapping[str, set[str]]
) -> list[str]:
    """The programs of the wheel that may be the process when ``name`` is loaded, and so
    set ``@executable_path`` and head the run-path stack: ``name`` itself when it is one;
    the programs at the top of every chain that loads it; or, for a plugin (a bundle no
    file of the wheel links and Python cannot import: no ``.so`` suffix, such as Qt
    Designer's ``libPySidePlugin.dylib``), every program, as dlopen searches the run
    paths of the main executable.  None when an extension module may be the process."""
    if name in programs:
        return [name]
    if not loaders[name]:
        plugin = all(s.filetype == "bundle" for s in macho.slices) and not name.endswith(".so")
        return programs if plugin else []
    roots: set[str] = set()
    seen, stack = {name}, sorted(loaders[name])
    while stack and len(seen) <= _MAX_LOADER_DEPTH * 8:
        loader = stack.pop()
        if loader not in seen:
            seen.add(loader)
            stack.extend(sorted(loaders[loader]))
            if not loaders[loader]:
                roots.add(loader)
    return sorted(roots) if roots and roots <= set(programs) else []


def _in_program(
    dep: Dependency,
    arch: str,
    hosts: list[str],
    files: Mapping[str, MachOFile],
    by_installed: Mapping[str, str],
) -> Dependency | None:
    """``dep`` found through a program the wheel ships, when one of ``hosts`` is the
    process: ``@executable_path/`` from its directory (every host must have it), an
    ``@rpath/`` through its run paths (one host that reaches it suffices: the file's own
    run paths and loaders did not, so only a process of that program loads it)."""
    reference = dep.name
    if reference.startswith("@executable_path/"):
        rest = reference[len("@executable_path/") :]
        found = {
            by_installed.get(
                posixpath.normpath(posixpath.join(posixpath.dirname(installed_path(h)), rest))
            )
            for h in hosts
        }
        if len(found) == 1 and None not in found:
            return Dependency(reference, BUNDLED, found.pop(), "executable_path")
        return None
    if not reference.startswith("@rpath/"):
        return None
    for host in hosts:
        origin = posixpath.dirname(installed_path(host))
        for piece in files[host].slices:
            rpaths = tuple(r.replace("@executable_path", "@loader_path", 1) for r in piece.rpaths)
            for candidate in _candidates(reference, origin, rpaths) if piece.arch == arch else ():
                if candidate in by_installed:
                    return Dependency(reference, BUNDLED, by_installed[candidate], "program-rpath")
    return None


def _loaders(
    files: Mapping[str, MachOFile], by_installed: Mapping[str, str]
) -> dict[str, set[str]]:
    """Which members load which, by the paths that need no run path (``@loader_path``) or
    by a file's own run paths: enough to build the run-path stack of what they load."""
    loaders: dict[str, set[str]] = {name: set() for name in files}
    for name, macho in files.items():
        origin = posixpath.dirname(installed_path(name))
        for piece in macho.slices:
            for ref in piece.dylibs:
                for candidate in _candidates(ref.name, origin, piece.rpaths):
                    target = by_installed.get(candidate)
                    if target is not None and target != name:
                        loaders[target].add(name)
                        break
    return loaders


def _resolve(
    reference: str,
    name: str,
    piece: MachOSlice,
    files: Mapping[str, MachOFile],
    by_installed: Mapping[str, str],
    by_basename: Mapping[str, str],
    loaders: Mapping[str, set[str]],
) -> Dependency:
    origin = posixpath.dirname(installed_path(name))
    for candidate in _candidates(reference, origin, piece.rpaths):
        if candidate in by_installed:
            via = "rpath" if reference.startswith("@rpath/") else "loader_path"
            return Dependency(reference, BUNDLED, by_installed[candidate], via)
    if reference.startswith("@rpath/"):
        found = _through_loaders(reference, name, piece.arch, files, by_installed, loaders)
        if found is not None:
            return Dependency(reference, BUNDLED, found, "loader-rpath")
    base = posixpath.basename(reference)
    escapes = reference.startswith("/") or _leaves_wheel(reference, origin, piece.rpaths)
    if base in by_basename and not escapes:
        return Dependency(reference, BROKEN, by_basename[base])
    if base in by_basename and reference.startswith("/"):
        return Dependency(reference, BROKEN, by_basename[base], "absolute")
    if not escapes and not _loaders_escape(name, piece.arch, files, loaders):
        if reference.startswith("@rpath/") and not _places(reference, name, piece, files, loaders):
            return Dependency(reference, EXTERNAL, None, "interpreter-rpath")
        return Dependency(reference, BROKEN, None, "unreached")  # no run path leads out
    return Dependency(reference, EXTERNAL)


def _places(
    reference: str,
    name: str,
    piece: MachOSlice,
    files: Mapping[str, MachOFile],
    loaders: Mapping[str, set[str]],
) -> list[str]:
    """Every installed path dyld tries for ``reference``: through the file's own run paths,
    then those of the images that load it.  None at all for an ``@rpath/`` reference when
    no image of the chain has a run path: only the interpreter's own are left."""
    origin = posixpath.dirname(installed_path(name))
    out = _candidates(reference, origin, piece.rpaths)
    if reference.startswith("@rpath/"):
        for loader_origin, loader in _loader_slices(name, piece.arch, files, loaders):
            out += _candidates(reference, loader_origin, loader.rpaths)
    return out


def _loader_slices(
    name: str, arch: str, files: Mapping[str, MachOFile], loaders: Mapping[str, set[str]]
) -> Iterator[tuple[str, MachOSlice]]:
    """The ``arch`` slices of the images that load ``name``, up the chain (the run-path
    stack), nearest first, each with its installed directory; bounded."""
    seen = {name}
    stack = sorted(loaders[name], reverse=True)
    while stack and len(seen) <= _MAX_LOADER_DEPTH * 8:
        loader = stack.pop()
        if loader in seen:
            continue
        seen.add(loader)
        origin = posixpath.dirname(installed_path(loader))
        for piece in files[loader].slices:
            if piece.arch == arch:
                yield origin, piece
        stack.extend(sorted(loaders[loader], reverse=True))


def _through_loaders(
    reference: str,
    name: str,
    arch: str,
    files: Mapping[str, MachOFile],
    by_installed: Mapping[str, str],
    loaders: Mapping[str, set[str]],
) -> str | None:
    """``@rpath/`` through the run paths of the images that load ``name`` (same arch)."""
    for origin, piece in _loader_slices(name, arch, files, loaders):
        for candidate in _candidates(reference, origin, piece.rpaths):
            if candidate in by_installed:
                return by_installed[candidate]
    return None


def _loaders_escape(
    name: str, arch: str, files: Mapping[str, MachOFile], loaders: Mapping[str, set[str]]
) -> bool:
    """Whether a run path of an image that loads ``name`` (up the chain) leaves the wheel."""
    return any(
        _leaves_wheel("@rpath/x", origin, piece.rpaths)
        for origin, piece in _loader_slices(name, arch, files, loaders)
    )


def _candidates(reference: str, origin: str, rpaths: tuple[str, ...]) -> list[str]:
    """Installed paths (relative to the install root) that a reference may name."""
    if reference.startswith("@loader_path/"):
        return _inside(posixpath.join(origin, reference[len("@loader_path/") :]))
    if reference.startswith("@rpath/"):
        rest = reference[len("@rpath/") :]
        out: list[str] = []
        for entry in rpaths:
            if entry.startswith("@loader_path"):
                out += _inside(
                    posixpath.join(origin, entry[len("@loader_path") :].lstrip("/"), rest)
                )
        return out
    return []


def _inside(path: str) -> list[str]:
    normal = posixpath.normpath(path)
    return [] if normal.startswith("..") or normal.startswith("/") else [normal]


def _leaves_wheel(reference: str, origin: str, rpaths: tuple[str, ...]) -> bool:
    """Whether the reference may be found outside the wheel: an ``@executable_path``, a
    run path that is absolute or climbs above the install root, or a bare name (dyld's
    fallback directories)."""
    if reference.startswith("@executable_path/") or "/" not in reference:
        return True
    if reference.startswith("@loader_path/"):
        return not _inside(posixpath.join(origin, reference[len("@loader_path/") :]))
    if reference.startswith("@rpath/"):
        for entry in rpaths:
            if not entry.startswith("@loader_path"):
                return True
            if not _inside(posixpath.join(origin, entry[len("@loader_path") :].lstrip("/"), "x")):
                return True
    return False
