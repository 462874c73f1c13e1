"""Glue between ``truewheel normalize`` arguments and the normalize command."""

from __future__ import annotations

from pathlib import Path

from truewheel._files import output_directory
from truewheel.cli import working_on
from truewheel.cli._inspect import expand_paths
from truewheel.cli._outcome import Outcome
from truewheel.cli._text import listing, plain_text
from truewheel.commands.normalize import NormalizeResult, normalize_wheel
from truewheel.errors import TruewheelError
from truewheel.jsonreport import dumps

_LIST = 5


def run_normalize(
    wheels: tuple[str, ...], *, wheel_dir: str, check: bool, as_json: bool
) -> Outcome:
    """With ``--check``, a wheel that is not normal is a finding (exit status 1)."""
    paths, errors = expand_paths(wheels)
    out_dir = None if check else Path(wheel_dir)
    if out_dir is not None and paths:
        output_directory(out_dir, option="-w")
    results: list[NormalizeResult] = []
    for path in paths:
        try:
            with working_on(path):
                results.append(normalize_wheel(path, out_dir, inputs=paths))
        except TruewheelError as exc:
            errors.append(exc.located(path=str(path)))
    if as_json:
        from truewheel.cli._documents import normalize_document

        report = dumps(normalize_document(results, errors, check=check))
    else:
        report = plain_text(line for r in results for line in _lines(r, check))
    findings = check and any(not r.already_normal for r in results)
    return Outcome(report, errors=errors, findings=findings)


def _lines(result: NormalizeResult, check: bool) -> list[str]:
    name = Path(result.input).name
    if not check:
        return [
            f"{name} -> {result.output}" + (" (already normal)" if result.already_normal else "")
        ]
    if result.already_normal:
        return [f"{name}: normal"]
    lines = [f"{name}: not normal"]
    for reason in result.reasons:
        members = list(reason.members)
        count = f" in {len(members)} member{'s' if len(members) > 1 else ''}" if members else ""
        where = f": {listing(members, _LIST)}" if members else ""
        lines.append(f"  {reason.property}: {reason.message}{count}{where}")
    return lines
