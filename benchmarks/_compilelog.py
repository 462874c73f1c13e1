"""Logging compiler wrappers, and whether two builds passed their compilers the same flags.

Standard library only, imported as ``_compilelog`` from ``sys.path[0]`` like ``harness``.

**The wrappers.** :func:`make_wrappers` writes small POSIX sh scripts named like the
compilers (cc, gcc, c++, g++, gfortran, clang, clang++ and the x86_64-linux-gnu-
ones, those that exist), each ``exec``-ing the real compiler by the absolute path it
had when the wrapper was made. Put first on PATH, they see every compiler and linker
call a backend makes by name (setuptools, meson, CMake), and truewheel's own compiler
shims resolve them too, so its added flags show. When ``TW_COMPILE_LOG`` names a
directory, each call first writes one file there (created with noclobber, so parallel
calls never share or interleave one): NUL-terminated fields, the working directory,
PATH and ``TRUEWHEEL_BUILD_ROOT`` (where truewheel's build roots are, see
:func:`truewheel_roots`), the wrapper's name, then the arguments verbatim.

**Canonical invocations.** The two builds run in different places, so paths are mapped
to tokens before invocations are compared (:class:`Canonicalizer`):

* relative path arguments are first resolved against the call's working directory,
  because meson runs from its build directory, which pip and truewheel may put at
  different depths;
* the project: pip's unpack dir ``/tmp/pip-req-build-*`` and truewheel's
  ``<root>/src/<sdist top dir>`` (or ``<root>/src``) -> ``{SRC}``;
* the build requirements: ``site-packages`` of pip's ``/tmp/pip-build-env-*/overlay``
  (and ``normal``) and of truewheel's ``<root>/env`` -> ``{SITE}``, the rest of those
  prefixes and of the pip interpreter's ``sys.exec_prefix`` (setuptools adds its
  ``include``) -> ``{PREFIX}``: pip splits the environment in two where truewheel has one;
* the backend's build dir (meson-python's ``{SRC}/.mesonpy-XXXXXXXX`` under pip,
  truewheel's fixed ``{SRC}/.mesonpy-build``, ``build/meson`` or ``build/skbuild``)
  -> ``{BUILD}``; random ``tempfile`` directories (``.../tmpXXXXXXXX``, a backend's
  probes, or with a prefix of the backend's own: yarl builds in ``.tmp-yarl-pep517-XXXXXXXX``,
  pdm-backend in ``pdm-build-XXXXXXXX``, in pip's /tmp or truewheel's ``<root>/tmp``)
  -> ``{TMP}``; truewheel's root -> ``{ROOT}``.

Then the deliberate differences are taken out: truewheel's reproducibility flags
(``-ffile-prefix-map=``, ``-fdebug-prefix-map=``, ``-fmacro-prefix-map=`` that pip's
build of the same sdist never passed: a backend's own maps stay on both sides), and
the interpreter's ``-Wl,-rpath,<python libdir>``, which truewheel drops on purpose and
is counted on each side separately (:attr:`FlagsComparison.rpath_pip`). Calls that only
ask the compiler about itself (``--version``, ``-dumpmachine``...) are left out on both
sides: truewheel runs ``cc --version`` for its buildinfo, outside any backend. The sets of
distinct canonical calls must be equal (a ``--check N`` log holds N builds, and pip runs
setup.py once more for metadata, so counts differ by design); the order of invocations is
ignored (parallel builds), the order of arguments is not.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LOG_VARIABLE = "TW_COMPILE_LOG"
COMPILERS = (
    "cc",
    "gcc",
    "c++",
    "g++",
    "gfortran",
    "clang",
    "clang++",
    "x86_64-linux-gnu-gcc",
    "x86_64-linux-gnu-g++",
)
PREFIX_MAPS = ("-ffile-prefix-map=", "-fdebug-prefix-map=", "-fmacro-prefix-map=")
_QUERIES = frozenset({"--version", "-v", "-dumpversion", "-dumpfullversion", "-dumpmachine"})
_SOURCE_SUFFIXES = (
    ".c",
    ".cc",
    ".cpp",
    ".cxx",
    ".C",
    ".s",
    ".S",
    ".f",
    ".f90",
    ".F90",
    ".o",
    ".so",
)
_PATH_OPTIONS = ("-I", "-L", "-isystem", "-iquote", "-idirafter", "-include")
_NAME = r"[^/\s=,:;'\"]+"
# tempfile's names: a prefix (``tmp`` by default; aio-libs backends use ``.tmp-yarl-pep517-``),
# 8 random characters and maybe a suffix (cffi preprocesses ``tmpXXXXXXXX.h``).
_TMP = re.compile(
    rf"(?:\{{\w+\}}|/{_NAME})*/\.?tmp[\w.-]*?[a-z0-9_]{{8}}(?:\.[A-Za-z0-9]+)?(?![\w.-])"
    # or any tempfile name directly in pip's /tmp or truewheel's <root>/tmp (pdm-build-*)
    rf"|(?:\{{ROOT\}}|^|(?<=[=,\s])|(?<=^-[A-Za-z]))/tmp/[\w.-]*?[a-z0-9_]{{8}}(?:\.[A-Za-z0-9]+)?(?![\w.-])"
)

_WRAPPER = """#!/bin/sh
# Logging compiler wrapper (benchmarks/_compilelog.py): one file per call, then the compiler.
d="${TW_COMPILE_LOG:-}"
if [ -n "$d" ] && [ -d "$d" ]; then
  set -C
  n=0
  while [ "$n" -lt 1000 ] && ! true 2>/dev/null >"$d/$$.$n"; do n=$((n + 1)); done
  printf '%s\\0' "$PWD" "${PATH:-}" "${TRUEWHEEL_BUILD_ROOT:-}" NAME "$@" >|"$d/$$.$n"
