"""``truewheel verify``: one wheel against its sdist, metadata and content, without building.

The work is in :mod:`truewheel.verify`; this is the command's entry point, where a
release (every wheel of one version) and an index (many releases on the scan
executors) will call it per wheel and aggregate the :class:`VerifyReport` results.
"""

from __future__ import annotations

import os

from truewheel.verify import VerifyReport, verify_wheel

__all__ = ["VerifyReport", "verify"]


def verify(wheel: str | os.PathLike[str], sdist: str | os.PathLike[str]) -> VerifyReport:
    """Does ``wheel`` come from ``sdist``?  Bad input raises an InputError (exit 2)."""
    return verify_wheel(wheel, sdist)
