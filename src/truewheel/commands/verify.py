"""``truewheel verify``: one wheel against its sdist, metadata and content, without building.

The work is in :mod:`truewheel.verify`; this is the command's entry point, where a
release (every wheel of one version) and an index (many releases on the scan
executors) will call it per wheel and aggregate the :class:`VerifyReport` results.
"""

from __future__ import annotations

import dataclasses
import os

from truewheel._files import open_regular
from truewheel.verify import VerifyReport, verify_wheel
from truewheel.verify.index import verify_index
from truewheel.verify.release import release_in, verify_release_files
from truewheel.verify.release_model import IndexReport, ReleaseReport
from truewheel.verify.remote import spec_of_wheel, verify_against_index

__all__ = [
    "IndexReport",
    "ReleaseReport",
    "VerifyReport",
    "verify",
    "verify_fetched",
    "verify_index",
    "verify_release",
]


def verify(
    wheel: str | os.PathLike[str], sdist: str | os.PathLike[str], *, rebuild: bool = False
) -> VerifyReport:
    """Does ``wheel`` come from ``sdist``?  Bad input raises an InputError (exit 2).

    ``rebuild``: also build the sdist here and compare (``verify/rebuild.py``); a build
    that fails raises its BuildError.
    """
    report = verify_wheel(wheel, sdist)
    if not rebuild:
        return report
    from truewheel.verify.rebuild import rebuild as rebuild_wheel

    result, findings = rebuild_wheel(wheel, sdist)
    merged = sorted(
        (*report.findings, *findings), key=lambda f: (f.severity != "finding", f.member is not None)
    )
    return dataclasses.replace(report, rebuild=result, findings=tuple(merged))


def verify_release(directory: str | os.PathLike[str]) -> ReleaseReport:
    """``--release DIR``: the sdist and every wheel of one version in ``directory``."""
    return verify_release_files(release_in(directory))


def verify_fetched(
    wheel: str | os.PathLike[str], spec: str | None, index: str, *, rebuild: bool = False
) -> VerifyReport:
    """``wheel`` against the sdist of ``spec`` (default: the wheel's own name and version)
    as the index serves it; offline or not found is an InputError (exit 2)."""
    os.close(open_regular(wheel))  # a missing wheel is said before its name is parsed
    return verify_against_index(
        wheel,
        spec or spec_of_wheel(wheel),
        index,
        lambda wheel, sdist: verify(wheel, sdist, rebuild=rebuild),
    )
