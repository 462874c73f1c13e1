"""Each wheel's tags against its content, as the inspect engine judges them.

The engine (:class:`~truewheel.analysis.inspector.Inspector`) computes the most
compatible tag a wheel's binaries allow and says where a claimed tag is wrong.  Of its
findings, those that say the *tag* is wrong (an older manylinux or macOS than the content
needs, another libc, another architecture, binaries of both libcs, a Windows module
importing a Python DLL its tags do not promise) become findings of the release: an
installer would put that wheel where it cannot work.  The engine's other errors are
about how the wheel was built or repaired, not whether it is the sdist's; they are
kept as notes, and its warnings and infos are in ``truewheel inspect``.
"""

from __future__ import annotations

import os

from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport
from truewheel.verify.release_model import ReleaseFinding, WheelPlatform

__all__ = ["PLATFORM_CODES", "platform_findings", "wheel_platform"]

#: Engine errors that say the wheel's tags promise what its content cannot keep.
PLATFORM_CODES = frozenset(
    {
        "tag-too-old",
        "tag-wrong-libc",
        "libc-mixed",
        "architecture-mismatch",
        "architecture-missing",
        "architecture-unsupported",
        "python-dll-mismatch",
    }
)


def wheel_platform(inspector: Inspector, wheel: str | os.PathLike[str]) -> WheelPlatform:
    """Run the engine on one wheel; bad input raises its InputError."""
    report = inspector.inspect(wheel)
    return WheelPlatform(
        claimed=tuple(report.wheel_info.tags),
        allowed=_allowed(report),
        findings=tuple(
            (f.severity, f.code, f.message, f.file)
            for f in sorted(report.findings, key=lambda f: f.rank)
        ),
    )


def platform_findings(filename: str, platform: WheelPlatform) -> list[ReleaseFinding]:
    out: list[ReleaseFinding] = []
    for severity, code, message, file in platform.findings:
        if severity != "error":
            continue
        where = f" ({file})" if file else ""
        if code in PLATFORM_CODES:
            out.append(ReleaseFinding("finding", code, f"{message}{where}", (filename,)))
        else:
            text = f"truewheel inspect says {code}: {message}{where}"
            out.append(ReleaseFinding("note", "inspect-error", text, (filename,)))
    return out


def _allowed(report: WheelReport) -> str | None:
    if report.platform is not None:
        return report.platform.computed.tag
    if report.image_platform is not None:
        return report.image_platform.computed_tag
    return None
