#!/usr/bin/env python3
"""Time `truewheel unvendor` of gmpy2 + python-flint against the same done by hand.

Both sides turn gmpy2 2.3.2 and python-flint 0.9.0 (manylinux x86_64), which each vendor
GMP 6.3.0 and MPFR 4.2.2, into four wheels: a libgmp and a libmpfr library wheel and the
two consumers requiring and preloading them. truewheel does it in one command
(``truewheel unvendor GMPY2 FLINT --lib 'libgmp*' --lib 'libmpfr*' -w OUT``); by hand it
is ``_unvendor_byhand.py`` (patchelf, ``wheel pack`` and ``auditwheel repair --exclude``;
see its docstring), timed as one process. Rounds are interleaved (the order reversed every
other round) and reported as medians with the ratio; then each side's four wheels are
installed with ``pip install --no-index`` into a fresh venv, where gmpy2 and python-flint
must agree on 3**200, ``python -m flint.test`` must pass and one libgmp must be mapped.
Wheel bytes, compressed and unpacked, before (the two inputs) and after (each side).

The wheels come from benchmarks/.cache/unvendor/ (linked from ``--local-dir`` or fetched
with ``pip download --only-binary :all: --no-deps``); auditwheel 6.8.2 from its pinned
venv, ``wheel`` from benchmarks/.cache/venv-wheel; both sides get the same patchelf first
on PATH. Writes benchmarks/results/unvendor-speed.md and .json.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _peer
import _repair as r
import _wheels as w
import fetch
import harness as h

WORK = h.CACHE_DIR / "unvendor"
INPUTS = (w.Requirement("gmpy2", "2.3.2", 0), w.Requirement("python-flint", "0.9.0", 0))
WHEEL_VERSION = "0.48.0"
BY_HAND = h.BENCH_DIR / "_unvendor_byhand.py"
TRUEWHEEL, PEER = "truewheel unvendor", "by hand (patchelf + wheel pack + auditwheel --exclude)"
OUT = {TRUEWHEEL: WORK / "out-truewheel", PEER: WORK / "out-by-hand"}
CHECK = """
import gmpy2, flint, json, os
assert gmpy2.mpz(3) ** 200 == int(flint.fmpz(3) ** 200)
paths = {line.split()[-1] for line in open("/proc/self/maps") if line.count(" ") >= 5}
count = lambda stem: sorted(p for p in paths if os.path.basename(p).startswith(stem))
print(json.dumps({"libgmp": count("libgmp"), "libmpfr": count("libmpfr")}))
"""


def input_wheels(local_dirs: list[Path]) -> list[Path]:
    """The two input wheels in WORK (linked from a local dir or downloaded); ToolError."""
    found = []
    for req in INPUTS:
        got = fetch.fetch_one(req, WORK, local_dirs, offline=False, retries=2, timeout=30)
        if got.path is None:
            raise h.ToolError(f"{req}: {got.status} ({got.detail})")
        parsed = w.parse_wheel_filename(got.path.name)
        if parsed is None or not ("manylinux" in parsed.platform and "x86_64" in parsed.platform):
            raise h.ToolError(f"{h.rel(got.path)} is not a manylinux x86_64 wheel")
        found.append(got.path)
    return found


def wheel_bytes(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
    return {"wheel": wheel.name, "compressed": wheel.stat().st_size, "unpacked": unpacked}


def redeflated(outputs: list[Path], inputs: list[Path]) -> dict[str, int]:
    """Members of ``outputs`` byte-identical to an input member (same CRC and size): how
    many, how many of them were deflated anew (another compressed size), and their
    compressed bytes in the outputs and in the inputs."""
    before: dict[tuple[int, int], int] = {}
    for wheel in inputs:
        with zipfile.ZipFile(wheel) as archive:
            before.update({(i.CRC, i.file_size): i.compress_size for i in archive.infolist()})
    seen = {"members": 0, "redeflated": 0, "compressed_out": 0, "compressed_in": 0}
    for wheel in outputs:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                was = before.get((info.CRC, info.file_size))
                if info.file_size and was is not None:
                    seen["members"] += 1
                    seen["redeflated"] += was != info.compress_size
                    seen["compressed_out"] += info.compress_size
                    seen["compressed_in"] += was
    return seen


def verify(wheels: list[Path], venv: Path) -> dict[str, Any]:
    """Install ``wheels`` into a fresh venv without an index; the check's result there."""
    if venv.exists():
        shutil.rmtree(venv)
    steps: list[list[str | Path]] = [
        [h.project_python(), "-m", "venv", venv],
        [venv / "bin/python", "-m", "pip", "install", "-q", "--no-index", *wheels],
    ]
    for argv in steps:
        m = h.run(argv, timeout=600)
        if m.returncode != 0:
            return {"ok": False, "error": f"{argv[2]}: {h.tail(m.stderr or m.stdout)}"}
    check = h.run([venv / "bin/python", "-c", CHECK], timeout=120)
    maps = h.json_doc(check.stdout) if check.returncode == 0 else None
    tests = h.run([venv / "bin/python", "-m", "flint.test"], timeout=600)
    result: dict[str, Any] = {
        "equal_3_pow_200": maps is not None,
        "libgmp_mapped": [_short(p) for p in maps["libgmp"]] if maps else None,
        "libmpfr_mapped": [_short(p) for p in maps["libmpfr"]] if maps else None,
        "flint_test": "passed" if tests.returncode == 0 else f"exit {tests.returncode}",
    }
    if maps is None:
        result["error"] = h.tail(check.stderr or check.stdout)
    result["ok"] = bool(
        maps and len(maps["libgmp"]) == 1 and len(maps["libmpfr"]) == 1 and tests.returncode == 0
    )
    return result


