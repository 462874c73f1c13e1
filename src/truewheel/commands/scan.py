"""``truewheel scan``: catalog native files across wheels and environments, then report.

The pipeline: find the units (wheels, installed distributions), skip those the
catalog already holds unchanged, scan the rest on an executor (this process, a
local process pool, or Dask), store each result as it arrives, and query the
catalog for the units named on the command line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from truewheel.catalog.conflicts import (
    Conflict,
    environment_conflicts,
    host_finder,
    host_glibc,
)
from truewheel.catalog.executors import Task, run_dask, run_local
from truewheel.catalog.model import UnitFacts
from truewheel.catalog.queries import (
    BuildGroup,
    DuplicateGroup,
    Failure,
    FamilyTotal,
    Summary,
    VersionSpread,
    build_groups,
    duplicate_groups,
    failures,
    family_totals,
    summary,
    version_spreads,
)
from truewheel.catalog.sources import Sources, find_sources, installed_key, wheel_key
from truewheel.catalog.store import Catalog, default_catalog_path
from truewheel.errors import TruewheelError

__all__ = ["ScanOptions", "ScanReport", "ScanRun", "Scanner"]


@dataclass
class ScanOptions:
    catalog: Path = field(default_factory=default_catalog_path)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    dask: str | None = None
    dask_timeout: float = 30.0
    include_running: bool = False
    rescan: bool = False


@dataclass
class ScanRun:
    """What this invocation did, as opposed to what the catalog holds."""

    units: int
    scanned: int
    skipped: int
    failed: int
    seconds: float
    scanned_bytes: int
    executor: str


@dataclass
class ScanReport:
    catalog: str
    run: ScanRun
    summary: Summary
    duplicates: list[DuplicateGroup]
    builds: list[BuildGroup]
    versions: list[VersionSpread]
    families: list[FamilyTotal]
    failures: list[Failure]
    environments: list[str]
    conflicts: list[Conflict]
    inputs: list[str] = field(default_factory=list)
    """The wheel files read: an output written after the scan must not replace one."""


ProgressHook = Callable[[UnitFacts | None, int, int], None]
"""Called with (unit or None at the start, units done, units to scan)."""


@dataclass
class Scanner:
    options: ScanOptions = field(default_factory=ScanOptions)

    def scan(self, arguments: list[str], progress: ProgressHook | None = None) -> ScanReport:
        start = time.perf_counter()
        sources = find_sources(arguments, include_running=self.options.include_running)
        with Catalog(self.options.catalog) as catalog:
            tasks, paths = self._plan(catalog, sources)
            executor = self._executor_name(len(tasks))
            done = failed = 0
            scanned_bytes = sum(t.size for t in tasks if t.wheel is not None)
            if progress:
                progress(None, 0, len(tasks))
            for unit in self._run(tasks):
                catalog.store(unit)
                done += 1
                failed += unit.error is not None
                if progress:
                    progress(unit, done, len(tasks))
            selection = catalog.select(paths)
            db = catalog.db
            duplicates = duplicate_groups(db, selection)
            environments = [e.site for e in sources.environments]
            conflicts: list[Conflict] = []
            if environments:
                find = host_finder()
                glibc = host_glibc()
                for site in environments:
                    conflicts += environment_conflicts(db, selection, site, find, glibc)
            return ScanReport(
                catalog=catalog.path,
                run=ScanRun(
                    units=len(paths),
                    scanned=done,
                    skipped=len(paths) - len(tasks),
                    failed=failed,
                    seconds=time.perf_counter() - start,
                    scanned_bytes=scanned_bytes,
                    executor=executor,
                ),
                summary=summary(db, selection, duplicates),
                duplicates=duplicates,
                builds=build_groups(db, selection),
                versions=version_spreads(db, selection),
                families=family_totals(db, selection),
                failures=failures(db, selection),
                environments=environments,
                conflicts=conflicts,
                inputs=list(sources.wheels),
            )

    def _executor_name(self, tasks: int) -> str:
        if self.options.dask:
            return f"dask {self.options.dask}"
        workers = min(self.options.workers, max(tasks, 1))
        return "in process" if workers <= 1 else f"{workers} local processes"

    def _run(self, tasks: list[Task]) -> Iterator[UnitFacts]:
        if not tasks:
            return iter(())
        if self.options.dask:
            return run_dask(tasks, self.options.dask, self.options.dask_timeout)
        return run_local(tasks, self.options.workers)

    def _plan(self, catalog: Catalog, sources: Sources) -> tuple[list[Task], list[str]]:
        """The units to scan now, and every unit path this scan reports on."""
        known = {} if self.options.rescan else catalog.known_keys()
        tasks: list[Task] = []
        paths: list[str] = []
        for path in sources.wheels:
            paths.append(path)
            try:
                st = os.stat(path)
            except OSError:
                tasks.append(Task(wheel=path))
                continue
            previous = known.get(path)
            if previous is not None:
                key, was_failed = previous
                unchanged = (key.size, key.mtime_ns) == (st.st_size, st.st_mtime_ns)
                if unchanged and (was_failed or self._same_wheel(path, key.fingerprint)):
                    continue
            tasks.append(Task(wheel=path, size=st.st_size))
        for environment in sources.environments:
            for dist in environment.dists:
                paths.append(dist.dist_info)
                previous = known.get(dist.dist_info)
                try:
                    size, mtime_ns, fingerprint = installed_key(dist)
                except TruewheelError:
                    tasks.append(Task(dist=dist))
                    continue
                if previous is not None and not previous[1]:
                    key = previous[0]
                    if (key.size, key.mtime_ns, key.fingerprint) == (size, mtime_ns, fingerprint):
                        continue
                tasks.append(Task(dist=dist, size=size))
        return tasks, paths

    @staticmethod
    def _same_wheel(path: str, fingerprint: str) -> bool:
        try:
            return wheel_key(path)[2] == fingerprint
        except (TruewheelError, OSError):
            return False
