"""The benchmark harness: run commands, time them, describe the machine, write the reports.

Every script in this directory states only what to run and what to report; how a run is
timed (wall clock around the whole subprocess, peak RSS, CPU of the process tree, load
average before it), how repeats are interleaved and summarised (medians), how a report
starts (script, date, machine) and how it is written (Markdown and JSON, atomically) lives
here, once. Standard library only; the scripts are run directly (``python
benchmarks/speed.py``), so this module is imported as ``harness`` from ``sys.path[0]``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import hashlib
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
CORPUS_DIR = CACHE_DIR / "corpus"
RESULTS_DIR = BENCH_DIR / "results"
RAW_RESULTS_DIR = RESULTS_DIR / "raw"
GNU_TIME = Path("/usr/bin/time")
RSS_METHODS = ("auto", "time", "wait4")

Record = dict[str, Any]


# --------------------------------------------------------------------------- one run


@dataclass
class Measurement:
    """One finished subprocess: what it printed and what it cost."""

    argv: list[str]
    returncode: int
    wall_s: float
    max_rss_kib: int | None
    user_s: float
    sys_s: float
    stdout: str
    stderr: str
    rss_method: str
    loadavg_before: list[float] | None
    measured_at: str
    timed_out: bool = False

    def record(self) -> Record:
        """The run as stored in the JSON results."""
        return {
            "elapsed_s": round(self.wall_s, 4),
            "user_s": round(self.user_s, 3),
            "sys_s": round(self.sys_s, 3),
            "max_rss_kib": self.max_rss_kib,
            "returncode": self.returncode,
            "timed_out": self.timed_out,
            "loadavg_before": self.loadavg_before,
            "measured_at": self.measured_at,
        }

    def problem(self, ok: Iterable[int] = (0,), timeout: float | None = None) -> str | None:
        """Why the run does not count ("timed out ...", "exit N: last line"), or None."""
        if self.timed_out:
            return f"timed out after {timeout:.0f} s" if timeout else "timed out"
        if self.returncode not in tuple(ok):
            return f"exit {self.returncode}: {tail(self.stderr or self.stdout)}"
        return None


def resolve_rss_method(method: str) -> str:
    """``auto`` -> ``time`` when GNU time is installed, else ``wait4``."""
    if method == "auto":
        return "time" if GNU_TIME.is_file() and os.access(GNU_TIME, os.X_OK) else "wait4"
    if method not in {"time", "wait4", "none"}:
        raise ValueError(f"unknown RSS method {method!r}")
    return method


def describe_rss_method(method: str) -> str:
    return "/usr/bin/time -f %M" if resolve_rss_method(method) == "time" else "os.wait4 rusage"


def _read_text(handle: IO[bytes]) -> str:
    handle.seek(0)
    data: bytes = handle.read()
    return data.decode("utf-8", errors="replace")


def run(
    argv: Sequence[str | Path],
    *,
    rss_method: str = "none",
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Measurement:
    """Run ``argv`` once: wall clock (time.perf_counter), peak RSS, CPU seconds.

    ``time``: the command runs under ``/usr/bin/time -f %M -o FILE``, which gives the
    command's own peak RSS. ``wait4``: ``os.wait4``'s ``ru_maxrss`` of the one child (it
    may include the pre-exec copy of this Python). ``none``: no RSS. CPU is the
    ``RUSAGE_CHILDREN`` difference around the run, so it counts the whole process tree.
    stdout and stderr go to temporary files, so large outputs cannot block. On timeout
    the whole session (GNU time and the command) is killed.
    """
    method = resolve_rss_method(rss_method)
    args = [str(a) for a in argv]
    full = list(args)
    rss_file: Path | None = None
    if method == "time":
        fd, name = tempfile.mkstemp(prefix="tw-rss-", suffix=".txt")
        os.close(fd)
        rss_file = Path(name)
        full = [str(GNU_TIME), "-f", "%M", "-o", name, *args]
    killed = threading.Event()
    max_rss: int | None = None
    load_before = loadavg()
    measured_at = now_iso()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            full, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True
        )

        def _kill() -> None:
            killed.set()
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, 9)

        timer = threading.Timer(timeout, _kill) if timeout is not None else None
        if timer is not None:
            timer.start()
        try:
            if method == "wait4":
                _pid, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - start
                proc.returncode = os.waitstatus_to_exitcode(status)
                max_rss = int(usage.ru_maxrss)
            else:
                proc.wait()
                wall = time.perf_counter() - start
        finally:
            if timer is not None:
                timer.cancel()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stdout = _read_text(out)
        stderr = _read_text(err)
    if rss_file is not None:
        max_rss = _parse_gnu_time(rss_file)
        with contextlib.suppress(OSError):
            rss_file.unlink()
    return Measurement(
        argv=args,
        returncode=int(proc.returncode),
        wall_s=wall,
        max_rss_kib=max_rss,
        user_s=after.ru_utime - before.ru_utime,
        sys_s=after.ru_stime - before.ru_stime,
        stdout=stdout,
        stderr=stderr,
        rss_method=method,
        loadavg_before=load_before,
        measured_at=measured_at,
        timed_out=killed.is_set(),
    )


def _parse_gnu_time(path: Path) -> int | None:
    """Last integer of GNU time's -o file (it may first say 'Command exited ...')."""
    try:
        tokens = path.read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return None
    return next((int(t) for t in reversed(tokens) if t.isdigit()), None)


