"""Fuzz every harness for a bounded time, one after the other; exit 1 on any finding.

    python fuzz/run.py                  # all harnesses, FUZZ_SECONDS (60) each
    python fuzz/run.py zip elf          # some of them
    FUZZ_SECONDS=600 python fuzz/run.py sdist

A finding is any exception that is not truewheel's own, a broken promise a harness checks
(``harnesses.Finding``), an input running over FUZZ_TIMEOUT seconds (2) or the process
growing over FUZZ_RSS_MB (512).  Each finding's input is kept in ``fuzz/.cache/findings/``
and printed in base64 (turn it into a reproducer in ``fuzz/reproducers.py``).
The corpus grows in ``fuzz/.cache/corpus/`` across runs; seeds are generated afresh from
the test fixtures each time (``seeds.py``).  ``FUZZ_SECONDS=0`` skips fuzzing.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import seeds
from findings import KEEP_GOING
from reproducers import reproducers

FUZZ_DIR = Path(__file__).resolve().parent
CACHE = FUZZ_DIR / ".cache"
REGRESSIONS = CACHE / "regressions"
HARNESSES = tuple(seeds.MAX_LEN)
#: How long a harness may take to start and load its corpus on top of its fuzzing time.
STARTUP_SLACK_S = 180
#: Findings longer than this are shown by path only.
SHOW_BYTES = 1024


@dataclass
class Outcome:
    harness: str
    seconds: float = 0.0
    returncodes: list[int | None] = field(default_factory=list)
    execs: int = 0
    peak_rss_mb: int = 0
    cov: str = "?"
    ft: str = "?"
    corpus: str = "?"
    findings: list[Path] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(code != 0 for code in self.returncodes) or bool(self.findings)

    def add_log(self, log: Path) -> None:
        self.logs.append(log)
        text = log.read_text(errors="replace")
        stats = dict(re.findall(r"^stat::(\w+):\s*(\d+)", text, re.M))
        self.execs += int(stats.get("number_of_executed_units", 0))
        self.peak_rss_mb = max(self.peak_rss_mb, int(stats.get("peak_rss_mb", 0)))
        progress = re.findall(r"cov: (\d+) ft: (\d+) corp: (\S+)", text)
        if progress:
            self.cov, self.ft, self.corpus = progress[-1]


def _env_number(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _scratch_base() -> str | None:
    """Where harnesses write their files: FUZZ_TMPDIR, else tmpfs, where mkdir/rmdir cost
    microseconds instead of the milliseconds they take on this machine's disk (10x the execs)."""
    chosen = os.environ.get("FUZZ_TMPDIR")
    if chosen:
        return chosen
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _run_once(argv: list[str], log: Path, seconds: int, keep_going: Path | None) -> int | None:
    with tempfile.TemporaryDirectory(prefix="truewheel-fuzz-", dir=_scratch_base()) as scratch:
        cwd, tmp = Path(scratch, "cwd"), Path(scratch, "tmp")
        cwd.mkdir()
        tmp.mkdir()
        env = {**os.environ, "TMPDIR": str(tmp), "PYTHONHASHSEED": "0"}
        if keep_going:
            env[KEEP_GOING] = str(keep_going)
        with log.open("w") as out:
            try:
                return subprocess.run(
                    argv,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=seconds + STARTUP_SLACK_S,
                    check=False,
                ).returncode
            except subprocess.TimeoutExpired:
                return None


