"""What an sdist's build files declare, read as text and never run: the names a Meson build
writes, the extension modules it builds, and the modules f2py signature files define.

A build writes files the sdist does not hold: Meson's ``custom_target``/``configure_file``
outputs (scipy's ``_ufuncs.pyx``, ``cython_blas.pxd``, ``boost.npz``, ``version.py``) and
the C sources its generators make.  Every such name is a single-quoted string in a
``meson.build`` (Meson has no other string quote), so the quoted strings of each
``meson.build`` are kept by directory: a wheel member or a compiled module's source named
there, and absent from the sdist, is something that build says it writes.  An f2py
module's C wrapper (``_flapackmodule.c``) is generated from a signature file
(``.pyf``, or a ``.pyf.src`` template) that declares ``python module _flapack``.

Both are parsed as each file streams by, keeping only the small results; a file larger than
:data:`MAX_BUILD_FILE` is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["MAX_BUILD_FILE", "BuildFiles", "is_build_file"]

MAX_BUILD_FILE = 1 << 20
_MAX_NAMES = 1 << 16  # quoted names kept in all; a real build has a few thousand
_MESON_STRING = re.compile(r"'((?:[^'\\\n]|\\.){1,300})'")
_F2PY_MODULE = re.compile(r"^[ \t]*python[ \t]+module[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.I | re.M)
_SIGNATURES = (".pyf", ".pyf.src")
#: ``py.extension_module('name', ...)``, or a table entry ``'name': {'sources': [...]}`` that
#: a ``foreach`` hands to ``extension_module`` (pandas' ``_libs/meson.build``); other keys
#: may come first (matplotlib's ``src/meson.build``: ``'_image': {'subdir': 'matplotlib',
#: 'sources': ...}``), group 3 holds them.
_EXTENSION = re.compile(
    r"extension_module\(\s*'([A-Za-z_][A-Za-z0-9_]*)'"
    r"|'([A-Za-z_][A-Za-z0-9_]*)'\s*:\s*\{([^{}]{0,400}?)'sources'\s*:"
)
_SUBDIR = re.compile(r"'subdir'\s*:\s*'([A-Za-z0-9_./-]{1,200})'")


#: CMake (scikit-build-core, scikit-build): a module target and where ``install`` puts it.
_CMAKE_MODULE = re.compile(
    r"\b(?:pybind11_add_module|nanobind_add_module|python3?_add_library|Python3?_add_library)"
    r"\(\s*([A-Za-z_][A-Za-z0-9_]*)\b",
    re.I,
)
_CMAKE_INSTALL = re.compile(
    r"\binstall\(\s*TARGETS\s+([^)]*?)\s+(?:LIBRARY\s+|RUNTIME\s+)?DESTINATION\s+\"?([^\s)\"]+)",
    re.I,
)


def is_build_file(parts: tuple[str, ...], size: int) -> bool:
    return size <= MAX_BUILD_FILE and (
        parts[-1] in ("meson.build", "CMakeLists.txt") or parts[-1].lower().endswith(_SIGNATURES)
    )


@dataclass
class BuildFiles:
    """Names quoted by each directory's ``meson.build`` (basenames: ``'sub/x.pyx'`` counts
    as ``x.pyx``), and the signature file declaring each f2py module."""

    meson: dict[str, set[str]] = field(default_factory=dict)  # directory -> quoted basenames
    f2py: dict[str, str] = field(default_factory=dict)  # module -> signature file path
    extensions: dict[str, set[str]] = field(default_factory=dict)  # directory -> module names
    #: installed directory -> module names a table entry with ``'subdir'`` declares there,
    #: from whichever ``meson.build`` (matplotlib declares ``matplotlib``'s in ``src/``)
    installed: dict[str, dict[str, str]] = field(default_factory=dict)  # -> module -> its file
    #: CMake module target -> (its CMakeLists.txt, the install destinations of that target)
    cmake: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    _count: int = 0

    def add(self, path: str, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        directory = path.rsplit("/", 1)[0] if "/" in path else ""
        if path.rsplit("/", 1)[-1] == "CMakeLists.txt":
            self._add_cmake(path, text)
            return
        if path.rsplit("/", 1)[-1] == "meson.build":
            names = self.meson.setdefault(directory, set())
            modules = self.extensions.setdefault(directory, set())
            for found in _EXTENSION.finditer(text):
                if len(modules) < 4096:
                    modules.add(found.group(1) or found.group(2))
                subdir = _SUBDIR.search(found.group(3) or "")
                if subdir is not None and len(self.installed) < 4096:
                    target = subdir.group(1).strip("/")
                    self.installed.setdefault(target, {})[found.group(2)] = path
            for match in _MESON_STRING.finditer(text):
                if self._count >= _MAX_NAMES:
                    break
                name = match.group(1).rsplit("/", 1)[-1]
                if name and name not in names:
                    names.add(name)
                    self._count += 1
            return
        for module in _F2PY_MODULE.findall(text)[:64]:
            if not module.startswith("__user__"):  # f2py's call-back block, not a module
                self.f2py.setdefault(module, path)

    def _add_cmake(self, path: str, text: str) -> None:
        targets = _CMAKE_MODULE.findall(text)[:256]
        places: dict[str, set[str]] = {}
        for names, destination in _CMAKE_INSTALL.findall(text)[:256]:
            for name in names.split():
                places.setdefault(name, set()).add(destination.strip("/") or ".")
        for name in targets:
            if name not in self.cmake and len(self.cmake) < 4096:
                self.cmake[name] = (path, frozenset(places.get(name, ())))

    def cmake_declaring(self, module: str, directory: str) -> str | None:
        """The CMakeLists.txt whose module target ``module`` is installed in ``directory``
        (``.`` the top; a destination holding a variable is taken as any place)."""
        found = self.cmake.get(module)
        if found is None:
            return None
        path, destinations = found
        here = directory or "."
        if here in destinations or any("${" in d for d in destinations):
            return path
        return None

    def below(self, top: str) -> BuildFiles:
        """The same facts with paths below the sdist's top directory ``top``."""

        def strip(path: str) -> str:
            if not top:
                return path
            return path[len(top) + 1 :] if path.startswith(top + "/") else path.removeprefix(top)

        out = BuildFiles(_count=self._count)
        out.meson = {strip(d): names for d, names in self.meson.items()}
        out.extensions = {strip(d): names for d, names in self.extensions.items()}
        out.installed = {
            d: {module: strip(path) for module, path in found.items()}
            for d, found in self.installed.items()
        }
        out.f2py = {module: strip(path) for module, path in self.f2py.items()}
        out.cmake = {name: (strip(path), where) for name, (path, where) in self.cmake.items()}
        return out

    def meson_naming(self, name: str, directories: list[str]) -> str | None:
        """The first of ``directories`` whose ``meson.build`` quotes ``name``, as a path."""
        for directory in directories:
            if name in self.meson.get(directory, ()):
                return f"{directory}/meson.build" if directory else "meson.build"
        return None
