"""Human output for ``inspect``: summary and findings first, so it fits one screen."""

from __future__ import annotations

from collections import defaultdict
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from truewheel.analysis.report import Finding, WheelReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_MAX_PER_CODE = 5
_MAX_FINDINGS = 24


def make_console(file: TextIO) -> Console:
    """A terminal gets its own width and colours; a pipe or file gets 120 plain columns."""
    if file.isatty():
        return Console(file=file)
    return Console(file=file, width=120, no_color=True, highlight=False)


def render_reports(
    reports: list[WheelReport], console: Console, *, show_files: bool, verbose: bool
) -> None:
    for report in reports:
        _render_summary(console, report)
        _render_findings(console, report.findings, verbose)
        if show_files:
            _render_files(console, report)
        console.print()


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _render_summary(console: Console, r: WheelReport) -> None:
    console.print(Text(r.filename, style="bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    p = r.platform
    if p is not None:
        grid.add_row("tags claimed", ".".join(p.filename_platforms))
        why = "; ".join(f"{req.value}" for req, _ in p.computed.constraints[:3])
        grid.add_row("content allows", p.computed.tag + (f"  (limited by {why})" if why else ""))
        if p.repairable.tag != p.computed.tag:
            grid.add_row("after repair", p.repairable.tag)
        if p.external_libraries:
            grid.add_row("needs from system", ", ".join(p.external_libraries))
    else:
        grid.add_row("tags claimed", ".".join(r.wheel_info.tags))
        grid.add_row("native code", "none")
    share = r.vendored_bytes / r.native_bytes if r.native_bytes else 0.0
    grid.add_row("members", f"{r.member_count} files, {_size(r.total_bytes)} ({_size(r.compressed_bytes)} compressed)")
    if r.native_files:
        grid.add_row(
            "native",
            f"{len(r.native_files)} ELF files, {_size(r.native_bytes)}; "
            f"vendored third-party: {_size(r.vendored_bytes)} ({share:.0%})",
        )
    console.print(grid)


def _render_findings(console: Console, findings: list[Finding], verbose: bool) -> None:
    if not findings:
        console.print(Text("no findings", style="green"))
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("severity")
    table.add_column("finding")
    table.add_column("file", overflow="fold")
    table.add_column("explanation", overflow="fold")
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_code[f.code].append(f)
    shown = 0
    hidden = 0
    for f in findings:
        group = by_code[f.code]
        index = group.index(f)
        if not verbose and (index >= _MAX_PER_CODE or shown >= _MAX_FINDINGS):
            hidden += 1
            continue
        table.add_row(Text(f.severity, style=_STYLE[f.severity]), f.code, f.file or "", f.message)
        shown += 1
        if not verbose and index == _MAX_PER_CODE - 1 and len(group) > _MAX_PER_CODE:
            table.add_row("", "", "", Text(f"... {len(group) - _MAX_PER_CODE} more {f.code}", style="dim"))
    console.print(table)
    if hidden:
        console.print(Text(f"{hidden} more findings hidden; use --verbose or --json", style="dim"))


def _render_files(console: Console, r: WheelReport) -> None:
    table = Table(title="native files", show_header=True, header_style="bold")
    for column in ("file", "size", "type", "needs", "max symbol versions", "identity", "toolchain"):
        table.add_column(column, overflow="fold")
    for f in r.native_files:
        needs = ", ".join(f"{d.name}[{d.status}]" for d in f.dependencies)
        versions = ", ".join(f"{ns}_{v}" for ns, v in f.max_versions.items())
        ident = ""
        if f.identity:
            ident = f.identity.name + (f" {f.identity.version}" if f.identity.version else "")
        kind = f.elf.type + (" (PIE)" if f.elf.is_pie else "")
        table.add_row(f.path, _size(f.size), kind, needs, versions, ident, f.toolchain or "")
    console.print(table)
