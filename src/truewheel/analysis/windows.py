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
Code a ``.pth`` file runs at interpreter start-up is a loader too: pywin32's
``pywin32.pth`` imports ``pywin32_bootstrap``, which adds ``pywin32_system32``
before any of its modules is imported.  Names are compared case-insensitively,
as Windows does.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from truewheel.analysis.loaded import imported_closure, unloaded
from truewheel.analysis.report import ImageFile
from truewheel.analysis.resolve import BROKEN, BUNDLED, EXTERNAL, SYSTEM, Dependency, installed_path
from truewheel.analysis.split import RequirementLocator
from truewheel.pe import PEFile
from truewheel.policy.systems import WindowsSystem

__all__ = [
    "dll_managing_dirs",
    "pth_startup",
    "resolve_windows",
    "unimported",
    "unloaded_foreign",
    "wheel_machines",
]

# A package that calls these manages its own DLL search (delvewheel's patch, torch's and
# numpy's loaders): the directories it names or lives in are taken as reached.
_DLL_LOADING = re.compile(rb"add_dll_directory|LoadLibraryEx?W?\b|WinDLL\(|ctypes\.CDLL\(|windll\.")
_LIBS_DIR = re.compile(rb"[A-Za-z0-9_.\-]+\.libs\b")
_COMMENT = re.compile(rb"#[^\n]*")
_WORD = re.compile(rb"(?<![\w.])[A-Za-z_][\w\-]*(?![\w\-])")
_LOAD_ORDER = re.compile(r"\.load-order-[^/]+")
# site.addpackage: a .pth line starting "import " or "import\t" is executed, any other
# (not a comment) is a directory appended to sys.path.
_PTH_IMPORT = re.compile(rb"import[ \t]")
_IMPORTED = re.compile(rb"(?:^|;)[ \t]*(?:import[ \t]+([\w., \t]+)|from[ \t]+([\w.]+)[ \t]+import)")


def pth_startup(
    members: Collection[str], pth_files: Mapping[str, bytes]
) -> tuple[dict[str, bytes], list[str]]:
    """What the wheel's ``.pth`` files run at start-up: each one's import lines, and the
    members holding the modules those lines import.

    ``pth_files`` are the ``.pth`` files of the install root (site only reads those).
    A module is looked for where the import finds it: the install root, then the
    directories the same ``.pth`` file adds (pywin32's ``win32\\lib`` holds its
    ``pywin32_bootstrap.py``), as ``<name>.py`` or ``<name>/__init__.py``.
    """
    by_installed = {installed_path(m): m for m in members}
    lines: dict[str, bytes] = {}
    modules: list[str] = []
    for pth, text in sorted(pth_files.items()):
        raw = text.splitlines()
        code = [line for line in raw if _PTH_IMPORT.match(line)]
        if not code:
            continue
        lines[pth] = b"\n".join(code)
        dirs = [""] + [
            d.strip(b" \t/\\").replace(b"\\", b"/").decode("utf-8", "replace")
            for d in raw
            if d.strip() and not d.startswith(b"#") and not _PTH_IMPORT.match(d)
        ]
        for name in _imported_modules(code):
            for d in dirs:
                base = f"{d}/{name}" if d else name
                found = by_installed.get(f"{base}.py") or by_installed.get(f"{base}/__init__.py")
                if found is not None:
                    modules.append(found)
                    break
    return lines, sorted(set(modules))


def _imported_modules(code: list[bytes]) -> list[str]:
    """The top-level modules ``import a.b as c, d`` and ``from e import f`` name."""
    names = []
    for line in code:
        for imported, source in _IMPORTED.findall(line):
            for part in imported.split(b",") if imported else [source]:
                words = part.split()
                if words:
                    names.append(words[0].split(b".")[0].decode("ascii", "replace"))
    return names