def steps(cmd: list[str], gmpy2: Path, flint: Path, tools: r.Tools, wheel_py: Path) -> list[h.Step]:
    def outputs(i: int, m: h.Measurement, record: dict[str, Any], out: Path) -> None:
        record["outputs"] = sorted(p.name for p in out.glob("*.whl"))
        doc = h.json_doc(m.stdout.strip().splitlines()[-1] if m.stdout.strip() else "")
        if doc is not None:
            record["tool_seconds"] = doc["tool_seconds"]
        if "error" not in record and len(record["outputs"]) != 4:
            record["error"] = f"{len(record['outputs'])} wheels written, expected 4"

    tw_out, hand_out = OUT[TRUEWHEEL], OUT[PEER]
    libs = ["--lib", "libgmp*", "--lib", "libmpfr*"]
    hand: list[str | Path] = [wheel_py, BY_HAND, "--gmpy2", gmpy2, "--flint", flint]
    hand += ["--auditwheel", tools.auditwheel[0], "-w", hand_out, "--work", WORK / "by-hand-work"]
    return [
        h.Step(
            TRUEWHEEL,
            lambda i: [*cmd, "unvendor", gmpy2, flint, *libs, "-w", tw_out],
            env=tools.env,
            prepare=lambda i: h.fresh_dir(tw_out),
            inspect=lambda i, m, rec: outputs(i, m, rec, tw_out),
        ),
        h.Step(
            PEER,
            lambda i: hand,
            env=tools.env,
            prepare=lambda i: h.fresh_dir(hand_out),
            inspect=lambda i, m, rec: outputs(i, m, rec, hand_out),
        ),
    ]


