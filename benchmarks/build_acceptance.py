#!/usr/bin/env python3
"""Does ``truewheel build --check`` build what ``pip wheel`` builds, bit for bit, and at what cost?

For each pinned sdist (downloaded once into benchmarks/.cache/sdists/, see ``_sdist``),
one package at a time, every command with a timeout (``--timeout``):

1. one unmeasured ``truewheel build --check N`` (the warm-up: the build environments of
   both build roots the check alternates between then exist, as they do for a user's
   second check; ``--cold`` skips it and gives every package a fresh build root instead);
2. one plain ``pip wheel --no-deps --no-cache-dir`` of the sdist, timed;
3. one ``truewheel build --check N``, timed: the verdict, and when the builds differ the
   first line under ``causes:`` of its ``truewheel diff`` report.

pip's caches are off on both sides (``PIP_NO_CACHE_DIR=1`` for both commands). Both run
with the logging compiler wrappers of ``_compilelog`` first on PATH, each into its own
log, so the report can say whether truewheel's compilers got pip's flags (apart from its
reproducibility flags and the interpreter's rpath, which it drops on purpose). The
overhead ratio is the wall time of the ``--check`` run over that of the ``pip wheel``
run of the same package in the same invocation; the wrappers cost both sides alike,
and their cost per call is measured and reported.

A package whose ``pip wheel`` fails here (a missing system library, a build that needs
the network) or whose wheel holds no ELF file (pure Python) is reported as such and
not counted against truewheel.

The seed case: plain ``pip wheel`` of PyYAML 6.0.2's sdist, twice, each into a fresh
directory; the two wheels are compared by sha256 and by ``truewheel diff``.

Writes benchmarks/results/build-acceptance.md and .json; the whole output of every
command goes to benchmarks/results/raw/build-acceptance/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import sysconfig
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _compilelog as cl
import _sdist as s
import _wheels as w
import harness as h

# The twelve of the first acceptance run, then the thirty of issue 12 (newest release with
# an sdist on 2026-12-02). Kinds: C unless said; contourpy builds with meson-python.
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
    "multidict==7.2.1",
    "yarl==1.25.1",
    "frozenlist==1.8.0",
    "propcache==0.5.4",
    "kiwisolver==1.5.1",
    "greenlet==3.5.6",
    "zstandard==0.25.0",
    "brotli==1.2.1",
    "lz4==4.4.5",
    "cymem==2.0.16",
    "murmurhash==1.0.16",
    "preshed==3.0.15",
    "pyrsistent==0.20.0",
    "ruamel.yaml.clib==0.2.15",
    "crcmod==1.7",
    "ciso8601==2.4.1",
    "immutables==0.21",
    "msgspec==0.23.0",
    "line_profiler==5.1.0",
    "contourpy==1.3.3",
    "charset-normalizer==3.5.3",
    "websockets==17.4",
    "time-machine==3.6.0",
    "pycryptodome==4.4.0",
    "editdistance==0.8.1",
    "bottleneck==1.6.1",
    "cffi==2.1.1",
    "pillow==13.0.0",
    "sqlalchemy==2.1.9",
    "aiohttp==3.14.5",
)
SEED_PACKAGE = "PyYAML==6.0.2"
RAW_DIR = h.RAW_RESULTS_DIR / "build-acceptance"
WORK_DIR = h.CACHE_DIR / "acceptance"
DEFAULT_ROOT = h.CACHE_DIR / "build-root"
TARGET_IDENTICAL = 0.95
TARGET_OVERHEAD = 2.2
_NETWORK = re.compile(
    r"(?i)urlopen|name resolution|network is unreachable|connection (?:refused|reset|timed out)"
    r"|could not resolve host|failed to download|HTTPError"
)


def save_raw(name: str, m: h.Measurement) -> Path:
    path = RAW_DIR / name
    h.write_text(
        path,
        f"$ {' '.join(m.argv)}\n# exit {m.returncode}, {m.wall_s:.1f} s"
        + (", timed out" if m.timed_out else "")
        + f"\n--- stdout\n{m.stdout}\n--- stderr\n{m.stderr}",
    )
    return path


def sdist_top_dir(sdist: Path) -> str:
    """The directory an sdist unpacks into (``name-version``), or '' when it has none."""
    try:
        with tarfile.open(sdist) as archive:
            first = archive.next()
    except (OSError, tarfile.TarError):
        return ""
    return first.name.lstrip("./").split("/")[0] if first is not None else ""


# --------------------------------------------------------------------------- one package


@dataclass
class Setup:
    """What every package's runs share."""

    python: Path
    cmd: list[str]
    runs: int
    timeout: float
    cold: bool
    root: Path | None  # the benchmark's TRUEWHEEL_BUILD_ROOT; None: truewheel's default
    env: dict[str, str]  # wrappers first on PATH, PIP_NO_CACHE_DIR=1, no TRUEWHEEL_BUILD_ROOT
    pip_canon: cl.Canonicalizer
    libdir: str

    def truewheel_env(self, work: Path, log: Path) -> tuple[dict[str, str], str]:
        root = h.fresh_dir(work / "root", private=True) if self.cold else self.root
        env = {**self.env, cl.LOG_VARIABLE: str(log)}
        if root is not None:
            env["TRUEWHEEL_BUILD_ROOT"] = str(root)
        return env, str(root) if root else f"/tmp/truewheel-build-{os.getuid()}"


