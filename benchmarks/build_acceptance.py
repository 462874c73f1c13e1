#!/usr/bin/env python3
"""Does ``truewheel build --check`` give bit-for-bit identical wheels for real sdists?

For each pinned sdist (downloaded once into benchmarks/.cache/sdists/ with
``pip download --no-binary :all: --no-deps``) the script runs
``truewheel build --check N -w OUT SDIST`` once, one package at a time, with a
per-package timeout, and records the build backend (``backend`` of the
``.buildinfo.json`` written next to the wheel), the verdict, the wall time of
the whole check, and, when the builds differ, the first line under ``causes:``
of the ``truewheel diff`` report, verbatim (the error tail when the check
failed).

The seed case: plain ``pip wheel --no-deps --no-cache-dir`` of PyYAML 6.0.2's
sdist, twice, each into a fresh directory; the two wheels are compared by
sha256 and by ``truewheel diff``.

Writes benchmarks/results/build-acceptance.md and .json; the whole output of
every command goes to benchmarks/results/raw/build-acceptance/ (git-ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import _common as c
import _repair as r
import _sdist as s

DEFAULT_PACKAGES = (
    "PyYAML==6.0.2",
    "MarkupSafe==3.0.2",
    "msgpack==1.1.0",
    "ujson==5.10.0",
    "simplejson==3.19.3",
    "psutil==6.1.0",
    "wrapt==1.17.0",
    "bitarray==3.0.0",
    "setproctitle==1.3.4",
    "mmh3==5.0.1",
    "xxhash==3.5.0",
    "regex==2024.11.6",
)
SEED_PACKAGE = "PyYAML==6.0.2"
DEFAULT_MD = c.RESULTS_DIR / "build-acceptance.md"
DEFAULT_JSON = c.RESULTS_DIR / "build-acceptance.json"
RAW_DIR = c.RAW_RESULTS_DIR / "build-acceptance"
WORK_DIR = c.CACHE_DIR / "acceptance"
DEFAULT_ROOT = c.CACHE_DIR / "build-root"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_raw(name: str, m: c.Measurement) -> Path:
    path = RAW_DIR / name
    c.write_text(
        path,
        f"$ {' '.join(m.argv)}\n# exit {m.returncode}, {m.wall_s:.1f} s"
        + (", timed out" if m.timed_out else "")
        + f"\n--- stdout\n{m.stdout}\n--- stderr\n{m.stderr}",
    )
    return path


# --------------------------------------------------------------------------- one package


def check_package(
    spec: str,
    sdist: Path,
    cmd: list[str],
    *,
    runs: int,
    timeout: float,
    env: dict[str, str],
) -> dict[str, Any]:
    key = c.normalize_name(s.parse_spec(spec)[0])
    work = r.fresh_dir(WORK_DIR / key)
    out = work / "out"
    argv = s.check_argv(cmd, sdist, out, runs)
    load_before = c.loadavg()
    m = c.run_measured(argv, rss_method="none", timeout=timeout, env=env, cwd=work)
    raw = save_raw(f"{key}.log", m)
    parsed = s.parse_check(m.stdout)
    info = s.read_buildinfo(out) if out.is_dir() else None
    row: dict[str, Any] = {
        "spec": spec,
        "sdist": sdist.name,
        "sdist_sha256": sha256_file(sdist),
        "argv": argv,
        "returncode": m.returncode,
        "timed_out": m.timed_out,
        "elapsed_s": round(m.wall_s, 2),
        "loadavg_before": load_before,
        "measured_at": c.now_iso(),
        "builds": parsed.builds,
        "backend": info.get("backend") if info else None,
        "wheel": (info.get("wheel") or {}).get("name") if info else None,
        "wheel_sha256": (info.get("wheel") or {}).get("sha256") if info else None,
        "build_requirements": info.get("build_requirements") if info else None,
        "raw_log": c.rel(raw),
    }
    kept = c.list_wheels(out)
    row["elf_debug_info"] = s.elf_debug_info(kept[0]) if len(kept) == 1 else None
    if m.timed_out:
        row["reproducible"] = None
        row["detail"] = f"timed out after {timeout:.0f} s; " + s.tail(m.stderr or m.stdout)
    elif m.returncode == 0 and parsed.verdict == "reproducible":
        row["reproducible"] = True
        row["detail"] = ""
    elif m.returncode == 1 and parsed.verdict == "not reproducible":
        row["reproducible"] = False
        row["first_cause"] = parsed.first_cause
        row["detail"] = (
            parsed.first_cause
            if parsed.first_cause is not None
            else "(no causes: line) " + s.report_summary(parsed.report)
        )
        row["diff_report"] = parsed.report
    else:
        row["reproducible"] = None
        row["detail"] = f"exit {m.returncode}: " + s.tail(m.stderr or m.stdout)
    return row


# --------------------------------------------------------------------------- seed case


def pip_wheel_once(
    python: Path, sdist: Path, out: Path, *, timeout: float, env: dict[str, str], label: str
) -> dict[str, Any]:
    r.fresh_dir(out)
    m = c.run_measured(
        s.pip_wheel_argv(python, sdist, out),
        rss_method="none",
        timeout=timeout,
        env=env,
        cwd=out.parent,
    )
    raw = save_raw(label, m)
    wheels = c.list_wheels(out)
    run: dict[str, Any] = {
        "returncode": m.returncode,
        "elapsed_s": round(m.wall_s, 2),
        "raw_log": c.rel(raw),
        "wheel": str(wheels[0]) if len(wheels) == 1 else None,
        "sha256": sha256_file(wheels[0]) if len(wheels) == 1 else None,
        "elf_debug_info": s.elf_debug_info(wheels[0]) if len(wheels) == 1 else None,
    }
    if m.timed_out or m.returncode != 0 or len(wheels) != 1:
        run["error"] = (
            f"timed out after {timeout:.0f} s"
            if m.timed_out
            else f"exit {m.returncode}, {len(wheels)} wheel(s): " + s.tail(m.stderr or m.stdout)
        )
    return run


def seed_case(
    python: Path, cmd: list[str], sdist: Path, *, timeout: float, env: dict[str, str]
) -> dict[str, Any]:
    """Two plain ``pip wheel`` builds of the same sdist, compared with ``truewheel diff``."""
    work = r.fresh_dir(WORK_DIR / "seed")
    runs = [
        pip_wheel_once(
            python, sdist, work / f"pip-{i}", timeout=timeout, env=env, label=f"seed-pip-{i}.log"
        )
        for i in (1, 2)
    ]
    result: dict[str, Any] = {"sdist": sdist.name, "pip": runs}
    if any("error" in run for run in runs):
        result["error"] = "; ".join(run["error"] for run in runs if "error" in run)
        return result
    result["identical"] = runs[0]["sha256"] == runs[1]["sha256"]
    m = c.run_measured(
        [*cmd, "diff", runs[0]["wheel"], runs[1]["wheel"]], rss_method="none", timeout=300
    )
    save_raw("seed-diff.log", m)
    report = m.stdout.splitlines()
    result["diff_returncode"] = m.returncode
    result["diff_report"] = report
    result["first_cause"] = s.first_cause(report)
    result["summary"] = s.report_summary(report)
    if m.returncode not in (0, 1):
        result["error"] = f"truewheel diff exit {m.returncode}: " + s.tail(m.stderr)
    return result


# --------------------------------------------------------------------------- report


def fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def verdict(row: dict[str, Any]) -> str:
    if row["reproducible"] is True:
        return "yes"
    if row["reproducible"] is False:
        return "**no**"
    return "build failed" if not row["timed_out"] else "timed out"


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    mach = meta["machine"]
    rows = report["packages"]
    ok = sum(1 for row in rows if row["reproducible"] is True)
    lines = [
        "# `truewheel build --check`: acceptance on real sdists",
        "",
        f"Generated by `benchmarks/build_acceptance.py` on {meta['generated_at']}.",
        (
            f"Machine: {mach['cpu']}, {mach['cpus']} CPUs, {mach['libc']}, "
            f"Python {mach['python']} ({meta['python']}); "
            f"load average at start {mach['loadavg']}."
        ),
        (
            f"truewheel: `{meta['truewheel_cmd']}` ({meta['truewheel_version'] or '?'}, "
            f"commit {meta['revision'] or '?'}); build root `{meta['build_root']}`."
        ),
        (
            f"Each package: one `truewheel build --check {meta['check_runs']} -w OUT SDIST` "
            f"(timeout {meta['timeout_s']:.0f} s), packages one after another. "
            "Time = wall clock of the whole check (all builds and the comparison); "
            "the per-build times are truewheel's own. The builds of one package "
            "share the build root: the first build creates the build environment when "
            "the root does not already hold one with the same requirements, "
            "later builds reuse it. Debug info = ELF members of the wheel that carry "
            "DWARF (`.debug_info`) / ELF members: the interpreter's default flags include "
            "`-g`, so `0/N` means the extensions were compiled without them."
        ),
    ]
    loads = [row["loadavg_before"][0] for row in rows if row.get("loadavg_before")]
    if loads:
        lines.append(
            f"1-minute load average before each package: {min(loads):.2f}-{max(loads):.2f} "
            "(one build at a time adds about 1)."
        )
    lines += [
        "",
        f"**{ok} of {len(rows)} reproducible.**",
        "",
        "| package | backend | reproducible | time (s) | builds (s) | debug info "
        "| first cause / error |",
        "|---|---|---|---:|---|---|---|",
    ]
    for row in rows:
        builds = ", ".join(f"{b['seconds']:.1f}" for b in row["builds"]) or "—"
        detail = f"`{c.md_cell(row['detail'])}`" if row["detail"] else ""
        lines.append(
            "| "
            + " | ".join(
                [
                    c.md_cell(row["spec"]),
                    f"`{row['backend']}`" if row["backend"] else "—",
                    verdict(row),
                    fmt_s(row["elapsed_s"]),
                    builds,
                    s.fmt_debug(row.get("elf_debug_info")),
                    detail,
                ]
            )
            + " |"
        )
    seed = report.get("seed")
    if seed is not None:
        lines += ["", "## Seed case: plain `pip wheel`, twice", ""]
        lines.append(
            f"`pip wheel --no-deps --no-cache-dir -w DIR {seed['sdist']}` ran twice "
            "(each into a fresh directory, same environment), then "
            "`truewheel diff` compared the two wheels."
        )
        lines.append("")
        for i, run in enumerate(seed["pip"], start=1):
            wheel = Path(run["wheel"]).name if run.get("wheel") else "—"
            digest = (run.get("sha256") or "")[:16] or "—"
            lines.append(
                f"- pip wheel #{i}: {fmt_s(run['elapsed_s'])} s, `{wheel}`, sha256 {digest}, "
                f"ELF members with debug info {s.fmt_debug(run.get('elf_debug_info'))}"
                + (f" — error: {run['error']}" if "error" in run else "")
            )
        if "identical" in seed:
            lines += [
                "",
                f"**The two wheels are {'identical' if seed['identical'] else 'different'}.**",
            ]
        if seed.get("first_cause"):
            lines += ["", "First line under `causes:`:", "", f"    {seed['first_cause']}"]
        if seed.get("diff_report"):
            lines += ["", "Whole `truewheel diff` report:", "", "```text"]
            lines += seed["diff_report"]
            lines += ["```"]
        if seed.get("error"):
            lines += ["", f"Problem: {seed['error']}"]
    reports = [row for row in rows if row["reproducible"] is False and row.get("diff_report")]
    if reports:
        lines += ["", "## Diff reports of the packages that are not reproducible", ""]
        for row in reports:
            lines += [f"### {row['spec']}", "", "```text", *row["diff_report"], "```", ""]
    failed = [row for row in rows if row["reproducible"] is None]
    if failed:
        lines += ["", "## Failed checks", ""]
        lines += [f"- {row['spec']}: {row['detail']} (log: `{row['raw_log']}`)" for row in failed]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run truewheel build --check on real sdists.")
    parser.add_argument(
        "--truewheel",
        default=s.default_truewheel(),
        help="truewheel command (shell-split; default: %(default)s)",
    )
    parser.add_argument(
        "--python",
        type=Path,
        default=s.default_python(),
        help="interpreter whose pip downloads sdists and runs the seed case (default: %(default)s)",
    )
    parser.add_argument(
        "--packages",
        nargs="+",
        metavar="NAME==VERSION",
        default=list(DEFAULT_PACKAGES),
        help="sdists to check (default: %(default)s)",
    )
    parser.add_argument("--check", type=int, default=2, help="builds per check (default 2)")
    parser.add_argument("--timeout", type=float, default=900.0, help="per package (s)")
    parser.add_argument(
        "--build-root",
        default=str(DEFAULT_ROOT),
        help="TRUEWHEEL_BUILD_ROOT for the checks ('default': truewheel's own; "
        "default: %(default)s)",
    )
    parser.add_argument("--no-seed", action="store_true", help="skip the pip wheel seed case")
    parser.add_argument("--output-md", type=Path, default=DEFAULT_MD)
    parser.add_argument("--output-json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    if args.check < 2:
        parser.error("--check must be >= 2")
    try:
        specs = [f"{n}=={v}" for n, v in (s.parse_spec(p) for p in args.packages)]
    except ValueError as exc:
        parser.error(str(exc))

    cmd = c.split_command(args.truewheel)
    if not c.command_available(cmd):
        print(f"build_acceptance: truewheel command not found: {args.truewheel!r}", file=sys.stderr)
        return 2
    env = s.base_env()
    root_text = args.build_root
    if root_text != "default":
        root = Path(root_text).resolve()
        if not root.is_dir():
            s.private_dir(root)
        env["TRUEWHEEL_BUILD_ROOT"] = str(root)
        root_text = c.rel(root)
    else:
        env.pop("TRUEWHEEL_BUILD_ROOT", None)
        root_text = "truewheel's default"

    sdists: dict[str, Path] = {}
    for spec in dict.fromkeys([*specs, *([] if args.no_seed else [SEED_PACKAGE])]):
        try:
            sdists[spec] = s.ensure_sdist(spec, args.python)
        except s.SetupError as exc:
            print(f"build_acceptance: {exc}", file=sys.stderr)

    meta: dict[str, Any] = {
        "generated_at": c.now_iso(),
        "machine": c.machine_info(),
        "python": c.tool_version([str(args.python)]),
        "truewheel_cmd": args.truewheel,
        "truewheel_version": c.tool_version(cmd),
        "revision": r.source_revision(),
        "check_runs": args.check,
        "timeout_s": args.timeout,
        "build_root": root_text,
    }
    rows: list[dict[str, Any]] = []
    for spec in specs:
        sdist = sdists.get(spec)
        if sdist is None:
            rows.append(
                {
                    "spec": spec,
                    "sdist": None,
                    "backend": None,
                    "reproducible": None,
                    "timed_out": False,
                    "elapsed_s": None,
                    "builds": [],
                    "detail": "sdist download failed",
                    "raw_log": "",
                }
            )
            continue
        print(f"{spec}: truewheel build --check {args.check} ...", end="", flush=True)
        row = check_package(spec, sdist, cmd, runs=args.check, timeout=args.timeout, env=env)
        rows.append(row)
        print(f" {verdict(row)} ({fmt_s(row['elapsed_s'])} s) {row['detail']}"[:200], flush=True)
        c.write_json(args.output_json, {"meta": meta, "packages": rows, "partial": True})

    report: dict[str, Any] = {"meta": meta, "packages": rows}
    if not args.no_seed and SEED_PACKAGE in sdists:
        print(f"seed: pip wheel {SEED_PACKAGE} twice ...", end="", flush=True)
        seed = seed_case(
            args.python, cmd, sdists[SEED_PACKAGE], timeout=args.timeout, env=s.base_env()
        )
        report["seed"] = seed
        print(
            " identical" if seed.get("identical") else f" different: {seed.get('first_cause')}",
            flush=True,
        )
    c.write_json(args.output_json, report)
    c.write_text(args.output_md, build_markdown(report))
    print(f"wrote {c.rel(args.output_md)} and {c.rel(args.output_json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
