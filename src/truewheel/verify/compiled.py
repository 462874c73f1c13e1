"""Whether a native module was compiled from the sdist: what its own bytes say, against
what the sdist holds or says its build writes.

Evidence, each item a line of the report:

* its init function ``PyInit_<module>`` (the import system requires it to match the file
  name) and a ``<module>`` (or CPython's ``<module>module``) source in the sdist:
  ``.c``/``.pyx``/``.rs``..., a template of one (``_decomp_update.pyx.in``, rendered by the
  build), the ``.py`` that mypyc or Pythran (``__pythran__``) compiled, or the f2py
  signature file that declares ``python module <module>``; SWIG's interface ``X.i`` for
  ``_X``; for a Rust module the crate that declares its name (:mod:`.rust`);
* a source name written into it (DWARF, ``__FILE__``, Cython's and mypyc's tables) that
  is an sdist file or its template;
  or, for the module's own source (``<module>.pyx``, f2py's ``<module>module.c``), a file
  the sdist lacks and the ``meson.build`` of that directory names (Meson generated it:
  scipy's ``beta_ufunc.pyx`` from ``scipy/stats/meson.build``), or that a Python script at
  the sdist's top mentions (h5py's ``api_gen.py`` writes ``h5py/defs.pyx``).

A name the build only *says* it writes is weaker than a file the sdist holds, and the
evidence line says which it is.
"""

from __future__ import annotations

import re

from truewheel.verify.rust import DEPENDENCY_PATHS
from truewheel.verify.sdistfiles import SdistFiles
from truewheel.verify.templates import TEMPLATE_SUFFIXES, untemplated
from truewheel.verify.wheelfiles import SOURCE_SUFFIXES, WheelFile

__all__ = ["compiled_evidence", "foreign_sources", "module_name"]

_MAX_NAMED = 5
_MANY_FOREIGN = 10
_CRATE_ROOTS = frozenset({"lib.rs", "main.rs", "mod.rs", "build.rs"})
_SOURCE_NAME = re.compile(r"[A-Za-z_][\w+-]+\.[A-Za-z0-9+]+")
_TOOLCHAIN_FILES = frozenset({"crtstuff.c", "crti.S", "crtn.S", "start.S", "init.c"})


def module_name(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".", 1)[0]


def compiled_evidence(
    file: WheelFile, sdist: SdistFiles, directories: list[str]
) -> tuple[tuple[str, ...], str | None]:
    """The evidence that the sdist's sources made this file, and the main source.
    ``directories`` are the sdist directories that stand for the member's own directory
    and its parents, nearest first (where a ``meson.build`` naming its sources would be)."""
    assert file.native is not None
    evidence: list[str] = []
    source: str | None = None
    init = f"PyInit_{module_name(file.path)}"
    strong = False  # evidence that is not only a crate root's generic name
    if init in file.native.init_functions:
        line, source = _init_evidence(file, sdist, init, directories)
        if line:
            evidence.append(line)
            strong = True
    named = 0
    stems = _own_stems(module_name(file.path))
    # the module's own source first (pymongo's _cmessage also names bson/_cbsonmodule.c)
    ordered = sorted(file.native.sources, key=lambda s: _stem(s[0]) not in stems)
    foreign: dict[str, None] = {}
    held: set[str] = set()  # path-like names the sdist holds, counted in full
    for name, section in ordered:
        if any(d in name for d in DEPENDENCY_PATHS):
            continue
        if named >= _MAX_NAMED:
            if not matching_sources(name, sdist):
                foreign.setdefault(name)
            elif _pathlike(name):
                held.add(name)
            continue
        where = f" ({_describe(section)})" if section else ""
        line, path = _named(name, sdist, directories, module_name(file.path))
        if line:
            evidence.append(f"names {name}{where}: {line}")
            source = source or path
            named += 1
            strong = strong or not _generic(name)
            if _pathlike(name):
                held.add(name)
        else:
            foreign.setdefault(name)
    if not strong:
        return (), None
    lacking = [name for name in foreign if _plausible(name) and _pathlike(name)]
    if evidence and len(lacking) > max(_MANY_FOREIGN, 4 * len(held)):
        # llvmlite's libllvmlite.so: two names of its own, 1,659 of the LLVM it links in
        evidence.append(
            f"also names {len(lacking)} source paths the sdist lacks, against {len(held)} it"
            f" holds (mostly built from elsewhere), e.g. {', '.join(lacking[:3])}"
        )
    return tuple(evidence), source


