"""Problems in an installed environment that break programs, found without importing anything.

The rules come from how ld.so and the runtimes behave: ld.so loads a library once
per SONAME, so two copies under different SONAMEs (hash-mangled ones) are two runtimes
in one process, each with its own thread pool, while two different files under one
SONAME are one library that serves both packages (the first loaded interposes);
LLVM's and Intel's OpenMP runtimes refuse to share a process; an unresolved
DT_NEEDED fails the import; a GLIBC_x symbol version the host's glibc lacks fails it too.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from truewheel.catalog.queries import SELECTED_UNITS
from truewheel.catalog.store import Selection

__all__ = ["Conflict", "environment_conflicts", "host_finder", "host_glibc"]

_TAG_GLIBC = re.compile(r"^manylinux_(\d+)_(\d+)_")
_LEGACY_GLIBC = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}

OPENMP_CONSEQUENCE = (
    "each copy starts its own thread pool: parallel regions running at once in two of them "
    "oversubscribe the cores (threadpoolctl lists every copy and can limit each); this is "
    "how GNU and Intel OpenMP usually coexist"
)
KMP_CONSEQUENCE = (
    "LLVM's and Intel's OpenMP runtimes look for one another when they start: the second "
    "aborts the process with 'OMP: Error #15: Initializing ..., but found ... already "
    "initialized' (KMP_DUPLICATE_LIB_OK=TRUE hides it at the risk of crashes), and libomp "
    "with libiomp5 is known to crash or deadlock"
)
BLAS_CONSEQUENCE = (
    "they all load (each under its own SONAME) and each starts its own thread pool: calls "
    "running at once in two of them oversubscribe the cores; threadpoolctl lists every copy "
    "and can limit each, and each reads OPENBLAS_NUM_THREADS/OMP_NUM_THREADS when it starts"
)
CUDA_CONSEQUENCE = (
    "they all load (each under its own SONAME) and use each device's primary context through "
    "the driver; each needs a driver that supports its CUDA version ('CUDA driver version "
    "is insufficient' otherwise)"
)
SONAME_CONSEQUENCE = (
    "ld.so keeps one library per SONAME in a process: whichever package loads first serves "
    "the others with its copy (it interposes), so they run against a build they were not "
    "made with; a symbol or symbol version only their own copy has is then missing "
    "(ImportError: undefined symbol, or version `...' not found)"
)
UNRESOLVED_CONSEQUENCE = "the import fails: ImportError: {name}: cannot open shared object file"
GLIBC_CONSEQUENCE = "the import fails: ImportError: version `GLIBC_{needed}' not found"
TAG_CONSEQUENCE = (
    "pip would not install this wheel here: its tag asks for glibc {needed}; "
    "it was forced in or copied from another machine"
)


@dataclass(frozen=True, slots=True)
class Conflict:
    severity: str  # error | warning | info
    code: str
    environment: str
    message: str
    consequence: str
    projects: tuple[str, ...]
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _File:
    project: str
    path: str  # relative to the environment's site-packages
    kind: str
    family: str | None
    category: str | None
    soname: str | None
    sha256: str
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    elf_class: int
    machine: int
    glibc: str | None

    @property
    def load_name(self) -> str:
        return self.soname or posixpath.basename(self.path)


def host_finder() -> Callable[[str, _File, str], str | None]:
    """ld.so's search on this machine: the file's RPATH/RUNPATH, LD_LIBRARY_PATH, the cache dirs."""
    from truewheel.repair.hostlibs import HostLibraries

    host = HostLibraries.from_system()

    def find(needed: str, f: _File, origin: str) -> str | None:
        return host.find_for(needed, f, origin)

    return find


def host_glibc() -> tuple[int, int] | None:
    """This machine's glibc version, or None when it is not glibc (musl, say)."""
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    name, _, version = value.partition(" ")
    parts = version.split(".")
    if name != "glibc" or len(parts) < 2 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
        return None
    return int(parts[0]), int(parts[1])


def environment_conflicts(
    db: sqlite3.Connection,
    selection: Selection,
    environment: str,
    find: Callable[[str, _File, str], str | None],
    glibc: tuple[int, int] | None,
) -> list[Conflict]:
    """Every conflict in one environment; ``find`` is the host's library search."""
    files, tags = _load(db, selection, environment)
    conflicts = _runtime_copies(environment, files)
    conflicts += _shared_sonames(environment, files)
    conflicts += _unresolved(environment, files, find)
    if glibc is not None:
        conflicts += _glibc(environment, files, tags, glibc)
    order = {"error": 0, "warning": 1, "info": 2}
    conflicts.sort(key=lambda c: (order[c.severity], c.code, c.message))
    return conflicts


