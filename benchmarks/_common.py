"""Shared helpers for the truewheel benchmark scripts.

Standard library only. The scripts in this directory are run directly
(``python benchmarks/fetch.py``), so this module is imported as ``_common``
from ``sys.path[0]``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
WHEEL_DIR = CACHE_DIR / "wheels"
RESULTS_DIR = BENCH_DIR / "results"
RAW_RESULTS_DIR = RESULTS_DIR / "raw"
WHEELS_TXT = BENCH_DIR / "wheels.txt"

GNU_TIME = Path("/usr/bin/time")

# PEP 600 legacy aliases -> canonical glibc-versioned names.
LEGACY_MANYLINUX = {
    "manylinux1": "manylinux_2_5",
    "manylinux2010": "manylinux_2_12",
    "manylinux2014": "manylinux_2_17",
}

_REQ_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(?P<version>[^\s;#]+)$")
_WHEEL_RE = re.compile(
    r"^(?P<dist>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?"
    r"-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)


# --------------------------------------------------------------------------- requirements


@dataclass(frozen=True)
class Requirement:
    """One ``name==version`` line of wheels.txt."""

    name: str
    version: str
    lineno: int
    comment: str = ""

    @property
    def key(self) -> str:
        return normalize_name(self.name)

    @property
    def local_only(self) -> bool:
        """``# local-only`` in the comment: never ask the index for this one."""
        return "local-only" in self.comment

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def normalize_name(name: str) -> str:
    """PEP 503 style normalisation, with ``_`` as separator (as in wheel filenames)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def parse_requirements(path: Path = WHEELS_TXT) -> list[Requirement]:
    """Parse wheels.txt. Raises ValueError naming the line on a malformed entry."""
    reqs: list[Requirement] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        body, _, comment = raw.partition("#")
        body = body.strip()
        if not body:
            continue
        match = _REQ_RE.match(body)
        if match is None:
            raise ValueError(f"{path}:{lineno}: expected 'name==version', got {body!r}")
        reqs.append(Requirement(match["name"], match["version"], lineno, comment.strip()))
    return reqs


# --------------------------------------------------------------------------- wheel names


@dataclass(frozen=True)
class WheelName:
    filename: str
    distribution: str
    version: str
    build: str | None
    python: str
    abi: str
    platform: str

    @property
    def key(self) -> str:
        return normalize_name(self.distribution)

    @property
    def platforms(self) -> list[str]:
        return self.platform.split(".")


def parse_wheel_filename(filename: str) -> WheelName | None:
    match = _WHEEL_RE.match(filename)
    if match is None:
        return None
    return WheelName(
        filename=filename,
        distribution=match["dist"],
        version=match["version"],
        build=match["build"],
        python=match["python"],
        abi=match["abi"],
        platform=match["platform"],
    )


def _release_key(version: str) -> tuple[str, ...]:
    """Version without local label, trailing ``.0`` release parts dropped."""
    public = version.split("+", 1)[0].lower()
    parts = public.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return tuple(parts)


def version_matches(pin: str, version: str) -> bool:
    """``==pin`` semantics for the simple pins used here (a local label on the file is ok)."""
    if "+" in pin:
        return pin.lower() == version.lower()
    return _release_key(pin) == _release_key(version)


def wheel_matches(req: Requirement, wheel: WheelName) -> bool:
    return wheel.key == req.key and version_matches(req.version, wheel.version)


def list_wheels(directory: Path = WHEEL_DIR) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(".whl") and p.is_file())


def find_wheel(req: Requirement, directory: Path = WHEEL_DIR) -> Path | None:
    for path in list_wheels(directory):
        parsed = parse_wheel_filename(path.name)
        if parsed is not None and wheel_matches(req, parsed):
            return path
    return None


def select_wheels(
    specs: Sequence[str], directory: Path = WHEEL_DIR
) -> tuple[list[Path], list[str]]:
    """Resolve user wheel specs: a path to a .whl, ``name`` or ``name==version``.

    Returns (wheels found, specs that matched nothing).
    """
    found: list[Path] = []
    missing: list[str] = []
    cached = [(p, parse_wheel_filename(p.name)) for p in list_wheels(directory)]
    for spec in specs:
        as_path = Path(spec)
        if spec.endswith(".whl") and as_path.is_file():
            found.append(as_path.resolve())
            continue
        name, _, version = spec.partition("==")
        key = normalize_name(name.strip())
        hits = [
            p
            for p, w in cached
            if w is not None
            and w.key == key
            and (not version or version_matches(version.strip(), w.version))
        ]
        if hits:
            found.extend(hits)
        else:
            missing.append(spec)
    return found, missing


# --------------------------------------------------------------------------- platform tags


def normalize_tag(tag: str) -> str:
    """Canonical platform tag: legacy manylinux aliases mapped to PEP 600 names.

    A compressed tag set (``a.b``) is normalised part by part; duplicates that
    the mapping creates are folded, the order of first appearance is kept.
    """
    out: list[str] = []
    for part in tag.strip().split("."):
        canon = part
        for legacy, modern in LEGACY_MANYLINUX.items():
            if part.startswith(legacy + "_"):
                canon = modern + part[len(legacy) :]
                break
        if canon and canon not in out:
            out.append(canon)
    return ".".join(out)


# --------------------------------------------------------------------------- measuring


@dataclass
class Measurement:
    argv: list[str]
    returncode: int
    wall_s: float
    max_rss_kib: int | None
    stdout: str
    stderr: str
    rss_method: str
    timed_out: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_rss_method(method: str) -> str:
    """``auto`` -> ``time`` when GNU time is installed, else ``wait4``."""
    if method == "auto":
        return "time" if GNU_TIME.is_file() and os.access(GNU_TIME, os.X_OK) else "wait4"
    if method not in {"time", "wait4", "none"}:
        raise ValueError(f"unknown RSS method {method!r}")
    return method


def _read_text(handle: IO[bytes]) -> str:
    handle.seek(0)
    data: bytes = handle.read()
    return data.decode("utf-8", errors="replace")


def run_measured(
    argv: Sequence[str],
    *,
    rss_method: str = "auto",
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Measurement:
    """Run ``argv`` once; wall clock (time.perf_counter) and the child's peak RSS.

    ``time``: the command runs under ``/usr/bin/time -f %M -o FILE`` and the
    peak RSS (KiB) is read from FILE. ``wait4``: the command is a direct child
    and ``os.wait4`` returns its rusage. ``none``: no RSS. In every mode
    stdout and stderr go to temporary files, so large outputs cannot block.
    """
    method = resolve_rss_method(rss_method)
    argv = [str(a) for a in argv]
    full = list(argv)
    rss_file: Path | None = None
    if method == "time":
        fd, name = tempfile.mkstemp(prefix="tw-rss-", suffix=".txt")
        os.close(fd)
        rss_file = Path(name)
        full = [str(GNU_TIME), "-f", "%M", "-o", name, *argv]
    killed = threading.Event()
    max_rss: int | None = None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        # A new session, so a timeout can kill GNU time *and* the measured command.
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
        returncode = int(proc.returncode)
        stdout = _read_text(out)
        stderr = _read_text(err)
    if rss_file is not None:
        max_rss = _parse_gnu_time(rss_file)
        with contextlib.suppress(OSError):
            rss_file.unlink()
    return Measurement(
        argv=argv,
        returncode=returncode,
        wall_s=wall,
        max_rss_kib=max_rss,
        stdout=stdout,
        stderr=stderr,
        rss_method=method,
        timed_out=killed.is_set(),
    )


def _parse_gnu_time(path: Path) -> int | None:
    """Last integer line of GNU time's -o file (it may first say 'Command exited ...')."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return None
    for token in reversed(lines):
        if token.isdigit():
            return int(token)
    return None


def split_command(cmd: str) -> list[str]:
    return shlex.split(cmd)


def tool_version(cmd: Sequence[str]) -> str | None:
    """First line printed by ``CMD --version``, or None."""
    try:
        m = run_measured([*cmd, "--version"], rss_method="none", timeout=60)
    except OSError:
        return None
    text = (m.stdout or m.stderr).strip().splitlines()
    return text[0][:80] if m.returncode == 0 and text else None


def command_available(argv: Sequence[str]) -> bool:
    if not argv:
        return False
    first = argv[0]
    if os.sep in first:
        return Path(first).is_file() and os.access(first, os.X_OK)
    return shutil.which(first) is not None


# --------------------------------------------------------------------------- misc


def median(values: Iterable[float]) -> float | None:
    data = list(values)
    return statistics.median(data) if data else None


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
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


def write_json(path: Path, data: object) -> None:
    """Write JSON atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def rel(path: Path) -> str:
    """Path relative to the repository root when possible (for reports)."""
    try:
        return str(path.resolve().relative_to(BENCH_DIR.parent))
    except ValueError:
        return str(path)


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
