"""Split wheels: libraries a required distribution installs into the same site-packages.

Some projects ship their bindings and the library they bind as separate
distributions that install into one tree: PyQt6's modules load Qt from
``PyQt6/Qt6/lib`` (macOS) or ``PyQt6/Qt6/bin`` (Windows), which PyQt6-Qt6
installs; PySide6's load ``libshiboken6`` from ``shiboken6/``, which shiboken6
installs; PySide6-Addons loads QtCore from ``PySide6/Qt/lib``, which
PySide6-Essentials installs.  Judged alone, such a wheel looks broken, yet pip
installs its requirements with it.

A reference the wheel lacks is taken as coming from a distribution installed
with it when:

* a wheel given on the same command line ships it where the loader looks (an
  installed path for dyld and ld.so; for Windows a DLL of that name, anywhere in a
  required distribution's wheel, in the importing file's directory otherwise).
  Checked: "provided-by-requirement" when that distribution is required (also
  through the requirements of the given wheels: PyQtWebEngine -> PyQt5 ->
  PyQt5-Qt5), "undeclared-requirement" when it is not;
* or, not checked, a required distribution is named after the place dyld or
  ld.so looks in (``shiboken6/`` for shiboken6), or after the library itself
  (``libshiboken6.abi3.6.7.dylib``, ``shiboken6.abi3.dll``: it loads the library
  when imported, and every loader reuses a library already loaded under that
  name), or the library table says it ships the library (``first_party_dists``:
  PyQt6-Qt6 and PySide6-Essentials ship Qt).  A given wheel of that distribution
  that lacks the library refutes it.

A name prefix alone proves nothing (openvino-telemetry is pure Python).
Anything else keeps its finding: a reference no requirement accounts for is
still broken or external.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from truewheel.analysis.resolve import BROKEN, EXTERNAL, Dependency, installed_path, search_dirs
from truewheel.elf import ElfFile
from truewheel.errors import TruewheelError
from truewheel.policy.libraries import LibraryName, LibraryTable
from truewheel.wheel import Limits, WheelArchive

__all__ = [
    "CHECKED",
    "MISSING",
    "NAMED",
    "UNDECLARED",
    "CompanionWheel",
    "RequirementLocator",
    "attach_to_elf",
    "companion_index",
    "library_key",
    "runtime_requirements",
]

# checked against the requirement's wheel; expected by name; refuted by its wheel; shipped by
# a given wheel of a distribution this one does not require
CHECKED, NAMED, MISSING = "requirement-wheel", "requirement", "requirement-missing"
UNDECLARED = "undeclared-wheel"
_SYSTEMS = (
    ("macosx_", "macos"),
    ("win", "windows"),
    ("manylinux", "linux"),
    ("musllinux", "linux"),
    ("linux", "linux"),
)


def companion_index(
    paths: Iterable[str | os.PathLike[str]], limits: Limits | None = None
) -> dict[str, list[CompanionWheel]]:
    """Canonical distribution name -> the wheels among ``paths`` (central directories
    only); a wheel that cannot be read is left out, its own inspection says why."""
    out: dict[str, list[CompanionWheel]] = {}
    for path in paths:
        try:
            with WheelArchive(path, limits) as wheel:
                companion = CompanionWheel.of(wheel)
                out.setdefault(canonicalize_name(wheel.name.name), []).append(companion)
        except TruewheelError:
            continue
    return out


@dataclass(frozen=True)
class CompanionWheel:
    """What another wheel given on the same command line installs and requires."""

    filename: str
    name: str  # as its METADATA writes it
    system: str | None  # "macos", "windows", "linux", or None for an untagged wheel
    installed: frozenset[str]  # installed paths (see resolve.installed_path)
    requires: tuple[str, ...] = ()  # canonical names of its runtime requirements

    @classmethod
    def of(cls, wheel: WheelArchive) -> CompanionWheel:
        platforms = wheel.name.platforms
        system = next(
            (s for prefix, s in _SYSTEMS for p in platforms if p.startswith(prefix)), None
        )
        names = frozenset(installed_path(m.name) for m in wheel.files)
        requires = tuple(runtime_requirements(wheel.metadata.requires_dist))
        return cls(wheel.name.filename, wheel.metadata.name, system, names, requires)

    def find(self, name: str, directory: str | None = None) -> str | None:
        """Where this wheel installs a library of that name (in ``directory`` when given),
        or None; compared case-insensitively, as Windows does (and macOS's default file
        system)."""
        key = name.lower()
        return next(
            (
                p
                for p in sorted(self.installed)
                if posixpath.basename(p).lower() == key
                and (directory is None or posixpath.dirname(p).lower() == directory.lower())
            ),
            None,
        )


class RequirementLocator:
    """Decides whether a required distribution, or another wheel given with this one,
    provides a reference the wheel lacks."""

    def __init__(
        self,
        requires_dist: Iterable[str],
        companions: Mapping[str, Sequence[CompanionWheel]] | None = None,
        own: str = "",
        table: LibraryTable | None = None,
    ) -> None:
        """``companions``: canonical name -> the given wheels of that distribution for the
        same operating system; ``own``: the judged wheel's name, whose other wheels (other
        versions, architectures) prove nothing about it; ``table``: the library table,
        whose ``first_party_dists`` name the distributions that ship a library."""
        self.table = table
        self.required = runtime_requirements(requires_dist)
        mine = canonicalize_name(own) if own else None
        self.given = {k: list(v) for k, v in (companions or {}).items() if k != mine and v}
        self.closure = self._closure()

    @classmethod
    def for_system(
        cls,
        requires_dist: Iterable[str],
        companions: Mapping[str, Sequence[CompanionWheel]],
        system: str | None,
        own: str = "",
        table: LibraryTable | None = None,
    ) -> RequirementLocator:
        """Checking only against the given wheels for ``system`` (or for any)."""
        same = {
            name: [w for w in wheels if w.system in (system, None)]
            for name, wheels in companions.items()
        }
        return cls(requires_dist, same, own, table)

    def _closure(self) -> dict[str, str]:
        """Canonical name -> how to name it, for every distribution installed with this
        wheel that we know of: its requirements, and theirs through the given wheels
        (PyQtWebEngine requires PyQt5, whose wheel requires PyQt5-Qt5)."""
        out = dict(self.required)
        queue = sorted(out)
        while queue:
            parent = queue.pop(0)
            for wheel in self.given.get(parent, ()):
                for child in wheel.requires:
                    if child not in out:
                        names = self.given.get(child)
                        shown = names[0].name if names else child
                        out[child] = f"{shown} (through {out[parent].split(' (', 1)[0]})"
                        queue.append(child)
        return out

    def __bool__(self) -> bool:
        return bool(self.required or self.given)

    def at_location(
        self, reference: str, locations: Iterable[str], refuted: str = BROKEN
    ) -> Dependency | None:
        """A reference the loader looks for at ``locations`` (installed paths), none of
        them in this wheel; ``refuted`` is the status when the requirement's wheel, given,
        does not ship it."""
        places = list(dict.fromkeys(locations))
        for dist, wheel in self._given():
            found = next((p for p in places if p in wheel.installed), None)
            if found is not None:
                return self._shipped(reference, dist, wheel, found)
        for place in places:
            key = canonicalize_name(place.split("/", 1)[0])
            if key in self.required:  # shiboken6/ for shiboken6
                return self._expected(reference, key, place, refuted)
        return self._after_library(reference, refuted) or self._in_table(reference, refuted)

    def dll(self, name: str, directory: str) -> Dependency | None:
        """A Windows DLL imported by a file installed in ``directory``."""
        for dist, wheel in self._given():
            found = wheel.find(name, None if dist in self.closure else directory)
            if found is not None:
                return self._shipped(name, dist, wheel, found)
        return self._after_library(name, EXTERNAL) or self._in_table(name, EXTERNAL)

    def _given(self) -> Iterator[tuple[str, CompanionWheel]]:
        """The given wheels, those of distributions installed with this one first."""
        for dist, wheels in sorted(
            self.given.items(), key=lambda i: (i[0] not in self.closure, i[0])
        ):
            for wheel in wheels:
                yield dist, wheel

    def _shipped(self, reference: str, dist: str, wheel: CompanionWheel, path: str) -> Dependency:
        if dist in self.closure:
            return Dependency(reference, EXTERNAL, path, CHECKED, self.closure[dist])
        return Dependency(reference, EXTERNAL, path, UNDECLARED, wheel.name)

    def _after_library(self, reference: str, refuted: str) -> Dependency | None:
        """The requirement named after the library itself: it is the one that loads it
        (every loader reuses a library already loaded under that name), wherever its
        wheel puts it."""
        key = library_key(reference)
        if key not in self.required:
            return None
        base = posixpath.basename(reference)
        found = next((f for w in self.given.get(key, ()) if (f := w.find(base))), None)
        if found is not None:
            return Dependency(reference, EXTERNAL, found, CHECKED, self.required[key])
        return self._expected(reference, key, None, refuted)

    def _in_table(self, reference: str, refuted: str) -> Dependency | None:
        """A required distribution the library table says ships this library's family
        (PyQt6-Qt6 and PySide6-Essentials ship Qt)."""
        family = self.table.family_for(posixpath.basename(reference)) if self.table else None
        if family is None:
            return None
        key = next(
            (
                r
                for r in sorted(self.required)
                if any(fnmatchcase(r, p) for p in family.first_party_dists)
            ),
            None,
        )
        return None if key is None else self._expected(reference, key, None, refuted)

    def _expected(self, reference: str, key: str, place: str | None, refuted: str) -> Dependency:
        if key in self.given:  # its wheel was given and does not ship it
            return Dependency(reference, refuted, place, MISSING, self.required[key])
        return Dependency(reference, EXTERNAL, place, NAMED, self.required[key])


def attach_to_elf(
    resolved: Mapping[str, list[Dependency]],
    files: Mapping[str, ElfFile],
    requirements: RequirementLocator,
) -> None:
    """Mark, in place, the external needs of ELF files that a required distribution
    installs: looked for in the file's RPATH/RUNPATH directories inside the install root
    (PyQt6's ``$ORIGIN/Qt6/lib``), or named after the requirement (``libshiboken6``, found
    by SONAME once shiboken6 is imported).  A refuted one stays external."""
    if not requirements:
        return
    for name, deps in resolved.items():
        origin = posixpath.dirname(installed_path(name))
        dirs = [d for d, _ in search_dirs(files[name], origin) if d.startswith("/")]
        for i, dep in enumerate(deps):
            if dep.status != EXTERNAL or "/" in dep.name:
                continue
            places = [posixpath.normpath(posixpath.join(d, dep.name)).lstrip("/") for d in dirs]
            inside = [p for p in places if not p.startswith("..")]
            deps[i] = requirements.at_location(dep.name, inside, EXTERNAL) or dep


def library_key(reference: str) -> str:
    """The canonical distribution name a library is named after: ``shiboken6`` for
    ``@rpath/libshiboken6.abi3.6.7.dylib`` and ``shiboken6.abi3.dll``."""
    stem = LibraryName.parse(posixpath.basename(reference)).stem.split(".", 1)[0]
    return canonicalize_name(stem[3:] if stem.startswith("lib") else stem)


def runtime_requirements(requires_dist: Iterable[str]) -> dict[str, str]:
    """Canonical name -> name as written, for the requirements installed whatever extras
    are asked (markers about the platform or Python are taken as met)."""
    out: dict[str, str] = {}
    for text in requires_dist:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue
        out.setdefault(canonicalize_name(requirement.name), requirement.name)
    return out
