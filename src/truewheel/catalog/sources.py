"""Turn ``scan`` arguments into units: wheel files and installed distributions.

A SOURCE is a wheel, a directory searched recursively for wheels (an index mirror,
a wheelhouse), or an installed environment: a venv (it has ``pyvenv.cfg``), a
prefix with ``lib/pythonX.Y/site-packages``, or a site-packages directory itself
(it holds ``*.dist-info`` directories).  Each unit comes with the cheap
:class:`~truewheel.catalog.model.UnitKey` that decides whether a rescan may skip it.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from truewheel._files import read_regular
from truewheel.analysis.scan import may_be_elf
from truewheel.errors import InputError
from truewheel.wheel.record import installed_record_paths
from truewheel.wheel.zipreader import ZipMember

__all__ = [
    "Environment",
    "InstalledDist",
    "Sources",
    "find_sources",
    "installed_key",
    "running_environment",
    "wheel_key",
]

# The largest real RECORDs (torch, tensorflow) are a few MB.
_MAX_RECORD = 64 << 20
# Directories deeper than this below a SOURCE are refused (mirrors are a few levels deep).
_MAX_DEPTH = 100


@dataclass(frozen=True, slots=True)
class InstalledDist:
    """One ``*.dist-info`` directory and the files its RECORD lists (relative to site).

    ``record_problem`` says why RECORD could not be used (one line); the unit then
    fails with it when scanned, instead of being scanned with a partial file list.
    """

    site: str
    dist_info: str  # absolute path
    files: tuple[str, ...]
    record_problem: str | None = None


@dataclass(frozen=True, slots=True)
class Environment:
    site: str
    dists: tuple[InstalledDist, ...]


@dataclass
class Sources:
    wheels: list[str]
    environments: list[Environment]


def find_sources(arguments: list[str], *, include_running: bool = False) -> Sources:
    """Expand SOURCE arguments; an argument that is none of the known kinds is an error."""
    wheels: list[str] = []
    environments: list[Environment] = []
    sites: list[str] = []
    for argument in arguments:
        path = Path(argument)
        _check_utf8(os.path.abspath(argument))
        if path.is_file():
            if path.suffix != ".whl":
                raise InputError("not a wheel (.whl), a directory or an environment", path=argument)
            wheels.append(str(path.absolute()))
            continue
        if path.exists() and not path.is_dir():
            raise InputError("not a regular file or a directory", path=argument)
        if not path.is_dir():
            raise InputError("no such file or directory", path=argument)
        if not os.access(path, os.R_OK | os.X_OK):
            raise InputError("cannot read this directory (permission denied)", path=argument)
        site_dirs = site_packages_of(path)
        if site_dirs:
            sites.extend(site_dirs)
        else:
            wheels.extend(wheels_under(path))
    if include_running:
        sites.extend(running_environment())
    seen: set[str] = set()
    for site in sites:
        real = os.path.realpath(site)
        if real not in seen:
            seen.add(real)
            environments.append(read_environment(site))
    return Sources(sorted(dict.fromkeys(wheels)), environments)


def running_environment() -> list[str]:
    """The running interpreter's site-packages directories (purelib, platlib)."""
    paths = sysconfig.get_paths()
    return [p for p in dict.fromkeys([paths["purelib"], paths["platlib"]]) if os.path.isdir(p)]


def site_packages_of(path: Path) -> list[str]:
    """The site-packages directories of an environment at ``path``; [] if it is not one."""
    if any(p.name.endswith(".dist-info") for p in _listdir(path)):
        return [str(path.absolute())]
    found: list[str] = []
    for libdir in ("lib", "lib64"):
        base = path / libdir
        if base.is_dir():
            for child in sorted(_listdir(base)):
                candidate = child / "site-packages"
                if child.name.startswith("python") and candidate.is_dir():
                    found.append(str(candidate.absolute()))
    if not found and (path / "pyvenv.cfg").is_file():
        raise InputError("a venv without lib/python*/site-packages", path=str(path))
    unique: dict[str, str] = {}
    for site in found:
        unique.setdefault(os.path.realpath(site), site)
    return sorted(unique.values())


def read_environment(site: str) -> Environment:
    dists = []
    root = _environment_depth(site)
    for entry in sorted(_listdir(Path(site))):
        if entry.name.endswith(".dist-info") and entry.is_dir():
            files, problem = _record_files(entry, root)
            dists.append(InstalledDist(site, str(entry.absolute()), files, problem))
    return Environment(site, tuple(dists))