# --------------------------------------------------------------------------- repeated runs


@dataclass
class Step:
    """One command of a benchmark: what run ``i`` executes and how its result is judged.

    ``prepare(i)`` runs untimed before the command (a fresh output directory, say);
    ``inspect(i, m, record)`` runs after it and adds what the script wants to keep from
    the run (it may set ``record["error"]``, or clean up); a run whose exit status is
    not in ``ok`` is an error. Warm-up runs have negative ``i``.
    """

    name: str
    argv: Callable[[int], Sequence[str | Path]]
    ok: tuple[int, ...] = (0,)
    env: dict[str, str] | None = None
    cwd: Path | None = None
    prepare: Callable[[int], object] | None = None
    inspect: Callable[[int, Measurement, Record], object] | None = None

    def once(self, i: int, *, rss_method: str = "none", timeout: float | None = None) -> Record:
        if self.prepare is not None:
            self.prepare(i)
        m = run(self.argv(i), rss_method=rss_method, timeout=timeout, env=self.env, cwd=self.cwd)
        record = m.record()
        problem = m.problem(self.ok, timeout)
        if problem:
            record["error"] = problem
            record["stderr_tail"] = m.stderr[-2000:]
        if self.inspect is not None:
            self.inspect(i, m, record)
        return record

    def run_printed(self, i: int, label: str, **kwargs: Any) -> Record:
        """:meth:`once`, with a progress line ``  LABEL ... 1.23 s``."""
        print(f"  {label} ...", end="", flush=True)
        record = self.once(i, **kwargs)
        note = f" ({record['error']})" if "error" in record else ""
        print(f" {record['elapsed_s']:.2f} s{note}", flush=True)
        return record


def bench(
    steps: Sequence[Step],
    *,
    repeat: int,
    alternate: bool = False,
    rss_method: str = "none",
    timeout: float | None = None,
) -> dict[str, list[Record]]:
    """Run every step ``repeat`` times, interleaved and one at a time; runs per step.

    Round ``i`` runs the steps in their order (reversed in odd rounds with ``alternate``),
    so slow drift of the machine hits every command alike.
    """
    runs: dict[str, list[Record]] = {step.name: [] for step in steps}
    for i in range(repeat):
        order = list(reversed(steps)) if alternate and i % 2 else list(steps)
        for step in order:
            label = f"{step.name} run {i + 1}/{repeat}"
            runs[step.name].append(
                step.run_printed(i, label, rss_method=rss_method, timeout=timeout)
            )
    return runs


