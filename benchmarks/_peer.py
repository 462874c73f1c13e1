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

import json
import sys
from pathlib import Path
from typing import Any

import _wheels as w
import harness as h

AUDITWHEEL_VERSION = "6.8.2"
VENV_DIR = h.CACHE_DIR / "venv-auditwheel"
SHOW_CACHE_DIR = h.CACHE_DIR / "auditwheel-show"
CACHE_SCHEMA = 1
DEFAULT_TIMEOUT_S = 1800.0


def ensure_venv() -> Path:
    """The pinned auditwheel executable (its venv created when needed); raises ToolError."""
    return h.tool_venv(VENV_DIR, "auditwheel", AUDITWHEEL_VERSION)


def peer_packages() -> dict[str, str]:
    """Versions of what is installed in the peer venv (auditwheel, pyelftools, ...)."""
    return h.venv_packages(VENV_DIR)


def cache_path(wheel: Path) -> Path:
    return SHOW_CACHE_DIR / f"{wheel.name}.json"


def load_cached(wheel: Path) -> dict[str, Any] | None:
    """The cache record for ``wheel``, or None when absent or stale."""
    try:
        record: dict[str, Any] = json.loads(cache_path(wheel).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        record.get("schema") != CACHE_SCHEMA
        or record.get("auditwheel_version") != AUDITWHEEL_VERSION
        or record.get("wheel_size") != wheel.stat().st_size
    ):
        return None
    return record


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


def measure_show(
    wheel: Path, record: dict[str, Any], *, rss_method: str = "auto", timeout: float | None
) -> dict[str, Any]:
    """Run ``auditwheel show --json`` once, add the run to ``record``, store it; the run."""
    m = h.run([ensure_venv(), "show", "--json", wheel], rss_method=rss_method, timeout=timeout)
    run = {**m.record(), "rss_method": m.rss_method}
    parsed = h.json_doc(m.stdout)
    record["runs"].append(run)
    if parsed is not None:
        if record["result"] is None:
            record["result"] = parsed
        elif record["result"] != parsed:
            record["result_changed"] = True
    record["stderr_tail"] = m.stderr[-4000:]
    record["returncode"] = run["returncode"]
    record["elapsed_s"] = h.median(x["elapsed_s"] for x in record["runs"])
    h.write_json(cache_path(wheel), record)
    return run


def ensure_show(
    wheel: Path,
    *,
    min_runs: int = 1,
    force: bool = False,
    fresh: bool = False,
    rss_method: str = "auto",
    timeout: float | None = DEFAULT_TIMEOUT_S,
) -> dict[str, Any]:
    """Cached auditwheel result for ``wheel`` with at least ``min_runs`` timed runs.

    ``fresh``: measure ``min_runs`` new runs whatever the cache holds (they are stored too);
    ``force``: forget the cached runs first.
    """
    record = (None if force else load_cached(wheel)) or new_record(wheel)
    have = 0 if fresh else len(record["runs"])
    for n in range(have + 1, min_runs + 1):
        print(f"  auditwheel show --json {wheel.name} (run {n}) ...", end="", flush=True)
        run = measure_show(wheel, record, rss_method=rss_method, timeout=timeout)
        print(f" {run['elapsed_s']:.2f} s, exit {run['returncode']}", flush=True)
    return record


def summary_line(record: dict[str, Any]) -> str:
    result = record.get("result") or {}
    tag = result.get("overall_tag") or result.get("error") or "no JSON output"
    times = [r["elapsed_s"] for r in record["runs"]]
    med = h.median(times)
    med_s = f"{med:.2f} s" if med is not None else "-"
    return f"{record['wheel']}: {tag}; median {med_s} over {len(times)} run(s)"


def main(argv: list[str] | None = None) -> int:
    parser = h.parser("Fill the auditwheel show --json cache.", truewheel=None)
    parser.add_argument("wheels", nargs="*", help="wheel path, NAME or NAME==VERSION")
    parser.add_argument("--all", action="store_true", help="every wheel in .cache/wheels")
    parser.add_argument("--min-runs", type=int, default=1, help="timed runs to have (default 1)")
    parser.add_argument("--force", action="store_true", help="drop cached runs first")
    parser.add_argument("--rss-method", choices=[*h.RSS_METHODS, "none"], default="auto")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    parser.add_argument("--ensure-venv", action="store_true", help="only create the venv")
    args = parser.parse_args(argv)

    try:
        exe = ensure_venv()
    except h.ToolError as exc:
        print(f"peer: {exc}", file=sys.stderr)
        return 1
    if args.ensure_venv:
        print(f"{exe} (auditwheel {peer_packages().get('auditwheel')})")
        return 0
    wheels, missing = (w.list_wheels(), []) if args.all else w.select_wheels(args.wheels)
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
