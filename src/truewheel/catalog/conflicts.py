"""Problems in an installed environment that break programs, found without importing anything.

The rules come from how ld.so and the runtimes behave: ld.so loads a library once
per SONAME, so two copies under different SONAMEs are two runtimes in one process;
OpenMP and BLAS runtimes each start their own thread pools and some refuse to share
a process; an unresolved DT_NEEDED fails the import; a GLIBC_x symbol version the
host's glibc lacks fails it too.
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

__all__ = ["Conflict", "environment_conflicts", "host_finder", "host_glibc"]

_TAG_GLIBC = re.compile(r"^manylinux_(\d+)_(\d+)_")
_LEGACY_GLIBC = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}

OPENMP_CONSEQUENCE = (
    "each OpenMP runtime starts its own thread pool: oversubscribed cores and slowdowns at "
    "best; Intel's and LLVM's runtimes abort with 'OMP: Error #15' when another is already "
    "initialised, and mixing runtimes can deadlock after fork()"
)
BLAS_CONSEQUENCE = (
    "two BLAS/LAPACK libraries in one process: each has its own thread pool "
    "(oversubscription; threadpoolctl and OPENBLAS_NUM_THREADS reach only some), and "
    "unmangled copies can interpose each other's symbols"
)
CUDA_CONSEQUENCE = (
    "two CUDA runtimes in one process: separate contexts and allocators, and the older one "
    "may reject the driver or the other's kernels ('CUDA driver version is insufficient', "
    "'invalid device function')"
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
    environment: str,
    find: Callable[[str, _File, str], str | None],
    glibc: tuple[int, int] | None,
) -> list[Conflict]:
    """Every conflict in one environment; ``find`` is the host's library search."""
    files, tags = _load(db, environment)
    conflicts = _runtime_copies(environment, files)
    conflicts += _unresolved(environment, files, find)
    if glibc is not None:
        conflicts += _glibc(environment, files, tags, glibc)
    order = {"error": 0, "warning": 1, "info": 2}
    conflicts.sort(key=lambda c: (order[c.severity], c.code, c.message))
    return conflicts


def _load(
    db: sqlite3.Connection, environment: str
) -> tuple[list[_File], dict[str, tuple[str, ...]]]:
    rows = db.execute(
        """
        SELECT u.project, f.path, f.kind, f.family, f.category, f.soname, f.sha256, f.needed,
               f.rpath, f.runpath, f.elf_class, f.machine, f.glibc, f.first_party
        FROM native_files f JOIN units u ON u.id = f.unit_id JOIN selection s ON s.id = u.id
        WHERE u.environment = ? AND u.error IS NULL ORDER BY u.project, f.path
        """,
        (environment,),
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
            "SELECT u.project, u.tags FROM units u JOIN selection s ON s.id = u.id "
            "WHERE u.environment = ? AND u.error IS NULL",
            (environment,),
        )
    }
    return files, tags


def _runtime_copies(environment: str, files: list[_File]) -> list[Conflict]:
    """More than one OpenMP, BLAS or CUDA runtime loadable side by side."""
    rules = (
        ("openmp", "openmp-runtimes", "OpenMP runtimes", OPENMP_CONSEQUENCE),
        ("blas", "blas-libraries", "BLAS/LAPACK libraries", BLAS_CONSEQUENCE),
        ("cuda-runtime", "cuda-runtimes", "CUDA runtimes", CUDA_CONSEQUENCE),
    )
    out = []
    for category, code, what, consequence in rules:
        members = [f for f in files if f.category == category or _is_lapack(f, category)]
        by_load_name: dict[str, list[_File]] = defaultdict(list)
        for f in members:
            by_load_name[f.load_name].append(f)
        projects = {f.project for f in members}
        if len(by_load_name) < 2 or len(projects) < 2:
            continue
        families = {f.family for f in members}
        severity = "error" if category == "openmp" and len(families) > 1 else "warning"
        copies = ", ".join(
            f"{name} ({', '.join(sorted({f.project for f in fs}))})"
            for name, fs in sorted(by_load_name.items())
        )
        out.append(
            Conflict(
                severity,
                code,
                environment,
                f"{len(by_load_name)} {what} from {len(projects)} packages: {copies}",
                consequence,
                tuple(sorted(projects)),
                tuple(sorted(f.path for f in members)),
            )
        )
    return out


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