def run_check(sdist: Path, work: Path, env: dict[str, str], setup: Setup) -> dict[str, Any]:
    out = work / "out"
    argv = s.check_argv(setup.cmd, sdist, out, setup.runs)
    m = h.run(argv, timeout=setup.timeout, env=env, cwd=work)
    key = work.name
    raw = save_raw(f"{key}.log", m)
    parsed = s.parse_check(m.stdout)
    info = s.read_buildinfo(out) if out.is_dir() else None
    kept = w.list_wheels(out)
    row: dict[str, Any] = {
        **m.record(),
        "argv": argv,
        "builds": parsed.builds,
        "backend": info.get("backend") if info else None,
        "wheel": (info.get("wheel") or {}).get("name") if info else None,
        "wheel_sha256": (info.get("wheel") or {}).get("sha256") if info else None,
        "build_requirements": info.get("build_requirements") if info else None,
        "elf_debug_info": s.elf_debug_info(kept[0]) if len(kept) == 1 else None,
        "raw_log": h.rel(raw),
    }
    if m.timed_out:
        row["reproducible"] = None
        row["detail"] = f"timed out after {setup.timeout:.0f} s; " + h.tail(m.stderr or m.stdout, 3)
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


def warm_up(sdist: Path, work: Path, env: dict[str, str], setup: Setup) -> dict[str, Any]:
    """One unmeasured run of the same ``--check``: afterwards a build environment exists
    in every build root the check uses (it alternates between two)."""
    out = h.fresh_dir(work / "warm-up")
    argv = s.check_argv(setup.cmd, sdist, out, setup.runs)
    m = h.run(argv, timeout=setup.timeout, env=env, cwd=work)
    raw = save_raw(f"{work.name}-warm-up.log", m)
    problem = m.problem(ok=(0, 1), timeout=setup.timeout)
    return {"elapsed_s": round(m.wall_s, 2), "error": problem, "raw_log": h.rel(raw)}


def measure_package(spec: str, sdist: Path, setup: Setup) -> dict[str, Any]:
    key = w.normalize_name(s.parse_spec(spec)[0])
    work = h.fresh_dir(WORK_DIR / key)
    logs = {side: work / "compile-log" / side for side in ("warm-up", "pip", "truewheel")}
    for log in logs.values():
        log.mkdir(parents=True)
    tw_env, root = setup.truewheel_env(work, logs["warm-up"])
    row: dict[str, Any] = {"spec": spec, "sdist": sdist.name, "sdist_sha256": h.sha256_file(sdist)}
    row["warm_up"] = None if setup.cold else warm_up(sdist, work, tw_env, setup)
    pip_env = {**setup.env, cl.LOG_VARIABLE: str(logs["pip"])}
    row["pip"] = pip_wheel_once(
        setup.python,
        sdist,
        work / "pip",
        timeout=setup.timeout,
        env=pip_env,
        label=f"{key}-pip.log",
    )
    tw_env[cl.LOG_VARIABLE] = str(logs["truewheel"])
    row["check"] = run_check(sdist, work, tw_env, setup)
    pip, check = row["pip"], row["check"]
    pip_ok = "error" not in pip
    row["pure"] = pip_ok and (pip.get("elf_debug_info") or {}).get("elf", 0) == 0
    row["native"] = pip_ok and not row["pure"]
    row["truewheel_built"] = check["reproducible"] is not None
    if pip_ok and row["truewheel_built"]:
        row["ratio"] = h.ratio(check["elapsed_s"], pip["elapsed_s"])
        row["flags"] = compare_logs(logs["pip"], logs["truewheel"], root, sdist, setup)
    return row


