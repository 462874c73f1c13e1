"""Glue between ``truewheel build`` arguments and the build command."""

from __future__ import annotations

from pathlib import Path

from truewheel.cli import EXIT_FINDINGS, EXIT_OK
from truewheel.cli._diff import render
from truewheel.cli._text import write_lines
from truewheel.commands.build import build_wheel, check_build


def run_build(source: str, *, wheel_dir: str, check: int | None) -> int:
    out = Path(wheel_dir)
    if check is None:
        result = build_wheel(source, out)
        write_lines(
            [str(result.wheel), f"  sha256 {result.sha256}", f"  buildinfo {result.buildinfo}"]
        )
        return EXIT_OK
    checked = check_build(source, out, check)
    lines = []
    for digest, variation, seconds in zip(
        checked.digests, checked.variations, checked.seconds, strict=True
    ):
        conditions = ", ".join(f"{k}={v}" for k, v in variation.items() if k != "name")
        lines.append(f"build {variation['name']}: {digest[:16]}  {seconds:.1f}s  ({conditions})")
    if checked.identical:
        name = checked.wheels[0].name
        write_lines([*lines, f"reproducible: {name} ({len(checked.wheels)} identical builds)"])
        return EXIT_OK
    assert checked.diff is not None
    write_lines([*lines, "NOT reproducible:"])
    write_lines(render(checked.diff))
    return EXIT_FINDINGS