def dll_managing_dirs(
    members: Collection[str],
    loader_code: Mapping[str, bytes],
    startup_code: Mapping[str, bytes] | None = None,
) -> set[str]:
    """Installed top-level directories whose DLLs the package's own code makes loadable.

    ``loader_code`` holds the package entry points that may carry a DLL loader (a
    top-level package's ``__init__.py`` or ``_distributor_init.py``).  When one calls
    ``os.add_dll_directory``, ``LoadLibrary`` or ``WinDLL``, its own package and every
    ``<name>.libs`` directory it names are reached; a ``.libs`` directory holding
    delvewheel's ``.load-order-*`` file is preloaded by name.

    ``startup_code`` is what ``.pth`` files run (:func:`pth_startup`): a module there is
    no package entry point, so its own directory is not taken; the directories it
    reaches are the ``<name>.libs`` and the top-level directories of the wheel it names
    (pywin32_bootstrap's ``pywin32_system32``).
    """
    dirs: set[str] = set()
    tops = {p.split("/", 1)[0] for m in members if "/" in (p := installed_path(m))}
    for member in members:
        parts = installed_path(member).split("/")
        if len(parts) == 2 and parts[0].endswith(".libs") and _LOAD_ORDER.fullmatch(parts[1]):
            dirs.add(parts[0])
    for member, text in loader_code.items():
        if not _DLL_LOADING.search(text):
            continue
        dirs.add(installed_path(member).split("/", 1)[0])
        dirs.update(m.decode() for m in _LIBS_DIR.findall(text))
    for text in (startup_code or {}).values():
        if not _DLL_LOADING.search(text):
            continue
        dirs.update(m.decode() for m in _LIBS_DIR.findall(text))
        words = {w.decode() for w in _WORD.findall(_COMMENT.sub(b"", text))}
        dirs.update(t for t in tops if t in words)
    return dirs


def resolve_windows(
    files: Mapping[str, PEFile],
    system: WindowsSystem,
    managed_dirs: Collection[str] = (),
    beside_python: frozenset[str] = frozenset(),
    requirements: RequirementLocator | None = None,
) -> dict[str, list[Dependency]]:
    """For every PE member, where each DLL it imports (delay-loaded too) comes from.

    ``managed_dirs`` are the installed top-level directories the package's own code
    makes reachable (:func:`dll_managing_dirs`); ``beside_python`` the MSVC runtime DLLs
    the interpreter the wheel is for ships (:meth:`WindowsSystem.beside_python`);
    ``requirements`` says which missing DLLs a required distribution provides.
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
            if dep.status == EXTERNAL and requirements:
                dep = requirements.dll(dll, posixpath.dirname(installed_path(name))) or dep
            if delayed and dep.provider is None:
                dep = Dependency(dep.name, dep.status, dep.path, "delay-load")
            deps.append(dep)
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


def wheel_machines(
    platforms: Sequence[str], images: Sequence[ImageFile], system: WindowsSystem
) -> set[int]:
    """The machines the wheel is for: its Windows tags', or, untagged, the machine most of
    its extension modules (else of its PE files) are built for."""
    tagged = {m for p in platforms if (m := system.machine_of_tag(p)) is not None}
    if tagged:
        return tagged
    pes = [f.pe for f in images if f.pe is not None]
    modules = [pe for f in images if (pe := f.pe) is not None and f.path.lower().endswith(".pyd")]
    counts = Counter(pe.machine for pe in modules or pes)
    return {counts.most_common(1)[0][0]} if counts else set()


def unloaded_foreign(images: Sequence[ImageFile], machines: Collection[int]) -> set[str]:
    """PE files of another machine that no import loads: dead weight to the loader.

    Python imports every extension module (``.pyd``) by name whatever its machine, and
    a process of the wheel's machine loads its own files; what those import, directly or
    through one another, is loaded too.  A file of another machine outside that closure
    is only used by code that picks a file per architecture (sounddevice's
    ``_sounddevice_data/portaudio-binaries``, opened with ``ctypes``) or runs it as a
    program (Windows runs x86 programs on x64 and arm64).  A wheel with no file of its
    own machine has no such choice to offer: none of its files is left out then.
    """
    by_path = {f.path: f for f in images if f.pe is not None}
    if not any(f.pe is not None and f.pe.machine in machines for f in by_path.values()):
        return set()
    roots = [
        p for p, f in by_path.items()
        if p.lower().endswith(".pyd") or (f.pe is not None and f.pe.machine in machines)
    ]  # fmt: skip
    deps = {p: f.dependencies for p, f in by_path.items()}
    return set(by_path) - imported_closure(deps, roots)


def unimported(images: Sequence[ImageFile]) -> set[str]:
    """PE and Mach-O libraries that no extension module or program of the wheel loads
    (analysis/loaded.py).  An extension module is a ``.pyd``, or on macOS a bundle named
    ``.so``, the only suffix CPython imports there (a Qt plugin is a bundle named ``.dylib``)."""
    by_path = {f.path: f for f in images if f.pe is not None or f.macho is not None}
    roots = [p for p, f in by_path.items() if _module_or_program(f)]
    modules = any(p.lower().endswith((".pyd", ".so")) for p in roots)
    return unloaded({p: f.dependencies for p, f in by_path.items()}, roots, modules=modules)


def _module_or_program(f: ImageFile) -> bool:
    if f.pe is not None:
        return f.path.lower().endswith(".pyd") or not f.pe.is_dll
    kinds = {s.filetype for s in f.macho.slices} if f.macho is not None else set()
    return kinds == {"execute"} or (kinds == {"bundle"} and f.path.endswith(".so"))