def compare_logs(
    pip_log: Path, tw_log: Path, root: str, sdist: Path, setup: Setup
) -> dict[str, Any]:
    pip_calls, tw_calls = cl.read_log(pip_log), cl.read_log(tw_log)
    tw_canon = cl.Canonicalizer.for_truewheel(
        cl.truewheel_roots(tw_calls, root), sdist_top_dir(sdist), setup.libdir
    )
    return asdict(cl.compare(pip_calls, tw_calls, setup.pip_canon, tw_canon, setup.runs))


def recompare(args: argparse.Namespace, setup: Setup) -> int:
    """Compare the kept compile logs of an earlier run again (after a change to the
    canonical forms) and rewrite the report; nothing is built."""
    report = json.loads(Path(args.output_json).read_text())
    for row in report["packages"]:
        if "flags" not in row:
            continue
        work = WORK_DIR / w.normalize_name(s.parse_spec(row["spec"])[0])
        _, root = setup.truewheel_env(work, work / "compile-log" / "warm-up")
        logs = work / "compile-log"
        sdist = s.SDIST_DIR / row["sdist"]
        row["flags"] = compare_logs(logs / "pip", logs / "truewheel", root, sdist, setup)
    report.pop("partial", None)
    report.setdefault("missing_sdists", [])
    report["summary"] = summary(report)
    report["meta"]["recompared_at"] = h.now_iso()
    h.write_report(args.output_md, build_markdown(report), args.output_json, report)
    return 0


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
        "elapsed_s": round(m.wall_s, 4),
        "raw_log": h.rel(raw),
        "wheel": str(one) if one else None,
        "sha256": h.sha256_file(one) if one else None,
        "elf_debug_info": s.elf_debug_info(one) if one else None,
    }
    problem = m.problem(timeout=timeout) or (None if one else f"{len(wheels)} wheel(s) written")
    if problem:
        run["error"] = problem
        run["network_hint"] = bool(_NETWORK.search(m.stderr + m.stdout))
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


def reproducible_text(check: dict[str, Any]) -> str:
    if check["reproducible"] is True:
        return "yes"
    if check["reproducible"] is False:
        return "**no**"
    return "timed out" if check["timed_out"] else "build failed"


def flags_cells(row: dict[str, Any]) -> tuple[str, str]:
    """The flags verdict; pip's / truewheel's calls that carry the interpreter's rpath."""
    flags = row.get("flags")
    if flags is None:
        return "—", "—"
    rpath = f"{flags['rpath_pip']} / {flags['rpath_truewheel']}"
    if flags["pip_calls"] == 0 and flags["truewheel_calls"] == 0:
        return "no compiler calls", rpath
    return ("yes" if flags["equal"] else "**no**"), rpath


def pip_text(row: dict[str, Any]) -> str:
    pip = row["pip"]
    if "error" in pip:
        return "**failed**" + (" (network?)" if pip.get("network_hint") else "")
    return "pure Python" if row["pure"] else "yes"


