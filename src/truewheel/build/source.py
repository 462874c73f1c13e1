"""Turn SOURCE (an sdist, a directory or a requirement) into a source tree at a fixed path.

Archives are unpacked with the checks an untrusted sdist needs: no absolute
paths, no ``..``, no links or devices pointing out of the tree (tarfile's
``data`` filter, PEP 706), so nothing is written outside the build root.
"""

from __future__ import annotations

import calendar
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from truewheel.errors import InputError
from truewheel.wheel.zipreader import unsafe_name_reason

__all__ = ["fetch_sdist", "newest_member_time", "prepare_source", "sha256_file"]

_ARCHIVES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.endswith(_ARCHIVES)


def fetch_sdist(requirement: str, into: Path) -> Path:
    """Download the sdist of a requirement such as ``pyyaml==6.0.2`` with pip."""
    argv = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--no-build-isolation",
        "-q",
        "-d",
        str(into),
        requirement,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    found = [p for p in into.iterdir() if is_archive(p)] if into.is_dir() else []
    if done.returncode != 0 or len(found) != 1:
        tail = (done.stderr.strip().splitlines() or ["no sdist downloaded"])[-1]
        raise InputError(f"cannot fetch an sdist for {requirement!r}: {tail}")
    return found[0]


def newest_member_time(archive: Path) -> int:
    """The newest modification time inside an sdist: its natural SOURCE_DATE_EPOCH."""
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            # zip times carry no zone; read them as UTC so the local TZ cannot change the result
            return max(calendar.timegm((*i.date_time, 0, 0, 0)) for i in zf.infolist())
    with tarfile.open(archive) as tf:
        return max((int(m.mtime) for m in tf.getmembers()), default=0)


def prepare_source(source: Path, target: Path) -> Path:
    """Put the source tree at ``target`` (emptied first) and return the project directory."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if source.is_dir():
        shutil.copytree(
            source,
            target,
            dirs_exist_ok=True,
            symlinks=True,
            ignore=shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__"),
        )
        return target
    if not is_archive(source):
        raise InputError("not an sdist archive or a directory", path=str(source))
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        _unpack(source, Path(scratch))
        entries = list(Path(scratch).iterdir())
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else Path(scratch)
        for item in root.iterdir():
            shutil.move(str(item), target / item.name)
    return target


def _unpack(archive: Path, into: Path) -> None:
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    problem = unsafe_name_reason(name)
                    if problem:
                        raise InputError(f"unsafe member ({problem}): {name}", path=str(archive))
                zf.extractall(into)
            return
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")
    except tarfile.FilterError as exc:
        raise InputError(f"unsafe member refused ({exc})", path=str(archive)) from exc
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"unreadable archive ({exc})", path=str(archive)) from exc
