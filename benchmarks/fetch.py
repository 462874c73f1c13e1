#!/usr/bin/env python3
"""Download every wheel pinned in benchmarks/wheels.txt into benchmarks/.cache/wheels/.

* A wheel already in the cache is skipped.
* A wheel found in a local wheel directory (default /opt/wheels) is hard-linked
  (or copied) into the cache instead of being downloaded; ``# local-only`` lines
  are never asked from the index.
* Everything else is fetched with ``pip download --only-binary :all: --no-deps``
  restricted to CPython 3.11 (cp311/abi3) manylinux x86_64 wheels.

It prints a summary and exits 0 even when some wheels could not be fetched
(they are listed). When the index cannot be reached at all, the remaining
downloads are skipped rather than each retried.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import _wheels as w
import harness as h

PYTHON_VERSION = "3.11"
ABIS = ("cp311", "abi3")
# pip 23 does not expand a manylinux platform to the older ones it implies,
# so every acceptable tag is listed (newest first: pip prefers earlier tags).
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_26_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux2010_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
)
DEFAULT_LOCAL_DIRS = (Path("/opt/wheels"),)
NETWORK_ERRORS = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "Max retries exceeded",
    "No route to host",
)


@dataclass
class Outcome:
    req: w.Requirement
    status: str  # present | linked | copied | downloaded | failed | skipped
    path: Path | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in {"present", "linked", "copied", "downloaded"}


def pip_download_options(retries: int, timeout: int) -> list[str]:
    options = ["-q", "--only-binary", ":all:", "--no-deps", "--python-version", PYTHON_VERSION]
    options += ["--implementation", "cp", "--retries", str(retries), "--timeout", str(timeout)]
    for abi in ABIS:
        options += ["--abi", abi]
    for plat in PLATFORMS:
        options += ["--platform", plat]
    return options


def looks_offline(text: str) -> bool:
    return any(marker in text for marker in NETWORK_ERRORS)


def last_error_line(text: str) -> str:
    lines = [
        ln.strip()
        for ln in text.splitlines()
        if ln.strip() and "is ignored: it is neither a file nor a directory" not in ln
    ]
    errors = [ln for ln in lines if ln.startswith("ERROR")]
    pick = errors[-1] if errors else (lines[-1] if lines else "no output")
    return pick[:200]


def link_or_copy(src: Path, dest_dir: Path) -> tuple[Path, str]:
    target = dest_dir / src.name
    try:
        os.link(src, target)
        return target, "linked"
    except OSError:
        shutil.copy2(src, target)
        return target, "copied"


def fetch_one(
    req: w.Requirement,
    dest: Path,
    local_dirs: list[Path],
    *,
    offline: bool,
    retries: int,
    timeout: int,
) -> Outcome:
    cached = w.find_wheel(req, dest)
    if cached is not None:
        return Outcome(req, "present", cached)
    for local in local_dirs:
        hit = w.find_wheel(req, local)
        if hit is not None:
            try:
                path, how = link_or_copy(hit, dest)
            except OSError as exc:
                return Outcome(req, "failed", None, f"cannot copy {hit}: {exc}")
            return Outcome(req, how, path, f"from {hit.parent}")
    if req.local_only:
        where = ", ".join(str(d) for d in local_dirs) or "no local directory"
        return Outcome(req, "failed", None, f"local-only and not found in {where}")
    if offline:
        return Outcome(req, "skipped", None, "index unreachable (earlier download failed)")
    options = pip_download_options(retries, timeout)
    try:
        got, output = h.pip_download(
            sys.executable, options, str(req), dest, lambda d: w.find_wheel(req, d)
        )
    except OSError as exc:
        return Outcome(req, "failed", None, f"cannot run pip: {exc}")
    if got is None:
        detail = last_error_line(output)
        if looks_offline(output):
            detail = "network error: " + detail
        return Outcome(req, "failed", None, detail)
    return Outcome(req, "downloaded", got)


def describe_platform(path: Path) -> str:
    parsed = w.parse_wheel_filename(path.name)
    if parsed is None:
        return "?"
    return f"{parsed.python}-{parsed.abi}-{parsed.platform}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels-file", type=Path, default=w.WHEELS_TXT)
    parser.add_argument("--dest", type=Path, default=w.WHEEL_DIR)
    parser.add_argument(
        "--local-dir",
        type=Path,
        action="append",
        help="directory searched for wheels before the index (repeatable; default /opt/wheels)",
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="fetch only these projects")
    parser.add_argument("--retries", type=int, default=2, help="pip --retries (default 2)")
    parser.add_argument("--timeout", type=int, default=60, help="pip --timeout in s (default 60)")
    args = parser.parse_args(argv)

    try:
        reqs = w.parse_requirements(args.wheels_file)
    except (OSError, ValueError) as exc:
        print(f"fetch: cannot read {args.wheels_file}: {exc}", file=sys.stderr)
        return 0
    if args.only:
        wanted = {w.normalize_name(n.split("==")[0]) for n in args.only}
        reqs = [r for r in reqs if r.key in wanted]
    local_dirs = [d for d in (args.local_dir or list(DEFAULT_LOCAL_DIRS)) if d.is_dir()]
    dest: Path = args.dest
    dest.mkdir(parents=True, exist_ok=True)

    outcomes: list[Outcome] = []
    offline = False
    for i, req in enumerate(reqs, start=1):
        print(f"[{i:>2}/{len(reqs)}] {req} ... ", end="", flush=True)
        try:
            out = fetch_one(
                req,
                dest,
                local_dirs,
                offline=offline,
                retries=args.retries,
                timeout=args.timeout,
            )
        except KeyboardInterrupt:
            print("interrupted")
            break
        except OSError as exc:
            out = Outcome(req, "failed", None, str(exc))
        if out.status == "failed" and out.detail.startswith("network error"):
            offline = True
        outcomes.append(out)
        shown = out.path.name if out.path is not None else out.detail
        print(f"{out.status}: {shown}")

    ok = [o for o in outcomes if o.ok]
    bad = [o for o in outcomes if not o.ok]
    total = sum(o.path.stat().st_size for o in ok if o.path is not None)
    print()
    print(f"Summary: {len(ok)}/{len(reqs)} wheels in {h.rel(dest)} ({total / 1e6:.1f} MB)")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    for o in ok:
        if o.path is not None and "manylinux" not in describe_platform(o.path):
            print(f"  warning: {o.path.name} is not a manylinux wheel")
    if bad:
        print(f"Not fetched ({len(bad)}):")
        for o in bad:
            print(f"  - {o.req}: {o.status}: {o.detail}")
    if offline:
        print("The package index looked unreachable; re-run when online.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