def fuzz(
    harness: str, seed_dir: Path, limits: tuple[int, int, int], *, keep_going: bool = False
) -> Outcome:
    """Fuzz one harness; with ``keep_going``, restart after timeouts and collect every finding."""
    seconds, timeout, rss_mb = limits
    corpus = CACHE / "corpus" / harness
    found = CACHE / "findings" / harness
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(found, ignore_errors=True)
    found.mkdir(parents=True)
    (CACHE / "logs").mkdir(parents=True, exist_ok=True)
    dirs = [corpus, seed_dir]
    if (REGRESSIONS / harness).is_dir():
        dirs.append(REGRESSIONS / harness)
    outcome = Outcome(harness)
    started = time.monotonic()
    while True:
        remaining = int(seconds - (time.monotonic() - started))
        if outcome.returncodes and (not keep_going or remaining < 5):
            break
        argv = [
            sys.executable,
            str(FUZZ_DIR / "target.py"),
            harness,
            *map(str, dirs),
            f"-max_total_time={max(remaining, 1)}",
            f"-timeout={timeout}",
            f"-rss_limit_mb={rss_mb}",
            f"-max_len={seeds.MAX_LEN[harness]}",
            f"-dict={seed_dir.parent / f'{harness}.dict'}",
            f"-artifact_prefix={found}/",
            "-print_final_stats=1",
        ]
        log = CACHE / "logs" / f"{harness}.{len(outcome.logs)}.log"
        code = _run_once(argv, log, remaining, found / "exceptions" if keep_going else None)
        outcome.returncodes.append(code)
        outcome.add_log(log)
        if code == 0:
            break
    outcome.seconds = time.monotonic() - started
    outcome.findings = sorted(p for p in found.rglob("*") if p.is_file() and p.suffix != ".txt")
    return outcome


def _excerpt(log: Path) -> list[str]:
    """What the log says about the failure: the Python traceback or libFuzzer's error."""
    lines = log.read_text(errors="replace").splitlines()
    keep: list[str] = []
    for i, line in enumerate(lines):
        if "Uncaught Python exception" in line:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("==")), i + 40)
            keep += lines[i : min(end, i + 40)]
        elif "ERROR: libFuzzer" in line or line.startswith("SUMMARY:"):
            keep.append(line)
    return keep or lines[-15:]


def report(outcome: Outcome) -> None:
    state = "FAILED" if outcome.failed else "ok"
    rate = outcome.execs / outcome.seconds if outcome.seconds else 0
    print(
        f"fuzz {outcome.harness:8} {state:6} {outcome.seconds:6.0f} s {outcome.execs:>9} execs "
        f"{rate:6.0f} exec/s  cov {outcome.cov:>5} ft {outcome.ft:>6} "
        f"corpus {outcome.corpus:>10}  peak {outcome.peak_rss_mb} MB",
        flush=True,
    )
    if not outcome.failed:
        return
    if None in outcome.returncodes:
        print("  the fuzzer did not stop in time and was killed")
    for log, code in zip(outcome.logs, outcome.returncodes, strict=True):
        for line in _excerpt(log) if code != 0 else []:
            print(f"  | {line}")
    for path in outcome.findings:
        data = path.read_bytes()
        note = path.with_suffix(".txt")
        what = note.read_text().splitlines()[0] if note.exists() else path.name.split("-")[0]
        print(f"  {what}: {path} ({len(data)} bytes)")
        if len(data) <= SHOW_BYTES:
            print(f"  base64 {base64.b64encode(data).decode()}")
    print(f"  logs in {CACHE / 'logs'}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("harness", nargs="*", help=f"any of {', '.join(HARNESSES)} (default: all)")
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="collect every distinct finding for the whole time instead of stopping at the first",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.harness) - set(HARNESSES))
    if unknown:
        parser.error(f"unknown harness: {', '.join(unknown)}")
    seconds = _env_number("FUZZ_SECONDS", 60)
    if seconds <= 0:
        print("fuzz: skipped (FUZZ_SECONDS=0)")
        return 0
    try:
        import atheris  # noqa: F401  # only checked here; target.py is what uses it
    except ImportError:
        print("fuzz: atheris is not installed (pip install -e '.[test]'); FUZZ_SECONDS=0 skips")
        return 2
    timeout = _env_number("FUZZ_TIMEOUT", 2)
    rss_mb = _env_number("FUZZ_RSS_MB", 512)
    shutil.rmtree(CACHE / "seeds", ignore_errors=True)
    seed_dirs = seeds.generate(CACHE / "seeds")
    shutil.rmtree(REGRESSIONS, ignore_errors=True)
    for name, data in reproducers().items():
        (REGRESSIONS / name).parent.mkdir(parents=True, exist_ok=True)
        (REGRESSIONS / name).write_bytes(data)
    failed = False
    for harness in args.harness or HARNESSES:
        limits = (seconds, timeout, rss_mb)
        outcome = fuzz(harness, seed_dirs[harness], limits, keep_going=args.keep_going)
        report(outcome)
        failed |= outcome.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
