#!/usr/bin/env python3
"""Peak memory of every truewheel command on a wheel with a 2 GiB member, and a zip bomb.

Builds (once, cached in benchmarks/.cache/memory/) two wheels ``bigmember`` whose
``libbig.so`` is a real gcc-built library (linked with -lgmp, which no manylinux
policy allows, so ``repair`` grafts GMP and patchelf edits ``libbig.so``) carrying
a 2 GiB non-allocated section of bytes deflate cannot compress
(a random 48 KiB block repeated: the window is 32 KiB); the two differ in one
byte of that section, for ``diff``.  Then runs inspect, normalize, repair, diff
and scan on them under ``/usr/bin/time`` and records each peak RSS.  ``repair``
also reports truewheel's own peak (RUSAGE_SELF), since patchelf, a child
process, holds the whole library it edits.

The bomb: a wheel of 11 MB whose members honestly inflate to 3.2 GB.  Its
refusal is timed and measured the same way.

The torch figure (inspect's peak RSS with auditwheel's time in the same run)
comes from ``speed.py``.  Writes benchmarks/results/memory.md and memory.json.
Needs ~4.5 GB of disk in benchmarks/.cache/memory.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _common as c

REPO = c.BENCH_DIR.parent
WORK = c.CACHE_DIR / "memory"
BIG = 2 << 30
BLOCK = 48 << 10
DEFAULT_MD = c.RESULTS_DIR / "memory.md"
DEFAULT_JSON = c.RESULTS_DIR / "memory.json"
LIMIT_MIB = 300

sys.path.insert(0, str(REPO / "src"))


def _payload(path: Path, flip_at: int | None) -> None:
    block = random.Random(2026).randbytes(BLOCK)
    with path.open("wb") as out:
        written = 0
        while written < BIG:
            piece = block[: min(BLOCK, BIG - written)]
            if flip_at is not None and written <= flip_at < written + len(piece):
                changed = bytearray(piece)
                changed[flip_at - written] ^= 0xFF
                piece = bytes(changed)
            out.write(piece)
            written += len(piece)


def build_big_wheel(name: str, flip_at: int | None) -> Path:
    """A wheel whose library carries a 2 GiB section (built once, then reused)."""
    from truewheel.wheel.writer import NewMember, RecordSpec, write_wheel

    out_dir = WORK / name
    wheel = out_dir / "bigmember-1.0-cp311-cp311-linux_x86_64.whl"
    if wheel.is_file():
        return wheel
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        tmp = Path(scratch)
        (tmp / "big.c").write_text(
            "#include <gmp.h>\nconst char *bigmember_gmp(void) { return gmp_version; }\n"
        )
        lib = tmp / "libbig.so"
        subprocess.run(
            ["gcc", "-shared", "-fPIC", "-O2", str(tmp / "big.c"), "-o", str(lib), "-lgmp"],
            check=True,
        )
        payload = tmp / "payload.bin"
        _payload(payload, flip_at)
        subprocess.run(
            ["objcopy", "--add-section", f".payload={payload}", str(lib), str(lib)], check=True
        )
        payload.unlink()
        stamp = (0x5A21, 0)
        dist = "bigmember-1.0.dist-info"
        members = [
            NewMember("bigmember/__init__.py", b"", False, stamp),
            NewMember("bigmember/libbig.so", lib, True, stamp),
            NewMember(
                f"{dist}/METADATA",
                b"Metadata-Version: 2.1\nName: bigmember\nVersion: 1.0\n",
                False,
                stamp,
            ),
            NewMember(
                f"{dist}/WHEEL",
                b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\n"
                b"Tag: cp311-cp311-linux_x86_64\n",
                False,
                stamp,
            ),
        ]
        write_wheel(wheel, members, None, level=1, record=RecordSpec(f"{dist}/RECORD", stamp, {}))
    return wheel


def build_bomb() -> Path:
    """3.2 MB of deflate that honestly inflates to 3.2 GB, in 50 members of 64 MB."""
    wheel = WORK / "bomb" / "bomb-1.0-py3-none-any.whl"
    if wheel.is_file():
        return wheel
    from truewheel.wheel.writer import NewMember, RecordSpec, write_wheel

    wheel.parent.mkdir(parents=True, exist_ok=True)
    zeros = bytes(64_000_000)
    stamp = (0x5A21, 0)
    members = [NewMember(f"bomb/zeros{i:02}.bin", zeros, False, stamp) for i in range(50)]
    members += [
        NewMember(
            "bomb-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: bomb\nVersion: 1.0\n",
            False,
            stamp,
        ),
        NewMember(
            "bomb-1.0.dist-info/WHEEL",
            b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            False,
            stamp,
        ),
    ]
    write_wheel(
        wheel, members, None, level=3, record=RecordSpec("bomb-1.0.dist-info/RECORD", stamp, {})
    )
    return wheel


_SELF_RSS = (
    "import resource, sys\n"
    "from truewheel.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "sys.stderr.write('TW-SELF-MAXRSS %d\\n' % peak)\n"
    "sys.exit(status)\n"
)


def measure(label: str, args: list[str], repeat: int) -> dict[str, Any]:
    argv = [sys.executable, "-c", _SELF_RSS, *args]
    runs: list[dict[str, Any]] = []
    for _ in range(repeat):
        m = c.run_measured(argv, rss_method="time", timeout=1800)
        own = next(
            (int(line.split()[1]) for line in m.stderr.splitlines() if "TW-SELF-MAXRSS" in line),
            None,
        )
        runs.append(
            {
                "wall_s": round(m.wall_s, 3),
                "peak_rss_mib": round((m.max_rss_kib or 0) / 1024, 1),
                "own_peak_rss_mib": round(own / 1024, 1) if own else None,
                "returncode": m.returncode,
                "stderr": m.stderr.strip().splitlines()[:1],
            }
        )
        print(f"  {label}: {runs[-1]}", flush=True)
    return {
        "label": label,
        "argv": args,
        "runs": runs,
        "median_wall_s": c.median(r["wall_s"] for r in runs),
        "max_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "max_own_peak_rss_mib": max((r["own_peak_rss_mib"] or 0) for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per 2 GiB case")
    args = parser.parse_args()
    if shutil.which("objcopy") is None:
        print("objcopy (binutils) is needed", file=sys.stderr)
        return 2
    print("building the test wheels (once) ...", flush=True)
    big_a = build_big_wheel("a", None)
    big_b = build_big_wheel("b", BIG // 2)
    bomb = build_bomb()
    results = []
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        out = Path(scratch)
        cases: list[tuple[str, list[str], int]] = [
            ("inspect", ["inspect", "--json", "--fail-on", "never", str(big_a)], args.repeat),
            ("normalize", ["normalize", "-w", str(out / "norm"), str(big_a)], args.repeat),
            ("repair (grafts GMP)", ["repair", "-w", str(out / "rep"), str(big_a)], args.repeat),
            ("diff", ["diff", str(big_a), str(big_b)], args.repeat),
            (
                "scan -j 2",
                [
                    "scan",
                    "--no-progress",
                    "-j",
                    "2",
                    "--catalog",
                    str(out / "c.sqlite"),
                    "--rescan",
                    str(big_a),
                ],
                args.repeat,
            ),
            ("zip bomb refused (inspect)", ["inspect", "--json", str(bomb)], 5),
        ]
        for label, argv, repeat in cases:
            print(label, flush=True)
            results.append(measure(label, argv, repeat))
            for path in (out / "norm", out / "rep"):
                shutil.rmtree(path, ignore_errors=True)
    machine = c.machine_info()
    document: dict[str, Any] = {
        "generated": c.now_iso(),
        "machine": machine,
        "big_member_bytes": big_a.stat().st_size,
        "bomb_bytes": bomb.stat().st_size,
        "limit_mib": LIMIT_MIB,
        "cases": results,
    }
    c.write_json(DEFAULT_JSON, document)
    lines = [
        "# Peak memory: a wheel with a 2 GiB member, and a zip bomb",
        "",
        f"Generated {document['generated']} by `benchmarks/memory.py` on "
        f"{machine['cpus']} cores ({machine['cpu']}).",
        f"`bigmember`: {big_a.stat().st_size / 2**30:.2f} GiB wheel, `libbig.so` with a 2 GiB "
        "section deflate cannot compress. Bomb: "
        f"{bomb.stat().st_size / 1e6:.1f} MB inflating to 3.2 GB. Target: {LIMIT_MIB} MiB.",
        "",
        "| case | exit | median wall | peak RSS (process tree) | truewheel's own peak |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        codes = ",".join(sorted({str(run["returncode"]) for run in r["runs"]}))
        lines.append(
            f"| {r['label']} | {codes} | {r['median_wall_s']:.2f} s | "
            f"{r['max_peak_rss_mib']:.0f} MiB | {r['max_own_peak_rss_mib']:.0f} MiB |"
        )
    lines += [
        "",
        "The process tree includes children: patchelf loads the whole library it edits, and",
        "repair's SBOM helper is a forked process. The torch figure is in `inspect-speed.md`.",
    ]
    c.write_text(DEFAULT_MD, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
