"""``truewheel verify``'s modes besides ``WHEEL --sdist SDIST``: the sdist fetched from
the index (``WHEEL [NAME==VERSION]``), a release (``--release DIR``) and an index
(``--index SOURCES...``); their renderings and ``--json`` documents.

Every line quotes names, paths and messages from the archives or the index; each is
escaped by :func:`~truewheel.cli._text.plain_text` (one line each, no raw control
characters) before it reaches the terminal, and CSV cells by ``printable`` when a person
reads them on a terminal.
"""

from __future__ import annotations

import csv
import io
import sys
from typing import Any

import click

from truewheel.cli import working_on
from truewheel.cli._outcome import Outcome
from truewheel.cli._output import prepare_output
from truewheel.cli._text import plain_text, printable
from truewheel.commands.verify import (
    IndexReport,
    ReleaseReport,
    verify_fetched,
    verify_index,
    verify_release,
)
from truewheel.jsonreport import dumps, envelope
from truewheel.verify.model import CATEGORIES
from truewheel.verify.release_model import IndexRow, ReleaseFinding

__all__ = ["run_verify_modes"]

_LISTED = 20
CSV_COLUMNS = (
    "name",
    "version",
    "source",
    "verdict",
    "wheels",
    "findings",
    "notes",
    *CATEGORIES,
    "codes",
    "seconds",
    "error",
)


def run_verify_modes(
    inputs: tuple[str, ...],
    *,
    sdist: str | None,
    release: str | None,
    index: bool,
    index_url: str | None,
    workers: int | None,
    dask_address: str | None,
    dask_timeout: float,
    as_json: bool,
    as_csv: bool,
    output: str | None,
    verbose: bool,
    rebuild: bool = False,
) -> Outcome:
    """Pick the mode from the arguments; a combination that means nothing is a usage error."""
    from truewheel.verify.fetch import default_index

    url = index_url or default_index()
    if rebuild and (release is not None or index):
        raise click.UsageError("--rebuild is for one WHEEL (with --sdist SDIST or NAME==VERSION)")
    if as_csv and not index:
        raise click.UsageError("--csv is for --index")
    if (workers or dask_address) and not index:
        raise click.UsageError("-j and --dask are for --index")
    if release is not None:
        if inputs or sdist or index:
            raise click.UsageError("--release DIR takes no WHEEL, --sdist or --index")
        return _with_output(_run_release(release, as_json, verbose), output, [release])
    if index:
        if not inputs or sdist:
            raise click.UsageError("--index takes SOURCES (directories or NAME==VERSION lists)")
        if dask_address:
            from truewheel.catalog.executors import check_dask_address

            check_dask_address(dask_address)
        if output:
            prepare_output(output, inputs)
        return _run_index(
            inputs, url, workers or 1, dask_address, dask_timeout, as_json, as_csv, output
        )
    if not inputs:
        raise click.UsageError(
            "give WHEEL (with --sdist SDIST or NAME==VERSION), --release or --index"
        )
    if len(inputs) > 2 or (sdist and len(inputs) > 1):
        raise click.UsageError("verify takes one WHEEL and at most one NAME==VERSION")
    wheel = inputs[0]
    if sdist:
        from truewheel.cli._verify import run_verify

        outcome = run_verify(wheel, sdist, as_json=as_json, verbose=verbose, rebuild=rebuild)
        return _with_output(outcome, output, [wheel, sdist])
    spec = inputs[1] if len(inputs) == 2 else None
    with working_on(wheel):
        report = verify_fetched(wheel, spec, url, rebuild=rebuild)
    if as_json:
        from truewheel.cli._documents import verify_document

        text = dumps(verify_document(report))
    else:
        from truewheel.cli._verify import render

        text = plain_text(render(report, verbose))
    findings = not report.corresponds or report.reproduced is False
    return _with_output(Outcome(text, findings=findings), output, [wheel])


