"""Human output for ``inspect``: summary and findings first, so it fits one screen.

Every string from the wheel reaches rich as a :func:`~truewheel.cli._text.cell`
(escaped, never parsed as markup); lists in one cell are cut to a few items
unless ``--verbose``, so a file with thousands of DT_NEEDED entries stays one
short row.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from truewheel.analysis.report import Finding, WheelReport
from truewheel.cli import working_on
from truewheel.cli._text import cell, listing, stacked

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_MAX_PER_CODE = 5
_MAX_FINDINGS = 24
_MAX_IN_CELL = 12


def make_console(file: TextIO) -> Console:
    """A terminal gets its own width and colours; a pipe or file gets plain text, 120
    columns unless ``COLUMNS`` says otherwise."""
    if file.isatty():
        return Console(file=file)
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and 40 <= int(columns) <= 1000 else 120
    return Console(file=file, width=width, no_color=True, highlight=False)


def render_reports(
    reports: list[WheelReport], console: Console, *, show_files: bool, verbose: bool
) -> None:
    limit = None if verbose else _MAX_IN_CELL
    for report in reports:
        with working_on(report.path):
            _render_summary(console, report, limit)
            _render_findings(console, report.findings, verbose)
            if show_files:
                _render_files(console, report, limit)
            console.print()


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _render_summary(console: Console, r: WheelReport, limit: int | None) -> None:
    console.print(cell(r.filename, style="bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    p = r.platform
    ip = r.image_platform
    if ip is not None:
        grid.add_row("tags claimed", cell(".".join(ip.filename_platforms)))
        allows = ip.computed_tag or f"no {ip.system} tag ({', '.join(ip.architectures)})"
        if ip.minimum:
            allows += f"  (needs macOS {ip.minimum}: {listing(ip.minimum_files, limit)})"
        grid.add_row("content allows", cell(allows))
        if ip.external_libraries:
            grid.add_row("needs from system", cell(listing(ip.external_libraries, limit)))
    elif p is not None:
        grid.add_row("tags claimed", cell(".".join(p.filename_platforms)))
        why = "; ".join(f"{req.value}" for req, _ in p.computed.constraints[:3])
        allows = p.computed.tag + (f"  (limited by {why})" if why else "")
        grid.add_row("content allows", cell(allows))
        if p.repairable.tag != p.computed.tag:
            # Only this wheel's own files: the libraries a repair grafts can need a newer
            # glibc, which only the repair itself, reading them on the host, can tell.
            grid.add_row("own files allow", cell(f"{p.repairable.tag}  (before grafting)"))
        if p.external_libraries:
            grid.add_row("needs from system", cell(listing(p.external_libraries, limit)))
    else:
        grid.add_row("tags claimed", cell(".".join(r.wheel_info.tags)))
        if not r.images:
            grid.add_row("native code", "none")
    share = r.vendored_bytes / r.native_bytes if r.native_bytes else 0.0
    grid.add_row(
        "members",
        f"{_count(r.member_count, 'file')}, {_size(r.total_bytes)} "
        f"({_size(r.compressed_bytes)} compressed)",
    )
    if r.native_files or r.images:
        kinds = Counter(["ELF"] * len(r.native_files) + [_FORMAT[f.format] for f in r.images])
        files = ", ".join(_count(n, f"{kind} file") for kind, n in sorted(kinds.items()))
        grid.add_row(
            "native",
            f"{files}, {_size(r.native_bytes)}; "
            f"vendored third-party: {_size(r.vendored_bytes)} ({share:.0%})",
        )
    console.print(grid)


def _count(n: int, noun: str) -> str:
    """``1 PE file``, ``6 PE files``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _merge_same_message(findings: list[Finding]) -> list[tuple[Finding, int]]:
    """One row per (code, message): 69 test binaries with the same bad RUNPATH read as one."""
    merged: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        merged[(f.code, f.message)].append(f)
    return [(group[0], len(group) - 1) for group in merged.values()]


def _render_findings(console: Console, findings: list[Finding], verbose: bool) -> None:
    if not findings:
        console.print(Text("no findings", style="green"))
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("severity")
    table.add_column("finding")
    table.add_column("file", overflow="fold")
    table.add_column("explanation", overflow="fold")
    rows = [(f, 0) for f in findings] if verbose else _merge_same_message(findings)
    per_code: dict[str, int] = defaultdict(int)
    hidden: dict[str, int] = defaultdict(int)
    shown = 0
    for f, others in rows:
        if not verbose and (per_code[f.code] >= _MAX_PER_CODE or shown >= _MAX_FINDINGS):
            hidden[f.code] += 1 + others
            continue
        per_code[f.code] += 1
        shown += 1
        where = (f.file or "") + (f" (+{others} more)" if others else "")
        severity = cell(f.severity, style=_STYLE.get(f.severity, ""))
        table.add_row(severity, cell(f.code), cell(where), cell(f.message))
    console.print(table)
    if hidden:
        counts = ", ".join(f"{n} {code}" for code, n in sorted(hidden.items()))
        console.print(cell(f"not shown: {counts} (use --verbose or --json)", style="dim"))


_FORMAT = {"macho": "Mach-O", "pe": "PE"}


def _render_files(console: Console, r: WheelReport, limit: int | None) -> None:
    if r.images:
        _render_images(console, r, limit)
    if not r.native_files:
        return
    table = Table(title="native files", show_header=True, header_style="bold")
    for column in ("file", "size", "type", "needs", "max symbol versions", "identity", "toolchain"):
        table.add_column(column, overflow="fold")
    for f in r.native_files:
        needs = stacked([f"{d.name} [{d.status}]" for d in f.dependencies], limit)
        versions = listing([f"{ns}_{v}" for ns, v in f.max_versions.items()], limit)
        ident = ""
        if f.identity:
            ident = f.identity.name + (f" {f.identity.version}" if f.identity.version else "")
        kind = f.elf.type + (" (PIE)" if f.elf.is_pie else "")
        table.add_row(
            cell(f.path),
            cell(_size(f.size)),
            cell(kind),
            needs,
            cell(versions),
            cell(ident),
            cell(f.toolchain or ""),
        )
    console.print(table)


def _render_images(console: Console, r: WheelReport, limit: int | None) -> None:
    table = Table(title="Mach-O and PE files", show_header=True, header_style="bold")
    for column in ("file", "size", "format", "architectures", "needs", "identity"):
        table.add_column(column, overflow="fold")
    for f in r.images:
        needs = stacked([f"{d.name} [{d.status}]" for d in f.dependencies], limit)
        ident = ""
        if f.identity:
            ident = f.identity.name + (f" {f.identity.version}" if f.identity.version else "")
        archs = ", ".join(f.architectures)
        if f.macho is not None:
            minimums = {b.minos for s in f.macho.slices for b in s.build_versions}
            archs += f" (macOS {', '.join(sorted(minimums))})" if minimums else ""
        table.add_row(
            cell(f.path),
            cell(_size(f.size)),
            cell(_FORMAT[f.format]),
            cell(archs),
            needs,
            cell(ident),
        )
    console.print(table)