fi
exec REAL "$@"
"""


def make_wrappers(directory: Path, search_path: str | None = None) -> dict[str, str]:
    """Write the wrappers into ``directory``; {name: real compiler} of those written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = search_path if search_path is not None else os.environ.get("PATH", "")
    own = str(directory.resolve())
    clean = os.pathsep.join(
        p for p in path.split(os.pathsep) if p and str(Path(p).resolve()) != own
    )
    made: dict[str, str] = {}
    for name in COMPILERS:
        real = shutil.which(name, path=clean)
        if real is None:
            continue
        script = directory / name
        text = _WRAPPER.replace("NAME", shlex.quote(name)).replace("REAL", shlex.quote(real))
        script.write_text(text, encoding="utf-8")
        script.chmod(0o755)
        made[name] = real
    return made


@dataclass(frozen=True)
class Invocation:
    cwd: str
    tool: str
    args: tuple[str, ...]
    path: str = field(default="", compare=False)
    build_root: str = field(default="", compare=False)

    def short(self, limit: int = 160) -> str:
        text = " ".join([self.tool, *self.args])
        return text if len(text) <= limit else text[: limit - 3] + "..."


def read_log(directory: Path) -> list[Invocation]:
    """Every call the wrappers logged into ``directory`` (none when it does not exist)."""
    if not directory.is_dir():
        return []
    calls = []
    for entry in sorted(directory.iterdir()):
        fields = entry.read_bytes().decode("utf-8", errors="surrogateescape").split("\0")
        if len(fields) < 5 or fields[-1] != "":
            continue  # a call still writing when the build was killed
        cwd, path, root, tool, *args = fields[:-1]
        calls.append(Invocation(cwd, tool, tuple(args), path=path, build_root=root))
    return calls


def truewheel_roots(calls: Iterable[Invocation], configured: str) -> set[str]:
    """The build roots truewheel's calls ran under: the one configured, any
    ``TRUEWHEEL_BUILD_ROOT`` they saw, and ``X`` for a ``X/env/bin`` on their PATH (the
    build environment's bin/ comes first there), so a ``--check`` that varies the root
    is covered whichever way it does."""
    roots = {configured}
    for call in calls:
        if call.build_root:
            roots.add(call.build_root)
        roots.update(
            str(Path(p).parent.parent)
            for p in call.path.split(os.pathsep)
            if p.endswith("/env/bin")
        )
    return roots


def _resolve(arg: str, cwd: str) -> str:
    """A relative path argument made absolute against the call's working directory."""
    for option in _PATH_OPTIONS:
        if arg.startswith(option) and len(arg) > len(option) and arg[len(option)] != "/":
            return option + os.path.normpath(f"{cwd}/{arg[len(option) :]}")
    if arg.startswith(("-", "/")) or not ("/" in arg or arg.endswith(_SOURCE_SUFFIXES)):
        return arg
    return os.path.normpath(f"{cwd}/{arg}")


