"""Compiler shims: every compile and link exactly as under ``pip wheel``, plus prefix maps.

Flags passed through the environment are not neutral.  setuptools lets ``CFLAGS`` and
``CXXFLAGS`` *replace* the interpreter's own (``-O3 -DNDEBUG -g -fwrapv``; a C++
extension built with the prefix maps alone came out at -O0, 19.5x slower), appends
``CFLAGS`` to its link line, and the rule has changed between setuptools releases;
meson, CMake and cargo each have their own.  A shim sees each invocation as the backend
made it and only appends, so the package's flags, the interpreter's and the user's reach
the compiler unchanged, whatever the backend.

The appended maps are the last ones given, and GCC and Clang (like rustc for
``--remap-path-prefix``) apply the last matching map, so a backend's own maps (propcache
maps its random temporary directory back to the real build root) never win over them.
A random directory a backend makes under the build's ``TMPDIR`` (frozenlist compiles from
one) is mapped to one fixed name, found from the working directory or an argument.

One flag is removed: the run path to the interpreter's own library directory that a
shared-library interpreter (pyenv's, for one) writes into ``LDSHARED``.  It names a
directory of the build machine, so an extension carrying it is neither reproducible
across interpreters nor clean under ``inspect``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CANONICAL",
    "CompilerShims",
    "command_words",
    "interpreter_run_paths",
    "write_shims",
]

CANONICAL = "/truewheel"
# Names meson, CMake, setuptools and cargo's cc crate look up on PATH.
_C_FAMILY = ("cc", "gcc", "c++", "g++", "gfortran", "f95", "f77", "clang", "clang++")
_RUST = ("rustc",)
# Variables naming a compiler: one given by absolute path never goes through PATH.
_COMPILER_VARIABLES = ("CC", "CXX", "FC", "F77", "F90", "RUSTC")
_RUN_PATH_OPTIONS = ("-Wl,-rpath,", "-Wl,-rpath=", "-Wl,-R,", "-Wl,--rpath=", "-Wl,--rpath,")


@dataclass
class CompilerShims:
    """What the shims do, for the build's environment and its buildinfo record."""

    directory: Path
    wrapped: dict[str, str] = field(default_factory=dict)
    maps: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)

    def record(self, root: Path) -> dict[str, object]:
        """The shims as the buildinfo states them: the build root written as ``<root>``."""
        shown = str(root)
        return {
            "wrapped": sorted(self.wrapped),
            "appended": [
                f"-ffile-prefix-map={old.replace(shown, '<root>')}={new}" for old, new in self.maps
            ]
            + [f"-ffile-prefix-map=<root>/tmp/<first directory>={CANONICAL}/tmp/build"],
            "removed": list(self.removed),
        }


def interpreter_run_paths() -> list[str]:
    """Run-path options in the interpreter's link commands that point into the interpreter."""
    prefixes = {os.path.normpath(p) for p in (sys.base_prefix, sys.base_exec_prefix)}
    found: list[str] = []
    for name in ("LDSHARED", "LDCXXSHARED", "BLDSHARED", "LDFLAGS", "CONFIGURE_LDFLAGS"):
        for token in command_words(sysconfig.get_config_var(name)):
            for option in _RUN_PATH_OPTIONS:
                if token.startswith(option) and token not in found:
                    target = os.path.normpath(token[len(option) :])
                    if any(target == p or target.startswith(p + "/") for p in prefixes):
                        found.append(token)
    return found


def _maps(root: Path) -> list[tuple[str, str]]:
    """General first, specific last: the compiler applies the last matching map."""
    include = sysconfig.get_paths()["include"]
    return [
        (str(root), CANONICAL),
        (sys.base_prefix, f"{CANONICAL}/python"),
        (include, f"{CANONICAL}/python/include"),
    ]


def _script(real: str, options: list[str], tmp: Path, removed: list[str], rust: bool) -> str:
    q = shlex.quote
    child_map = (
        f"--remap-path-prefix=$tmp/$top={CANONICAL}/tmp/build"
        if rust
        else f"-ffile-prefix-map=$tmp/$top={CANONICAL}/tmp/build"
    )
    lines = [
        "#!/bin/sh",
        f"# truewheel: {real} with the arguments it is given, plus prefix maps",
        f"tmp={q(str(tmp))}",
        "top=",
        'case $PWD in "$tmp"/*) top=${PWD#"$tmp"/}; top=${top%%/*} ;; esac',
        "for arg do",
        "  shift",
    ]
    if removed:
        lines.append(f"  case $arg in {'|'.join(q(r) for r in removed)}) continue ;; esac")
    lines += [
        '  if [ -z "$top" ]; then',
        '    case $arg in *"$tmp"/?*) top=${arg#*"$tmp"/}; top=${top%%/*} ;; esac',
        "  fi",
        '  set -- "$@" "$arg"',
        "done",
        # The package's arguments first, the maps after them, the most specific last:
        # the compiler applies the last matching map.
        f'set -- "$@" {" ".join(q(o) for o in options)}',
        f'if [ -n "$top" ]; then set -- "$@" "{child_map}"; fi',
        f'exec {q(real)} "$@"',
    ]
    return "\n".join(lines) + "\n"


def write_shims(root: Path, tmp: Path, base: Mapping[str, str]) -> CompilerShims:
    """Write ``root/shims``: one script per compiler found on the caller's PATH."""
    directory = root / "shims"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    shims = CompilerShims(directory, maps=_maps(root), removed=interpreter_run_paths())
    search = os.pathsep.join(
        p for p in base.get("PATH", os.defpath).split(os.pathsep) if p != str(directory)
    )
    names = list(_C_FAMILY + _RUST)
    for variable in ("CC", "CXX"):
        words = command_words(sysconfig.get_config_var(variable))
        if words and "/" not in words[0] and words[0] not in names:
            names.append(words[0])
    for name in names:
        real = shutil.which(name, path=search)
        if real is not None:
            _install(shims, name, real, tmp)
    for variable in _COMPILER_VARIABLES:
        # The interpreter's own CC or CXX counts when the user has not chosen one.
        given = base.get(variable)
        words = command_words(given if given is not None else sysconfig.get_config_var(variable))
        if words and words[0].startswith("/") and os.access(words[0], os.X_OK):
            name = f"{variable.lower()}-{Path(words[0]).name}"
            _install(shims, name, words[0], tmp)
            shims.environment[variable] = shlex.join([str(directory / name), *words[1:]])
    return shims


def command_words(value: object) -> list[str]:
    """A command line as a shell splits it; one that does not split (an unclosed quote)
    is left to the backend, which reports it as under pip wheel."""
    if not isinstance(value, str):
        return []
    try:
        return shlex.split(value)
    except ValueError:
        return []


def _install(shims: CompilerShims, name: str, real: str, tmp: Path) -> None:
    rust = name in _RUST or name.startswith("rustc-")
    option = "--remap-path-prefix={}={}" if rust else "-ffile-prefix-map={}={}"
    options = [option.format(old, new) for old, new in shims.maps]
    removed = [] if rust else shims.removed
    path = shims.directory / name
    path.write_text(_script(real, options, tmp, removed, rust))
    path.chmod(0o755)
    shims.wrapped[name] = real
