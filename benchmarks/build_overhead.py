#!/usr/bin/env python3
"""What does ``truewheel build --check`` cost compared with one plain ``pip wheel``?

Target: ``truewheel build --check`` (2 builds) costs at most 2.2x one
``pip wheel --no-deps --no-cache-dir`` of the same sdist, measured in the same run.
Per package: untimed ``pip wheel`` warm-ups, one **cold** check into a fresh build
root, then ``--repeat`` interleaved runs of each, the truewheel ones **warm** (they
reuse the cold run's build environment, by design). pip's caches are off on both
sides (``--no-cache-dir`` and ``PIP_NO_CACHE_DIR=1``). The method in full is in
benchmarks/README.md and in the report. Writes benchmarks/results/build-overhead.md and .json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import _sdist as s
import _wheels as w
import harness as h

DEFAULT_PACKAGES = ("PyYAML==6.0.2", "psutil==6.1.0", "regex==2024.11.6")
TARGET = 2.2
WORK_DIR = h.CACHE_DIR / "overhead"


def build_step(name: str, argv: list[str], out: Path, env: dict[str, str], check: bool) -> h.Step:
    """One build into a fresh OUT dir (deleted afterwards): wall, CPU, exit, wheel, debug info."""

    def inspect(i: int, m: h.Measurement, record: dict[str, Any]) -> None:
        wheels = w.list_wheels(out)
        record["wheel"] = wheels[0].name if len(wheels) == 1 else None
        record["elf_debug_info"] = s.elf_debug_info(wheels[0]) if len(wheels) == 1 else None
        if check:
            parsed = s.parse_check(m.stdout)
            record["builds_s"] = [b["seconds"] for b in parsed.builds]
            record["verdict"] = parsed.verdict
        if len(wheels) != 1:
            record.setdefault("error", f"{len(wheels)} wheel(s): {h.tail(m.stderr, 3)}")
        shutil.rmtree(out, ignore_errors=True)

    # truewheel --check exits 1 when the builds differ: the timing is still valid.
    ok = (0, 1) if check else (0,)
    return h.Step(
        name,
        lambda i: argv,
        ok=ok,
        env=env,
        cwd=out.parent,
        prepare=lambda i: h.fresh_dir(out),
        inspect=inspect,
    )


def measure_package(
    spec: str, sdist: Path, cmd: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    key = w.normalize_name(s.parse_spec(spec)[0])
    work = h.fresh_dir(WORK_DIR / key)
    root = h.fresh_dir(work / "root", private=True)
    pip_env = s.base_env(PIP_NO_CACHE_DIR="1")
    pip_env.pop("TRUEWHEEL_BUILD_ROOT", None)
    tw_env = s.base_env(PIP_NO_CACHE_DIR="1", TRUEWHEEL_BUILD_ROOT=str(root))
    pip_argv = s.pip_wheel_argv(args.python, sdist, work / "out")
    tw_argv = s.check_argv(cmd, sdist, work / "out", args.check)
    pip = build_step("pip wheel", pip_argv, work / "out", pip_env, check=False)
    tw = build_step("truewheel --check", tw_argv, work / "out", tw_env, check=True)

    warmups = h.warm_up(pip, args.warmup, timeout=args.timeout)
    cold = tw.run_printed(-1, "truewheel --check, cold (fresh build root)", timeout=args.timeout)
    runs = h.bench([pip, tw], repeat=args.repeat, alternate=True, timeout=args.timeout)
    pip_sum, warm = h.summarize(runs[pip.name]), h.summarize(runs[tw.name])
    cold_s = cold["elapsed_s"] if "error" not in cold else None
    debug = {
        "pip": next((x["elf_debug_info"] for x in runs[pip.name] if x.get("elf_debug_info")), None),
        "truewheel": next(
            (x["elf_debug_info"] for x in [cold, *runs[tw.name]] if x.get("elf_debug_info")), None
        ),
    }
    return {
        "spec": spec,
        "sdist": sdist.name,
        "pip_argv": pip_argv,
        "truewheel_argv": tw_argv,
        "warmup_runs": warmups,
        "pip": pip_sum,
        "truewheel_warm": warm,
        "truewheel_cold": cold,
        "ratio_warm": h.ratio(warm["median_s"], pip_sum["median_s"]),
        "ratio_cold": h.ratio(cold_s, pip_sum["median_s"]),
        "elf_debug_info": debug,
        "comparable": debug["pip"] == debug["truewheel"],
    }


# --------------------------------------------------------------------------- report


def verdict(value: float | None, comparable: bool = True) -> str:
    if value is None:
        return "—"
    text = "met" if value <= TARGET else "**not met**"
    return text if comparable else f"{text} (*not comparable*)"


def _row(row: dict[str, Any]) -> list[str]:
    pip, warm, cold = row["pip"], row["truewheel_warm"], row["truewheel_cold"]
    cold_ok = "error" not in cold
    cpu = [
        pip["median_cpu_s"],
        warm["median_cpu_s"],
        cold["user_s"] + cold["sys_s"] if cold_ok else None,
    ]
    return [
        h.md_cell(row["spec"]),
        h.fmt_s(pip["median_s"], 1),
        h.fmt_s(warm["median_s"], 1),
        h.fmt_ratio(row["ratio_warm"], 2),
        verdict(row["ratio_warm"], row["comparable"]),
        h.fmt_s(cold["elapsed_s"] if cold_ok else None, 1),
        h.fmt_ratio(row["ratio_cold"], 2),
        verdict(row["ratio_cold"], row["comparable"]),
        " / ".join(h.fmt_s(x, 1) for x in cpu),
        " / ".join(s.fmt_debug(row["elf_debug_info"][k]) for k in ("pip", "truewheel")),
    ]


def _runs_line(row: dict[str, Any]) -> str:
    def tw_text(run: dict[str, Any]) -> str:
        builds = ", ".join(f"{x:.1f}" for x in run.get("builds_s", []))
        note = "" if run.get("verdict") == "reproducible" else f" {run.get('verdict')}"
        return f"{run['elapsed_s']:.1f} [{builds}]{note}"

    pip_runs, warm_runs = row["pip"]["runs"], row["truewheel_warm"]["runs"]
    pip_text = ", ".join(f"{x['elapsed_s']:.1f}" for x in pip_runs)
    return (
        f"- {row['spec']}: pip wheel {pip_text}; "
        f"truewheel warm {', '.join(tw_text(x) for x in warm_runs)}; "
        f"cold {tw_text(row['truewheel_cold'])}{h.load_range([*pip_runs, *warm_runs])}"
    )


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    rows = report["packages"]
    python = f"{meta['python']}, {meta['pip_version']}"
    lines = [
        *h.header(
            "`truewheel build --check` vs one `pip wheel`: overhead",
            "build_overhead.py",
            meta,
            python,
        ),
        (
            f"truewheel: `{meta['truewheel_cmd']}` ({meta['truewheel_version'] or '?'}, "
            f"commit {meta['revision'] or '?'})."
        ),
        "",
        (
            f"**Target:** `truewheel build --check {meta['check_runs']}` costs at most "
            f"{TARGET}x one `pip wheel --no-deps --no-cache-dir` of the same sdist."
        ),
        "",
        (
            f"Per package: {meta['warmup']} untimed `pip wheel` warm-up run(s), then one "
            "**cold** `truewheel build --check` whose `TRUEWHEEL_BUILD_ROOT` is a fresh empty "
            f"directory, then {meta['repeat']} timed runs of each command, interleaved "
            "(pip, truewheel / truewheel, pip / ...), one at a time. The **warm** truewheel "
            "runs keep the cold run's build root, so they reuse its build environment "
            "(by design). Wall-clock times (`time.perf_counter` around the whole process), "
            "medians in seconds; CPU = user + system time of the process tree. "
            "Warm ratio = median truewheel / median pip; cold ratio = the cold run / median pip."
        ),
        "",
        (
            "pip caches: off on both sides. `pip wheel` runs with `--no-cache-dir`, and both "
            "commands run with `PIP_NO_CACHE_DIR=1`, so the pip that truewheel uses to install "
            "build requirements (cold run) uses no HTTP or wheel cache either; each `pip wheel` "
            "sets up its isolated build environment from scratch every time."
        ),
        "",
        (
            "Debug info = ELF members with DWARF / ELF members in the wheel, pip / truewheel. "
            "Both should be compiled with the interpreter's default flags (which include "
            "`-g -O3`); when the two differ, the builds did not do the same work and the "
            "ratio is marked *not comparable*."
        ),
        "",
        *h.table(
            "package | pip wheel (s) | truewheel warm (s) | warm ratio | target | "
            "truewheel cold (s) | cold ratio | target | CPU pip / warm / cold (s) | debug info",
            "lrrrlrrlll",
            map(_row, rows),
        ),
        "",
        "Individual runs (wall s; truewheel: total [its per-build times]):",
        "",
        *map(_runs_line, rows),
    ]
    problems = [
        f"- {row['spec']}: {err}"
        for row in rows
        for part in ("pip", "truewheel_warm")
        for err in row[part]["errors"]
    ]
    problems += [
        f"- {row['spec']}: cold: {row['truewheel_cold']['error']}"
        for row in rows
        if "error" in row["truewheel_cold"]
    ]
    problems += [
        f"- {row['spec']}: not comparable: ELF members with debug info differ "
        f"(pip {s.fmt_debug(row['elf_debug_info']['pip'])}, "
        f"truewheel {s.fmt_debug(row['elf_debug_info']['truewheel'])}), so the two "
        "compiled with different flags"
        for row in rows
        if not row["comparable"]
    ]
    if problems:
        lines += ["", "Problems:", "", *problems]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = h.parser("Time truewheel build --check vs pip wheel.", truewheel=h.project_truewheel())
    s.add_arguments(parser, DEFAULT_PACKAGES, "runs `pip wheel`")
    h.add_repeat(parser, what="pip wheel")
    parser.add_argument("--timeout", type=float, default=900.0, help="per run (s)")
    h.add_outputs(parser, "build-overhead")
    args = parser.parse_args(argv)
    cmd = h.truewheel_command(args.truewheel, "build_overhead")
    try:
        sdists = {spec: s.ensure_sdist(spec, args.python) for spec in args.packages}
    except h.ToolError as exc:
        print(f"build_overhead: {exc}", file=sys.stderr)
        return 1

    meta = h.meta(
        args.truewheel,
        cmd,
        python=h.tool_version([str(args.python)]),
        pip_version=(h.tool_version([str(args.python), "-m", "pip"]) or "pip ?").split(" from ")[0],
        check_runs=args.check,
        repeat=args.repeat,
        warmup=args.warmup,
        timeout_s=args.timeout,
        target=TARGET,
        pip_cache="off: --no-cache-dir for pip wheel; PIP_NO_CACHE_DIR=1 for both commands",
    )
    rows: list[dict[str, Any]] = []
    for spec, sdist in sdists.items():
        print(spec, flush=True)
        row = measure_package(spec, sdist, cmd, args)
        rows.append(row)
        print(
            f"  => warm ratio {h.fmt_ratio(row['ratio_warm'], 2)}, "
            f"cold ratio {h.fmt_ratio(row['ratio_cold'], 2)}"
            + ("" if row["comparable"] else " (not comparable: debug info differs)"),
            flush=True,
        )
        h.write_json(args.output_json, {"meta": meta, "packages": rows, "partial": True})
    report = {"meta": meta, "packages": rows}
    h.write_report(args.output_md, build_markdown(report), args.output_json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
