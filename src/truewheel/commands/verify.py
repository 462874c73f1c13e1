"""``truewheel verify``: one wheel against its sdist, metadata and content, without building.

The work is in :mod:`truewheel.verify`; this is the command's entry point, where a
release (every wheel of one version) and an index (many releases on the scan
executors) will call it per wheel and aggregate the :class:`VerifyReport` results.
"""

from __future__ import annotations

import dataclasses
import os

from truewheel.verify import VerifyReport, verify_wheel

__all__ = ["VerifyReport", "verify"]


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
