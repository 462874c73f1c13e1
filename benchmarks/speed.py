#!/usr/bin/env python3
"""Time ``truewheel inspect --json W`` against ``auditwheel show --json W``.

Each tool runs ``--repeat`` times per wheel (truewheel after ``--warmup`` untimed runs);
the report gives the medians, their ratio (auditwheel / truewheel) and truewheel's peak
RSS. auditwheel takes minutes on torch, so ``--peer-cache`` reuses the newest runs that
_peer.py stored in benchmarks/.cache/auditwheel-show/ (measuring only the missing ones);
without it auditwheel is measured afresh, and those runs are stored too.

Writes benchmarks/results/inspect-speed.md and benchmarks/results/inspect-speed.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import _peer
import _wheels as w
import harness as h

DEFAULT_WHEELS = ("torch==2.13.0", "python-flint==0.9.0", "scipy==1.17.0")


def time_truewheel(cmd: list[str], wheel: Path, args: argparse.Namespace) -> dict[str, Any]:
    def valid_json(i: int, m: h.Measurement, record: dict[str, Any]) -> None:
        record["valid_json"] = h.json_doc(m.stdout) is not None
        if not record["valid_json"]:
            record.setdefault("error", f"exit {m.returncode}, no JSON: {h.tail(m.stderr)}")

    # exit 1 only means "findings at or above --fail-on": the run itself succeeded
    step = h.Step(
        "truewheel", lambda i: [*cmd, "inspect", "--json", wheel], ok=(0, 1), inspect=valid_json
    )
    warm = h.warm_up(step, args.warmup, timeout=args.timeout)
    runs = h.bench([step], repeat=args.repeat, rss_method=args.rss_method, timeout=args.timeout)
    summary = h.summarize(runs["truewheel"])
    summary["errors"] += [f"warm-up: {x['error']}" for x in warm if "error" in x]
    return {**summary, "argv": [*cmd, "inspect", "--json", wheel.name], "warmup": args.warmup}


def time_auditwheel(wheel: Path, args: argparse.Namespace) -> dict[str, Any]:
    record = _peer.ensure_show(
        wheel,
        min_runs=args.repeat,
        fresh=not args.peer_cache,
        rss_method=args.rss_method,
        timeout=args.timeout,
    )
    runs = record["runs"][-args.repeat :]
    for run in runs:
        if run["returncode"] not in (0, 1):
            run["error"] = f"exit {run['returncode']}"
    return {
        **h.summarize(runs),
        "argv": ["auditwheel", "show", "--json", wheel.name],
        "source": "cache" if args.peer_cache else "live",
        "overall_tag": (record.get("result") or {}).get("overall_tag"),
    }


def _run_context(runs: list[dict[str, Any]]) -> str:
    """', measured FIRST .. LAST, 1-min load A-B' from stored run records."""
    stamps = sorted(r["measured_at"] for r in runs if r.get("measured_at"))
    text = ""
    if stamps:
        last = f" .. {stamps[-1]}" if stamps[-1] != stamps[0] else ""
        text += f", measured {stamps[0]}{last}"
    return text + h.load_range(runs, ", ")


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    version = f" ({meta['truewheel_version']})" if meta.get("truewheel_version") else ""
    lines = [
        *h.header("`truewheel inspect` vs `auditwheel show`: speed", "speed.py", meta),
        (
            f"Commands: `{meta['truewheel_cmd']} inspect --json WHEEL`{version} and "
            f"`auditwheel show --json WHEEL` (auditwheel {meta['auditwheel_version']}, "
            f"pyelftools {meta['peer_packages'].get('pyelftools', '?')})."
        ),
        (
            f"Each tool ran {meta['repeat']} time(s) per wheel as a subprocess, one at a time "
            f"(truewheel after {meta['warmup']} untimed warm-up run(s)); times are wall-clock "
            "medians in seconds. Ratio = median auditwheel / median truewheel. "
            f"Peak RSS is truewheel's, via {meta['rss_method']}."
        ),
        "auditwheel timings: "
        + (
            "reused from benchmarks/.cache (measured earlier on this machine by _peer.py)."
            if meta["peer_cache"]
            else "measured in this run."
        ),
        "",
        *h.table(
            "wheel | size (MB) | truewheel (s) | auditwheel (s) | ratio | truewheel peak RSS (MiB)",
            "lrrrrr",
            (
                [
                    h.md_cell(row["short"]),
                    h.fmt_mb(row["size_bytes"]),
                    h.fmt_s(row["truewheel"]["median_s"]),
                    h.fmt_s(row["auditwheel"]["median_s"]),
                    h.fmt_ratio(row["ratio"]),
                    h.fmt_mib(row["truewheel"]["peak_rss_kib"]),
                ]
                for row in report["wheels"]
            ),
        ),
    ]
    if report.get("median_ratio") is not None:
        lines += ["", f"Median of the per-wheel ratios: {report['median_ratio']:.1f}x."]
    lines += ["", "Individual runs (seconds):", ""]
    for row in report["wheels"]:
        tw, aw = row["truewheel"]["runs"], row["auditwheel"]["runs"]
        lines.append(
            f"- `{row['wheel']}`: truewheel {', '.join(h.fmt_s(r['elapsed_s']) for r in tw) or '—'}"
            f" (live{_run_context(tw)}); auditwheel "
            f"{', '.join(h.fmt_s(r['elapsed_s']) for r in aw) or '—'}"
            f" ({row['auditwheel']['source']}{_run_context(aw)})"
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
    parser = h.parser("Time truewheel inspect vs auditwheel show.")
    parser.add_argument(
        "--wheels",
        nargs="+",
        metavar="SPEC",
        default=list(DEFAULT_WHEELS),
        help="wheel paths or NAME[==VERSION] from .cache/wheels (default: %(default)s)",
    )
    h.add_repeat(parser)
    parser.add_argument(
        "--peer-cache",
        action="store_true",
        help="reuse auditwheel timings stored in benchmarks/.cache (measure only missing runs)",
    )
    parser.add_argument("--rss-method", choices=h.RSS_METHODS, default="auto")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per run (s)")
    h.add_outputs(parser, "inspect-speed")
    args = parser.parse_args(argv)

    cmd = h.truewheel_command(args.truewheel, "speed")
    wheels, missing = w.select_wheels(args.wheels)
    for spec in missing:
        print(f"speed: no cached wheel matches {spec!r} (run fetch.py?)", file=sys.stderr)
    if not wheels:
        return 1
    try:
        _peer.ensure_venv()
    except h.ToolError as exc:
        print(f"speed: {exc}", file=sys.stderr)
        return 1

    meta = h.meta(
        args.truewheel,
        cmd,
        auditwheel_version=_peer.AUDITWHEEL_VERSION,
        peer_packages=_peer.peer_packages(),
        repeat=args.repeat,
        warmup=args.warmup,
        peer_cache=args.peer_cache,
        rss_method=h.describe_rss_method(args.rss_method),
    )
    rows: list[dict[str, Any]] = []
    for wheel in wheels:
        print(wheel.name, flush=True)
        tw = time_truewheel(cmd, wheel, args)
        aw = time_auditwheel(wheel, args)
        rows.append(
            {
                "wheel": wheel.name,
                "short": w.short_name(wheel),
                "size_bytes": wheel.stat().st_size,
                "truewheel": tw,
                "auditwheel": aw,
                "ratio": h.ratio(aw["median_s"], tw["median_s"]),
            }
        )
        print(
            f"  truewheel {h.fmt_s(tw['median_s'])} s, auditwheel {h.fmt_s(aw['median_s'])} s "
            f"({aw['source']}), ratio {h.fmt_ratio(rows[-1]['ratio'])}",
            flush=True,
        )
    report = {
        "meta": meta,
        "wheels": rows,
        "median_ratio": h.median(r["ratio"] for r in rows if r["ratio"] is not None),
    }
    h.write_report(args.output_md, build_markdown(report), args.output_json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
