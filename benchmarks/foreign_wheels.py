#!/usr/bin/env python3
"""The real macOS and Windows wheels of the benchmark corpus (issue 14), fetched on this Linux host.

Each entry is (project, version, pip platform, python version). They are fetched with::

    pip download --only-binary :all: --no-deps --platform P --python-version 3.11 NAME==VERSION

into ``benchmarks/.cache/foreign/<platform asked>/`` (git ignores ``benchmarks/.cache/``). What the
index does not have for that platform is skipped with a message. pip expands a macOS platform
to the older macOS versions and to the multi-arch tags that cover it (``macosx_14_0_arm64``
accepts ``macosx_11_0_arm64`` and ``universal2``), so the file pip picks is the one an
installer on such a Mac would pick; ``macosx_11_0_universal2`` asks for universal2 alone.

The versions are those of the Linux corpus (``wheels.txt``) where there is one, so ``scan`` can
group the same library across the three platforms; numpy, scipy, pillow, gmpy2 and
cryptography come in two or three versions (cryptography 50 and zstandard 0.25 have no
universal2 wheel any more, cryptography 50 no macOS x86_64, win32 or win_arm64 one
(46.0.7 stands for universal2 and win32; neither version has win_arm64)) for the scan figures.

    python benchmarks/foreign_wheels.py            # fetch what is missing
    python benchmarks/foreign_wheels.py --list     # what is in the cache (size, tag)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import harness as h

FOREIGN_DIR = h.CACHE_DIR / "foreign"
PYTHON_VERSION = "3.11"
MAX_BYTES = 1 << 30  # torch builds over 1 GiB are not kept (none of the pinned ones is)

MAC_ARM = "macosx_14_0_arm64"
MAC_X86 = "macosx_14_0_x86_64"
MAC_U2 = "macosx_11_0_universal2"
WIN64 = "win_amd64"
WIN32 = "win32"
WINARM = "win_arm64"


class Entry(NamedTuple):
    project: str
    version: str
    platform: str
    python: str = PYTHON_VERSION

    @property
    def spec(self) -> str:
        return f"{self.project}=={self.version}"


def _each(project: str, version: str, *platforms: str) -> list[Entry]:
    return [Entry(project, version, p) for p in platforms]


CORPUS: tuple[Entry, ...] = (
    *_each("torch", "2.13.0", MAC_ARM, WIN64),
    *_each("numpy", "2.4.6", MAC_ARM, MAC_X86, WIN64, WIN32, WINARM),
    *_each("numpy", "2.3.5", MAC_ARM, WIN64),
    *_each("numpy", "2.2.6", MAC_ARM, WIN64),
    *_each("scipy", "1.17.0", MAC_ARM, MAC_X86, WIN64, WINARM),
    *_each("scipy", "1.16.3", MAC_ARM, WIN64),
    *_each("pillow", "13.0.0", MAC_ARM, MAC_X86, WIN64, WIN32, WINARM),
    *_each("pillow", "12.3.0", MAC_ARM, WIN64),
    *_each("lxml", "6.1.3", MAC_ARM, MAC_U2, WIN64, WIN32, WINARM),
    *_each("opencv-python-headless", "5.0.0.93", MAC_ARM, MAC_X86, WIN64),
    *_each("gmpy2", "2.3.2", MAC_ARM, MAC_X86, WIN64, WINARM),
    *_each("gmpy2", "2.2.1", MAC_ARM, WIN64),
    *_each("python-flint", "0.9.0", MAC_ARM, MAC_X86, WIN64, WINARM),
    *_each("pyarrow", "26.0.1", MAC_ARM, MAC_X86, WIN64),
    *_each("cryptography", "50.0.2", MAC_ARM, WIN64),
    *_each("cryptography", "46.0.7", MAC_U2, WIN64, WIN32),
    *_each("grpcio", "1.85.1", MAC_U2, WIN64, WIN32),
    *_each("h5py", "3.16.0", MAC_ARM, MAC_X86, WIN64),
    *_each("psycopg2-binary", "2.9.13", MAC_ARM, WIN64),
    *_each("pyzmq", "27.3.0", MAC_U2, WIN64, WINARM),
    *_each("shapely", "2.2.0", MAC_ARM, WIN64),
    *_each("pyproj", "3.7.2", MAC_ARM, WIN64),
    *_each("scikit-learn", "1.9.1", MAC_ARM, MAC_X86, WIN64),
    *_each("llvmlite", "0.50.0", MAC_ARM, WIN64),
    *_each("matplotlib", "3.11.2", MAC_ARM, WIN64),
    *_each("lightgbm", "4.7.0", MAC_ARM, WIN64),
    *_each("pynacl", "1.6.2", MAC_ARM, WIN64),
    *_each("zstandard", "0.25.0", MAC_ARM, WIN64),
)


def wheel_path(entry: Entry) -> Path | None:
    """The cached wheel of ``entry`` (kept in a folder named after the platform asked), or None."""
    folder = FOREIGN_DIR / entry.platform
    stem = f"{entry.project.replace('-', '_').lower()}-{entry.version}-"
    found = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    return next((p for p in found if p.name.lower().startswith(stem)), None)


def fetch(entry: Entry) -> tuple[str, Path | None]:
    """Download ``entry`` unless cached; (status, path)."""
    have = wheel_path(entry)
    if have is not None:
        return "present", have
    options = [
        "--only-binary",
        ":all:",
        "--no-deps",
        "--platform",
        entry.platform,
        "--python-version",
        entry.python,
    ]
    dest = FOREIGN_DIR / entry.platform

    def pick(tmp: Path) -> Path | None:
        found = sorted(tmp.glob("*.whl"))
        if len(found) != 1:
            return None
        return None if found[0].stat().st_size > MAX_BYTES else found[0]

    got, output = h.pip_download(sys.executable, options, entry.spec, dest, pick, timeout=1800)
    if got is None:
        print(f"skipped {entry.spec} {entry.platform}: {h.tail(output, 2)}", flush=True)
        return "skipped", None
    return "downloaded", got


def list_cached() -> int:
    """Print one line per corpus entry: size and file, or 'missing'; exit status 0."""
    total = 0
    for entry in CORPUS:
        path = wheel_path(entry)
        if path is None:
            print(f"{'missing':>10}  {entry.spec} {entry.platform}")
            continue
        size = path.stat().st_size
        total += size
        print(f"{h.fmt_mb(size):>10}  {h.rel(path)}")
    print(f"{h.fmt_mb(total):>10}  total")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print what is cached and stop")
    args = parser.parse_args(argv)
    if args.list:
        return list_cached()
    counts: dict[str, int] = {}
    for entry in CORPUS:
        status, path = fetch(entry)
        counts[status] = counts.get(status, 0) + 1
        if path is not None and status == "downloaded":
            print(f"{status} {h.rel(path)}", flush=True)
    print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
