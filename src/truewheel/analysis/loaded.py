"""Which files of a wheel something loads: the closure of its extension modules and programs.

A library no extension module or program of the wheel loads, directly or through the
libraries those load, is used only by code that loads it by path at run time (a plugin
loader such as Qt's, ``ctypes``), or by nothing (the C++ AMP runtime ``vcamp140.dll`` of an
MSVC runtime bundle): what it needs is not known to be needed.  A wheel without extension
modules loads its libraries by path (soundfile's ``libsndfile``, opened with cffi): only
the files under a ``plugins`` or ``qml`` directory that none of its other files loads are
left out then (PyQt5-Qt5, whose Qt plugins the host library loads after itself).  The same
for ELF, Mach-O and PE files: each loader passes its files' dependencies and roots.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from truewheel.analysis.resolve import Dependency

__all__ = ["imported_closure", "unloaded"]

_PLUGIN_DIR = re.compile(r"(?:^|/)(?:plugins?|qml)/")


def unloaded(
    files: Mapping[str, Sequence[Dependency]], roots: Collection[str], *, modules: bool
) -> set[str]:
    """The files (by member path) that nothing of the wheel loads.  ``files`` maps each file
    to its dependencies (``path`` names the member that provides one); ``roots`` are the
    extension modules and programs; ``modules``: whether any root is an extension module."""
    if not modules:
        plugins = {p for p in files if _PLUGIN_DIR.search(p.lower())}
        return plugins - imported_closure(files, sorted(set(files) - plugins))
    return set(files) - imported_closure(files, roots)


def imported_closure(files: Mapping[str, Sequence[Dependency]], roots: Collection[str]) -> set[str]:
    """``roots`` and every file they import, directly or through one another."""
    live = list(roots)
    seen = set(live)
    while live:
        for dep in files[live.pop()]:
            path = dep.path
            if path is not None and path in files and path not in seen:
                seen.add(path)
                live.append(path)
    return seen
