"""``verify --release``: the sdist and every wheel of one version, together.

Each wheel is verified against the sdist (:func:`truewheel.verify.verify_wheel`), its
tags are judged against its content by the inspect engine (:mod:`.tags`), and the wheels'
METADATA are compared with one another (:mod:`.consistency`).  The files of a release
are told from their names alone (wheel names per the spec, sdists as
``name-version.tar.gz``), compared canonically, so a directory tree of many releases
groups the same way (:func:`releases_under`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_version

from truewheel.analysis.inspector import Inspector
from truewheel.errors import InputError
from truewheel.verify import verify_wheel
from truewheel.verify.consistency import compare_wheels
from truewheel.verify.fetch import sdist_name_version
from truewheel.verify.release_model import ReleaseFinding, ReleaseReport, WheelResult
from truewheel.verify.tags import platform_findings, wheel_platform
from truewheel.wheel import WheelArchive
from truewheel.wheel.filename import WheelName

__all__ = ["ReleaseFiles", "release_in", "releases_under", "verify_release_files"]

# the sdist a build tool would pick when a release has several (old releases: .zip too)
_SDIST_PREFERENCE = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")


@dataclass(frozen=True, slots=True)
class ReleaseFiles:
    """The files of one release: canonical name and version, where they were found."""

    name: str
    version: str
    where: str  # the directory, or NAME==VERSION
    sdists: tuple[str, ...] = ()
    wheels: tuple[str, ...] = ()
    size: int = 0  # bytes in all, to schedule the largest first


def group_files(paths: Iterable[str], where: str | None = None) -> list[ReleaseFiles]:
    """Release files grouped by (canonical name, version) from their names; other files
    are not a release's and are left out.  A ``.whl`` whose name is not a wheel name is an
    InputError (it cannot be placed, and leaving it out would hide it)."""
    groups: dict[tuple[str, str], tuple[list[str], list[str], set[str], list[int]]] = {}
    for path in sorted(paths):
        filename = Path(path).name
        if filename.endswith(".whl"):
            parsed = WheelName.parse(filename)
            key, is_sdist = (str(parsed.name), canonicalize_version(parsed.version)), False
        else:
            found = sdist_name_version(filename)
            if found is None:
                continue
            key, is_sdist = found, True
        sdists, wheels, dirs, size = groups.setdefault(key, ([], [], set(), [0]))
        (sdists if is_sdist else wheels).append(path)
        dirs.add(str(Path(path).parent))
        try:
            size[0] += Path(path).stat().st_size
        except OSError:
            pass
    out = []
    for (name, version), (sdists, wheels, dirs, size) in sorted(groups.items()):
        place = where or ", ".join(sorted(dirs))
        sdists.sort(key=_sdist_rank)
        out.append(ReleaseFiles(name, version, place, tuple(sdists), tuple(wheels), size[0]))
    return out


def release_in(directory: str | os.PathLike[str]) -> ReleaseFiles:
    """The one release a ``--release`` directory holds (its files, not subdirectories)."""
    root = os.fspath(directory)
    if not Path(root).is_dir():
        raise InputError("not a directory", path=root)
    try:
        paths = [e.path for e in os.scandir(root) if e.is_file(follow_symlinks=False)]
    except OSError as exc:
        raise InputError(f"cannot list ({exc.strerror})", path=root) from exc
    releases = group_files(paths, root)
    if not releases:
        raise InputError("holds no sdist and no wheel", path=root)
    if len(releases) > 1:
        listed = ", ".join(f"{r.name} {r.version}" for r in releases[:5])
        raise InputError(f"holds {len(releases)} releases ({listed}): give one", path=root)
    return releases[0]


def releases_under(directory: str | os.PathLike[str]) -> list[ReleaseFiles]:
    """Every release in a directory tree (symbolic links are not followed)."""
    root = os.fspath(directory)
    if not Path(root).is_dir():
        raise InputError("not a directory", path=root)
    paths: list[str] = []

    def failed(exc: OSError) -> None:
        raise InputError(f"cannot list ({exc.strerror})", path=exc.filename or root) from exc

    for top, _, files in os.walk(root, onerror=failed):
        paths += [str(Path(top, f)) for f in files if not Path(top, f).is_symlink()]
    return group_files(paths)


def verify_release_files(
    files: ReleaseFiles,
    inspector: Inspector | None = None,
    *,
    sdist_label: str | None = None,
    wheel_labels: dict[str, str] | None = None,
) -> ReleaseReport:
    """Verify every wheel of ``files`` against its sdist and compare them all.

    ``sdist_label`` and ``wheel_labels`` name downloaded files by their URLs in the report.
    Bad input (no sdist, no wheel, an unreadable archive) raises an InputError.
    """
    if not files.sdists:
        raise InputError(f"no sdist of {files.name} {files.version}", path=files.where)
    if not files.wheels:
        raise InputError(f"no wheel of {files.name} {files.version}", path=files.where)
    sdist = files.sdists[0]
    inspector = inspector or Inspector()
    labels = wheel_labels or {}
    results: list[WheelResult] = []
    findings: list[ReleaseFinding] = []
    texts: list[tuple[str, str]] = []
    for wheel in files.wheels:
        report = verify_wheel(wheel, sdist)
        report = replace(report, wheel=labels.get(wheel, wheel), sdist=sdist_label or sdist)
        result = WheelResult(labels.get(wheel, wheel), report, wheel_platform(inspector, wheel))
        results.append(result)
        findings += platform_findings(result.filename, result.platform)
        with WheelArchive(wheel) as archive:
            texts.append((result.filename, archive.metadata.text))
    first = results[0].verify
    consistency, compared = compare_wheels(texts, first.dynamic, first.static_metadata)
    findings = consistency + findings
    for other in files.sdists[1:]:
        message = f"another sdist of this release, not compared: {Path(other).name}"
        findings.append(ReleaseFinding("note", "other-sdist", message))
    findings.sort(key=lambda f: f.severity != "finding")
    return ReleaseReport(
        name=first.name,
        version=first.version,
        sdist=sdist_label or sdist,
        wheels=tuple(results),
        findings=tuple(findings),
        compared_fields=compared,
    )


def _sdist_rank(path: str) -> tuple[int, str]:
    suffix = next((i for i, s in enumerate(_SDIST_PREFERENCE) if path.endswith(s)), 99)
    return suffix, path
