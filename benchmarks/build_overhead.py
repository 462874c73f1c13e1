#!/usr/bin/env python3
"""What does ``truewheel build --check`` cost compared with one plain ``pip wheel``?

Target: ``truewheel build --check`` (2 builds) costs at most 2.2x one
``pip wheel --no-deps --no-cache-dir`` of the same sdist, measured in the same run.

Per package, one at a time:

1. one untimed ``pip wheel`` (warm-up: page cache, compiler, pip itself);
2. **cold**: ``truewheel build --check`` with ``TRUEWHEEL_BUILD_ROOT`` pointing to
   a fresh, empty 0700 directory, so the build environment is created and its
   requirements installed by the first of the two builds;
3. ``--repeat`` (default 3) timed runs of each, interleaved (pip, tw / tw, pip /
   pip, tw, ...). The truewheel runs keep the build root of the cold run:
   reusing the build environment across builds is part of the design, so these
   are the **warm** numbers.

Ratios: warm = median(truewheel warm) / median(pip wheel); cold = the cold
truewheel run / median(pip wheel).

Caches: pip's caches are off on both sides. ``pip wheel`` gets
``--no-cache-dir`` (which disables pip's HTTP cache and its wheel cache), and
both commands run with ``PIP_NO_CACHE_DIR=1`` in the environment, so the pip
that truewheel runs to install build requirements uses no cache either.
Everything else in the environment (pip's find-links, index, ...) is the same
for both.

Writes benchmarks/results/build-overhead.md and .json.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
from pathlib import Path
from typing import Any

import _common as c
import _repair as r
import _sdist as s

DEFAULT_PACKAGES = ("PyYAML==6.0.2", "psutil==6.1.0", "regex==2024.11.6")
TARGET = 2.2
DEFAULT_MD = c.RESULTS_DIR / "build-overhead.md"
DEFAULT_JSON = c.RESULTS_DIR / "build-overhead.json"
WORK_DIR = c.CACHE_DIR / "overhead"


def _children_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def run_once(
    kind: str,
    argv: list[str],
    out_dir: Path,
    *,
    env: dict[str, str],
    timeout: float,
) -> dict[str, Any]:
    """One timed run into a fresh OUT dir (deleted afterwards): wall, CPU, exit, wheel."""
    r.fresh_dir(out_dir)
    load_before = c.loadavg()
    user0, sys0 = _children_cpu()
    m = c.run_measured(argv, rss_method="none", timeout=timeout, env=env, cwd=out_dir.parent)
    user1, sys1 = _children_cpu()
    wheels = c.list_wheels(out_dir)
    run: dict[str, Any] = {
        "kind": kind,
        "elapsed_s": round(m.wall_s, 3),
        "user_s": round(user1 - user0, 2),
        "sys_s": round(sys1 - sys0, 2),
        "returncode": m.returncode,
        "timed_out": m.timed_out,
        "loadavg_before": load_before,
        "measured_at": c.now_iso(),
        "wheel": wheels[0].name if len(wheels) == 1 else None,
        "elf_debug_info": s.elf_debug_info(wheels[0]) if len(wheels) == 1 else None,
    }
    if kind != "pip":
        parsed = s.parse_check(m.stdout)
        run["builds_s"] = [b["seconds"] for b in parsed.builds]
        run["verdict"] = parsed.verdict
    # truewheel --check exits 1 when the builds differ: the timing is still valid.
    allowed = (0,) if kind == "pip" else (0, 1)
    if m.timed_out:
        run["error"] = f"timed out after {timeout:.0f} s"
    elif m.returncode not in allowed or len(wheels) != 1:
        run["error"] = f"exit {m.returncode}, {len(wheels)} wheel(s): " + s.tail(
            m.stderr or m.stdout
        )
    shutil.rmtree(out_dir, ignore_errors=True)
    return run


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [x for x in runs if "error" not in x]
    return {
        "runs": runs,
        "median_s": c.median(x["elapsed_s"] for x in ok),
        "min_s": min((x["elapsed_s"] for x in ok), default=None),
        "median_cpu_s": c.median(x["user_s"] + x["sys_s"] for x in ok),
        "errors": [x["error"] for x in runs if "error" in x],
    }


def pip_version(python: Path) -> str:
    """``pip 26.3`` (the first words of ``pip --version``)."""
    text = c.tool_version([str(python), "-m", "pip"]) or "pip ?"
    return text.split(" from ")[0]


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def measure_package(
    spec: str,
    sdist: Path,
    cmd: list[str],
    python: Path,
    *,
    repeat: int,
    warmup: int,
    runs: int,
    timeout: float,
) -> dict[str, Any]:
    key = c.normalize_name(s.parse_spec(spec)[0])
    work = r.fresh_dir(WORK_DIR / key)
    root = s.private_dir(work / "root")
    pip_env = s.base_env(PIP_NO_CACHE_DIR="1")
    pip_env.pop("TRUEWHEEL_BUILD_ROOT", None)
    tw_env = s.base_env(PIP_NO_CACHE_DIR="1", TRUEWHEEL_BUILD_ROOT=str(root))
    pip_argv = s.pip_wheel_argv(python, sdist, work / "out")
    tw_argv = s.check_argv(cmd, sdist, work / "out", runs)

    def pip_run(label: str) -> dict[str, Any]:
        print(f"  {label} ...", end="", flush=True)
        run = run_once("pip", pip_argv, work / "out", env=pip_env, timeout=timeout)
        print(f" {run['elapsed_s']:.1f} s" + (f" ({run['error']})" if "error" in run else ""))
        return run

    def tw_run(label: str, kind: str) -> dict[str, Any]:
        print(f"  {label} ...", end="", flush=True)
        run = run_once(kind, tw_argv, work / "out", env=tw_env, timeout=timeout)
        builds = ", ".join(f"{x:.1f}" for x in run.get("builds_s", []))
        print(
            f" {run['elapsed_s']:.1f} s (builds {builds}; {run.get('verdict')})"
            + (f" ({run['error']})" if "error" in run else "")
        )
        return run

    warmups = [pip_run(f"pip wheel warm-up {i + 1}") for i in range(warmup)]
    cold = tw_run("truewheel --check, cold (fresh build root)", "cold")
    pip_runs: list[dict[str, Any]] = []
    tw_runs: list[dict[str, Any]] = []
    for i in range(repeat):
        order = ("pip", "tw") if i % 2 == 0 else ("tw", "pip")
        for which in order:
            if which == "pip":
                pip_runs.append(pip_run(f"pip wheel {i + 1}/{repeat}"))
            else:
                tw_runs.append(tw_run(f"truewheel --check {i + 1}/{repeat} (warm)", "warm"))
    pip = summarize(pip_runs)
    warm = summarize(tw_runs)
    cold_s = cold["elapsed_s"] if "error" not in cold else None
    debug = {
        "pip": next((x["elf_debug_info"] for x in pip_runs if x.get("elf_debug_info")), None),
        "truewheel": next(
            (x["elf_debug_info"] for x in [cold, *tw_runs] if x.get("elf_debug_info")), None
        ),
    }
    comparable = debug["pip"] == debug["truewheel"]
    return {
        "spec": spec,
        "sdist": sdist.name,
        "pip_argv": pip_argv,
        "truewheel_argv": tw_argv,
        "warmup_runs": warmups,
        "pip": pip,
        "truewheel_warm": warm,
        "truewheel_cold": cold,
        "ratio_warm": ratio(warm["median_s"], pip["median_s"]),
        "ratio_cold": ratio(cold_s, pip["median_s"]),
        "elf_debug_info": debug,
        "comparable": comparable,
    }


# --------------------------------------------------------------------------- report


def fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def verdict(value: float | None, comparable: bool = True) -> str:
    if value is None:
        return "—"
    text = "met" if value <= TARGET else "**not met**"
    return text if comparable else f"{text} (*not comparable*)"


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    mach = meta["machine"]
    lines = [
        "# `truewheel build --check` vs one `pip wheel`: overhead",
        "",
        f"Generated by `benchmarks/build_overhead.py` on {meta['generated_at']}.",
        (
            f"Machine: {mach['cpu']}, {mach['cpus']} CPUs, {mach['libc']}, "
            f"Python {mach['python']} ({meta['python']}, {meta['pip_version']}); "
            f"load average at start {mach['loadavg']}."
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
        "| package | pip wheel (s) | truewheel warm (s) | warm ratio | target | "
        "truewheel cold (s) | cold ratio | target | CPU pip / warm / cold (s) | debug info |",
        "|---|---:|---:|---:|---|---:|---:|---|---|---|",
    ]
    for row in report["packages"]:
        pip, warm, cold = row["pip"], row["truewheel_warm"], row["truewheel_cold"]
        cold_cpu = cold["user_s"] + cold["sys_s"] if "error" not in cold else None
        cpu = " / ".join(fmt_s(x) for x in (pip["median_cpu_s"], warm["median_cpu_s"], cold_cpu))
        lines.append(
            "| "
            + " | ".join(
                [
                    c.md_cell(row["spec"]),
                    fmt_s(pip["median_s"]),
                    fmt_s(warm["median_s"]),
                    fmt_ratio(row["ratio_warm"]),
                    verdict(row["ratio_warm"], row["comparable"]),
                    fmt_s(cold["elapsed_s"] if "error" not in cold else None),
                    fmt_ratio(row["ratio_cold"]),
                    verdict(row["ratio_cold"], row["comparable"]),
                    cpu,
                    " / ".join(s.fmt_debug(row["elf_debug_info"][k]) for k in ("pip", "truewheel")),
                ]
            )
            + " |"
        )
    lines += ["", "Individual runs (wall s; truewheel: total [its per-build times]):", ""]
    for row in report["packages"]:

        def tw_text(run: dict[str, Any]) -> str:
            builds = ", ".join(f"{x:.1f}" for x in run.get("builds_s", []))
            note = "" if run.get("verdict") == "reproducible" else f" {run.get('verdict')}"
            return f"{run['elapsed_s']:.1f} [{builds}]{note}"

        pip_text = ", ".join(f"{x['elapsed_s']:.1f}" for x in row["pip"]["runs"])
        warm_text = ", ".join(tw_text(x) for x in row["truewheel_warm"]["runs"])
        loads = [
            x["loadavg_before"][0]
            for x in [*row["pip"]["runs"], *row["truewheel_warm"]["runs"]]
            if x.get("loadavg_before")
        ]
        load_text = f"; 1-min load {min(loads):.2f}-{max(loads):.2f}" if loads else ""
        lines.append(
            f"- {row['spec']}: pip wheel {pip_text}; truewheel warm {warm_text}; "
            f"cold {tw_text(row['truewheel_cold'])}{load_text}"
        )
    problems = [
        f"- {row['spec']}: {err}"
        for row in report["packages"]
        for part in ("pip", "truewheel_warm")
        for err in row[part]["errors"]
    ] + [
        f"- {row['spec']}: cold: {row['truewheel_cold']['error']}"
        for row in report["packages"]
        if "error" in row["truewheel_cold"]
    ]
    problems += [
        f"- {row['spec']}: not comparable: ELF members with debug info differ "
        f"(pip {s.fmt_debug(row['elf_debug_info']['pip'])}, "
        f"truewheel {s.fmt_debug(row['elf_debug_info']['truewheel'])}), so the two "
        "compiled with different flags"
        for row in report["packages"]
        if not row["comparable"]
    ]
    if problems:
        lines += ["", "Problems:", "", *problems]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time truewheel build --check vs pip wheel.")
    parser.add_argument(
        "--truewheel",
        default=s.default_truewheel(),
        help="truewheel command (shell-split; default: %(default)s)",
    )
    parser.add_argument(
        "--python",
        type=Path,
        default=s.default_python(),
        help="interpreter whose pip runs `pip wheel` (default: %(default)s)",
    )
    parser.add_argument(
        "--packages",
        nargs="+",
        metavar="NAME==VERSION",
        default=list(DEFAULT_PACKAGES),
        help="sdists to time (default: %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per command (default 3)")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed pip wheel runs first (default 1)"
    )
    parser.add_argument("--check", type=int, default=2, help="builds per check (default 2)")
    parser.add_argument("--timeout", type=float, default=900.0, help="per run (s)")
    parser.add_argument("--output-md", type=Path, default=DEFAULT_MD)
    parser.add_argument("--output-json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0 or args.check < 2:
        parser.error("--repeat must be >= 1, --warmup >= 0 and --check >= 2")
    try:
        specs = [f"{n}=={v}" for n, v in (s.parse_spec(p) for p in args.packages)]
    except ValueError as exc:
        parser.error(str(exc))
    cmd = c.split_command(args.truewheel)
    if not c.command_available(cmd):
        print(f"build_overhead: truewheel command not found: {args.truewheel!r}", file=sys.stderr)
        return 2
    try:
        sdists = {spec: s.ensure_sdist(spec, args.python) for spec in specs}
    except s.SetupError as exc:
        print(f"build_overhead: {exc}", file=sys.stderr)
        return 1

    meta: dict[str, Any] = {
        "generated_at": c.now_iso(),
        "machine": c.machine_info(),
        "python": c.tool_version([str(args.python)]),
        "pip_version": pip_version(args.python),
        "truewheel_cmd": args.truewheel,
        "truewheel_version": c.tool_version(cmd),
        "revision": r.source_revision(),
        "check_runs": args.check,
        "repeat": args.repeat,
        "warmup": args.warmup,
        "timeout_s": args.timeout,
        "target": TARGET,
        "pip_cache": "off: --no-cache-dir for pip wheel; PIP_NO_CACHE_DIR=1 for both commands",
    }
    rows: list[dict[str, Any]] = []
    for spec in specs:
        print(spec, flush=True)
        row = measure_package(
            spec,
            sdists[spec],
            cmd,
            args.python,
            repeat=args.repeat,
            warmup=args.warmup,
            runs=args.check,
            timeout=args.timeout,
        )
        rows.append(row)
        print(
            f"  => warm ratio {fmt_ratio(row['ratio_warm'])}, "
            f"cold ratio {fmt_ratio(row['ratio_cold'])}"
            + ("" if row["comparable"] else " (not comparable: debug info differs)"),
            flush=True,
        )
        c.write_json(args.output_json, {"meta": meta, "packages": rows, "partial": True})
    report = {"meta": meta, "packages": rows}
    c.write_json(args.output_json, report)
    c.write_text(args.output_md, build_markdown(report))
    print(f"wrote {c.rel(args.output_md)} and {c.rel(args.output_json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