def _load(
    db: sqlite3.Connection, selection: Selection, environment: str
) -> tuple[list[_File], dict[str, tuple[str, ...]]]:
    rows = db.execute(
        f"""
        SELECT u.project, f.path, f.kind, f.family, f.category, f.soname, f.sha256, f.needed,
               f.rpath, f.runpath, f.elf_class, f.machine, f.glibc, f.first_party
        FROM native_files f JOIN units u ON u.id = f.unit_id
        WHERE u.id IN {SELECTED_UNITS} AND u.environment = :environment AND u.error IS NULL
        ORDER BY u.project, f.path
        """,
        {**selection.param, "environment": environment},
    ).fetchall()
    files = [
        _File(
            r[0] or "?",
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            tuple(json.loads(r[7])),
            tuple(json.loads(r[8])),
            tuple(json.loads(r[9])),
            r[10],
            r[11],
            r[12],
        )
        for r in rows
    ]
    tags = {
        project or "?": tuple(json.loads(t))
        for project, t in db.execute(
            f"SELECT u.project, u.tags FROM units u WHERE u.id IN {SELECTED_UNITS} "
            "AND u.environment = :environment AND u.error IS NULL",
            {**selection.param, "environment": environment},
        )
    }
    return files, tags


_RUNTIMES = (
    ("openmp", "openmp-runtimes", "OpenMP runtimes", OPENMP_CONSEQUENCE),
    ("blas", "blas-libraries", "BLAS/LAPACK libraries", BLAS_CONSEQUENCE),
    ("cuda-runtime", "cuda-runtimes", "CUDA runtimes", CUDA_CONSEQUENCE),
)
_KMP_FAMILIES = frozenset({"libiomp5", "llvm-openmp"})
"""OpenMP runtimes built from the KMP sources: each copy registers itself and aborts on another."""


def _runtime_copies(environment: str, files: list[_File]) -> list[Conflict]:
    """More than one OpenMP, BLAS or CUDA runtime loadable side by side (different SONAMEs).

    Side by side they work, each with its own thread pool: worth knowing (info), not a
    fault, unless two of them are LLVM/Intel OpenMP runtimes, which abort each other.
    """
    out = []
    for category, code, what, consequence in _RUNTIMES:
        members = [f for f in files if f.category == category or _is_lapack(f, category)]
        by_load_name = _by_load_name(members)
        projects = {f.project for f in members}
        if len(by_load_name) < 2 or len(projects) < 2:
            continue
        severity = "info"
        kmp = {f.load_name for f in members if f.family in _KMP_FAMILIES}
        if category == "openmp" and len(kmp) > 1:
            severity, consequence = "error", KMP_CONSEQUENCE
        out.append(
            Conflict(
                severity,
                code,
                environment,
                f"{len(by_load_name)} {what} from {len(projects)} packages, one per SONAME: "
                + _copies(by_load_name),
                consequence,
                tuple(sorted(projects)),
                tuple(sorted(f.path for f in members)),
            )
        )
    return out


def _shared_sonames(environment: str, files: list[_File]) -> list[Conflict]:
    """Different files under one SONAME in several packages: the first loaded serves all.

    Hash-mangled copies never meet here (their SONAMEs differ); unmangled ones do,
    and byte-identical copies are harmless, so only differing content counts.
    """
    libraries = [f for f in files if f.soname and f.kind == "library"]
    out = []
    for name, copies in sorted(_by_load_name(libraries).items()):
        projects = sorted({f.project for f in copies})
        if len(projects) < 2 or len({f.sha256 for f in copies}) < 2:
            continue
        out.append(
            Conflict(
                "warning",
                "same-soname",
                environment,
                f"{name} is shipped as different files by {len(projects)} packages: "
                + ", ".join(f"{f.path} ({f.project})" for f in copies),
                SONAME_CONSEQUENCE,
                tuple(projects),
                tuple(sorted(f.path for f in copies)),
            )
        )
    return out


def _by_load_name(files: list[_File]) -> dict[str, list[_File]]:
    grouped: dict[str, list[_File]] = defaultdict(list)
    for f in files:
        grouped[f.load_name].append(f)
    return grouped