def markdown(report: dict[str, Any]) -> str:
    meta, sides = report["meta"], report["sides"]
    timing = [
        [name, h.fmt_s(s["median_s"], 2), h.fmt_s(s["min_s"], 2), h.fmt_s(s["median_cpu_s"], 2)]
        for name, s in sides.items()
    ]
    before = report["inputs"]
    size_rows = [["before", b["wheel"], b["compressed"], b["unpacked"]] for b in before]
    size_rows.append(["before", "**total (2 wheels)**", *total(before)])
    for name, s in sides.items():
        size_rows += [[name, b["wheel"], b["compressed"], b["unpacked"]] for b in s["bytes"]]
        size_rows.append([name, "**total (4 wheels)**", *total(s["bytes"])])
    checks = [
        [
            name,
            "yes" if s["verify"].get("equal_3_pow_200") else "no",
            len(s["verify"].get("libgmp_mapped") or []),
            len(s["verify"].get("libmpfr_mapped") or []),
            s["verify"].get("flint_test", "—"),
            "**ok**" if s["verify"]["ok"] else f"FAILED {s['verify'].get('error', '')}",
        ]
        for name, s in sides.items()
    ]
    lines = [
        *h.header(
            "`truewheel unvendor` vs by hand with auditwheel `--exclude`: "
            "gmpy2 2.3.2 + python-flint 0.9.0",
            "unvendor_speed.py",
            meta,
        ),
        f"Tools: auditwheel {meta['auditwheel_version']}, {meta['patchelf']}, "
        f"wheel {WHEEL_VERSION}. Medians of {meta['rounds']} rounds after "
        f"{meta['warmup']} warm-up run(s) each, one side at a time, interleaved (order "
        f"reversed every other round){h.load_range(sides[TRUEWHEEL]['runs'])}. CPU = user + "
        "sys of the whole process tree.",
        "",
        f"truewheel: `{report['commands']['truewheel']}`",
        "",
        f"By hand: `{report['commands']['by_hand']}` (the steps: `_unvendor_byhand.py`'s "
        "docstring).",
        "",
        *h.table("side | median (s) | min (s) | median CPU (s)", "lrrr", timing),
        "",
        f"Ratio (by hand / truewheel): {h.fmt_ratio(report['ratio'])}",
        "",
        "Of the by-hand run, median seconds in each tool: "
        + ", ".join(f"{tool} {h.fmt_s(s, 2)}" for tool, s in report["by_hand_tools"].items())
        + "; the rest is Python (unzip, writing files).",
        "",
        "## Wheel bytes",
        "",
        *h.table("side | wheel | compressed (B) | unpacked (B)", "llrr", size_rows),
        "",
        "Totals against the two inputs: "
        + "; ".join(
            f"{name}: {delta(total(s['bytes'])[0], total(before)[0])} compressed, "
            f"{delta(total(s['bytes'])[1], total(before)[1])} unpacked"
            for name, s in sides.items()
        )
        + ".",
        "",
        "Members of the outputs byte-identical to a member of the inputs (unchanged files): "
        + "; ".join(
            f"{name}: {s['identical']['members']}, of which {s['identical']['redeflated']} "
            f"deflated anew, {s['identical']['compressed_out']:,} B compressed vs "
            f"{s['identical']['compressed_in']:,} B in the inputs"
            for name, s in sides.items()
        )
        + ".",
        "",
        "## Do the outputs work?",
        "",
        "Each side's four wheels installed with `pip install --no-index` into a fresh venv: "
        "`gmpy2.mpz(3)**200 == int(flint.fmpz(3)**200)`, distinct libgmp/libmpfr files in "
        "`/proc/self/maps` after importing both, and `python -m flint.test`.",
        "",
        *h.table(
            "side | 3**200 equal | libgmp mapped | libmpfr mapped | flint.test | verdict",
            "llrrll",
            checks,
        ),
    ]
    problems = [f"- {name}: {err}" for name, s in sides.items() for err in s["errors"]]
    if problems:
        lines += ["", "Problems:", "", *problems]
    return "\n".join(lines) + "\n"


def shown(argv: Sequence[str | Path]) -> str:
    """A command line for the report, paths relative to the repository where they can be."""
    return " ".join(shlex.quote(_short(a)) for a in argv)


