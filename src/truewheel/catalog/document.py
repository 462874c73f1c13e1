"""The ``scan --json`` document's fields and the ``--csv`` rows (schema: schemas/scan.schema.json).

The envelope around the fields (schema id, version, tool, errors) is
:func:`truewheel.jsonreport.envelope`, shared by every command.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from truewheel.catalog.queries import Copy
from truewheel.errors import TruewheelError
from truewheel.jsonreport import envelope

if TYPE_CHECKING:
    from truewheel.commands.scan import ScanReport

__all__ = ["CSV_COLUMNS", "csv_rows", "scan_document"]

CSV_COLUMNS = (
    "section",
    "group",
    "project",
    "version",
    "unit",
    "path",
    "size",
    "sha256",
    "family",
    "library_version",
    "toolchain",
    "severity",
    "detail",
)


def _copy_json(c: Copy) -> dict[str, Any]:
    return asdict(c)


def scan_document(report: ScanReport, errors: list[TruewheelError]) -> dict[str, Any]:
    body = {
        "catalog": report.catalog,
        "run": asdict(report.run),
        "summary": {k: v for k, v in asdict(report.summary).items() if k != "families"},
        "duplicates": [
            {
                "sha256": g.sha256,
                "size": g.size,
                "family": g.family,
                "copies": [_copy_json(c) for c in g.copies],
                "projects": g.projects,
                "wasted_bytes": g.wasted_bytes,
                "wasted_compressed_bytes": g.wasted_compressed_bytes,
            }
            for g in report.duplicates
        ],
        "builds": [
            {
                "family": g.family,
                "name": g.name,
                "library": g.library,
                "library_version": g.library_version,
                "format": g.format,
                "architecture": g.architecture,
                "projects": g.projects,
                "builds": [
                    {"sha256": sha, "copies": [_copy_json(c) for c in copies]}
                    for sha, copies in g.builds
                ],
            }
            for g in report.builds
        ],
        "versions": [
            {
                "family": s.family,
                "name": s.name,
                "versions": [{"version": v, "projects": list(p)} for v, p in s.versions],
            }
            for s in report.versions
        ],
        "families": [{**asdict(t), "projects": list(t.projects)} for t in report.families],
        "environments": [
            {
                "site": site,
                "conflicts": [
                    {**asdict(c), "projects": list(c.projects), "files": list(c.files)}
                    for c in report.conflicts
                    if c.environment == site
                ],
            }
            for site in report.environments
        ],
        "failures": [asdict(f) for f in report.failures],
    }
    return envelope("scan", body, errors)


def csv_rows(report: ScanReport) -> list[dict[str, Any]]:
    """One row per copy, library version, family, conflict and failure."""
    rows: list[dict[str, Any]] = []

    def copy_row(section: str, group: str, c: Copy, family: str | None) -> dict[str, Any]:
        return {
            "section": section,
            "group": group,
            "project": c.project,
            "version": c.version,
            "unit": c.unit,
            "path": c.path,
            "size": c.size,
            "sha256": c.sha256,
            "family": family,
            "library_version": c.library_version,
            "toolchain": c.toolchain,
        }

    for g in report.duplicates:
        rows += [copy_row("duplicate", g.sha256, c, g.family) for c in g.copies]
    for b in report.builds:
        group = f"{b.library} {b.library_version}"
        rows += [copy_row("build", group, c, b.family) for _, cs in b.builds for c in cs]
    for s in report.versions:
        for version, projects in s.versions:
            rows += [
                {
                    "section": "version",
                    "group": s.family,
                    "project": p,
                    "family": s.family,
                    "library_version": version,
                }
                for p in projects
            ]
    for t in report.families:
        rows.append(
            {
                "section": "family",
                "group": t.family,
                "family": t.family,
                "size": t.total_bytes,
                "detail": f"{t.copies} copies, {t.builds} builds, {len(t.projects)} projects, "
                f"{t.unique_bytes} unique bytes",
            }
        )
    for c in report.conflicts:
        rows.append(
            {
                "section": "conflict",
                "group": c.code,
                "project": " ".join(c.projects),
                "unit": c.environment,
                "severity": c.severity,
                "detail": f"{c.message}; {c.consequence}",
            }
        )
    for f in report.failures:
        rows.append({"section": "failure", "unit": f.path, "severity": "error", "detail": f.error})
    return [{column: row.get(column, "") for column in CSV_COLUMNS} for row in rows]