@dataclass
class Canonicalizer:
    """Maps one side's paths to tokens: ``(pattern, token)`` pairs tried in order."""

    rules: list[tuple[re.Pattern[str], str]]
    rpath_args: frozenset[str]

    @classmethod
    def for_pip(cls, exec_prefix: str, libdir: str) -> Canonicalizer:
        env = rf"(?:/{_NAME})*/pip-build-env-[a-z0-9_]+/(?:overlay|normal)"
        prefix = re.escape(exec_prefix)
        return cls(
            [
                (re.compile(rf"(?:/{_NAME})*/pip-req-build-[a-z0-9_]+"), "{SRC}"),
                (re.compile(rf"{env}/lib/python\d+\.\d+/site-packages"), "{SITE}"),
                (re.compile(rf"{prefix}/lib/python\d+\.\d+/site-packages"), "{SITE}"),
                (re.compile(env), "{PREFIX}"),
                (re.compile(rf"{prefix}(?=/|$|[^\w.-])"), "{PREFIX}"),
                (re.compile(r"\{SRC\}/\.mesonpy-[a-z0-9_]{8}"), "{BUILD}"),
                (_TMP, "{TMP}"),
            ],
            _rpath_args(libdir),
        )

    @classmethod
    def for_truewheel(cls, roots: Iterable[str], project: str, libdir: str) -> Canonicalizer:
        rules: list[tuple[re.Pattern[str], str]] = []
        for root in sorted(set(roots), key=len, reverse=True):
            r = re.escape(root.rstrip("/"))
            if project:
                rules.append((re.compile(rf"{r}/src/{re.escape(project)}(?=/|$|[^\w.-])"), "{SRC}"))
            rules += [
                (re.compile(rf"{r}/src(?=/|$|[^\w.-])"), "{SRC}"),
                (re.compile(rf"{r}/env/lib/python\d+\.\d+/site-packages"), "{SITE}"),
                (re.compile(rf"{r}/env(?=/|$|[^\w.-])"), "{PREFIX}"),
                (re.compile(rf"{r}(?=/|$|[^\w.-])"), "{ROOT}"),
            ]
        rules += [
            (
                re.compile(r"\{SRC\}/(?:\.mesonpy-build|build/meson|build/skbuild)(?=/|$)"),
                "{BUILD}",
            ),
            (_TMP, "{TMP}"),
        ]
        return cls(rules, _rpath_args(libdir))

    def text(self, value: str) -> str:
        for pattern, token in self.rules:
            value = pattern.sub(token, value)
        return value

    def invocation(self, call: Invocation) -> tuple[Invocation, int]:
        """The canonical call without the interpreter's rpath; how many rpath args it had."""
        kept = [a for a in call.args if a not in self.rpath_args]
        args = tuple(self.text(_resolve(a, call.cwd)) for a in kept)
        return Invocation(self.text(call.cwd), call.tool, args), len(call.args) - len(kept)


def _rpath_args(libdir: str) -> frozenset[str]:
    return frozenset(
        f"{opt}{libdir.rstrip('/')}{end}"
        for opt in ("-Wl,-rpath,", "-Wl,-rpath=", "-Wl,-R")
        for end in ("", "/")
    )


@dataclass
class FlagsComparison:
    equal: bool
    pip_calls: int
    truewheel_calls: int
    builds: int
    rpath_pip: int  # calls of pip's build that carried the interpreter's rpath
    rpath_truewheel: int
    prefix_maps_truewheel: int  # truewheel's calls that carried its reproducibility flags
    first_difference: str = ""
    only_pip: list[str] = field(default_factory=list)
    only_truewheel: list[str] = field(default_factory=list)


def _without_own_maps(call: Invocation, pip_maps: set[str]) -> tuple[Invocation, bool]:
    args = tuple(a for a in call.args if not a.startswith(PREFIX_MAPS) or a in pip_maps)
    return Invocation(call.cwd, call.tool, args), len(args) != len(call.args)


def is_query(call: Invocation) -> bool:
    """A call that only asks the compiler about itself (``cc --version``: truewheel asks
    it for its buildinfo, outside the backend) and builds nothing; prefix maps that a
    shim appended to it do not count."""
    asked = [a for a in call.args if not a.startswith(PREFIX_MAPS)]
    return bool(asked) and all(a in _QUERIES or a.startswith("-print-") for a in asked)


