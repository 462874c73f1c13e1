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
Needs ~4.5 GB of disk in benchmarks/.cache/memory; ``--cases`` picks a subset.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import harness as h

WORK = h.CACHE_DIR / "memory"
BIG = 2 << 30
BLOCK = 48 << 10
LIMIT_MIB = 300
CASES = ("inspect", "normalize", "repair", "diff", "scan", "bomb")

sys.path.insert(0, str(h.REPO_DIR / "src"))


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


def own_peak(i: int, m: h.Measurement, record: dict[str, Any]) -> None:
    """truewheel's own peak RSS (RUSAGE_SELF, printed by the wrapper), beside the tree's."""
    own = next((ln.split()[1] for ln in m.stderr.splitlines() if "TW-SELF-MAXRSS" in ln), None)
    record["own_peak_rss_kib"] = int(own) if own else None
    record["stderr"] = m.stderr.strip().splitlines()[:1]


def measure(label: str, args: list[str], repeat: int, out: Path) -> dict[str, Any]:
    """``repeat`` runs of ``truewheel ARGS`` under GNU time, outputs cleared after each."""

    def clear(i: int) -> None:
        for path in (out / "norm", out / "rep"):
            shutil.rmtree(path, ignore_errors=True)

    # exit 1 is diff's "different" and inspect's findings; 2 is the bomb's refusal
    step = h.Step(
        label,
        lambda i: [sys.executable, "-c", _SELF_RSS, *args],
        ok=(0, 1, 2),
        prepare=clear,
        inspect=own_peak,
    )
    runs = h.bench([step], repeat=repeat, rss_method="time", timeout=1800)[label]
    clear(0)
    mib = [(x["max_rss_kib"] or 0) / 1024 for x in runs]
    own = [(x["own_peak_rss_kib"] or 0) / 1024 for x in runs]
    return {
        **h.summarize(runs),
        "label": label,
        "argv": args,
        "median_wall_s": h.median(x["elapsed_s"] for x in runs),
        "max_peak_rss_mib": round(max(mib), 1),
        "max_own_peak_rss_mib": round(max(own), 1),
    }


def build_markdown(document: dict[str, Any]) -> str:
    rows = [
        [
            r["label"],
            ",".join(sorted({str(run["returncode"]) for run in r["runs"]})),
            f"{h.fmt_s(r['median_wall_s'], 2)} s",
            f"{r['max_peak_rss_mib']:.0f} MiB",
            f"{r['max_own_peak_rss_mib']:.0f} MiB",
        ]
        for r in document["cases"]
    ]
    lines = [
        *h.header(
            "Peak memory: a wheel with a 2 GiB member, and a zip bomb",
            "memory.py",
            document["meta"],
        ),
        f"`bigmember`: {document['big_member_bytes'] / 2**30:.2f} GiB wheel, `libbig.so` with a "
        "2 GiB section deflate cannot compress. Bomb: "
        f"{document['bomb_bytes'] / 1e6:.1f} MB inflating to 3.2 GB. Target: {LIMIT_MIB} MiB.",
        "",
        *h.table(
            "case | exit | median wall | peak RSS (process tree) | truewheel's own peak",
            "lrrrr",
            rows,
        ),
        "",
        "The process tree includes children: patchelf loads the whole library it edits, and",
        "repair's SBOM helper is a forked process. The torch figure is in `inspect-speed.md`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = h.parser((__doc__ or "").splitlines()[0], truewheel=None)
    parser.add_argument("--repeat", type=h.positive(1), default=1, help="runs per 2 GiB case")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    h.add_outputs(parser, "memory")
    args = parser.parse_args(argv)
    if shutil.which("objcopy") is None:
        print("objcopy (binutils) is needed", file=sys.stderr)
        return 2
    print("building the test wheels (once) ...", flush=True)
    big_a = build_big_wheel("a", None)
    big_b = build_big_wheel("b", BIG // 2) if "diff" in args.cases else big_a
    bomb = build_bomb()
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        out = Path(scratch)
        scan = ["scan", "--no-progress", "-j", "2", "--catalog", str(out / "c.sqlite")]
        cases: dict[str, tuple[str, list[str], int]] = {
            "inspect": ("inspect", ["inspect", "--json", "--fail-on", "never", str(big_a)], 0),
            "normalize": ("normalize", ["normalize", "-w", str(out / "norm"), str(big_a)], 0),
            "repair": ("repair (grafts GMP)", ["repair", "-w", str(out / "rep"), str(big_a)], 0),
            "diff": ("diff", ["diff", str(big_a), str(big_b)], 0),
            "scan": ("scan -j 2", [*scan, "--rescan", str(big_a)], 0),
            "bomb": ("zip bomb refused (inspect)", ["inspect", "--json", str(bomb)], 5),
        }
        results = []
        for key in args.cases:
            label, case_argv, repeat = cases[key]
            results.append(measure(label, case_argv, repeat or args.repeat, out))
    document: dict[str, Any] = {
        "meta": h.meta("python -c 'truewheel.cli.main'", [sys.executable, "-m", "truewheel"]),
        "big_member_bytes": big_a.stat().st_size,
        "bomb_bytes": bomb.stat().st_size,
        "limit_mib": LIMIT_MIB,
        "cases": results,
    }
    markdown = build_markdown(document)
    h.write_report(args.output_md, markdown, args.output_json, document)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
