"""Glue between ``truewheel scan`` arguments, the scan command and its three renderings."""

from __future__ import annotations

import csv
import io
import posixpath
import sys
from pathlib import Path
from typing import Any

import click

from truewheel.analysis.report import SEVERITIES
from truewheel.catalog.executors import check_dask_address
from truewheel.catalog.model import UnitFacts
from truewheel.cli._outcome import Outcome, fails_on
from truewheel.cli._output import prepare_output, refuse_same_path
from truewheel.cli._text import printable
from truewheel.commands.scan import Scanner, ScanOptions, ScanReport
from truewheel.errors import TruewheelError
from truewheel.jsonreport import dumps


def run_scan(
    sources: tuple[str, ...],
    *,
    include_running: bool,
    catalog: str | None,
    output_format: str,
    output: str | None,
    workers: int | None,
    dask_address: str | None,
    dask_timeout: float,
    rescan: bool,
    top: int,
    fail_on: str,
    progress: bool,
) -> Outcome:
    """A unit that cannot be read is an error (exit status 2): its row is in the report
    (``failures``), but like every failed run this one writes no ``-o`` file.  Conflicts
    at or above ``fail_on`` are findings (exit status 1)."""
    if not sources and not include_running:
        raise click.UsageError("give at least one SOURCE, or --env")
    options = ScanOptions(
        include_running=include_running,
        dask=dask_address,
        dask_timeout=dask_timeout,
        rescan=rescan,
    )
    if catalog:
        options.catalog = Path(catalog)
    if workers:
        options.workers = workers
    if dask_address:
        check_dask_address(dask_address)
    catalog_files = [f"{options.catalog}{suffix}" for suffix in ("", "-wal", "-shm")]
    if output:
        for path in catalog_files:
            refuse_same_path(output, path, "catalog", "-o")
        prepare_output(output, [*sources, *catalog_files])
    scanner = Scanner(options)
    if progress and sys.stderr.isatty():
        report = _scan_with_bar(scanner, list(sources))
    else:
        report = scanner.scan(list(sources))
    errors: list[TruewheelError] = []
    if output_format == "json":
        from truewheel.catalog.document import scan_document

        text = dumps(scan_document(report, errors))
    elif output_format == "csv":
        from truewheel.catalog.document import CSV_COLUMNS, csv_rows

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        rows = csv_rows(report)
        if not output and sys.stdout.isatty():  # a person reads it: no raw control characters
            rows = [{k: _shown(v) for k, v in row.items()} for row in rows]
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        from truewheel.cli._scan_text import render_text

        text = render_text(report, top=top)
    conflicts = (SEVERITIES.index(c.severity) for c in report.conflicts)
    return Outcome(
        text,
        errors=[failure.error for failure in report.failures],
        findings=fails_on(conflicts, fail_on),
        output=output,
        inputs=[*report.inputs, *catalog_files],
    )


def _shown(value: object) -> object:
    return printable(value) if isinstance(value, str) else value


def _scan_with_bar(scanner: Scanner, sources: list[str]) -> ScanReport:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task_id: Any = None

    def progress(unit: UnitFacts | None, done: int, total: int) -> None:
        nonlocal task_id
        if unit is None:
            task_id = bar.add_task("scanning", total=total)
            bar.start()
            return
        name = escape(printable(posixpath.basename(unit.key.path))[:28])
        bar.update(task_id, completed=done, description=f"scanning {name}")

    try:
        return scanner.scan(sources, progress)
    finally:
        bar.stop()