def _with_output(outcome: Outcome, output: str | None, inputs: list[str]) -> Outcome:
    if output:
        prepare_output(output, inputs)
        outcome.output = output
        outcome.inputs = [*outcome.inputs, *inputs]
    return outcome


def _run_release(directory: str, as_json: bool, verbose: bool) -> Outcome:
    with working_on(directory):
        report = verify_release(directory)
    text = (
        dumps(release_document(report)) if as_json else plain_text(render_release(report, verbose))
    )
    return Outcome(text, findings=not report.corresponds)


def _run_index(
    sources: tuple[str, ...],
    index_url: str,
    workers: int,
    dask: str | None,
    dask_timeout: float,
    as_json: bool,
    as_csv: bool,
    output: str | None,
) -> Outcome:
    with working_on(", ".join(sources)):
        report = verify_index(
            sources, index=index_url, workers=workers, dask=dask, dask_timeout=dask_timeout
        )
    if as_json:
        text = dumps(index_document(report))
    elif as_csv:
        text = index_csv(report, escape=not output and sys.stdout.isatty())
    else:
        text = plain_text(render_index(report))
    errors = [row.error for row in report.errors]
    return Outcome(
        text,
        errors=errors,
        findings=not report.corresponds,
        output=output,
        inputs=list(sources),
    )


# --- rendering ---------------------------------------------------------------------------


def render_release(report: ReleaseReport, verbose: bool = False) -> list[str]:
    """The release's verdict, its own findings, then one block per wheel."""
    counts = report.counts
    verdict = (
        "corresponds"
        if report.corresponds
        else f"DOES NOT CORRESPOND ({report.finding_count} finding"
        f"{'' if report.finding_count == 1 else 's'})"
    )
    lines = [
        f"release: {report.name} {report.version}",
        f"sdist: {report.sdist}",
        f"verdict: {verdict}",
        f"wheels: {len(report.wheels)}; members: "
        + ", ".join(f"{n} {c}" for c, n in counts.items() if n or c == "unexplained"),
        f"metadata across wheels: {len(report.compared_fields)} fields compared",
    ]
    own = [f for f in report.findings if f.severity == "finding"]
    notes = [f for f in report.findings if f.severity == "note"]
    if own:
        lines.append("release findings:")
        lines += [_release_finding(f) for f in own]
    lines.append("wheels:")
    for wheel in report.wheels:
        v = wheel.verify
        state = "corresponds" if v.corresponds else "DOES NOT CORRESPOND"
        allowed = wheel.platform.allowed or "no platform tag (pure, or no tag fits)"
        claimed = ", ".join(wheel.platform.claimed)
        lines.append(f"  {wheel.filename}: {state}")
        lines.append(f"    tags {claimed}; content allows {allowed}")
        shown = ", ".join(f"{n} {c}" for c, n in v.counts.items() if n)
        lines.append(f"    members: {shown}")
        for category in ("unexplained", "from-sdist-different"):
            paths = [m.path for m in v.members if m.category == category]
            if paths and not verbose:
                more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
                lines.append(f"    {category}: {', '.join(paths[:3])}{more}")
        for f in v.findings:
            if f.severity == "finding" or verbose:
                where = f"{f.member}: " if f.member else ""
                lines.append(f"    {f.severity} {f.code}: {where}{f.message}")
        if verbose:
            from truewheel.cli._verify import render

            lines += [f"    | {line}" for line in render(v, verbose=False)]
    if notes:
        lines.append("notes:")
        lines += [_release_finding(f) for f in notes[: None if verbose else _LISTED]]
        if len(notes) > _LISTED and not verbose:
            lines.append(f"  ... {len(notes) - _LISTED} more (-v lists all)")
    return lines


def _release_finding(f: ReleaseFinding) -> str:
    wheels = (
        f" [{', '.join(f.wheels[:3])}{' ...' if len(f.wheels) > 3 else ''}]" if f.wheels else ""
    )
    return f"  {f.code}{wheels}: {f.message}"