def warm_up(step: Step, count: int, *, timeout: float | None = None) -> list[Record]:
    """``count`` untimed runs of ``step`` (page cache, compiler, ...); their records."""
    return [
        step.run_printed(-1 - i, f"{step.name} warm-up {i + 1}", timeout=timeout)
        for i in range(count)
    ]


def summarize(runs: list[Record]) -> Record:
    """Medians over the runs without an error; every error listed."""
    ok = [x for x in runs if "error" not in x]
    times = [x["elapsed_s"] for x in ok]
    rss = [x["max_rss_kib"] for x in ok if x.get("max_rss_kib") is not None]
    return {
        "runs": runs,
        "median_s": median(times),
        "min_s": min(times, default=None),
        "median_user_s": median(x["user_s"] for x in ok if "user_s" in x),
        "median_sys_s": median(x["sys_s"] for x in ok if "sys_s" in x),
        "median_cpu_s": median(x["user_s"] + x["sys_s"] for x in ok if "user_s" in x),
        "peak_rss_kib": max(rss, default=None),
        "median_rss_kib": median(rss),
        "errors": [x["error"] for x in runs if "error" in x],
    }


def median(values: Iterable[float]) -> float | None:
    data = list(values)
    return statistics.median(data) if data else None


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` when both are known and ``b`` is not zero."""
    return a / b if a is not None and b else None


# --------------------------------------------------------------------------- the machine


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> Record:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc = ""
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "kernel": platform.release(),
        "libc": libc,
        "python": sys.version.split()[0],
        "loadavg": loadavg(),
    }


def source_revision() -> str | None:
    """``<short commit>`` of the repository, noting uncommitted changes under src/.

    Read-only git calls (``--no-optional-locks``: not even the index is refreshed).
    """
    git = ["git", "--no-optional-locks", "-C", str(REPO_DIR)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    changed = [ln for ln in status.stdout.splitlines() if ln.strip()]
    extra = f" + uncommitted changes to {len(changed)} file(s) under src/" if changed else ""
    return head.stdout.strip() + extra


def tool_version(cmd: Sequence[str]) -> str | None:
    """First line printed by ``CMD --version``, or None."""
    try:
        m = run([*cmd, "--version"], timeout=60)
    except OSError:
        return None
    text = (m.stdout or m.stderr).strip().splitlines()
    return text[0][:80] if m.returncode == 0 and text else None


def meta(truewheel: str, cmd: Sequence[str], **extra: Any) -> Record:
    """The ``meta`` object every report starts from: when, where, which truewheel."""
    return {
        "generated_at": now_iso(),
        "machine": machine_info(),
        "truewheel_cmd": truewheel,
        "truewheel_version": tool_version(cmd),
        "revision": source_revision(),
        **extra,
    }


# --------------------------------------------------------------------------- commands and tools


def command_available(argv: Sequence[str]) -> bool:
    if not argv:
        return False
    first = argv[0]
    if os.sep in first:
        return Path(first).is_file() and os.access(first, os.X_OK)
    return shutil.which(first) is not None


def project_python() -> Path:
    """The repository's ``.venv`` interpreter when there is one, else the running one."""
    venv = REPO_DIR / ".venv" / "bin" / "python"
    return venv if venv.is_file() else Path(sys.executable)


def project_truewheel() -> str:
    """``.venv/bin/truewheel`` of the repository when it exists, else ``truewheel``."""
    venv = REPO_DIR / ".venv" / "bin" / "truewheel"
    return str(venv) if venv.is_file() else "truewheel"


class ToolError(RuntimeError):
    """A tool the benchmark needs (a peer's venv, fixtures, patchelf, an sdist) is missing."""


def venv_packages(venv: Path) -> dict[str, str]:
    """``{distribution: version}`` of everything installed in ``venv``."""
    python = venv / "bin" / "python"
    if not python.is_file():
        return {}
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {}
    data: dict[str, str] = json.loads(proc.stdout)
    return dict(sorted(data.items()))


def tool_venv(venv: Path, dist: str, version: str, exe: str | None = None) -> Path:
    """A private venv with ``dist==version`` (created or fixed when needed); its console script.

    Peers run from their own pinned venvs so that their versions do not drift with the
    project's environment.
    """
    script = venv / "bin" / (exe or dist)
    if venv_packages(venv).get(dist) == version and script.is_file():
        return script
    print(f"creating {rel(venv)} with {dist}=={version}", flush=True)
    python = venv / "bin" / "python"
    steps = [] if python.is_file() else [[sys.executable, "-m", "venv", str(venv)]]
    steps.append([str(python), "-m", "pip", "install", "-q", f"{dist}=={version}"])
    for argv in steps:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ToolError(f"{' '.join(argv[1:4])} failed: {tail(proc.stderr + proc.stdout, 3)}")
    if venv_packages(venv).get(dist) != version or not script.is_file():
        raise ToolError(f"{dist}=={version} is not usable in {rel(venv)}")
    return script


def corpus_dir(given: Path | None, prog: str) -> Path | None:
    """The directory of corpus wheels to measure: ``given``, else benchmarks/.cache/corpus
    fetched first (``fetch_corpus.py --allow-offline``); None, after one line saying why,
    when there is nothing to measure (offline, say), which is no failure of the script.
    """
    corpus = given or CORPUS_DIR
    if given is None:
        fetch = [sys.executable, str(BENCH_DIR / "fetch_corpus.py"), "--allow-offline"]
        if subprocess.run(fetch, check=False).returncode != 0:
            print(f"{prog}: fetching the corpus failed; nothing measured")
            return None
    if not any(corpus.glob("*.whl")):
        print(f"{prog}: corpus not available; nothing measured")
        return None
    return corpus


def pip_download(
    python: Path | str,
    options: Sequence[str],
    spec: str,
    dest: Path,
    find: Callable[[Path], Path | None],
    timeout: float | None = None,
) -> tuple[Path | None, str]:
    """``pip download OPTIONS SPEC`` into a scratch dir, the file ``find`` picks moved to ``dest``.

    Returns (the file in ``dest`` or None, pip's output). The scratch dir lies in the cache,
    so nothing half-downloaded ever appears in ``dest``.
    """
    scratch = CACHE_DIR / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    dest.mkdir(parents=True, exist_ok=True)
    argv = [str(python), "-m", "pip", "download", "--disable-pip-version-check"]
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        m = run([*argv, "--progress-bar", "off", *options, "-d", tmp, spec], timeout=timeout)
        output = m.stderr + m.stdout + (f"\ntimed out after {timeout:.0f} s" if m.timed_out else "")
        got = find(Path(tmp)) if m.returncode == 0 else None
        if got is None:
            return None, output
        target = dest / got.name
        shutil.move(str(got), target)
    return target, output


# --------------------------------------------------------------------------- command line


def positive(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}")
        return value

    return parse


def parser(description: str, *, truewheel: str | None = "truewheel") -> argparse.ArgumentParser:
    """An argument parser with ``--truewheel CMD`` (unless ``truewheel`` is None)."""
    p = argparse.ArgumentParser(description=description)
    if truewheel is not None:
        p.add_argument(
            "--truewheel",
            default=truewheel,
            help="truewheel command (shell-split; default: %(default)s)",
        )
    return p


def add_repeat(
    p: argparse.ArgumentParser, repeat: int = 3, warmup: int | None = 1, what: str = "truewheel"
) -> None:
    p.add_argument(
        "--repeat", type=positive(1), default=repeat, help=f"timed runs (default {repeat})"
    )
    if warmup is not None:
        p.add_argument(
            "--warmup",
            type=positive(0),
            default=warmup,
            help=f"untimed {what} runs first (default {warmup})",
        )


def add_outputs(
    p: argparse.ArgumentParser, name: str, *, raw_json: bool = False, aliases: Sequence[str] = ()
) -> None:
    """``--output-md`` and ``--output-json``, defaulting to results/NAME.md and NAME.json.

    ``raw_json``: the JSON goes to results/raw/ (git-ignored); ``aliases``: older names of
    the two options, which keep working.
    """
    md_alias, json_alias = aliases or (None, None)
    json_dir = RAW_RESULTS_DIR if raw_json else RESULTS_DIR
    for flag, alias, dest, default in (
        ("--output-md", md_alias, "output_md", RESULTS_DIR / f"{name}.md"),
        ("--output-json", json_alias, "output_json", json_dir / f"{name}.json"),
    ):
        flags = [flag, alias] if alias else [flag]
        p.add_argument(
            *flags, dest=dest, type=Path, default=default, help=f"default: {rel(default)}"
        )


def truewheel_command(text: str, prog: str) -> list[str]:
    """The shell-split truewheel command; exit 2 with a one-line message when it is missing."""
    cmd = shlex.split(text)
    if not command_available(cmd):
        print(
            f"{prog}: truewheel command not found: {text!r} "
            "(give one with --truewheel, e.g. '.venv/bin/truewheel')",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return cmd


# --------------------------------------------------------------------------- reports


def header(title: str, script: str, meta: Record, python: str = "") -> list[str]:
    """Title, script and date, and the machine line every Markdown report starts with."""
    mach = meta["machine"]
    return [
        f"# {title}",
        "",
        f"Generated by `benchmarks/{script}` on {meta['generated_at']}.",
        (
            f"Machine: {mach['cpu']} ({mach['machine']}), {mach['cpus']} CPUs, {mach['libc']}, "
            f"Python {mach['python']}{f' ({python})' if python else ''}; "
            f"load average at start {mach['loadavg']}."
        ),
    ]


def table(columns: str, align: str, rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table: ``columns`` as in its header (``"a | b"``), ``align`` one ``l`` or
    ``r`` per column."""
    lines = [
        f"| {columns} |",
        "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def fmt_s(value: float | None, places: int | None = None) -> str:
    """Seconds: fixed ``places``, or 3 places below 10 s and 1 above."""
    if value is None:
        return "—"
    if places is None:
        places = 3 if value < 10 else 1
    return f"{value:.{places}f}"


def fmt_mb(size_bytes: int) -> str:
    mb = size_bytes / 1e6
    return f"{mb:.3f}" if mb < 1 else f"{mb:.1f}"


def fmt_mib(kib: int | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.0f}"


def fmt_ratio(value: float | None, places: int = 1) -> str:
    return "—" if value is None else f"{value:.{places}f}x"


def load_range(runs: Iterable[Record], prefix: str = "; ") -> str:
    """``; 1-min load A-B`` over the runs' ``loadavg_before``, or ''."""
    loads = [x["loadavg_before"][0] for x in runs if x.get("loadavg_before")]
    return f"{prefix}1-min load {min(loads):.2f}-{max(loads):.2f}" if loads else ""


def write_json(path: Path, data: object) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write atomically (temp file beside the target, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_report(md_path: Path, markdown: str, json_path: Path, data: object) -> None:
    write_json(json_path, data)
    write_text(md_path, markdown)
    print(f"wrote {rel(md_path)} and {rel(json_path)}")


def rel(path: Path) -> str:
    """Path relative to the repository root when possible (for reports)."""
    try:
        return str(path.resolve().relative_to(REPO_DIR))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- small helpers


def json_doc(text: str) -> Record | None:
    """The JSON object in ``text``, or None."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def tail(text: str, lines: int = 1, limit: int = 400) -> str:
    """The last non-empty lines of ``text`` (pip's find-links noise dropped), joined by ' | '."""
    kept = [
        ln.strip()
        for ln in text.splitlines()
        if ln.strip() and "is ignored: it is neither a file nor a directory" not in ln
    ]
    return " | ".join(kept[-lines:])[-limit:] if kept else "no output"


def fresh_dir(path: Path, *, private: bool = False) -> Path:
    """An empty directory at ``path`` (removed first when it exists).

    ``private``: mode 0700, which is what truewheel accepts as a build root.
    """
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir()
    if private:
        path.chmod(0o700)
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