def _short(arg: str | Path) -> str:
    """A path inside the repository relative to it (symlinks such as a venv's python kept)."""
    path = Path(arg)
    if path.is_absolute() and path.is_relative_to(h.REPO_DIR):
        return str(path.relative_to(h.REPO_DIR))
    return str(arg)


def delta(after: int, before: int) -> str:
    return f"{after - before:+,} B ({(after - before) / before:+.1%})"


def total(rows: list[dict[str, Any]]) -> list[int]:
    return [sum(b["compressed"] for b in rows), sum(b["unpacked"] for b in rows)]


def main(argv: list[str] | None = None) -> int:
    parser = h.parser((__doc__ or "").splitlines()[0], truewheel=h.project_truewheel())
    parser.add_argument(
        "--rounds",
        "--repeat",
        dest="repeat",
        type=h.positive(1),
        default=5,
        help="timed runs of each side (default 5)",
    )
    parser.add_argument(
        "--warmup", type=h.positive(0), default=1, help="untimed runs first (default 1)"
    )
    parser.add_argument(
        "--local-dir",
        type=Path,
        action="append",
        default=[w.WHEEL_DIR, *fetch.DEFAULT_LOCAL_DIRS],
        help="look for the input wheels here before downloading (repeatable)",
    )
    h.add_outputs(parser, "unvendor-speed")
    args: argparse.Namespace = parser.parse_args(argv)
    try:
        tools = r.setup_tools(args.truewheel, "unvendor_speed")
        wheel_py = h.tool_venv(h.CACHE_DIR / "venv-wheel", "wheel", WHEEL_VERSION).parent / "python"
        gmpy2, flint = input_wheels(args.local_dir)
    except h.ToolError as exc:
        print(f"unvendor_speed: {exc}", file=sys.stderr)
        return 1
    bench_steps = steps(tools.truewheel, gmpy2, flint, tools, wheel_py)
    for step in bench_steps:
        h.warm_up(step, args.warmup)
    runs = h.bench(bench_steps, repeat=args.repeat, alternate=True)
    inputs = [gmpy2, flint]
    sides: dict[str, Any] = {}
    for step in bench_steps:
        wheels = sorted(OUT[step.name].glob("*.whl"))
        sides[step.name] = {
            **h.summarize(runs[step.name]),
            "bytes": [wheel_bytes(p) for p in wheels],
            "identical": redeflated(wheels, inputs),
            "verify": verify(wheels, OUT[step.name].with_name(f"venv-{OUT[step.name].name}")),
        }
    commands = {
        "truewheel": shown(bench_steps[0].argv(0)),
        "by_hand": shown(bench_steps[1].argv(0)),
    }
    meta = h.meta(
        args.truewheel,
        tools.truewheel,
        rounds=args.repeat,
        warmup=args.warmup,
        auditwheel_version=_peer.AUDITWHEEL_VERSION,
        patchelf=tools.patchelf,
        wheel_version=WHEEL_VERSION,
        inputs=[p.name for p in inputs],
    )
    peer_runs = [x for x in sides[PEER]["runs"] if "error" not in x and "tool_seconds" in x]
    labels = sorted({label for x in peer_runs for label in x["tool_seconds"]})
    by_hand_tools = {
        label: h.median(x["tool_seconds"].get(label, 0.0) for x in peer_runs) for label in labels
    }
    ratio = h.ratio(sides[PEER]["median_s"], sides[TRUEWHEEL]["median_s"])
    report = {
        "meta": meta,
        "commands": commands,
        "inputs": [wheel_bytes(p) for p in inputs],
        "sides": sides,
        "ratio": ratio,
        "by_hand_tools": by_hand_tools,
    }
    h.write_report(args.output_md, markdown(report), args.output_json, report)
    return 0 if all(s["verify"]["ok"] and not s["errors"] for s in sides.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