def render_index(report: IndexReport) -> list[str]:
    """One line per release, then what each release with findings or an error found."""
    rows = report.rows
    width = max((len(f"{r.name}=={r.version}") for r in rows), default=10)
    lines = [
        f"{len(rows)} releases, {sum(r.verdict == 'corresponds' for r in rows)} correspond, "
        f"{sum(r.verdict == 'findings' for r in rows)} with findings, "
        f"{len(report.errors)} not checked ({report.executor}, {report.seconds:.1f} s)",
        f"{'release':<{width}}  {'verdict':<11}  wheels  findings  notes  unexplained  "
        "different  codes",
    ]
    for r in rows:
        counts = dict(r.counts)
        lines.append(
            f"{r.name + '==' + r.version:<{width}}  {r.verdict:<11}  {r.wheels:>6}  "
            f"{r.findings:>8}  {r.notes:>5}  {counts.get('unexplained', 0):>11}  "
            f"{counts.get('from-sdist-different', 0):>9}  {', '.join(r.codes) or '-'}"
        )
    for r in rows:
        if r.error:
            lines.append(f"{r.name}=={r.version}: error: {r.error}")
        for p in r.problems[:_LISTED]:
            lines.append(f"{r.name}=={r.version}:{_release_finding(p)}")
    return lines


# --- documents -----------------------------------------------------------------------------


def release_document(report: ReleaseReport) -> dict[str, Any]:
    return envelope("verify-release", release_body(report))


def release_body(report: ReleaseReport) -> dict[str, Any]:
    from truewheel.cli._documents import verify_document

    return {
        "name": report.name,
        "version": report.version,
        "sdist": report.sdist,
        "corresponds": report.corresponds,
        "counts": report.counts,
        "finding_count": report.finding_count,
        "note_count": report.note_count,
        "compared_fields": list(report.compared_fields),
        "findings": [_finding_json(f) for f in report.findings],
        "wheels": [
            {
                "wheel": w.wheel,
                "filename": w.filename,
                "platform": {
                    "claimed": list(w.platform.claimed),
                    "allowed": w.platform.allowed,
                    "findings": [
                        {"severity": s, "code": c, "message": m, "file": f}
                        for s, c, m, f in w.platform.findings
                    ],
                },
                "verify": verify_document(w.verify),
            }
            for w in report.wheels
        ],
    }


def _finding_json(f: ReleaseFinding) -> dict[str, Any]:
    return {"severity": f.severity, "code": f.code, "message": f.message, "wheels": list(f.wheels)}


def index_document(report: IndexReport) -> dict[str, Any]:
    body = {
        "executor": report.executor,
        "seconds": round(report.seconds, 3),
        "corresponds": report.corresponds,
        "releases": [_row_json(r) for r in report.rows],
    }
    return envelope("verify-index", body)


def _row_json(row: IndexRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "version": row.version,
        "source": row.source,
        "verdict": row.verdict,
        "wheels": row.wheels,
        "findings": row.findings,
        "notes": row.notes,
        "counts": dict(row.counts),
        "codes": list(row.codes),
        "problems": [_finding_json(p) for p in row.problems],
        "seconds": round(row.seconds, 3),
        "error": row.error,
    }


def index_csv(report: IndexReport, *, escape: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in report.rows:
        values: dict[str, object] = {
            "name": r.name,
            "version": r.version,
            "source": r.source,
            "verdict": r.verdict,
            "wheels": r.wheels,
            "findings": r.findings,
            "notes": r.notes,
            **dict(r.counts),
            "codes": " ".join(r.codes),
            "seconds": f"{r.seconds:.3f}",
            "error": r.error or "",
        }
        if escape:  # a person reads it: no raw control characters
            values = {k: printable(v) if isinstance(v, str) else v for k, v in values.items()}
        writer.writerow({k: values.get(k, 0) for k in CSV_COLUMNS})
    return buffer.getvalue()
