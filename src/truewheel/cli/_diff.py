"""Render ``truewheel diff``: the cause in the first lines, the whole report on one screen.

The lines quote member names and text from both wheels; :func:`render` escapes
them, so ``build --check``, which prints the same lines, is safe too.
"""

from __future__ import annotations

from truewheel.cli import working_on
from truewheel.cli._outcome import Outcome
from truewheel.cli._text import listing, plain_text, printable
from truewheel.commands.diff import WheelDiff, diff_wheels
from truewheel.jsonreport import dumps

_LIST = 5


def run_diff(wheel_a: str, wheel_b: str, *, as_json: bool, verbose: bool) -> Outcome:
    """Differences are findings: any difference in the files' bytes is exit status 1."""
    with working_on(f"{wheel_a} and {wheel_b}"):
        result = diff_wheels(wheel_a, wheel_b)
    if as_json:
        from truewheel.cli._documents import diff_document

        report = dumps(diff_document(result))
    else:
        report = plain_text(render(result, verbose=verbose))
    return Outcome(report, findings=not result.identical)


def _some(items: list[str]) -> str:
    return listing(items, _LIST)


def render(d: WheelDiff, *, verbose: bool = False) -> list[str]:
    """The report as lines, each escaped (names and text come from the wheels)."""
    return [printable(line) for line in _lines(d, verbose)]


def _lines(d: WheelDiff, verbose: bool) -> list[str]:
    lines = [f"A: {d.a}", f"B: {d.b}"]
    if d.identical:
        return [*lines, "identical"]
    lines += [f"paired: {x} with {y}" for x, y in d.paired]
    content = f"{len(d.members)} of {d.members_compared} common members differ in content"
    lines.append(
        f"different: {content}"
        if d.content_differs
        else "contents identical; only zip metadata differs"
    )
    causes = [(m.name, c) for m in d.members for c in m.causes]
    for side, libraries, others in (
        ("removed", d.libraries_removed, d.only_in_a),
        ("added", d.libraries_added, d.only_in_b),
    ):
        if libraries:
            causes.append(("members", f"libraries {side}: {_some(libraries)}"))
        rest = [n for n in others if n not in set(libraries)]
        if rest:
            causes.append(
                ("members", f"only in {'A' if side == 'removed' else 'B'}: {_some(rest)}")
            )
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
    lines += [f"equivalent: {note}" for note in d.equivalent]
    return lines
