#!/usr/bin/env python3
"""Time `truewheel diff` against diffoscope on two `pip wheel` builds of PyYAML 6.0.2.

Both tools compare the same pair in the same run; reported: median seconds, lines of text
output, and the first line that names the build path (`/tmp/pip-req-build-`), the root
cause. The pair comes from `build_acceptance.py`'s seed step (benchmarks/.cache/acceptance/
seed/pip-1 and pip-2); diffoscope 332 is installed into benchmarks/.cache/venv-diffoscope.
"""

from __future__ import annotations

import sys
from typing import Any

import harness as h

SEED = h.CACHE_DIR / "acceptance" / "seed"
CAUSE = "/tmp/pip-req-build-"


def first_cause_line(text: str) -> int | None:
    return next((i for i, line in enumerate(text.splitlines(), 1) if CAUSE in line), None)


def output_facts(i: int, m: h.Measurement, record: dict[str, Any]) -> None:
    record["output_lines"] = len(m.stdout.splitlines())
    record["cause_at_line"] = first_cause_line(m.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = h.parser((__doc__ or "").splitlines()[0])
    h.add_repeat(parser, warmup=None)
    h.add_outputs(parser, "diff-speed")
    args = parser.parse_args(argv)
    cmd = h.truewheel_command(args.truewheel, "diff_speed")
    a, b = (next((SEED / d).glob("*.whl"), None) for d in ("pip-1", "pip-2"))
    if a is None or b is None:
        print("no seed pair: run benchmarks/build_acceptance.py first", file=sys.stderr)
        return 2
    try:
        diffoscope = h.tool_venv(h.CACHE_DIR / "venv-diffoscope", "diffoscope", "332")
    except h.ToolError as exc:
        print(f"diff_speed: {exc}", file=sys.stderr)
        return 1
    steps = [
        h.Step("truewheel diff", lambda i: [*cmd, "diff", a, b], ok=(0, 1), inspect=output_facts),
        h.Step(
            "diffoscope 332",
            lambda i: [diffoscope, "--text", "-", a, b],
            ok=(0, 1),
            inspect=output_facts,
        ),
    ]
    runs = h.bench(steps, repeat=args.repeat, rss_method="wait4")
    tools = {name: h.summarize(tool_runs) for name, tool_runs in runs.items()}
    meta = h.meta(args.truewheel, cmd, repeat=args.repeat, pair=[a.name, b.name])
    ratio = h.ratio(tools["diffoscope 332"]["median_s"], tools["truewheel diff"]["median_s"])
    last = {name: t["runs"][-1] for name, t in tools.items()}
    rows = [
        [name, h.fmt_s(t["median_s"], 2), last[name]["output_lines"], last[name]["cause_at_line"]]
        for name, t in tools.items()
    ]
    lines = [
        *h.header(
            "`truewheel diff` vs diffoscope: two `pip wheel` builds of PyYAML 6.0.2",
            "diff_speed.py",
            meta,
        ),
        f"Medians of {args.repeat} runs, one tool at a time, interleaved. "
        "Cause = first output line naming `/tmp/pip-req-build-`.",
        "",
        *h.table("tool | median (s) | output lines | cause at line", "lrrr", rows),
        "",
        f"Ratio (diffoscope / truewheel): {h.fmt_ratio(ratio)}",
    ]
    problems = [f"- {name}: {err}" for name, t in tools.items() for err in t["errors"]]
    if problems:
        lines += ["", "Problems:", "", *problems]
    report = {"meta": meta, "tools": tools, "ratio": ratio}
    h.write_report(args.output_md, "\n".join(lines) + "\n", args.output_json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
