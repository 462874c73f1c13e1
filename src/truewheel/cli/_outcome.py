"""What a command hands back to :func:`truewheel.cli.main`: its report and its verdict.

Commands compute and render; they never write their report nor choose an exit
status.  ``main`` alone does both (:func:`finish`): the report goes to stdout,
or with ``-o`` to a file written atomically; each error is one line on stderr;
the status is 2 when any input failed, 1 for findings at or above
``--fail-on``, differences, or a wheel that is not normal, and 0 otherwise.
A run that failed writes no output file: a report that is missing an input
could pass for a clean one.  Its report still goes nowhere else, and stdout
stays empty, so a script reading ``-o`` never sees half an answer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from io import StringIO
from typing import TextIO

from truewheel._atomic import write_atomically
from truewheel.cli._text import error_line

__all__ = [
    "EXIT_ERROR",
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "Outcome",
    "fails_on",
    "finish",
]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3

Render = Callable[[TextIO], None]


@dataclass
class Outcome:
    """A finished command: its report, the errors met on the way, and whether it found
    something (findings, differences, a wheel not normal, a build not reproducible)."""

    report: str | Render = ""
    errors: Sequence[object] = ()
    findings: bool = False
    output: str | None = None  # -o: the file the report goes to instead of stdout
    inputs: Sequence[str | os.PathLike[str]] = field(default_factory=list)  # -o may not replace

    @property
    def status(self) -> int:
        if self.errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if self.findings else EXIT_OK


def finish(outcome: Outcome) -> int:
    """Write the report and the errors where they belong; return the exit status."""
    if outcome.output is None:
        _write(outcome.report, sys.stdout)
    elif not outcome.errors:
        buffer = StringIO()
        _write(outcome.report, buffer)
        write_atomically(outcome.output, buffer.getvalue(), inputs=outcome.inputs)
    for error in outcome.errors:
        sys.stderr.write(error_line(error))
    return outcome.status


def fails_on(ranks: Iterable[int], fail_on: str) -> bool:
    """Whether any severity rank (0 error, 1 warning, 2 info) is at least ``fail_on``."""
    if fail_on == "never":
        return False
    from truewheel.analysis.report import SEVERITIES  # not at import: --help stays fast

    limit = SEVERITIES.index(fail_on)
    return any(rank <= limit for rank in ranks)


def _write(report: str | Render, file: TextIO) -> None:
    if isinstance(report, str):
        file.write(report)
    else:
        report(file)
