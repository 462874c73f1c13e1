"""Where a Windows wheel's DLLs and extension modules find the DLLs they import.

CPython (3.8 and later) loads an extension module with the DLL search limited
to the module's own directory, the interpreter's directory, System32 and the
directories added by ``os.add_dll_directory``; ``PATH`` is not searched.  A
DLL whose name is already loaded in the process is reused whatever its
directory, so a library one module found satisfies the next module that
imports the same name.  API sets (``api-ms-win-*``) and KnownDLLs always come
from the system.  delvewheel puts the DLLs it vendors in ``<dist>.libs/`` and
either patches the package's ``__init__.py`` to add that directory
(``os.add_dll_directory``) or lists them in a ``.load-order-<dist>-<version>``
file there and preloads them; both are recognised from the wheel's members.
Names are compared case-insensitively, as Windows does.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Mapping

from truewheel.analysis.resolve import BROKEN, BUNDLED, EXTERNAL, SYSTEM, Dependency, installed_path
from truewheel.pe import PEFile
from truewheel.policy.systems import WindowsSystem

__all__ = ["dll_managing_dirs", "resolve_windows"]

# A package that calls these manages its own DLL search (delvewheel's patch, torch's and
# numpy's loaders): the directories it names or lives in are taken as reached.
_DLL_LOADING = re.compile(rb"add_dll_directory|LoadLibraryEx?W?\b|WinDLL\(|ctypes\.CDLL\(|windll\.")
_LIBS_DIR = re.compile(rb"[A-Za-z0-9_.\-]+\.libs\b")
_LOAD_ORDER = re.compile(r"\.load-order-[^/]+")


def dll_managing_dirs(members: Collection[str], loader_code: Mapping[str, bytes]) -> set[str]:
    """Installed top-level directories whose DLLs the package's own code makes loadable.

    ``loader_code`` holds the package entry points that may carry a DLL loader (a
    top-level package's ``__init__.py`` or ``_distributor_init.py``).  When one calls
    ``os.add_dll_directory``, ``LoadLibrary`` or ``WinDLL``, its own package and every
    ``<name>.libs`` directory it names are reached; a ``.libs`` directory holding
    delvewheel's ``.load-order-*`` file is preloaded by name.
    """
    dirs: set[str] = set()
    for member in members:
        parts = installed_path(member).split("/")
        if len(parts) == 2 and parts[0].endswith(".libs") and _LOAD_ORDER.fullmatch(parts[1]):
            dirs.add(parts[0])
    for member, text in loader_code.items():
        if not _DLL_LOADING.search(text):
            continue
        dirs.add(installed_path(member).split("/", 1)[0])
        dirs.update(m.decode() for m in _LIBS_DIR.findall(text))
    return dirs


def resolve_windows(
    files: Mapping[str, PEFile],
    system: WindowsSystem,
    managed_dirs: Collection[str] = (),
    beside_python: frozenset[str] = frozenset(),
) -> dict[str, list[Dependency]]:
    """For every PE member, where each DLL it imports (delay-loaded too) comes from.

    ``managed_dirs`` are the installed top-level directories the package's own code
    makes reachable (:func:`dll_managing_dirs`); ``beside_python`` the MSVC runtime DLLs
    the interpreter the wheel is for ships (:meth:`WindowsSystem.beside_python`).
    """
    by_dir: dict[str, dict[str, str]] = {}
    anywhere: dict[str, str] = {}
    for name in sorted(files):
        installed = installed_path(name)
        base = posixpath.basename(installed).lower()
        by_dir.setdefault(posixpath.dirname(installed), {}).setdefault(base, name)
        anywhere.setdefault(base, name)
    added: dict[str, str] = {}
    for name in sorted(files):
        installed = installed_path(name)
        if installed.split("/", 1)[0] in managed_dirs:
            added.setdefault(posixpath.basename(installed).lower(), name)
    resolved: dict[str, list[Dependency]] = {}
    for name, pe in files.items():
        own = by_dir.get(posixpath.dirname(installed_path(name)), {})
        deps = []
        for dll, delayed in [(d, False) for d in pe.imports] + [
            (d, True) for d in pe.delay_imports
        ]:
            kind = system.classify(dll, beside_python, pe.machine)
            dep = _resolve(dll, own, added, anywhere, kind)
            deps.append(
                Dependency(dep.name, dep.status, dep.path, "delay-load") if delayed else dep
            )
        resolved[name] = deps
    return resolved


def _resolve(
    dll: str,
    own: Mapping[str, str],
    added: Mapping[str, str],
    anywhere: Mapping[str, str],
    kind: str | None,
) -> Dependency:
    key = dll.lower()
    if kind in ("system", "api-set", "interpreter"):
        return Dependency(dll, SYSTEM, None, kind)
    if key in own:
        return Dependency(dll, BUNDLED, own[key], "directory")
    if key in added:
        return Dependency(dll, BUNDLED, added[key], "package-loader")
    if key in anywhere:
        return Dependency(dll, BROKEN, anywhere[key])
    return Dependency(dll, EXTERNAL, None, kind)
