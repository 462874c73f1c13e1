#!/usr/bin/env python3
"""Time `truewheel inspect --json` of torch's macOS arm64 and win_amd64 wheels against the peer.

The peer is what delocate and delvewheel do to read a wheel, scripted
(``_foreign_peer.py``, in its own venv: unpack, then macholib on every Mach-O file and
pefile with ``fast_load`` plus the import directories on every PE file). truewheel's
inspect does more (every member hashed and checked against RECORD, build paths, library
versions, dependency resolution, findings), the peer less: the ratio is of the whole
answer each gives. Both read the same wheel in the same run, interleaved, one at a time;
medians, and peak RSS (wait4). The wheels come from ``foreign_wheels.py`` (run it first).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _foreign_peer as peer
import foreign_wheels as fw
import harness as h

WHEELS = (fw.Entry("torch", "2.13.0", fw.MAC_ARM), fw.Entry("torch", "2.13.0", fw.WIN64))
TRUEWHEEL, PEER = "truewheel inspect --json", "peer (unpack + macholib/pefile)"


def _fixed(argv: list[str | Path]) -> Callable[[int], list[str | Path]]:
    return lambda i: argv


def main(argv: list[str] | None = None) -> int:
    parser = h.parser((__doc__ or "").splitlines()[0])
    h.add_repeat(parser, warmup=None)
    h.add_outputs(parser, "foreign-speed")
    args = parser.parse_args(argv)
    cmd = h.truewheel_command(args.truewheel, "foreign_speed")
    python = peer.ensure_venv()
    results: dict[str, Any] = {}
    rows = []
    for entry in WHEELS:
        wheel = fw.wheel_path(entry)
        if wheel is None:
            print(
                f"{entry.spec} {entry.platform}: not cached; run foreign_wheels.py", file=sys.stderr
            )
            return 2
        inspect_argv: list[str | Path] = [*cmd, "inspect", "--json", wheel]
        peer_argv: list[str | Path] = [python, peer.__file__, wheel]
        steps = [
            h.Step(TRUEWHEEL, _fixed(inspect_argv), ok=(0, 1)),
            h.Step(PEER, _fixed(peer_argv)),
        ]
        print(wheel.name)
        runs = h.bench(steps, repeat=args.repeat, alternate=True, rss_method="wait4")
        tools = {name: h.summarize(r) for name, r in runs.items()}
        ratio = h.ratio(tools[PEER]["median_s"], tools[TRUEWHEEL]["median_s"])
        results[wheel.name] = {"tools": tools, "ratio": ratio}
        for name, t in tools.items():
            rss = t["peak_rss_kib"]
            rows.append(
                [
                    wheel.name if name == TRUEWHEEL else "",
                    name,
                    h.fmt_s(t["median_s"], 2),
                    f"{rss / 1024:.0f}" if rss else "?",
                    h.fmt_ratio(ratio) if name == TRUEWHEEL else "",
                ]
            )
    meta = h.meta(args.truewheel, cmd, repeat=args.repeat)
    lines = [
        *h.header(
            "`truewheel inspect` of macOS and Windows torch wheels vs the peer",
            "foreign_speed.py",
            meta,
        ),
        f"Medians of {args.repeat} runs, interleaved (order reversed every other round).",
        "",
        *h.table("wheel | tool | median (s) | peak RSS (MiB) | peer / truewheel", "llrrr", rows),
    ]
    problems = [
        f"- {wheel}: {name}: {err}"
        for wheel, r in results.items()
        for name, t in r["tools"].items()
        for err in t["errors"]
    ]
    if problems:
        lines += ["", "Problems:", "", *problems]
    h.write_report(
        args.output_md, "\n".join(lines) + "\n", args.output_json, {"meta": meta, "wheels": results}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
