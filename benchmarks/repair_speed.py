#!/usr/bin/env python3
"""Time ``truewheel repair -w OUT W`` against ``auditwheel repair -w OUT W``.

Three cases (``--cases``, default all): (a) a large wheel with nothing to graft
(nvidia-cufft 12.0.0.61, 214 MB; ``cp`` of the file is timed as a floor), (b) the small
``twsys`` fixture, which links the system libgmp and libgomp, and (c) a large wheel that
needs grafting, built by :func:`make_large_graft_wheel`. Each run writes into a fresh,
empty OUT on the same file system, deleted and ``sync``ed afterwards; runs are interleaved
after ``--warmup`` untimed truewheel runs, and both tools are timed in this run. The
report gives medians, both ratios (of the medians, and the median of the per-run ratios),
peak RSS and CPU time; benchmarks/README.md explains each case.

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
import shutil
import stat
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _repair as r
import _wheels as w
import fetch
import harness as h

LARGE_DIR = h.CACHE_DIR / "repair-large"

CUFFT = w.Requirement("nvidia-cufft", "12.0.0.61", 0, "case a: 214 MB, nothing to graft")
TORCH = w.Requirement("torch", "2.13.0", 0, "non-ELF payload of case c")
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
    parsed = w.parse_wheel_filename(base_wheel.name)
    if parsed is None:
        raise h.ToolError(f"not a wheel file name: {base_wheel.name}")
    dist = f"{parsed.distribution}_large"
    version = parsed.version
    tag = f"{parsed.python}-{parsed.abi}-{parsed.platform}"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{dist}-{version}-{tag}.whl"
    stamp = out.with_name(out.name + ".build.json")
    params = {
        "builder_version": LARGE_BUILDER_VERSION,
        "base_wheel": base_wheel.name,
        "base_sha256": h.sha256_file(base_wheel),
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
    stats["sha256"] = h.sha256_file(out)
    h.write_json(stamp, {"params": params, "size": out.stat().st_size, "stats": stats})
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
            raise h.ToolError(f"no such wheel: {explicit}")
        return explicit.resolve()
    for directory in (r.REPAIR_WHEEL_DIR, w.WHEEL_DIR):
        hit = w.find_wheel(CUFFT, directory)
        if hit is not None:
            return hit
    if not allow_fetch:
        raise h.ToolError(f"{CUFFT} not in {h.rel(r.REPAIR_WHEEL_DIR)} (and --no-fetch)")
    r.REPAIR_WHEEL_DIR.mkdir(parents=True, exist_ok=True)
    print(f"fetching {CUFFT} into {h.rel(r.REPAIR_WHEEL_DIR)} ...", flush=True)
    local = [d for d in fetch.DEFAULT_LOCAL_DIRS if d.is_dir()]
    out = fetch.fetch_one(CUFFT, r.REPAIR_WHEEL_DIR, local, offline=False, retries=2, timeout=60)
    if not out.ok or out.path is None:
        raise h.ToolError(f"cannot fetch {CUFFT}: {out.status}: {out.detail}")
    return out.path


def resolve_torch(explicit: Path | None) -> Path:
    if explicit is not None:
        if not explicit.is_file():
            raise h.ToolError(f"no such wheel: {explicit}")
        return explicit.resolve()
    hit = w.find_wheel(TORCH, w.WHEEL_DIR)
    if hit is not None:
        return hit
    if TORCH_LOCAL.is_file():
        return TORCH_LOCAL
    raise h.ToolError(f"{TORCH} not found (run fetch.py --only torch, or give --torch-wheel)")


# --------------------------------------------------------------------------- timing


def time_case(case: Case, tools: r.Tools, args: argparse.Namespace) -> dict[str, Any]:
    """Warm-up, then cp (case a), truewheel and auditwheel interleaved, each into a fresh OUT."""

    def out_dir(name: str, i: int) -> Path:
        return r.OUT_ROOT / f"{case.key}-{name}-{'warmup' if i < 0 else i}"

    def step(name: str, cmd: list[str]) -> h.Step:
        def argv(i: int) -> list[str]:
            if name == "cp":
                return ["cp", str(case.wheel), str(out_dir(name, i))]
            return r.repair_argv(cmd, case.wheel, out_dir(name, i), case.plat)

        def inspect(i: int, m: h.Measurement, record: dict[str, Any]) -> None:
            outputs = w.list_wheels(out_dir(name, i))
            record["outputs"] = [{"name": p.name, "size": p.stat().st_size} for p in outputs]
            if len(outputs) != 1:
                record.setdefault("error", f"{len(outputs)} wheel(s) written, expected 1")
            elif name != "cp":
                record["tag"] = r.output_tag(outputs[0])
                record["new_libs"] = r.new_libs_members(outputs[0], case.wheel)
            if not (args.keep_outputs and i == args.repeat - 1):
                shutil.rmtree(out_dir(name, i), ignore_errors=True)
            os.sync()

        return h.Step(
            name,
            argv,
            env=tools.env,
            prepare=lambda i: h.fresh_dir(out_dir(name, i)),
            inspect=inspect,
        )

    steps = [step("cp", ["cp"])] if case.floor else []
    steps += [step("truewheel", tools.truewheel), step("auditwheel", tools.auditwheel)]
    h.warm_up(steps[-2], args.warmup, timeout=args.timeout)
    runs = h.bench(steps, repeat=args.repeat, rss_method=args.rss_method, timeout=args.timeout)
    result: dict[str, Any] = {
        "key": case.key,
        "title": case.title,
        "wheel": case.wheel.name,
        "wheel_path": h.rel(case.wheel),
        "size_bytes": case.wheel.stat().st_size,
        "plat": case.plat,
        "target_ratio": TARGETS[case.key],
        "build": case.build,
        "argv": {
            s.name: [Path(a).name if os.sep in a else a for a in map(str, s.argv(0))] for s in steps
        },
        **{name: h.summarize(tool_runs) for name, tool_runs in runs.items()},
    }
    tw_med = result["truewheel"]["median_s"]
    result["ratio"] = h.ratio(result["auditwheel"]["median_s"], tw_med)
    paired = [
        h.ratio(a["elapsed_s"], t["elapsed_s"])
        for t, a in zip(runs["truewheel"], runs["auditwheel"], strict=True)
        if "error" not in t and "error" not in a
    ]
    result["median_paired_ratio"] = h.median(x for x in paired if x is not None)
    if case.floor:
        result["truewheel_over_cp"] = h.ratio(tw_med, result["cp"]["median_s"])
    return result


# --------------------------------------------------------------------------- report


def _run_line(tool: str, runs: list[dict[str, Any]]) -> str:
    parts = []
    for x in runs:
        text = h.fmt_s(x["elapsed_s"])
        if tool != "cp":
            text += f" (user {x['user_s']:.2f}, sys {x['sys_s']:.2f})"
        parts.append(text + (" **failed**" if "error" in x else ""))
    return f"{tool} {', '.join(parts)}{h.load_range(runs)}"


def _outputs_line(tool: str, runs: list[dict[str, Any]]) -> str:
    last = next((x for x in reversed(runs) if x.get("outputs")), None)
    if last is None:
        return f"{tool}: no output"
    out = last["outputs"][0]
    text = f"{tool}: `{out['name']}` ({h.fmt_mb(out['size'])} MB)"
    libs = last.get("new_libs")
    if libs is not None:
        text += ", new in `*.libs/`: " + (", ".join(f"`{n}`" for n in libs) or "nothing")
    return text


def _case_row(row: dict[str, Any]) -> list[str]:
    ratio, target = row["ratio"], row["target_ratio"]
    met = "" if ratio is None else (" met" if ratio >= target else " **not met**")
    return [
        f"({row['key']}) {row['title']}",
        f"`{h.md_cell(row['wheel'])}`",
        h.fmt_mb(row["size_bytes"]),
        f"`{row['plat']}`" if row["plat"] else "(default)",
        h.fmt_s(row["truewheel"]["median_s"]),
        h.fmt_s(row["auditwheel"]["median_s"]),
        h.fmt_ratio(ratio),
        f">= {target:g}x{met}",
        h.fmt_s(row["cp"]["median_s"]) if "cp" in row else "—",
        h.fmt_mib(row["truewheel"]["peak_rss_kib"]),
        h.fmt_mib(row["auditwheel"]["peak_rss_kib"]),
    ]


def _build_note(row: dict[str, Any]) -> list[str]:
    build = row["build"]
    return [
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
            f"members, {h.fmt_mb(build['size_bytes'])} MB, sha256 `{build['sha256'][:16]}...`."
        ),
    ]


def build_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    cases = report["cases"]
    version = f" ({meta['truewheel_version']})" if meta.get("truewheel_version") else ""
    source = f" at {meta['revision']}" if meta.get("revision") else ""
    lines = [
        *h.header("`truewheel repair` vs `auditwheel repair`: speed", "repair_speed.py", meta),
        (
            f"Commands: `{meta['truewheel_cmd']} repair [--plat P] -w OUT WHEEL`{version}{source}"
            f" and `auditwheel repair [--plat P] -w OUT WHEEL` (auditwheel "
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
        *h.table(
            "case | wheel | size (MB) | --plat | truewheel (s) | auditwheel (s) | ratio | target "
            "| cp (s) | truewheel peak RSS (MiB) | auditwheel peak RSS (MiB)",
            "llrlrrrlrrr",
            map(_case_row, cases),
        ),
        "",
        "Median of the per-run ratios (auditwheel run i / truewheel run i): "
        + "; ".join(f"({x['key']}) {h.fmt_ratio(x['median_paired_ratio'])}" for x in cases)
        + ".",
        "",
        "## CPU time (medians, seconds; all processes of the command)",
        "",
        *h.table(
            "case | truewheel user | truewheel sys | auditwheel user | auditwheel sys",
            "lrrrr",
            (
                [f"({x['key']})"]
                + [
                    h.fmt_s(x[t][f"median_{k}_s"])
                    for t in ("truewheel", "auditwheel")
                    for k in ("user", "sys")
                ]
                for x in cases
            ),
        ),
        "",
        "## Individual runs (seconds)",
        "",
    ]
    tools = ("cp", "truewheel", "auditwheel")
    for row in cases:
        lines.append(f"- ({row['key']}) `{row['wheel']}`:")
        lines += [f"  - {_run_line(t, row[t]['runs'])}" for t in tools if t in row]
    lines += ["", "## What each tool wrote (last run)", ""]
    for row in cases:
        lines.append(f"- ({row['key']}):")
        lines += [f"  - {_outputs_line(t, row[t]['runs'])}" for t in tools if t in row]
    for row in cases:
        if row.get("build"):
            lines += _build_note(row)
    problems = [
        f"- ({row['key']}) {t}: {err}"
        for row in cases
        for t in tools
        if t in row
        for err in row[t]["errors"]
    ]
    if problems:
        lines += ["", "## Problems", "", *problems]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = h.parser("Time truewheel repair vs auditwheel repair.")
    parser.add_argument(
        "--cases", nargs="+", choices=sorted(TITLES), default=sorted(TITLES), help="default: all"
    )
    h.add_repeat(parser)
    r.add_arguments(parser)
    parser.add_argument("--cufft-wheel", type=Path, help="wheel for case a (default: cached)")
    parser.add_argument("--torch-wheel", type=Path, help="payload source for case c")
    parser.add_argument(
        "--payload-mib", type=int, default=192, help="random payload in case c (default 192)"
    )
    parser.add_argument("--no-fetch", action="store_true", help="never download the cufft wheel")
    parser.add_argument("--rss-method", choices=h.RSS_METHODS, default="auto")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per run (s)")
    h.add_outputs(parser, "repair-speed")
    args = parser.parse_args(argv)

    try:
        tools = r.setup_tools(args.truewheel, "repair_speed")
        cases: list[Case] = []
        twsys: Path | None = None
        if "b" in args.cases or "c" in args.cases:
            r.ensure_fixture_wheels(args.fixture_python, rebuild=args.rebuild)
            twsys = r.find_fixture("twsys")
            if twsys is None:
                raise h.ToolError("no twsys fixture wheel was built")
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
    except h.ToolError as exc:
        print(f"repair_speed: {exc}", file=sys.stderr)
        return 1

    meta = tools.meta(
        args.truewheel,
        repeat=args.repeat,
        warmup=args.warmup,
        rss_method=h.describe_rss_method(args.rss_method),
    )
    rows: list[dict[str, Any]] = []
    for case in cases:
        size = h.fmt_mb(case.wheel.stat().st_size)
        print(f"({case.key}) {case.title}: {case.wheel.name} ({size} MB)", flush=True)
        rows.append(time_case(case, tools, args))
        print(
            f"  medians: truewheel {h.fmt_s(rows[-1]['truewheel']['median_s'])} s, auditwheel "
            f"{h.fmt_s(rows[-1]['auditwheel']['median_s'])} s, "
            f"ratio {h.fmt_ratio(rows[-1]['ratio'])}",
            flush=True,
        )
    report = {"meta": meta, "cases": rows}
    h.write_report(args.output_md, build_markdown(report), args.output_json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
