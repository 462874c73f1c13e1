#!/usr/bin/env python3
"""The peer tool: ``auditwheel show --json`` from a private, pinned venv, with a result cache.

* The venv is benchmarks/.cache/venv-auditwheel with auditwheel==6.8.2 (pip).
* One JSON file per wheel in benchmarks/.cache/auditwheel-show/<wheel filename>.json
  keeps auditwheel's parsed output and every timed run (wall seconds, peak RSS,
  load average), so later comparisons and speed reports need not rerun it.

As a script it fills the cache::

    python benchmarks/_peer.py --all                 # one run for every cached wheel
    python benchmarks/_peer.py --min-runs 3 torch scipy==1.17.0 python-flint
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import _common as c

AUDITWHEEL_VERSION = "6.8.2"
VENV_DIR = c.CACHE_DIR / "venv-auditwheel"
SHOW_CACHE_DIR = c.CACHE_DIR / "auditwheel-show"
CACHE_SCHEMA = 1
DEFAULT_TIMEOUT_S = 1800.0


class PeerError(RuntimeError):
    """The auditwheel venv could not be created or used."""


def venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def auditwheel_exe() -> Path:
    return VENV_DIR / "bin" / "auditwheel"


def installed_version() -> str | None:
    if not venv_python().is_file():
        return None
    proc = subprocess.run(
        [
            str(venv_python()),
            "-c",
            "import importlib.metadata as m; print(m.version('auditwheel'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_venv(*, verbose: bool = True) -> Path:
    """Create the venv and install auditwheel==6.8.2 when needed; return the executable."""
    if installed_version() == AUDITWHEEL_VERSION and auditwheel_exe().is_file():
        return auditwheel_exe()
    if verbose:
        print(f"creating {c.rel(VENV_DIR)} with auditwheel=={AUDITWHEEL_VERSION}", flush=True)
    if not venv_python().is_file():
        proc = subprocess.run(
            [sys.executable, "-m", "venv", str(VENV_DIR)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise PeerError(f"python -m venv failed: {proc.stderr.strip()[-500:]}")
    proc = subprocess.run(
        [
            str(venv_python()),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            f"auditwheel=={AUDITWHEEL_VERSION}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or installed_version() != AUDITWHEEL_VERSION:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise PeerError("pip install auditwheel failed: " + " | ".join(tail))
    return auditwheel_exe()


def peer_packages() -> dict[str, str]:
    """Versions of what is installed in the peer venv (auditwheel, pyelftools, ...)."""
    if not venv_python().is_file():
        return {}
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    proc = subprocess.run(
        [str(venv_python()), "-c", code], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return {}
    data: dict[str, str] = json.loads(proc.stdout)
    return dict(sorted(data.items()))


def cache_path(wheel: Path) -> Path:
    return SHOW_CACHE_DIR / f"{wheel.name}.json"


def load_cached(wheel: Path) -> dict[str, Any] | None:
    """The cache record for ``wheel``, or None when absent or stale."""
    path = cache_path(wheel)
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        record.get("schema") != CACHE_SCHEMA
        or record.get("auditwheel_version") != AUDITWHEEL_VERSION
        or record.get("wheel_size") != wheel.stat().st_size
    ):
        return None
    return record


def show_argv(wheel: Path) -> list[str]:
    return [str(auditwheel_exe()), "show", "--json", str(wheel)]


def measure_show(
    wheel: Path, *, rss_method: str = "auto", timeout: float | None = DEFAULT_TIMEOUT_S
) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
    """Run ``auditwheel show --json`` once: (run record, parsed JSON or None, stderr)."""
    load_before = c.loadavg()
    m = c.run_measured(show_argv(wheel), rss_method=rss_method, timeout=timeout)
    parsed: dict[str, Any] | None
    try:
        value = json.loads(m.stdout)
        parsed = value if isinstance(value, dict) else None
    except ValueError:
        parsed = None
    run = {
        "elapsed_s": round(m.wall_s, 4),
        "max_rss_kib": m.max_rss_kib,
        "rss_method": m.rss_method,
        "returncode": m.returncode,
        "timed_out": m.timed_out,
        "loadavg_before": load_before,
        "measured_at": c.now_iso(),
    }
    return run, parsed, m.stderr


def new_record(wheel: Path) -> dict[str, Any]:
    return {
        "schema": CACHE_SCHEMA,
        "wheel": wheel.name,
        "wheel_size": wheel.stat().st_size,
        "auditwheel_version": AUDITWHEEL_VERSION,
        "command": ["auditwheel", "show", "--json", wheel.name],
        "result": None,
        "result_changed": False,
        "stderr_tail": "",
        "runs": [],
        "elapsed_s": None,
    }


def append_run(
    record: dict[str, Any], run: dict[str, Any], parsed: dict[str, Any] | None, stderr: str
) -> None:
    record["runs"].append(run)
    if parsed is not None:
        if record["result"] is None:
            record["result"] = parsed
        elif record["result"] != parsed:
            record["result_changed"] = True
    record["stderr_tail"] = stderr[-4000:]
    record["returncode"] = run["returncode"]
    record["elapsed_s"] = c.median(r["elapsed_s"] for r in record["runs"])


def ensure_show(
    wheel: Path,
    *,
    min_runs: int = 1,
    force: bool = False,
    rss_method: str = "auto",
    timeout: float | None = DEFAULT_TIMEOUT_S,
    verbose: bool = True,
) -> dict[str, Any]:
    """Cached auditwheel result for ``wheel`` with at least ``min_runs`` timed runs."""
    record = None if force else load_cached(wheel)
    if record is None:
        record = new_record(wheel)
    while len(record["runs"]) < min_runs:
        ensure_venv(verbose=verbose)
        if verbose:
            n = len(record["runs"]) + 1
            print(f"  auditwheel show --json {wheel.name} (run {n}) ...", end="", flush=True)
        run, parsed, stderr = measure_show(wheel, rss_method=rss_method, timeout=timeout)
        append_run(record, run, parsed, stderr)
        c.write_json(cache_path(wheel), record)
        if verbose:
            print(f" {run['elapsed_s']:.2f} s, exit {run['returncode']}", flush=True)
    return record


def summary_line(record: dict[str, Any]) -> str:
    result = record.get("result") or {}
    tag = result.get("overall_tag") or result.get("error") or "no JSON output"
    times = [r["elapsed_s"] for r in record["runs"]]
    med = c.median(times)
    med_s = f"{med:.2f} s" if med is not None else "-"
    return f"{record['wheel']}: {tag}; median {med_s} over {len(times)} run(s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fill the auditwheel show --json cache.")
    parser.add_argument("wheels", nargs="*", help="wheel path, NAME or NAME==VERSION")
    parser.add_argument("--all", action="store_true", help="every wheel in .cache/wheels")
    parser.add_argument("--min-runs", type=int, default=1, help="timed runs to have (default 1)")
    parser.add_argument("--force", action="store_true", help="drop cached runs first")
    parser.add_argument("--rss-method", choices=["auto", "time", "wait4", "none"], default="auto")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    parser.add_argument("--ensure-venv", action="store_true", help="only create the venv")
    args = parser.parse_args(argv)

    try:
        exe = ensure_venv()
    except PeerError as exc:
        print(f"peer: {exc}", file=sys.stderr)
        return 1
    if args.ensure_venv:
        print(f"{exe} (auditwheel {installed_version()})")
        return 0
    if args.all:
        wheels = c.list_wheels()
        missing: list[str] = []
    else:
        wheels, missing = c.select_wheels(args.wheels)
    for spec in missing:
        print(f"peer: no cached wheel matches {spec!r}", file=sys.stderr)
    if not wheels:
        print("peer: nothing to do (give wheels or --all)", file=sys.stderr)
        return 1 if missing else 0
    for i, wheel in enumerate(wheels, start=1):
        print(f"[{i}/{len(wheels)}] {wheel.name}", flush=True)
        record = ensure_show(
            wheel,
            min_runs=args.min_runs,
            force=args.force,
            rss_method=args.rss_method,
            timeout=args.timeout,
        )
        print("  " + summary_line(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