def _pathlike(name: str) -> bool:
    """A name with a directory, either slash (xmlsec's ``..\\src\\keys.c``, built by MSVC)."""
    return "/" in name or "\\" in name


def _generic(name: str) -> bool:
    """``src/lib.rs``: the root of every Rust crate, relative as rustc writes it; naming one
    the sdist also has proves nothing (rpds' module names it, and so does jellyfish's sdist)."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    return len(parts) <= 2 and parts[-1] in _CRATE_ROOTS and parts[0] in ("src", parts[-1])


def foreign_sources(file: WheelFile, sdist: SdistFiles) -> list[str]:
    """The source names a binary carries that no sdist file matches."""
    assert file.native is not None
    names = dict.fromkeys(name for name, _ in file.native.sources if _plausible(name))
    return [name for name in names if not matching_sources(name, sdist)]


def _plausible(name: str) -> bool:
    """A source name worth showing: not a fragment the byte search caught (``P.m``,
    ``ts..f``; a count of lacking names takes only paths, ``llvm/lib/IR/Core.cpp``), a URL,
    nor the toolchain's own (GCC's ``crtstuff.c``, Rust's ``/rustc/<hash>/library``)."""
    if name.startswith("//") or "://" in name or any(d in name for d in DEPENDENCY_PATHS):
        return False  # a URL, or a Rust dependency's or the toolchain's (pinned by Cargo.lock)
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _SOURCE_NAME.fullmatch(base) is not None and base not in _TOOLCHAIN_FILES


def _init_evidence(
    file: WheelFile, sdist: SdistFiles, init: str, directories: list[str]
) -> tuple[str | None, str | None]:
    assert file.native is not None
    module = init.removeprefix("PyInit_")
    here = file.tree_path.rsplit("/", 1)[0] if file.tree_path and "/" in file.tree_path else ""
    # mypyc and Pythran compile .py files: such a module stands for its .py
    compiles_py = bool(file.native.mypyc_groups) or file.native.pythran
    suffixes = (*SOURCE_SUFFIXES, ".py") if compiles_py else SOURCE_SUFFIXES
    found = [*sdist.by_stem.get(module, ()), *sdist.by_stem.get(f"{module}module", ())]
    own = [p for p in found if (untemplated(p) or p).endswith(suffixes)]
    own.sort(key=lambda p: (not p.rsplit("/", 1)[0].endswith(here), p != untemplated(p), len(p)))
    if own:
        via = ""
        if own[0].endswith(".py"):
            by = f"loads {file.native.mypyc_groups[0]} (mypyc)" if file.native.mypyc_groups else ""
            via = f", {by or 'compiled by Pythran (__pythran__)'}"
        kind = "its template" if untemplated(own[0]) else ""
        return f"exports {init}{via}; sdist has {kind + ' ' if kind else ''}{own[0]}", own[0]
    swig = [p for p in sdist.by_stem.get(module.removeprefix("_"), ()) if p.endswith(".i")]
    if module.startswith("_") and swig:
        return f"exports {init}; sdist has {swig[0]}, the SWIG interface of {module!r}", swig[0]
    own = [d for d in directories if not here or d == here or d.endswith("/" + here)]
    declared = next((d for d in own if module in sdist.build.extensions.get(d, ())), None)
    if (
        declared is None and own
    ):  # scipy's sparse/sparsetools/meson.build builds sparse/_sparsetools
        children = (e for e in sorted(sdist.build.extensions) if e.rsplit("/", 1)[0] == own[0])
        declared = next((e for e in children if module in sdist.build.extensions[e]), None)
    if declared is not None:
        build = f"{declared}/meson.build" if declared else "meson.build"
        return f"exports {init}; {build} declares the extension module {module!r}", build
    cmake = sdist.build.cmake_declaring(module, here)
    if cmake is not None:
        return (
            f"exports {init}; {cmake} builds the module target {module!r} and installs it here",
            cmake,
        )
    table = sdist.build.installed.get(here, {}).get(module)
    if table is not None:
        line = f"exports {init}; {table} declares the extension module {module!r}"
        return f"{line} for {here!r}", table
    dotted = (
        file.tree_path.rsplit(".", 1)[0].split(".", 1)[0].replace("/", ".")
        if file.tree_path
        else ""
    )
    if dotted and dotted in sdist.configured:
        return f"exports {init}; the sdist's build configuration names {dotted!r}", None
    cffi = _cffi_declared(dotted, sdist)
    if cffi is not None:
        return f"exports {init}; {cffi[0]} hands {cffi[1]} to cffi (ffi.set_source)", cffi[0]
    if module in sdist.build.f2py:
        signature = sdist.build.f2py[module]
        return f"exports {init}; {signature} declares the f2py module {module}", signature
    crate = sdist.rust.modules.get(module)
    if crate is not None:
        return f"exports {init}; {crate} declares the Rust extension {module!r}", crate
    return None, None