def compare(
    pip_calls: Sequence[Invocation],
    tw_calls: Sequence[Invocation],
    pip_canon: Canonicalizer,
    tw_canon: Canonicalizer,
    builds: int,
) -> FlagsComparison:
    """pip's build against ``builds`` truewheel builds, as multisets of canonical calls
    (calls that only query the compiler left out on both sides)."""
    pip_done = [pip_canon.invocation(c) for c in pip_calls if not is_query(c)]
    tw_done = [tw_canon.invocation(c) for c in tw_calls if not is_query(c)]
    pip_maps = {a for call, _ in pip_done for a in call.args if a.startswith(PREFIX_MAPS)}
    stripped = [_without_own_maps(call, pip_maps) for call, _ in tw_done]
    # Distinct calls, not their counts: pip also runs prepare_metadata_for_build_wheel, which
    # executes setup.py once more (zstandard preprocesses its cffi headers there again).
    want = Counter(set(c for c, _ in pip_done))
    got = Counter(set(call for call, _ in stripped))
    missing, extra = want - got, got - want
    result = FlagsComparison(
        equal=not missing and not extra,
        pip_calls=len(pip_done),
        truewheel_calls=len(tw_done),
        builds=builds,
        rpath_pip=sum(1 for _, n in pip_done if n),
        rpath_truewheel=sum(1 for _, n in tw_done if n),
        prefix_maps_truewheel=sum(1 for _, had in stripped if had),
        only_pip=_listed(missing),
        only_truewheel=_listed(extra),
    )
    if not result.equal:
        result.first_difference = describe(sorted(missing, key=_order), sorted(extra, key=_order))
    return result


def _listed(calls: Counter[Invocation], limit: int = 20) -> list[str]:
    """Distinct calls, ``Nx`` before those that occur more than once; the first ``limit``."""
    ordered = sorted(calls.items(), key=lambda item: _order(item[0]))[:limit]
    return [(f"{n}x " if n > 1 else "") + call.short(400) for call, n in ordered]


def _order(call: Invocation) -> tuple[str, str, tuple[str, ...]]:
    return (call.cwd, call.tool, call.args)


def describe(missing: Sequence[Invocation], extra: Sequence[Invocation]) -> str:
    """The first differing invocation in one line: its target and the arguments that differ."""
    if not missing:
        return f"truewheel only: {extra[0].short()}"
    call = missing[0]
    if not extra:
        return f"pip only: {call.short()}"
    other = max(extra, key=lambda e: (e.tool == call.tool, _overlap(call, e)))
    target = _target(call)
    pip_only = list((Counter(call.args) - Counter(other.args)).elements())
    tw_only = list((Counter(other.args) - Counter(call.args)).elements())
    if call.tool != other.tool:
        pip_only, tw_only = [call.tool, *pip_only], [other.tool, *tw_only]
    if call.cwd != other.cwd:
        pip_only, tw_only = [f"cwd={call.cwd}", *pip_only], [f"cwd={other.cwd}", *tw_only]
    if not pip_only and not tw_only:
        return f"{call.tool} {target}: same arguments in another order"
    return (
        f"{call.tool} {target}: pip {' '.join(pip_only) or '-'}"
        f" | truewheel {' '.join(tw_only) or '-'}"
    )[:300]


def _overlap(a: Invocation, b: Invocation) -> int:
    return sum((Counter(a.args) & Counter(b.args)).values())


def _target(call: Invocation) -> str:
    """What a call makes (``-o X``) or compiles, shortened to its file name."""
    args = list(call.args)
    if "-o" in args[:-1]:
        return Path(args[args.index("-o") + 1]).name
    sources = [a for a in args if a.endswith(_SOURCE_SUFFIXES) and not a.startswith("-")]
    return Path(sources[-1]).name if sources else "(no target)"


def wrapper_cost_ms(wrappers: Path, work: Path, calls: int = 20) -> float | None:
    """What a logged call adds, in ms: ``calls`` compiles of an empty C file through the
    ``gcc`` wrapper (logging) minus as many straight to the compiler, medians of 3."""
    real = shutil.which("gcc", path=os.environ.get("PATH", ""))
    if real is None or not (wrappers / "gcc").is_file():
        return None
    work.mkdir(parents=True, exist_ok=True)
    source = work / "empty.c"
    source.write_text("int x;\n", encoding="utf-8")
    env = {**os.environ, LOG_VARIABLE: str(work)}

    def batch(compiler: str) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            argv = [compiler, "-c", str(source), "-o", str(work / "empty.o")]
            subprocess.run(argv, env=env, check=True, capture_output=True)
        return time.perf_counter() - start

    try:
        times = [(batch(str(wrappers / "gcc")), batch(real)) for _ in range(3)]
    except (OSError, subprocess.CalledProcessError):
        return None
    wrapped = statistics.median(t[0] for t in times)
    plain = statistics.median(t[1] for t in times)
    return max(0.0, (wrapped - plain) / calls * 1000)
