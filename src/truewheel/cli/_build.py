"""Glue between ``truewheel build`` arguments and the build command."""

from __future__ import annotations

import sys
from pathlib import Path

from truewheel.cli import EXIT_FINDINGS, EXIT_OK
from truewheel.cli._diff import render
from truewheel.commands.build import build_wheel, check_build


def run_build(source: str, *, wheel_dir: str, check: int | None) -> int:
    out = Path(wheel_dir)
    if check is None:
        result = build_wheel(source, out)
        sys.stdout.write(
            f"{result.wheel}\n  sha256 {result.sha256}\n  buildinfo {result.buildinfo}\n"
        )
        return EXIT_OK
    checked = check_build(source, out, check)
    for digest, variation, seconds in zip(
        checked.digests, checked.variations, checked.seconds, strict=True
    ):
        conditions = ", ".join(f"{k}={v}" for k, v in variation.items() if k != "name")
        sys.stdout.write(
            f"build {variation['name']}: {digest[:16]}  {seconds:.1f}s  ({conditions})\n"
        )
    if checked.identical:
        sys.stdout.write(
            f"reproducible: {checked.wheels[0].name} ({len(checked.wheels)} identical builds)\n"
        )
        return EXIT_OK
    assert checked.diff is not None
    sys.stdout.write("NOT reproducible:\n" + "\n".join(render(checked.diff)) + "\n")
    return EXIT_FINDINGS
