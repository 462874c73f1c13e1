"""Verifying against what the index serves: ``verify WHEEL NAME==VERSION`` and releases
named in an index list.

The files are downloaded into a private temporary directory (removed when the check is
done, whatever happens) and checked against the index's sha256; the reports name them
by their URLs, since the temporary paths are gone by the time anyone reads them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from truewheel.analysis.inspector import Inspector
from truewheel.errors import InputError
from truewheel.verify import VerifyReport, verify_wheel
from truewheel.verify.fetch import download, parse_spec, release_files
from truewheel.verify.release import ReleaseFiles, verify_release_files
from truewheel.verify.release_model import ReleaseReport
from truewheel.wheel.filename import WheelName

__all__ = ["spec_of_wheel", "verify_against_index", "verify_release_from_index"]


def spec_of_wheel(wheel: str | os.PathLike[str]) -> str:
    """``NAME==VERSION`` from a wheel's file name (what ``verify WHEEL`` fetches)."""
    parsed = WheelName.parse(Path(wheel).name)
    return f"{parsed.name}=={parsed.version}"


def verify_against_index(
    wheel: str | os.PathLike[str],
    spec: str,
    index: str,
    check: Callable[[str | os.PathLike[str], Path], VerifyReport] = verify_wheel,
) -> VerifyReport:
    """``wheel`` against the sdist the index serves for ``spec``, by ``check`` (the
    command's ``verify`` with ``--rebuild`` builds it while it is on disk)."""
    name, version = parse_spec(spec)
    sdists = [f for f in release_files(name, version, index) if f.sdist]
    if not sdists:
        raise InputError(f"the index ({index}) has no sdist of this release", path=spec)
    chosen = sdists[0]
    with tempfile.TemporaryDirectory(prefix="truewheel-verify-") as work:
        path = download(chosen, Path(work), spec)
        report = check(wheel, path)
    return replace(report, sdist=chosen.url)


def verify_release_from_index(
    spec: str, index: str, inspector: Inspector | None = None
) -> ReleaseReport:
    """Every file the index lists for ``spec`` (sdist and wheels), verified as a release."""
    name, version = parse_spec(spec)
    listed = release_files(name, version, index)
    if not any(f.sdist for f in listed):
        raise InputError(f"the index ({index}) has no sdist of this release", path=spec)
    if all(f.sdist for f in listed):
        raise InputError(f"the index ({index}) has no wheel of this release", path=spec)
    with tempfile.TemporaryDirectory(prefix="truewheel-verify-") as work:
        paths = {f.url: download(f, Path(work), spec) for f in listed}
        sdists = tuple(str(paths[f.url]) for f in listed if f.sdist)
        wheels = tuple(str(paths[f.url]) for f in listed if not f.sdist)
        files = ReleaseFiles(name, version, spec, sdists[:1], wheels)
        labels = {str(paths[f.url]): f.url for f in listed}
        sdist_url = next(f.url for f in listed if f.sdist)
        return verify_release_files(files, inspector, sdist_label=sdist_url, wheel_labels=labels)
