"""Glue between ``truewheel normalize`` arguments and the normalize command."""

from __future__ import annotations

import sys
from pathlib import Path

from truewheel._files import output_directory
from truewheel.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, working_on
from truewheel.cli._inspect import expand_paths
from truewheel.cli._text import error_line, write_lines
from truewheel.commands.normalize import normalize_wheel
from truewheel.errors import TruewheelError


def run_normalize(wheels: tuple[str, ...], *, wheel_dir: str, check: bool) -> int:
    paths, errors = expand_paths(wheels)
    out_dir = None if check else Path(wheel_dir)
    if out_dir is not None and paths:
        output_directory(out_dir, option="-w")
    not_normal = 0
    for path in paths:
        try:
            with working_on(path):
                result = normalize_wheel(path, out_dir, inputs=paths)
        except TruewheelError as exc:
            errors.append(exc.located(path=str(path)))
            continue
        if check:
            state = "normal" if result.already_normal else "not normal"
            write_lines([f"{path.name}: {state}"])
            not_normal += not result.already_normal
        else:
            note = " (already normal)" if result.already_normal else ""
            write_lines([f"{path.name} -> {result.output}{note}"])
    for error in errors:
        sys.stderr.write(error_line(error))
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if not_normal else EXIT_OK
