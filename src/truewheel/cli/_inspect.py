"""Glue between ``truewheel inspect`` arguments, the inspect command and the renderers."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import TextIO

from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport
from truewheel.catalog.sources import wheels_under
from truewheel.cli import working_on
from truewheel.cli._outcome import Outcome, fails_on
from truewheel.cli._output import prepare_output
from truewheel.errors import InputError, TruewheelError
from truewheel.jsonreport import dumps, inspect_document

_PROGRESS_BYTES = 32 * 2**20


def expand_paths(paths: tuple[str, ...]) -> tuple[list[Path], list[TruewheelError]]:
    """Files as given; directories become every ``*.whl`` below them, as for ``scan``.

    Only names are gathered here (``stat``, never ``open``): whether each is a
    regular file and a wheel is for the reader to say, so a FIFO or a device
    becomes that wheel's error instead of a hang.
    """
    wheels: list[Path] = []
    errors: list[TruewheelError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                found = [Path(p) for p in wheels_under(path)]
            except InputError as exc:
                errors.append(exc)
                continue
            if not found:
                errors.append(InputError("directory holds no .whl files", path=raw))
            wheels.extend(found)
        elif path.exists():
            wheels.append(path)
        else:
            errors.append(InputError("no such file or directory", path=raw))
    return wheels, errors


def run_inspect(
    paths: tuple[str, ...],
    *,
    as_json: bool,
    output: str | None,
    show_files: bool,
    verbose: bool,
    fail_on: str,
    workers: int | None,
) -> Outcome:
    """Findings at or above ``fail_on`` (never: none) make the exit status 1."""
    wheels, errors = expand_paths(paths)
    if output:
        prepare_output(output, wheels)
    inspector = Inspector(workers=workers)
    if len(wheels) > 1:  # a split wheel's requirements may be among them
        from truewheel.analysis.split import companion_index

        inspector.companions = companion_index(wheels, inspector.limits)
    reports: list[WheelReport] = []
    show_progress = not as_json and sys.stderr.isatty()
    for wheel in wheels:
        try:
            with working_on(wheel):
                reports.append(_inspect_one(inspector, wheel, show_progress))
        except TruewheelError as exc:
            errors.append(exc.located(path=str(wheel)))
    findings = fails_on((f.rank for r in reports for f in r.findings), fail_on)
    outcome = Outcome(errors=errors, findings=findings, output=output, inputs=wheels)
    if as_json:
        outcome.report = dumps(inspect_document(reports, errors))
    else:
        outcome.report = partial(_render, reports, show_files=show_files, verbose=verbose)
    return outcome


def _render(reports: list[WheelReport], file: TextIO, *, show_files: bool, verbose: bool) -> None:
    from truewheel.cli._render import make_console, render_reports

    render_reports(reports, make_console(file), show_files=show_files, verbose=verbose)


def _inspect_one(inspector: Inspector, wheel: Path, show_progress: bool) -> WheelReport:
    if not show_progress or wheel.stat().st_size < _PROGRESS_BYTES:
        return inspector.inspect(wheel)
    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from truewheel.cli._text import printable

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(escape(printable(wheel.name)), total=None)
        return inspector.inspect(
            wheel,
            on_start=lambda total: bar.update(task, total=total),
            progress=lambda done: bar.advance(task, done),
        )
