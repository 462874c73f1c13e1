"""Glue between ``truewheel build`` arguments and the build command."""

from __future__ import annotations

from pathlib import Path

from truewheel.cli._diff import render
from truewheel.cli._outcome import Outcome
from truewheel.cli._text import plain_text
from truewheel.commands.build import BuildResult, CheckResult, build_wheel, check_build
from truewheel.jsonreport import dumps


def run_build(source: str, *, wheel_dir: str, check: int | None, as_json: bool) -> Outcome:
    """A build that is not reproducible under ``--check`` is a finding (exit status 1)."""
    out = Path(wheel_dir)
    result = build_wheel(source, out) if check is None else check_build(source, out, check)
    if as_json:
        from truewheel.cli._documents import build_document

        report = dumps(build_document(result))
    else:
        report = plain_text(_lines(result))
    return Outcome(report, findings=isinstance(result, CheckResult) and not result.identical)


def _lines(result: BuildResult | CheckResult) -> list[str]:
    if isinstance(result, BuildResult):
        return [
            str(result.wheel),
            f"  sha256 {result.sha256}",
            f"  buildinfo {result.buildinfo}",
        ]
    lines = []
    for digest, variation, seconds in zip(
        result.digests, result.variations, result.seconds, strict=True
    ):
        conditions = ", ".join(f"{k}={v}" for k, v in variation.items() if k != "name")
        lines.append(f"build {variation['name']}: {digest[:16]}  {seconds:.1f}s  ({conditions})")
    if result.identical:
        name = result.wheels[0].name
        return [*lines, f"reproducible: {name} ({len(result.wheels)} identical builds)"]
    assert result.diff is not None
    return [*lines, "NOT reproducible:", *render(result.diff)]