def _environment_depth(site: str) -> str:
    """Where site-packages lies below the environment's prefix (``lib/python3.12/site-packages``).

    RECORD paths may climb that far (pip writes ``../../../bin/tool`` for scripts), and
    no further; for a bare site-packages directory, not at all.
    """
    parts = Path(site).parts
    if (
        len(parts) >= 3
        and parts[-1] == "site-packages"
        and parts[-2].startswith("python")
        and parts[-3] in ("lib", "lib64")
    ):
        return "/".join(parts[-3:])
    return ""


def _record_files(dist_info: Path, below_prefix: str) -> tuple[tuple[str, ...], str | None]:
    """Files a distribution installed, from RECORD, and why RECORD is unusable if it is.

    Paths are kept relative to site-packages (normalized); an absolute path, or one that
    climbs out of the environment, is never opened, so it is left out.
    """
    path = dist_info / "RECORD"
    if not path.exists():
        return (), None
    try:
        text = read_regular(path, _MAX_RECORD).decode("utf-8")
    except InputError as exc:
        return (), exc.message
    except UnicodeDecodeError:
        return (), "not valid UTF-8"
    listed, problems = installed_record_paths(text)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        return (), f"{problems[0]}{more}"
    files = []
    for rel in listed:
        normal = posixpath.normpath(rel)
        inside = posixpath.normpath(posixpath.join(below_prefix, normal))
        if normal.startswith("/") or inside == ".." or inside.startswith("../"):
            continue
        files.append(normal)
    return tuple(dict.fromkeys(files)), None


def _listdir(path: Path) -> list[Path]:
    try:
        return list(path.iterdir())
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path=str(path)) from exc


def wheels_under(root: Path) -> Iterator[str]:
    """Every ``*.whl`` below ``root``, sorted, without following links to directories.

    Walked with an explicit stack (``os.walk`` recurses, and a directory thousands of
    levels deep raised RecursionError); names must be UTF-8, since the catalog keeps
    paths as text.
    """
    pending = [(os.path.abspath(root), 0)]
    while pending:
        directory, depth = pending.pop()
        _check_utf8(directory)
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise InputError(f"cannot list ({exc.strerror})", path=directory) from exc
        subdirs = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.path)
            elif entry.name.endswith(".whl"):
                _check_utf8(entry.path)
                yield entry.path
        if subdirs and depth >= _MAX_DEPTH:
            raise InputError(f"nested more than {_MAX_DEPTH} directories deep", path=subdirs[0])
        pending.extend((d, depth + 1) for d in reversed(subdirs))


def _check_utf8(path: str) -> None:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            "file name is not valid UTF-8 (the catalog keeps names as text); rename it",
            path=path,
        ) from None


# -- keys ------------------------------------------------------------------------------


def central_directory_digest(members: tuple[ZipMember, ...]) -> str:
    digest = hashlib.sha256()
    for m in members:
        digest.update(f"{m.name}\0{m.crc32:08x}\0{m.file_size}\0{m.compressed_size}\n".encode())
    return digest.hexdigest()


def wheel_key(path: str, members: tuple[ZipMember, ...] | None = None) -> tuple[int, int, str]:
    """(size, mtime_ns, central-directory digest); reads only the central directory."""
    from truewheel.wheel.zipreader import ZipReader

    st = os.stat(path)
    if members is None:
        with ZipReader(path) as reader:
            members = reader.members
    return st.st_size, st.st_mtime_ns, central_directory_digest(members)


def installed_key(dist: InstalledDist) -> tuple[int, int, str]:
    """(RECORD size, RECORD mtime_ns, digest of size+mtime of the files that may be ELF)."""
    if dist.record_problem:
        raise InputError(dist.record_problem, path=os.path.join(dist.dist_info, "RECORD"))
    try:
        st = os.stat(os.path.join(dist.dist_info, "RECORD"))
    except OSError as exc:
        raise InputError(f"cannot read RECORD ({exc.strerror})", path=dist.dist_info) from exc
    if not stat.S_ISREG(st.st_mode):
        raise InputError("RECORD is not a regular file", path=dist.dist_info)
    if st.st_size > _MAX_RECORD:
        raise InputError(f"RECORD too large ({st.st_size} bytes)", path=dist.dist_info)
    digest = hashlib.sha256()
    for rel in dist.files:
        if may_be_elf(rel):
            try:
                fst = os.stat(os.path.join(dist.site, rel))
            except OSError:
                digest.update(f"{rel}\0missing\n".encode())
                continue
            digest.update(f"{rel}\0{fst.st_size}\0{fst.st_mtime_ns}\n".encode())
    return st.st_size, st.st_mtime_ns, digest.hexdigest()