def detail(row: dict[str, Any]) -> str:
    check, flags = row["check"], row.get("flags") or {}
    parts = []
    if "error" in row["pip"]:
        parts.append(f"pip: {row['pip']['error']}")
    if check["detail"]:
        parts.append(check["detail"])
    if flags.get("first_difference"):
        parts.append(f"flags: {flags['first_difference']}")
    return f"`{h.md_cell('; '.join(parts))[:400]}`" if parts else ""


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The counts the issue asks for; every list names the packages behind a count."""
    rows = report["packages"]
    pip_built = [r for r in rows if r.get("pip") and "error" not in r["pip"]]
    native = [r for r in pip_built if r["native"]]
    ratios = [r["ratio"] for r in rows if r.get("ratio") is not None]
    identical = [r for r in native if r["check"]["reproducible"] is True]
    compared = [r for r in native if r.get("flags")]
    return {
        "packages": len(rows),
        "missing_sdists": report["missing_sdists"],
        "pip_failed": [r["spec"] for r in rows if "error" in r["pip"]],
        "pip_built": len(pip_built),
        "pure": [r["spec"] for r in pip_built if r["pure"]],
        "native": len(native),
        "truewheel_failed": [r["spec"] for r in pip_built if not r["truewheel_built"]],
        "flags_equal": sum(1 for r in compared if r["flags"]["equal"]),
        "flags_compared": len(compared),
        "flags_differ": [r["spec"] for r in compared if not r["flags"]["equal"]],
        "rpath_dropped": sum(
            1 for r in compared if r["flags"]["rpath_pip"] and not r["flags"]["rpath_truewheel"]
        ),
        "rpath_in_pip": sum(1 for r in compared if r["flags"]["rpath_pip"]),
        "identical": len(identical),
        "not_identical": [r["spec"] for r in native if r["check"]["reproducible"] is not True],
        "identical_share": len(identical) / len(native) if native else None,
        "ratio_median": h.median(ratios),
        "ratio_max": max(ratios, default=None),
        "ratio_above_target": [r["spec"] for r in rows if (r.get("ratio") or 0) > TARGET_OVERHEAD],
        "ratios": len(ratios),
    }


def _names(specs: list[str]) -> str:
    return ", ".join(specs) if specs else "none"


def summary_lines(meta: dict[str, Any], sm: dict[str, Any]) -> list[str]:
    share = sm["identical_share"]
    share_text = "—" if share is None else f"{share:.0%}"
    met_identical = share is not None and share >= TARGET_IDENTICAL
    median = sm["ratio_median"]
    warm = "warm" if not meta["cold"] else "cold (the target is warm: not comparable)"
    overhead_met = median is not None and median <= TARGET_OVERHEAD and not meta["cold"]
    return [
        f"- sdists: {sm['packages']}; `pip wheel` built {sm['pip_built']} "
        f"({sm['native']} native, {len(sm['pure'])} pure Python: {_names(sm['pure'])}); "
        f"`pip wheel` failed here (not counted): {_names(sm['pip_failed'])}"
        + (f"; no sdist: {_names(sm['missing_sdists'])}." if sm["missing_sdists"] else "."),
        f"- **every sdist pip builds also builds under truewheel: "
        f"{'yes' if not sm['truewheel_failed'] else 'no'}** "
        f"({sm['pip_built'] - len(sm['truewheel_failed'])} of {sm['pip_built']}; "
        f"failed under truewheel: {_names(sm['truewheel_failed'])}).",
        f"- **flags equal to pip's: {sm['flags_equal']} of {sm['flags_compared']}** native "
        f"packages built by both (differ: {_names(sm['flags_differ'])}). The interpreter's "
        f"rpath, expected to differ: in pip's link lines for {sm['rpath_in_pip']}, dropped "
        f"by truewheel for {sm['rpath_dropped']}.",
        f"- **bit-identical (`--check {meta['check_runs']}` reproducible), counted strictly "
        f"over the native ones: {sm['identical']} of {sm['native']} ({share_text})**; "
        f"target ≥ {TARGET_IDENTICAL:.0%}: {'met' if met_identical else '**not met**'}. "
        f"Not: {_names(sm['not_identical'])}.",
        f"- **overhead (`--check` / one `pip wheel`), {warm}: median "
        f"{h.fmt_ratio(median, 2)}** over {sm['ratios']} packages, max "
        f"{h.fmt_ratio(sm['ratio_max'], 2)}; target ≤ {TARGET_OVERHEAD}x: "
        f"{'met' if overhead_met else '**not met**'} (median); above "
        f"{TARGET_OVERHEAD}x: {_names(sm['ratio_above_target'])}.",
    ]


def method_lines(meta: dict[str, Any]) -> list[str]:
    cost = meta["wrapper_cost_ms"]
    return [
        (
            f"truewheel: `{meta['truewheel_cmd']}` ({meta['truewheel_version'] or '?'}, "
            f"commit {meta['revision'] or '?'}); build root `{meta['build_root']}`."
        ),
        (
            "Each package, one after another, each command with a timeout of "
            f"{meta['timeout_s']:.0f} s: "
            + (
                "no warm-up, a fresh build root (**cold**); "
                if meta["cold"]
                else "one unmeasured `truewheel build --check` (warm-up: the build "
                "environments of both roots it uses then exist, so the check is **warm**); "
            )
            + "one `pip wheel --no-deps --no-cache-dir -w OUT SDIST`; one "
            f"`truewheel build --check {meta['check_runs']} -w OUT SDIST`. "
            "`PIP_NO_CACHE_DIR=1` for both. Ratio = wall of the check / wall of the "
            "`pip wheel` run (same invocation, one sample each)."
        ),
        (
            "Compiler calls: logging wrappers (`benchmarks/_compilelog.py`: "
            f"{', '.join(meta['wrappers'])}) first on PATH for both; "
            + (f"they add {cost:.1f} ms per call. " if cost is not None else "")
            + "Flags equal = the distinct canonical calls of the check's "
            f"{meta['check_runs']} builds are those of pip's build (pip runs setup.py once "
            "more, for metadata, so counts differ), after truewheel's prefix maps and "
            "the interpreter's `-Wl,-rpath,<libdir>` are "
            "taken out (rpath column: pip's / truewheel's calls that carry it). "
            "Debug info = ELF members with DWARF / ELF members, pip / truewheel."
        ),
    ]


def package_row(row: dict[str, Any]) -> list[str]:
    check = row["check"]
    return [
        h.md_cell(row["spec"]),
        f"`{check['backend']}`" if check.get("backend") else "—",
        pip_text(row),
        "yes" if row["truewheel_built"] else "**no**",
        reproducible_text(check),
        *flags_cells(row),
        h.fmt_s(row["pip"]["elapsed_s"], 1),
        h.fmt_s(check["elapsed_s"], 1),
        h.fmt_ratio(row.get("ratio"), 2),
        " / ".join(s.fmt_debug(x.get("elf_debug_info")) for x in (row["pip"], check)),
        detail(row),
    ]


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    rows = report["packages"]
    title = "`truewheel build --check` vs `pip wheel`: acceptance on real sdists"
    lines = [*h.header(title, "build_acceptance.py", meta, meta["python"]), *method_lines(meta)]
    loads = h.load_range([r["check"] for r in rows], "")
    if loads:
        lines.append(f"Before each check: {loads} (one build at a time adds about 1).")
    lines += ["", *summary_lines(meta, report["summary"]), ""]
    lines += h.table(
        "package | backend | pip wheel | truewheel | reproducible | flags = pip | rpath "
        "| pip (s) | check (s) | ratio | debug info | first cause / flags / error",
        "lllllllrrrll",
        map(package_row, rows),
    )
    differ = [r for r in rows if r.get("flags") and not r["flags"]["equal"]]
    if differ:
        lines += ["", "## Compiler calls that differ (canonical, distinct; first 20 each side)", ""]
        lines.append(
            f"Counted over the check's {report['meta']['check_runs']} builds, so each of "
            "pip's calls counts that many times (`2x`: pip once, two builds)."
        )
        lines.append("")
        for row in differ:
            flags = row["flags"]
            lines += [f"### {row['spec']}", "", "```text"]
            lines += [f"pip only:       {x}" for x in flags["only_pip"]]
            lines += [f"truewheel only: {x}" for x in flags["only_truewheel"]]
            lines += ["```", ""]
    lines += seed_lines(report.get("seed"))
    reports = [
        r for r in rows if r["check"]["reproducible"] is False and r["check"].get("diff_report")
    ]
    if reports:
        lines += ["", "## Diff reports of the packages that are not reproducible", ""]
        for row in reports:
            lines += [f"### {row['spec']}", "", "```text", *row["check"]["diff_report"], "```", ""]
    failed = [r for r in rows if not r["truewheel_built"] or "error" in r["pip"]]
    if failed:
        lines += ["", "## Failed builds", ""]
        for row in failed:
            pip, check = row["pip"], row["check"]
            if "error" in pip:
                lines.append(f"- {row['spec']}: pip wheel: {pip['error']} (`{pip['raw_log']}`)")
            if not row["truewheel_built"]:
                lines.append(
                    f"- {row['spec']}: truewheel: {check['detail']} (`{check['raw_log']}`)"
                )
    return "\n".join(lines).rstrip() + "\n"


def seed_lines(seed: dict[str, Any] | None) -> list[str]:
    if seed is None:
        return []
    lines = ["", "## Seed case: plain `pip wheel`, twice", ""]
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
        lines += ["", "Whole `truewheel diff` report:", "", "```text", *seed["diff_report"], "```"]
    if seed.get("error"):
        lines += ["", f"Problem: {seed['error']}"]
    return lines


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = h.parser(
        "truewheel build --check against pip wheel on real sdists.", truewheel=h.project_truewheel()
    )
    s.add_arguments(parser, DEFAULT_PACKAGES, "downloads sdists and runs pip wheel")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per command (s)")
    parser.add_argument(
        "--build-root",
        default=str(DEFAULT_ROOT),
        help="TRUEWHEEL_BUILD_ROOT for the builds ('default': truewheel's own; "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--cold", action="store_true", help="no warm-up; a fresh build root for every package"
    )
    parser.add_argument("--no-seed", action="store_true", help="skip the pip wheel seed case")
    parser.add_argument(
        "--recompare",
        action="store_true",
        help="compare the compile logs kept by the last run again and rewrite its report",
    )
    h.add_outputs(parser, "build-acceptance")
    return parser.parse_args(argv)


def make_setup(args: argparse.Namespace, cmd: list[str]) -> tuple[Setup, dict[str, str], str]:
    wrappers = WORK_DIR / "compiler-wrappers"
    # A recomparison builds nothing: it leaves the wrappers (maybe in use by a run) alone.
    made = {} if args.recompare else cl.make_wrappers(h.fresh_dir(wrappers))
    env = s.base_env(PIP_NO_CACHE_DIR="1")
    env.pop("TRUEWHEEL_BUILD_ROOT", None)
    env.pop(cl.LOG_VARIABLE, None)
    env["PATH"] = os.pathsep.join([str(wrappers), env.get("PATH", "")])
    root: Path | None = None
    root_text = "truewheel's default"
    if args.cold:
        root_text = "a fresh one per package"
    elif args.build_root != "default":
        root = Path(args.build_root).resolve()
        if not root.is_dir():
            h.fresh_dir(root, private=True)
        root_text = h.rel(root)
    exec_prefix, libdir = python_paths(args.python)
    setup = Setup(
        python=args.python,
        cmd=cmd,
        runs=args.check,
        timeout=args.timeout,
        cold=args.cold,
        root=root,
        env=env,
        pip_canon=cl.Canonicalizer.for_pip(exec_prefix, libdir),
        libdir=libdir,
    )
    return setup, made, root_text


def python_paths(python: Path) -> tuple[str, str]:
    """``sys.exec_prefix`` and the ``LIBDIR`` of the interpreter whose pip builds."""
    code = (
        "import sys, sysconfig; print(sys.exec_prefix); print(sysconfig.get_config_var('LIBDIR'))"
    )
    m = h.run([str(python), "-c", code], timeout=60)
    lines = m.stdout.splitlines()
    if m.returncode != 0 or len(lines) != 2:
        return sys.exec_prefix, sysconfig.get_config_var("LIBDIR") or ""
    return lines[0], lines[1]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cmd = h.truewheel_command(args.truewheel, "build_acceptance")
    setup, made, root_text = make_setup(args, cmd)
    if args.recompare:
        return recompare(args, setup)
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
        cold=args.cold,
        wrappers=sorted(made),
        wrapper_cost_ms=cl.wrapper_cost_ms(
            WORK_DIR / "compiler-wrappers", WORK_DIR / "wrapper-cost"
        ),
    )
    rows: list[dict[str, Any]] = []
    missing = [spec for spec in args.packages if spec not in sdists]
    for spec in args.packages:
        sdist = sdists.get(spec)
        if sdist is None:
            continue
        print(
            f"{spec}: warm-up, pip wheel, truewheel build --check {args.check} ...",
            end="",
            flush=True,
        )
        row = measure_package(spec, sdist, setup)
        rows.append(row)
        print(
            f" pip {pip_text(row)}, reproducible {reproducible_text(row['check'])}, flags "
            f"{flags_cells(row)[0]}, ratio {h.fmt_ratio(row.get('ratio'), 2)}",
            flush=True,
        )
        h.write_json(args.output_json, {"meta": meta, "packages": rows, "partial": True})
    report: dict[str, Any] = {"meta": meta, "packages": rows, "missing_sdists": missing}
    report["summary"] = summary(report)
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
