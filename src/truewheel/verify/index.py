"""``verify --index``: many releases on the scan executors, one table row each.

SOURCES are directory trees (their files grouped into releases by name and version,
:func:`~truewheel.verify.release.releases_under`) or text files listing ``NAME==VERSION``
lines (each release fetched from the index).  Every release is one unit of work for a
local process pool or a Dask cluster (:mod:`truewheel.catalog.executors`); a worker
returns a small :class:`IndexRow`, never the release's whole report.  A release that
cannot be read or fetched is a row with its error, and the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from truewheel._files import read_regular
from truewheel.analysis.inspector import Inspector
from truewheel.catalog.executors import map_dask, map_local
from truewheel.errors import InputError, TruewheelError
from truewheel.verify.fetch import parse_spec
from truewheel.verify.release import ReleaseFiles, releases_under, verify_release_files
from truewheel.verify.release_model import IndexReport, IndexRow, ReleaseFinding, ReleaseReport
from truewheel.verify.remote import verify_release_from_index

__all__ = ["IndexUnit", "index_units", "row_of", "verify_index", "verify_unit"]

#: A list of releases is read whole; a million lines is far below this.
_MAX_LIST = 64 << 20
_PRELOAD = ("truewheel.verify.index",)


@dataclass(frozen=True, slots=True)
class IndexUnit:
    """One release to verify: local files, or a NAME==VERSION to fetch from ``index``."""

    source: str
    files: ReleaseFiles | None = None
    spec: str | None = None
    index: str = ""
    threads: int | None = 1
    size: int = 0


def index_units(sources: Sequence[str], index: str) -> list[IndexUnit]:
    """The releases SOURCES name, in order; a source that is neither a directory nor a
    readable list, or a line that is not NAME==VERSION, is an InputError."""
    units: list[IndexUnit] = []
    for source in sources:
        if Path(source).is_dir():
            for files in releases_under(source):
                units.append(IndexUnit(files.where, files=files, size=files.size))
            continue
        for number, line in enumerate(_lines(source), 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                parse_spec(text)
            except InputError as exc:
                raise InputError(f"line {number}: {exc.message}: {text!r}", path=source) from exc
            units.append(IndexUnit(text, spec=text, index=index))
    return units


def verify_unit(unit: IndexUnit) -> IndexRow:
    """The work of one unit (a module-level function: it pickles to the workers)."""
    start = time.perf_counter()
    inspector = Inspector(workers=unit.threads)
    name, version = _identity(unit)
    try:
        if unit.files is not None:
            report = verify_release_files(unit.files, inspector)
        else:
            assert unit.spec is not None
            report = verify_release_from_index(unit.spec, unit.index, inspector)
    except TruewheelError as exc:
        seconds = time.perf_counter() - start
        return IndexRow(name, version, unit.source, "error", seconds=seconds, error=str(exc))
    return row_of(report, unit.source, time.perf_counter() - start)


def row_of(report: ReleaseReport, source: str, seconds: float) -> IndexRow:
    problems = [f for f in report.findings if f.severity == "finding"]
    for wheel in report.wheels:
        for f in wheel.verify.findings:
            if f.severity == "finding":
                message = f"{f.member}: {f.message}" if f.member else f.message
                problems.append(ReleaseFinding("finding", f.code, message, (wheel.filename,)))
    return IndexRow(
        name=report.name,
        version=report.version,
        source=source,
        verdict="corresponds" if report.corresponds else "findings",
        wheels=len(report.wheels),
        findings=report.finding_count,
        notes=report.note_count,
        counts=tuple(report.counts.items()),
        problems=tuple(problems),
        seconds=seconds,
    )


def verify_index(
    sources: Sequence[str],
    *,
    index: str,
    workers: int = 1,
    dask: str | None = None,
    dask_timeout: float = 30.0,
) -> IndexReport:
    """Every release of SOURCES on this process, ``workers`` local processes, or Dask."""
    start = time.perf_counter()
    units = index_units(sources, index)
    if not units:
        raise InputError("no release found", path=", ".join(sources))
    rows: dict[int, IndexRow] = {}
    executor = _executor(len(units), workers, dask)
    for position, row in _run(units, workers, dask, dask_timeout):
        rows[position] = row
    ordered = tuple(rows[i] for i in sorted(rows))
    return IndexReport(ordered, executor, time.perf_counter() - start)


@dataclass(frozen=True, slots=True)
class _Numbered:
    position: int
    unit: IndexUnit


def _numbered_unit(item: _Numbered) -> tuple[int, IndexRow]:
    return item.position, verify_unit(item.unit)


def _numbered_failure(item: _Numbered, exc: BaseException) -> tuple[int, IndexRow]:
    name, version = _identity(item.unit)
    error = f"{item.unit.source}: worker failed: {type(exc).__name__}: {exc}"
    return item.position, IndexRow(name, version, item.unit.source, "error", error=error)


def _run(
    units: list[IndexUnit], workers: int, dask: str | None, timeout: float
) -> Iterator[tuple[int, IndexRow]]:
    # largest first, so the long ones do not start last
    items = sorted(
        (_Numbered(i, u) for i, u in enumerate(units)), key=lambda n: (-n.unit.size, n.position)
    )
    if dask:
        yield from map_dask(_numbered_unit, items, dask, _numbered_failure, timeout)
    elif workers <= 1 or len(items) <= 1:
        threads = 1 if workers <= 1 else None
        for item in items:
            yield _numbered_unit(_Numbered(item.position, replace(item.unit, threads=threads)))
    else:
        yield from map_local(_numbered_unit, items, workers, _numbered_failure, _PRELOAD)


def _executor(units: int, workers: int, dask: str | None) -> str:
    if dask:
        return f"dask {dask}"
    used = min(workers, units)
    return "in process" if used <= 1 else f"{used} local processes"


def _identity(unit: IndexUnit) -> tuple[str, str]:
    if unit.files is not None:
        return unit.files.name, unit.files.version
    assert unit.spec is not None
    return parse_spec(unit.spec)


def _lines(path: str) -> list[str]:
    """A list of releases: a regular file (a FIFO cannot hang the run), UTF-8, bounded."""
    data = read_regular(path, _MAX_LIST)
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=path) from exc
