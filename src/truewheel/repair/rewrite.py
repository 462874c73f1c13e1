"""Text edits a repair makes to a wheel's name, WHEEL and METADATA."""

from __future__ import annotations

import time

from packaging.utils import canonicalize_name

__all__ = ["add_requirements", "dos_datetime", "retag_filename", "retag_wheel_file"]


def retag_filename(filename: str, platforms: list[str]) -> str:
    """Replace the platform part of ``name-ver(-build)-py-abi-plat.whl``."""
    parts = filename[: -len(".whl")].split("-")
    parts[-1] = ".".join(platforms)
    return "-".join(parts) + ".whl"


def retag_wheel_file(text: str, platforms: list[str]) -> str:
    """Rewrite WHEEL's Tag lines: every python-abi pair it had, times the new platforms."""
    lines = text.splitlines()
    pairs: list[str] = []
    first_tag = None
    kept: list[str] = []
    for line in lines:
        if line.startswith("Tag:"):
            python, abi, _ = line[len("Tag:") :].strip().split("-")
            if f"{python}-{abi}" not in pairs:
                pairs.append(f"{python}-{abi}")
            if first_tag is None:
                first_tag = len(kept)
            continue
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    tags = [f"Tag: {pair}-{platform}" for pair in pairs for platform in platforms]
    at = first_tag if first_tag is not None else len(kept)
    return "\n".join([*kept[:at], *tags, *kept[at:]]) + "\n"


def add_requirements(text: str, requirements: list[str]) -> str:
    """Add Requires-Dist headers (once) to METADATA, keeping its body intact."""
    from packaging.requirements import Requirement

    head, sep, body = text.partition("\n\n")
    present = {
        canonicalize_name(Requirement(line.split(":", 1)[1].strip()).name)
        for line in head.splitlines()
        if line.lower().startswith("requires-dist:")
    }
    added = [
        f"Requires-Dist: {r}"
        for r in requirements
        if canonicalize_name(Requirement(r).name) not in present
    ]
    if not added:
        return text
    return head.rstrip("\n") + "\n" + "\n".join(added) + (sep + body if sep else "\n")


def dos_datetime(epoch: int) -> tuple[int, int]:
    """(date, time) in zip's DOS format for a Unix time, clamped to zip's 1980 start."""
    t = time.gmtime(max(epoch, 315532800))
    date = ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    clock = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)
    return date, clock
