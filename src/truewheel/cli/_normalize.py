"""Glue between ``truewheel normalize`` arguments and the normalize command."""

from __future__ import annotations

import sys
from pathlib import Path

from truewheel.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from truewheel.cli._inspect import expand_paths
from truewheel.commands.normalize import normalize_wheel
from truewheel.errors import TruewheelError


def run_normalize(wheels: tuple[str, ...], *, wheel_dir: str, check: bool) -> int:
    paths, errors = expand_paths(wheels)
    not_normal = 0
    for path in paths:
        try:
            result = normalize_wheel(path, None if check else Path(wheel_dir))
        except TruewheelError as exc:
            errors.append(exc.located(path=str(path)))
            continue
        if check:
            state = "normal" if result.already_normal else "not normal"
            sys.stdout.write(f"{path.name}: {state}\n")
            not_normal += not result.already_normal
        else:
            note = " (already normal)" if result.already_normal else ""
            sys.stdout.write(f"{path.name} -> {result.output}{note}\n")
    for error in errors:
        sys.stderr.write(f"truewheel: error: {error}\n")
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if not_normal else EXIT_OK
