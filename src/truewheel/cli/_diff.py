"""Render ``truewheel diff``: the cause in the first lines, the whole report on one screen.

The lines quote member names and text from both wheels; :func:`render` escapes
them, so ``build --check``, which prints the same lines, is safe too.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from truewheel.cli import EXIT_FINDINGS, EXIT_OK, working_on
from truewheel.cli._text import printable, write_lines
from truewheel.commands.diff import WheelDiff, diff_wheels
from truewheel.jsonreport import document

DIFF_SCHEMA_VERSION = "1.0"
_LIST = 5


def run_diff(wheel_a: str, wheel_b: str, *, as_json: bool, verbose: bool) -> int:
    with working_on(f"{wheel_a} and {wheel_b}"):
        result = diff_wheels(wheel_a, wheel_b)
    if as_json:
        doc = document("truewheel-diff", DIFF_SCHEMA_VERSION, [asdict(result)], [])
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        write_lines(render(result, verbose=verbose))
    return EXIT_OK if result.identical else EXIT_FINDINGS


def _some(items: list[str], limit: int = _LIST) -> str:
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def render(d: WheelDiff, *, verbose: bool = False) -> list[str]:
    """The report as lines, each escaped (names and text come from the wheels)."""
    return [printable(line) for line in _lines(d, verbose)]


def _lines(d: WheelDiff, verbose: bool) -> list[str]:
    lines = [f"A: {d.a}", f"B: {d.b}"]
    if d.identical:
        return [*lines, "identical"]
    content = f"{len(d.members)} of {d.members_compared} common members differ in content"
    lines.append(
        f"different: {content}"
        if d.content_differs
        else "contents identical; only zip metadata differs"
    )
    causes = [(m.name, c) for m in d.members for c in m.causes]
    if d.only_in_a:
        causes.append(("members", f"only in A: {_some(d.only_in_a)}"))
    if d.only_in_b:
        causes.append(("members", f"only in B: {_some(d.only_in_b)}"))
    if causes:
        lines.append("causes:")
        lines += [f"  {name}: {cause}" for name, cause in causes]
    consequences = [(m.name, c) for m in d.members for c in m.consequences]
    if consequences:
        lines.append("consequences:")
        lines += [f"  {name}: {c}" for name, c in consequences]
    details = [(m.name, line) for m in d.members for line in m.detail]
    if details:
        lines.append("details:")
        lines += [f"  {name}: {line}" for name, line in details[: 12 if not verbose else None]]
    zip_notes = []
    if d.order_differs:
        zip_notes.append("member order differs")
    for label, items in (
        ("timestamps differ", d.timestamps_differ),
        ("permissions differ", d.permissions_differ),
        ("compression differs", d.compression_differs),
    ):
        if items:
            zip_notes.append(
                f"{label} for {len(items)} member(s)" + (f": {_some(items)}" if verbose else "")
            )
    if zip_notes:
        lines.append("zip metadata: " + "; ".join(zip_notes))
    return lines
