"""Render ``truewheel verify``: the verdict and what needs a look first, then the rest.

Every line quotes paths, metadata values and diff text from the two archives; each is
escaped by :func:`~truewheel.cli._text.plain_text` before it reaches the terminal.
"""

from __future__ import annotations

from typing import Any

from truewheel.cli import working_on
from truewheel.cli._outcome import Outcome
from truewheel.cli._text import plain_text
from truewheel.commands.verify import VerifyReport, verify
from truewheel.jsonreport import dumps

__all__ = ["render", "run_verify"]

_DIFF_LINES = 40
_LISTED = 20


def run_verify(
    wheel: str, sdist: str, *, as_json: bool, verbose: bool, rebuild: bool = False
) -> Outcome:
    """Findings (sure discrepancies) are exit status 1, and so is a rebuild that does not
    reproduce the wheel; notes never are."""
    with working_on(f"{wheel} against {sdist}"):
        report = verify(wheel, sdist, rebuild=rebuild)
    if as_json:
        from truewheel.cli._documents import verify_document

        text = dumps(verify_document(report))
    else:
        text = plain_text(render(report, verbose))
    return Outcome(text, findings=not report.corresponds or report.reproduced is False)


def render(report: VerifyReport, verbose: bool = False) -> list[str]:
    """The report as lines (escaped by the caller)."""
    counts = report.counts
    findings = [f for f in report.findings if f.severity == "finding"]
    notes = [f for f in report.findings if f.severity == "note"]
    verdict = (
        "corresponds"
        if report.corresponds
        else f"DOES NOT CORRESPOND ({len(findings)} finding{'' if len(findings) == 1 else 's'})"
    )
    lines = [
        f"wheel: {report.wheel}",
        f"sdist: {report.sdist}",
        f"verdict: {verdict}",
        "members: " + ", ".join(f"{n} {c}" for c, n in counts.items() if n or c == "unexplained"),
    ]
    if report.layout:
        lines.append("layout: " + ", ".join(p or "(top)" for p in report.layout))
    elif report.members:
        lines.append("layout: none (no member is a file of the sdist at its own path)")
    if report.rebuild is not None:
        from truewheel.cli._verify_rebuild import render_rebuild

        lines += render_rebuild(report.rebuild, verbose)
    versions = (report.sdist_metadata_version or "?", report.wheel_metadata_version or "?")
    meta = "metadata: PKG-INFO {}, METADATA {}".format(*versions)
    if report.static_metadata:
        dynamic = ", ".join(report.dynamic) or "none"
        meta += f"; static unless Dynamic (PEP 643), Dynamic: {dynamic}"
    else:
        meta += "; before PEP 643, differences are notes"
    differing = sum(f.status == "differs" for f in report.fields)
    lines.append(f"{meta}; {len(report.fields)} fields compared, {differing} differ")
    if findings:
        lines.append("findings:")
        lines += [_finding(f) for f in findings]
    by_category = {c: [m for m in report.members if m.category == c] for c in counts}
    for category in (
        "unexplained",
        "from-sdist-different",
        "compiled-from-sdist",
        "generated",
        "added-by-repair",
    ):
        members = by_category[category]
        if not members:
            continue
        lines.append(f"{category}:")
        for m in members[: None if verbose else _LISTED]:
            source = f" <- {m.source}" if m.source else ""
            reason = f": {m.evidence[0]}" if m.evidence else ""
            lines.append(f"  {m.path}{source}{reason}")
            if verbose:
                lines += [f"      {e}" for e in m.evidence[1:]]
            if m.diff:
                diff = m.diff.splitlines()
                shown = diff if verbose else diff[:_DIFF_LINES]
                lines += [f"    {line}" for line in shown]
                if len(shown) < len(diff):
                    lines.append(f"    ... {len(diff) - len(shown)} more lines (-v shows all)")
        if len(members) > _LISTED and not verbose:
            lines.append(f"  ... {len(members) - _LISTED} more (-v lists all)")
    if verbose:
        for category in ("from-sdist-identical", "metadata"):
            if by_category[category]:
                lines.append(f"{category}:")
                lines += [
                    f"  {m.path}" + (f" <- {m.source}" if m.source else "")
                    for m in by_category[category]
                ]
    if notes:
        lines.append("notes:")
        lines += [_finding(f) for f in notes[: None if verbose else _LISTED]]
        if len(notes) > _LISTED and not verbose:
            lines.append(f"  ... {len(notes) - _LISTED} more (-v lists all)")
    return lines


def _finding(f: Any) -> str:
    where = f"{f.member}: " if f.member else ""
    return f"  {f.code}: {where}{f.message}"