def _copies(by_load_name: dict[str, list[_File]]) -> str:
    return ", ".join(
        f"{name} ({', '.join(sorted({f.project for f in fs}))})"
        for name, fs in sorted(by_load_name.items())
    )


def _is_lapack(f: _File, category: str) -> bool:
    return category == "blas" and f.category == "lapack"


def _unresolved(
    environment: str, files: list[_File], find: Callable[[str, _File, str], str | None]
) -> list[Conflict]:
    """DT_NEEDED entries that neither the file's paths nor the host satisfy."""
    by_name: dict[str, list[_File]] = defaultdict(list)
    for f in files:
        by_name[f.load_name].append(f)
        by_name[posixpath.basename(f.path)].append(f)
    out = []
    for f in files:
        if f.kind not in ("extension", "library") or f.path.startswith("../"):
            continue
        origin = posixpath.dirname(posixpath.join(environment, f.path))
        for needed in f.needed:
            if "/" in needed or find(needed, f, origin):
                continue
            providers = [p for p in by_name.get(needed, []) if p is not f]
            same = [p for p in providers if p.project == f.project]
            other = sorted({p.project for p in providers if p.project != f.project})
            if same:
                continue  # loaded by the package itself first (a loader's RPATH or SONAME)
            if other:
                out.append(
                    Conflict(
                        "info",
                        "needs-preload",
                        environment,
                        f"{f.project}: {f.path} finds {needed} only if {', '.join(other)} "
                        "loaded it first",
                        "works when the provider is imported first (the --provided-by "
                        "pattern); otherwise " + UNRESOLVED_CONSEQUENCE.format(name=needed),
                        (f.project, *other),
                        (f.path,),
                    )
                )
                continue
            severity = "error" if f.kind == "extension" else "warning"
            out.append(
                Conflict(
                    severity,
                    "unresolved-library",
                    environment,
                    f"{f.project}: {f.path} needs {needed}, which nothing here provides",
                    UNRESOLVED_CONSEQUENCE.format(name=needed),
                    (f.project,),
                    (f.path,),
                )
            )
    return out


def _glibc(
    environment: str,
    files: list[_File],
    tags: dict[str, tuple[str, ...]],
    host: tuple[int, int],
) -> list[Conflict]:
    out = []
    too_new: dict[str, list[tuple[tuple[int, int], _File]]] = defaultdict(list)
    for f in files:
        version = _glibc_tuple(f.glibc)
        if version and version > host:
            too_new[f.project].append((version, f))
    host_text = f"{host[0]}.{host[1]}"
    for project, found in sorted(too_new.items()):
        newest = max(v for v, _ in found)
        needed = f"{newest[0]}.{newest[1]}"
        out.append(
            Conflict(
                "error",
                "glibc-too-old",
                environment,
                f"{project}: {len(found)} file(s) need glibc {needed}; this machine has "
                f"{host_text}",
                GLIBC_CONSEQUENCE.format(needed=needed),
                (project,),
                tuple(sorted(f.path for _, f in found)),
            )
        )
    for project, project_tags in sorted(tags.items()):
        if project in too_new:
            continue
        wanted = [v for t in project_tags if (v := _tag_glibc(t.rsplit("-", 1)[-1]))]
        if wanted and min(wanted) > host:
            needed = f"{min(wanted)[0]}.{min(wanted)[1]}"
            out.append(
                Conflict(
                    "warning",
                    "glibc-tag",
                    environment,
                    f"{project}: installed from a wheel tagged for glibc {needed}; this "
                    f"machine has {host_text}",
                    TAG_CONSEQUENCE.format(needed=needed),
                    (project,),
                    (),
                )
            )
    return out


def _glibc_tuple(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    parts = text.split(".")
    if len(parts) < 2 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
        return None
    return int(parts[0]), int(parts[1])


def _tag_glibc(platform: str) -> tuple[int, int] | None:
    """The glibc a manylinux platform tag asks for; None for other platforms."""
    lowest = None
    for tag in platform.split("."):
        match = _TAG_GLIBC.match(tag)
        version = (int(match[1]), int(match[2])) if match else None
        for legacy, value in _LEGACY_GLIBC.items():
            if tag.startswith(legacy + "_"):
                version = value
        if version and (lowest is None or version < lowest):
            lowest = version
    return lowest
