"""The human ``scan`` report: Markdown, so a maintainer can paste it into an issue.

Names in it come from wheels and environments; every line is escaped as it is
joined (:func:`~truewheel.cli._text.printable`), so none can break the table or
the terminal.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from truewheel.catalog.queries import Copy
from truewheel.cli._text import printable
from truewheel.commands.scan import ScanReport

__all__ = ["render_text"]

_PLATFORM = {"elf": "ELF", "macho": "Mach-O", "pe": "PE"}


def size(n: int | None) -> str:
    if n is None:
        return "—"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(c).replace("|", "\\|") for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _who(copies: Iterable[Copy], limit: int = 4) -> str:
    names = sorted({f"{c.project} {c.version}" for c in copies})
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _toolchain(comment: str | None) -> str:
    """``GCC: (GNU) 14.2.1 20250110 (Red Hat 14.2.1-11)`` -> ``GCC 14.2.1 (Red Hat)``."""
    if not comment:
        return "toolchain unknown"
    if comment.startswith("GCC: ("):
        vendor, _, rest = comment[len("GCC: (") :].partition(") ")
        version = rest.split()[0] if rest else ""
        vendor = "Red Hat" if "Red Hat" in comment else vendor
        return f"GCC {version} ({vendor})"
    return comment[:40]


def _shown(total: int, top: int, what: str) -> str:
    return f"{what} (top {top} of {total})" if total > top else what


def render_text(report: ScanReport, *, top: int = 10) -> str:
    s, run = report.summary, report.run
    units = []
    if s.wheels:
        units.append(f"{s.wheels:,} wheel{'' if s.wheels == 1 else 's'}")
    if s.installed:
        units.append(f"{s.installed:,} installed distribution{'' if s.installed == 1 else 's'}")
    out = [
        f"## truewheel scan: {' and '.join(units) or 'nothing'} "
        f"({s.with_native:,} with native code, {s.projects:,} project"
        f"{'' if s.projects == 1 else 's'})",
        "",
        f"- Native files: {s.native_files:,}, {size(s.native_bytes)} unpacked, "
        f"{size(s.unique_native_bytes)} of them unique",
        f"- Byte-identical copies: {s.duplicate_groups:,} groups; {size(s.wasted_bytes)} "
        f"wasted unpacked, {size(s.wasted_compressed_bytes)} compressed",
        f"- This run: {run.scanned:,} scanned, {run.skipped:,} unchanged "
        f"(from the catalog), {run.failed:,} failed, in {run.seconds:.1f} s "
        f"({run.executor})",
    ]
    if report.conflicts:
        worst = sum(c.severity == "error" for c in report.conflicts)
        out.append(f"- Environment conflicts: {len(report.conflicts)} ({worst} errors)")
    for site in report.environments:
        conflicts = [c for c in report.conflicts if c.environment == site]
        out += ["", f"### Conflicts in `{site}`", ""]
        if not conflicts:
            out.append("None found.")
            continue
        out += _table(
            ("severity", "problem", "consequence"),
            ((c.severity, c.message, c.consequence) for c in conflicts),
        )
    if report.duplicates:
        out += ["", "### " + _shown(len(report.duplicates), top, "Byte-identical native files"), ""]
        out += _table(
            ("file", "library", "size", "copies", "wasted", "in"),
            (
                (
                    f"`{posixpath.basename(g.copies[0].path)}`",
                    g.family or "",
                    size(g.size),
                    len(g.copies),
                    size(g.wasted_bytes),
                    _who(g.copies),
                )
                for g in report.duplicates[:top]
            ),
        )
    if report.builds:
        out += ["", "### " + _shown(len(report.builds), top, "Same library, different builds"), ""]
        rows = []
        for b in report.builds[:top]:
            shown = [
                f"{_who(copies, 3)} [{_toolchain(copies[0].toolchain)}]" for _, copies in b.builds
            ]
            more = f"; and {len(shown) - 4} more builds" if len(shown) > 4 else ""
            rows.append(
                (
                    f"{b.name}: `{b.library}`",
                    b.library_version,
                    f"{_PLATFORM[b.format]} {b.architecture}",
                    len(b.builds),
                    "; ".join(shown[:4]) + more,
                )
            )
        out += _table(("library", "version", "platform", "builds", "where [toolchain]"), rows)
    if report.versions:
        out += ["", "### " + _shown(len(report.versions), top, "Same library, different versions")]
        out.append("")
        out += _table(
            ("library", "versions", "where"),
            (
                (
                    v.name,
                    len(v.versions),
                    "; ".join(f"{ver}: {', '.join(p[:4])}" for ver, p in v.versions),
                )
                for v in report.versions[:top]
            ),
        )
    if report.families:
        out += ["", "### " + _shown(len(report.families), top, "Library families by bytes"), ""]
        out += _table(
            ("library", "copies", "builds", "projects", "total", "unique"),
            (
                (
                    f.name,
                    f.copies,
                    f.builds,
                    len(f.projects),
                    size(f.total_bytes),
                    size(f.unique_bytes),
                )
                for f in report.families[:top]
            ),
        )
    if report.failures:
        out += ["", f"### Failed inputs ({len(report.failures)})", ""]
        out += [f"- {f.error}" for f in report.failures]
    return "".join(printable(line) + "\n" for line in out)
