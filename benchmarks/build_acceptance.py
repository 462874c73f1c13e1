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

import sys
from pathlib import Path
from typing import Any

import _sdist as s
import _wheels as w
import harness as h

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
RAW_DIR = h.RAW_RESULTS_DIR / "build-acceptance"
WORK_DIR = h.CACHE_DIR / "acceptance"
DEFAULT_ROOT = h.CACHE_DIR / "build-root"


def save_raw(name: str, m: h.Measurement) -> Path:
    path = RAW_DIR / name
    h.write_text(
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
    key = w.normalize_name(s.parse_spec(spec)[0])
    work = h.fresh_dir(WORK_DIR / key)
    out = work / "out"
    argv = s.check_argv(cmd, sdist, out, runs)
    m = h.run(argv, timeout=timeout, env=env, cwd=work)
    raw = save_raw(f"{key}.log", m)
    parsed = s.parse_check(m.stdout)
    info = s.read_buildinfo(out) if out.is_dir() else None
    row: dict[str, Any] = {
        **m.record(),
        "spec": spec,
        "sdist": sdist.name,
        "sdist_sha256": h.sha256_file(sdist),
        "argv": argv,
        "builds": parsed.builds,
        "backend": info.get("backend") if info else None,
        "wheel": (info.get("wheel") or {}).get("name") if info else None,
        "wheel_sha256": (info.get("wheel") or {}).get("sha256") if info else None,
        "build_requirements": info.get("build_requirements") if info else None,
        "raw_log": h.rel(raw),
    }
    kept = w.list_wheels(out)
    row["elf_debug_info"] = s.elf_debug_info(kept[0]) if len(kept) == 1 else None
    if m.timed_out:
        row["reproducible"] = None
        row["detail"] = f"timed out after {timeout:.0f} s; " + h.tail(m.stderr or m.stdout, 3)
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
        row["detail"] = f"exit {m.returncode}: " + h.tail(m.stderr or m.stdout, 3)
    return row


# --------------------------------------------------------------------------- seed case


def pip_wheel_once(
    python: Path, sdist: Path, out: Path, *, timeout: float, env: dict[str, str], label: str
) -> dict[str, Any]:
    h.fresh_dir(out)
    m = h.run(s.pip_wheel_argv(python, sdist, out), timeout=timeout, env=env, cwd=out.parent)
    raw = save_raw(label, m)
    wheels = w.list_wheels(out)
    one = wheels[0] if len(wheels) == 1 else None
    run: dict[str, Any] = {
        "returncode": m.returncode,
        "elapsed_s": round(m.wall_s, 2),
        "raw_log": h.rel(raw),
        "wheel": str(one) if one else None,
        "sha256": h.sha256_file(one) if one else None,
        "elf_debug_info": s.elf_debug_info(one) if one else None,
    }
    problem = m.problem(timeout=timeout) or (None if one else f"{len(wheels)} wheel(s) written")
    if problem:
        run["error"] = problem
    return run


def seed_case(
    python: Path, cmd: list[str], sdist: Path, *, timeout: float, env: dict[str, str]
) -> dict[str, Any]:
    """Two plain ``pip wheel`` builds of the same sdist, compared with ``truewheel diff``."""
    work = h.fresh_dir(WORK_DIR / "seed")
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
    m = h.run([*cmd, "diff", runs[0]["wheel"], runs[1]["wheel"]], timeout=300)
    save_raw("seed-diff.log", m)
    report = m.stdout.splitlines()
    result["diff_returncode"] = m.returncode
    result["diff_report"] = report
    result["first_cause"] = s.first_cause(report)
    result["summary"] = s.report_summary(report)
    if m.returncode not in (0, 1):
        result["error"] = f"truewheel diff exit {m.returncode}: " + h.tail(m.stderr, 3)
    return result


# --------------------------------------------------------------------------- report


def verdict(row: dict[str, Any]) -> str:
    if row["reproducible"] is True:
        return "yes"
    if row["reproducible"] is False:
        return "**no**"
    return "build failed" if not row["timed_out"] else "timed out"


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    rows = report["packages"]
    ok = sum(1 for row in rows if row["reproducible"] is True)
    title = "`truewheel build --check`: acceptance on real sdists"
    lines = [
        *h.header(title, "build_acceptance.py", meta, meta["python"]),
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
    loads = h.load_range(rows, "")
    if loads:
        lines.append(f"Before each package: {loads} (one build at a time adds about 1).")
    lines += [
        "",
        f"**{ok} of {len(rows)} reproducible.**",
        "",
        *h.table(
            "package | backend | reproducible | time (s) | builds (s) | debug info "
            "| first cause / error",
            "lllrlll",
            (
                [
                    h.md_cell(row["spec"]),
                    f"`{row['backend']}`" if row["backend"] else "—",
                    verdict(row),
                    h.fmt_s(row["elapsed_s"], 1),
                    ", ".join(f"{b['seconds']:.1f}" for b in row["builds"]) or "—",
                    s.fmt_debug(row.get("elf_debug_info")),
                    f"`{h.md_cell(row['detail'])}`" if row["detail"] else "",
                ]
                for row in rows
            ),
        ),
    ]
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
                f"- pip wheel #{i}: {h.fmt_s(run['elapsed_s'], 1)} s, `{wheel}`, sha256 {digest}, "
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
    parser = h.parser(
        "Run truewheel build --check on real sdists.", truewheel=h.project_truewheel()
    )
    s.add_arguments(parser, DEFAULT_PACKAGES, "downloads sdists and runs the seed case")
    parser.add_argument("--timeout", type=float, default=900.0, help="per package (s)")
    parser.add_argument(
        "--build-root",
        default=str(DEFAULT_ROOT),
        help="TRUEWHEEL_BUILD_ROOT for the checks ('default': truewheel's own; "
        "default: %(default)s)",
    )
    parser.add_argument("--no-seed", action="store_true", help="skip the pip wheel seed case")
    h.add_outputs(parser, "build-acceptance")
    args = parser.parse_args(argv)
    cmd = h.truewheel_command(args.truewheel, "build_acceptance")
    env = s.base_env()
    root_text = args.build_root
    if root_text != "default":
        root = Path(root_text).resolve()
        if not root.is_dir():
            h.fresh_dir(root, private=True)
        env["TRUEWHEEL_BUILD_ROOT"] = str(root)
        root_text = h.rel(root)
    else:
        env.pop("TRUEWHEEL_BUILD_ROOT", None)
        root_text = "truewheel's default"

    sdists: dict[str, Path] = {}
    for spec in dict.fromkeys([*args.packages, *([] if args.no_seed else [SEED_PACKAGE])]):
        try:
            sdists[spec] = s.ensure_sdist(spec, args.python)
        except h.ToolError as exc:
            print(f"build_acceptance: {exc}", file=sys.stderr)

    meta = h.meta(
        args.truewheel,
        cmd,
        python=h.tool_version([str(args.python)]),
        check_runs=args.check,
        timeout_s=args.timeout,
        build_root=root_text,
    )
    rows: list[dict[str, Any]] = []
    for spec in args.packages:
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
        print(
            f" {verdict(row)} ({h.fmt_s(row['elapsed_s'], 1)} s) {row['detail']}"[:200], flush=True
        )
        h.write_json(args.output_json, {"meta": meta, "packages": rows, "partial": True})

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
    h.write_report(args.output_md, build_markdown(report), args.output_json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
