#!/usr/bin/env python3
"""Time ``truewheel inspect --json W`` against ``auditwheel show --json W``.

Both tools run as subprocesses, one at a time, timed by wall clock
(time.perf_counter around the whole process). Each tool runs N times per wheel
(--repeat, default 3) and the median is reported, with the ratio of the
medians (auditwheel / truewheel) and truewheel's peak RSS (from
``/usr/bin/time -f %M`` when installed, else ``os.wait4``'s rusage of that one
child).

auditwheel is slow (minutes on torch), so --peer-cache reuses the runs stored
in benchmarks/.cache/auditwheel-show/ by _peer.py (the newest N of them; any
missing ones are measured now and stored). Without --peer-cache auditwheel is
measured afresh, and those runs are stored too.

Writes benchmarks/results/inspect-speed.md and benchmarks/results/inspect-speed.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import _common as c
import _peer

DEFAULT_WHEELS = ("torch==2.13.0", "python-flint==0.9.0", "scipy==1.17.0")
DEFAULT_MD = c.RESULTS_DIR / "inspect-speed.md"
DEFAULT_JSON = c.RESULTS_DIR / "inspect-speed.json"


def time_truewheel(
    cmd: list[str], wheel: Path, *, repeat: int, warmup: int, rss_method: str, timeout: float
) -> dict[str, Any]:
    argv = [*cmd, "inspect", "--json", str(wheel)]
    runs: list[dict[str, Any]] = []
    errors: list[str] = []
    for i in range(warmup + repeat):
        load_before = c.loadavg()
        m = c.run_measured(argv, rss_method=rss_method, timeout=timeout)
        valid = False
        try:
            valid = isinstance(json.loads(m.stdout), dict)
        except ValueError:
            valid = False
        # exit 1 only means "findings at or above --fail-on": the run itself succeeded
        if m.returncode not in (0, 1) or not valid:
            last = (m.stderr.strip().splitlines() or ["no output"])[-1][:200]
            errors.append(f"exit {m.returncode}, valid JSON: {valid}: {last}")
        if i < warmup:
            continue
        runs.append(
            {
                "elapsed_s": round(m.wall_s, 4),
                "max_rss_kib": m.max_rss_kib,
                "returncode": m.returncode,
                "valid_json": valid,
                "timed_out": m.timed_out,
                "loadavg_before": load_before,
                "measured_at": c.now_iso(),
            }
        )
    times = [r["elapsed_s"] for r in runs]
    rss = [r["max_rss_kib"] for r in runs if r["max_rss_kib"] is not None]
    return {
        "argv": [*cmd, "inspect", "--json", wheel.name],
        "warmup": warmup,
        "runs": runs,
        "median_s": c.median(times),
        "min_s": min(times) if times else None,
        "peak_rss_kib": max(rss) if rss else None,
        "median_rss_kib": c.median(rss),
        "rss_method": c.resolve_rss_method(rss_method),
        "errors": errors,
    }


def time_auditwheel(
    wheel: Path, *, repeat: int, use_cache: bool, rss_method: str, timeout: float
) -> dict[str, Any]:
    if use_cache:
        record = _peer.ensure_show(wheel, min_runs=repeat, rss_method=rss_method, timeout=timeout)
        runs = record["runs"][-repeat:]
        source = "cache"
    else:
        record = _peer.load_cached(wheel) or _peer.new_record(wheel)
        runs = []
        for i in range(repeat):
            print(f"  auditwheel run {i + 1}/{repeat} ...", end="", flush=True)
            run, parsed, stderr = _peer.measure_show(wheel, rss_method=rss_method, timeout=timeout)
            _peer.append_run(record, run, parsed, stderr)
            c.write_json(_peer.cache_path(wheel), record)
            runs.append(run)
            print(f" {run['elapsed_s']:.2f} s", flush=True)
        source = "live"
    times = [r["elapsed_s"] for r in runs]
    rss = [r["max_rss_kib"] for r in runs if r.get("max_rss_kib") is not None]
    return {
        "argv": ["auditwheel", "show", "--json", wheel.name],
        "source": source,
        "runs": runs,
        "median_s": c.median(times),
        "min_s": min(times) if times else None,
        "peak_rss_kib": max(rss) if rss else None,
        "errors": [f"exit {r['returncode']}" for r in runs if r["returncode"] not in (0, 1)],
        "overall_tag": (record.get("result") or {}).get("overall_tag"),
    }


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def fmt_mb(size_bytes: int) -> str:
    mb = size_bytes / 1e6
    return f"{mb:.2f}" if mb < 1 else f"{mb:.1f}"


def fmt_mib(kib: int | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.0f}"


def _run_context(runs: list[dict[str, Any]]) -> str:
    """', measured FIRST..LAST, 1-min load A-B' from stored run records."""
    stamps = sorted(r["measured_at"] for r in runs if r.get("measured_at"))
    loads = [r["loadavg_before"][0] for r in runs if r.get("loadavg_before")]
    text = ""
    if stamps:
        last = f" .. {stamps[-1]}" if stamps[-1] != stamps[0] else ""
        text += f", measured {stamps[0]}{last}"
    if loads:
        text += f", 1-min load {min(loads):.2f}-{max(loads):.2f}"
    return text


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    mach = meta["machine"]
    lines = [
        "# `truewheel inspect` vs `auditwheel show`: speed",
        "",
        f"Generated by `benchmarks/speed.py` on {meta['generated_at']}.",
        (
            f"Machine: {mach['cpu']}, {mach['cpus']} CPUs, {mach['libc']}, "
            f"Python {mach['python']}; load average at start {mach['loadavg']}."
        ),
        (
            f"Commands: `{meta['truewheel_cmd']} inspect --json WHEEL`"
            + (f" ({meta['truewheel_version']})" if meta.get("truewheel_version") else "")
            + f" and `auditwheel show --json WHEEL` (auditwheel {meta['auditwheel_version']}, "
            f"pyelftools {meta['peer_packages'].get('pyelftools', '?')})."
        ),
        (
            f"Each tool ran {meta['repeat']} time(s) per wheel as a subprocess, one at a time "
            f"(truewheel after {meta['warmup']} untimed warm-up run(s)); times are wall-clock "
            "medians in seconds. Ratio = median auditwheel / median truewheel. "
            f"Peak RSS is truewheel's, via {meta['rss_method']}."
        ),
        (
            "auditwheel timings: "
            + (
                "reused from benchmarks/.cache (measured earlier on this machine by _peer.py)."
                if meta["peer_cache"]
                else "measured in this run."
            )
        ),
        "",
        "| wheel | size (MB) | truewheel (s) | auditwheel (s) | ratio | truewheel peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["wheels"]:
        tw = row["truewheel"]
        aw = row["auditwheel"]
        ratio = row["ratio"]
        lines.append(
            "| "
            + " | ".join(
                [
                    c.md_cell(row["short"]),
                    fmt_mb(row["size_bytes"]),
                    fmt_s(tw["median_s"]),
                    fmt_s(aw["median_s"]),
                    f"{ratio:.1f}x" if ratio is not None else "—",
                    fmt_mib(tw["peak_rss_kib"]),
                ]
            )
            + " |"
        )
    summary = report.get("median_ratio")
    if summary is not None:
        lines += ["", f"Median of the per-wheel ratios: {summary:.1f}x."]
    lines += ["", "Individual runs (seconds):", ""]
    for row in report["wheels"]:
        tw_runs = ", ".join(fmt_s(r["elapsed_s"]) for r in row["truewheel"]["runs"])
        aw_runs = ", ".join(fmt_s(r["elapsed_s"]) for r in row["auditwheel"]["runs"])
        lines.append(
            f"- `{row['wheel']}`: truewheel {tw_runs or '—'}"
            f" (live{_run_context(row['truewheel']['runs'])}); auditwheel {aw_runs or '—'}"
            f" ({row['auditwheel']['source']}{_run_context(row['auditwheel']['runs'])})"
        )
    problems = [
        f"- {row['short']}: {tool}: {err}"
        for row in report["wheels"]
        for tool in ("truewheel", "auditwheel")
        for err in row[tool]["errors"]
    ]
    if problems:
        lines += ["", "Problems:", "", *problems]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time truewheel inspect vs auditwheel show.")
    parser.add_argument(
        "--truewheel",
        default="truewheel",
        help="truewheel command (shell-split; default: %(default)s)",
    )
    parser.add_argument(
        "--wheels",
        nargs="+",
        metavar="SPEC",
        default=list(DEFAULT_WHEELS),
        help="wheel paths or NAME[==VERSION] from .cache/wheels (default: %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool (default 3)")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed truewheel runs first (default 1)"
    )
    parser.add_argument(
        "--peer-cache",
        action="store_true",
        help="reuse auditwheel timings stored in benchmarks/.cache (measure only missing runs)",
    )
    parser.add_argument("--rss-method", choices=["auto", "time", "wait4"], default="auto")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per run (s)")
    parser.add_argument("--output-md", type=Path, default=DEFAULT_MD)
    parser.add_argument("--output-json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")

    cmd = c.split_command(args.truewheel)
    if not c.command_available(cmd):
        print(f"speed: truewheel command not found: {args.truewheel!r}", file=sys.stderr)
        return 2
    wheels, missing = c.select_wheels(args.wheels)
    for spec in missing:
        print(f"speed: no cached wheel matches {spec!r} (run fetch.py?)", file=sys.stderr)
    if not wheels:
        return 1
    try:
        _peer.ensure_venv()
    except _peer.PeerError as exc:
        print(f"speed: {exc}", file=sys.stderr)
        return 1

    meta: dict[str, Any] = {
        "generated_at": c.now_iso(),
        "machine": c.machine_info(),
        "truewheel_cmd": args.truewheel,
        "truewheel_version": c.tool_version(cmd),
        "auditwheel_version": _peer.AUDITWHEEL_VERSION,
        "peer_packages": _peer.peer_packages(),
        "repeat": args.repeat,
        "warmup": args.warmup,
        "peer_cache": args.peer_cache,
        "rss_method": (
            "/usr/bin/time -f %M"
            if c.resolve_rss_method(args.rss_method) == "time"
            else "os.wait4 rusage"
        ),
    }
    rows: list[dict[str, Any]] = []
    for wheel in wheels:
        print(f"{wheel.name}", flush=True)
        tw = time_truewheel(
            cmd,
            wheel,
            repeat=args.repeat,
            warmup=args.warmup,
            rss_method=args.rss_method,
            timeout=args.timeout,
        )
        print(f"  truewheel median {fmt_s(tw['median_s'])} s", flush=True)
        aw = time_auditwheel(
            wheel,
            repeat=args.repeat,
            use_cache=args.peer_cache,
            rss_method=args.rss_method,
            timeout=args.timeout,
        )
        print(f"  auditwheel median {fmt_s(aw['median_s'])} s ({aw['source']})", flush=True)
        ratio = (
            aw["median_s"] / tw["median_s"]
            if aw["median_s"] is not None and tw["median_s"]
            else None
        )
        parsed = c.parse_wheel_filename(wheel.name)
        rows.append(
            {
                "wheel": wheel.name,
                "short": f"{parsed.distribution} {parsed.version}" if parsed else wheel.name,
                "size_bytes": wheel.stat().st_size,
                "truewheel": tw,
                "auditwheel": aw,
                "ratio": ratio,
            }
        )
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    report = {"meta": meta, "wheels": rows, "median_ratio": c.median(ratios)}
    c.write_json(args.output_json, report)
    c.write_text(args.output_md, build_markdown(report))
    for row in rows:
        ratio = row["ratio"]
        print(
            f"{row['short']}: truewheel {fmt_s(row['truewheel']['median_s'])} s, "
            f"auditwheel {fmt_s(row['auditwheel']['median_s'])} s, "
            + (f"ratio {ratio:.1f}x" if ratio is not None else "ratio n/a")
        )
    print(f"wrote {c.rel(args.output_md)} and {c.rel(args.output_json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
