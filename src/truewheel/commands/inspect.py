"""``truewheel inspect``: the engine's report on one wheel, with the bundled policies."""

from __future__ import annotations

import os

from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport

__all__ = ["Inspector", "inspect_wheel"]


def inspect_wheel(path: str | os.PathLike[str]) -> WheelReport:
    """Inspect one wheel with the bundled policies."""
    return Inspector().inspect(path)