def _cffi_declared(dotted: str, sdist: SdistFiles) -> tuple[str, str] | None:
    """(script, how it is named) when a script gives cffi this module: by its dotted name
    (pygit2's ``'pygit2._libgit2'``), or by a name relative to setup.py's ``ext_package``
    (pycares' ``'_cares'`` with ``ext_package='pycares'``)."""
    if not dotted:
        return None
    if dotted in sdist.cffi:
        return sdist.cffi[dotted], repr(dotted)
    package = sdist.scripts.ext_package
    if package and dotted.startswith(package + "."):
        relative = dotted[len(package) + 1 :]
        if relative in sdist.cffi:
            return sdist.cffi[relative], f"{relative!r} (in ext_package {package!r})"
    return None


def _named(
    name: str, sdist: SdistFiles, directories: list[str], module: str
) -> tuple[str | None, str | None]:
    """What the sdist has for a source name: the file, its template, or (for the module's
    own source, ``<module>.pyx`` or f2py's ``<module>module.c``) a build naming it."""
    if any(d in name for d in DEPENDENCY_PATHS):
        return None, None  # a crate's own src/lib.rs matches every crate's by its tail
    matches = matching_sources(name, sdist)
    if len(matches) > 1 and "/" not in name:
        # a bare name (DWARF's line table) may be any of them: pycryptodome's poly.c
        return f"sdist has {matches[0]} (one of {len(matches)} files so named)", matches[0]
    if matches:
        return f"sdist has {matches[0]}", matches[0]
    for suffix in TEMPLATE_SUFFIXES:
        templates = matching_sources(name + suffix, sdist)
        if templates:
            return f"sdist has its template {templates[0]}", templates[0]
    parts = [p for p in name.split("/") if p not in ("", ".", "..")]
    if not parts or parts[-1].split(".", 1)[0] not in _own_stems(module):
        return None, None
    if len(parts) > 1:  # the directory it names, wherever the layout puts it
        tail = "/".join(parts[:-1])
        where = [d for d in sdist.build.meson if d == tail or d.endswith("/" + tail)]
    else:
        where = directories
    build = sdist.build.meson_naming(parts[-1], where)
    if build is not None:
        return (
            f"not in the sdist, which names it in {build} (a file the build generates,"
            " or takes from a build requirement)",
            None,
        )
    script = sdist.scripts.mentioning(name)
    if script is not None:
        return (
            f"not in the sdist; its build script {script[0]} mentions {script[1]}"
            " (a file that script writes; its content unchecked)",
            None,
        )
    return None, None


def _stem(name: str) -> str:
    return name.rsplit("/", 1)[-1].split(".", 1)[0]


def _own_stems(module: str) -> tuple[str, ...]:
    """The names a module's own generated source takes: ``<module>.pyx``/``.c``, and f2py's
    ``<module>module.c`` and ``<module>-f2pywrappers.f``."""
    return (module, f"{module}module", f"{module}-f2pywrappers", f"{module}-f2pywrappers2")


def matching_sources(name: str, sdist: SdistFiles) -> list[str]:
    """sdist files ``name`` names: the shorter of the two paths is a tail of the other."""
    parts = [p for p in name.split("/") if p not in ("", ".", "..")]
    if not parts:
        return []
    out = []
    for path in sdist.by_basename.get(parts[-1], ()):
        tail = path.split("/")
        width = min(len(tail), len(parts))
        if parts[-width:] == tail[-width:]:
            out.append(path)
    return sorted(out, key=lambda p: (-p.count("/"), p))


def _describe(section: str) -> str:
    if section.startswith((".debug_", ".zdebug_")):
        return f"DWARF, {section}"
    return section
