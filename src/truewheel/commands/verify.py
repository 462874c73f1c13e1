"""``truewheel verify``: one wheel against its sdist, metadata and content, without building.

The work is in :mod:`truewheel.verify`; this is the command's entry point, where a
release (every wheel of one version) and an index (many releases on the scan
executors) will call it per wheel and aggregate the :class:`VerifyReport` results.
"""

from __future__ import annotations

import os

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


def verify(wheel: str | os.PathLike[str], sdist: str | os.PathLike[str]) -> VerifyReport:
    """Does ``wheel`` come from ``sdist``?  Bad input raises an InputError (exit 2)."""
    return verify_wheel(wheel, sdist)


def verify_release(directory: str | os.PathLike[str]) -> ReleaseReport:
    """``--release DIR``: the sdist and every wheel of one version in ``directory``."""
    return verify_release_files(release_in(directory))


def verify_fetched(wheel: str | os.PathLike[str], spec: str | None, index: str) -> VerifyReport:
    """``wheel`` against the sdist of ``spec`` (default: the wheel's own name and version)
    as the index serves it; offline or not found is an InputError (exit 2)."""
    return verify_against_index(wheel, spec or spec_of_wheel(wheel), index)
