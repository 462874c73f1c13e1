"""Edits a repair makes to a wheel's name, WHEEL and METADATA, and its DOS timestamps.

WHEEL and METADATA are edited through their parsed header block
(:class:`~truewheel.wheel.metadata.Headers`), never by matching strings: field names
compare case-insensitively, continuation lines belong to their field, new fields go
into the header block (not after a description body) and take the file's own line
ending.  Everything not edited keeps its bytes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from packaging.utils import canonicalize_name

from truewheel.errors import InputError, MetadataError
from truewheel.wheel.metadata import Headers, parse_tag

__all__ = [
    "ZIP_EPOCH",
    "ZIP_LAST",
    "add_requirements",
    "dos_datetime",
    "retag_filename",
    "retag_wheel_file",
    "source_date_epoch",
]

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry
ZIP_LAST = 4354819198  # 2107-12-31T23:59:58Z, the latest
_NAME_MAX = 255  # bytes in one file name on Linux file systems
_INTEGER = re.compile(r"-?[0-9]+")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def retag_filename(filename: str, platforms: list[str]) -> str:
    """Replace the platform part of ``name-ver(-build)-py-abi-plat.whl``."""
    parts = filename[: -len(".whl")].split("-")
    parts[-1] = ".".join(platforms)
    renamed = "-".join(parts) + ".whl"
    if len(renamed.encode()) > _NAME_MAX:
        raise MetadataError(
            f"the retagged file name would be longer than {_NAME_MAX} bytes", path=filename
        )
    return renamed


def retag_wheel_file(text: str, platforms: list[str]) -> str:
    """Rewrite WHEEL's Tag fields: every python-abi pair it had, times the new platforms.

    The new Tag lines stand where the first Tag field stood (at the end of the header
    block if there was none); trailing blank lines are dropped.
    """
    headers = Headers(text)
    tag_fields = [f for f in headers.fields if f.name == "tag"]
    pairs: list[str] = []
    for field in tag_fields:
        parsed = parse_tag(field.unfolded)
        if parsed is None:
            raise MetadataError(f"malformed Tag (not python-abi-platform): {field.unfolded!r}")
        pair = f"{parsed[0]}-{parsed[1]}"
        if pair not in pairs:
            pairs.append(pair)
    newline = headers.newline
    tags = "".join(f"Tag: {pair}-{platform}{newline}" for pair in pairs for platform in platforms)
    pieces: list[str] = []
    at = 0
    for index, field in enumerate(tag_fields):
        pieces.append(text[at : field.start])
        if index == 0:
            pieces.append(tags)
        at = field.end
    head = "".join(pieces) + text[at : headers.end]
    if not tag_fields:
        head = _terminated(head, newline) + tags
    return _without_trailing_blank_lines(head + text[headers.end :], newline)


def add_requirements(text: str, requirements: list[str]) -> str:
    """Add Requires-Dist fields (for distributions not yet required) to METADATA's headers."""
    headers = Headers(text)
    present = {
        _requirement_name(field.unfolded, "METADATA has an invalid Requires-Dist")
        for field in headers.fields
        if field.name == "requires-dist"
    }
    added = [
        f"Requires-Dist: {r}{headers.newline}"
        for r in requirements
        if _requirement_name(r, "invalid requirement") not in present
    ]
    if not added:
        return text
    head = _terminated(text[: headers.end], headers.newline)
    return head + "".join(added) + text[headers.end :]


def _requirement_name(value: str, what: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return canonicalize_name(Requirement(value).name)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "not PEP 508"
        raise MetadataError(f"{what} {value[:200]!r} ({reason})") from exc


def _terminated(text: str, newline: str) -> str:
    return text if not text or text.endswith(("\n", "\r")) else text + newline


def _without_trailing_blank_lines(text: str, newline: str) -> str:
    lines = _LINE.findall(text)
    while lines and not lines[-1].strip():
        lines.pop()
    return _terminated("".join(lines), newline)


def source_date_epoch(environ: Mapping[str, str]) -> int | None:
    """``SOURCE_DATE_EPOCH`` as a time zip can store, None when it is not set.

    The one rule for every command that writes a wheel: the value must be an integer
    in ASCII digits (``date +%s`` prints nothing else; reproducible-builds.org asks to
    fail on anything malformed), and a time outside zip's range (1980-01-01 to
    2107-12-31) is clamped to that range, as a time before 1980 always was.
    """
    value = environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return None
    if not _INTEGER.fullmatch(value):
        raise InputError(f"SOURCE_DATE_EPOCH is not an integer: {value[:40]!r}")
    if len(value.lstrip("-").lstrip("0")) > len(str(ZIP_LAST)):
        return ZIP_EPOCH if value.startswith("-") else ZIP_LAST
    return min(max(int(value), ZIP_EPOCH), ZIP_LAST)


def dos_datetime(epoch: int) -> tuple[int, int]:
    """(date, time) in zip's DOS format for a Unix time, clamped to zip's 1980..2107 range."""
    t = time.gmtime(min(max(epoch, ZIP_EPOCH), ZIP_LAST))
    date = ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    clock = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)
    return date, clock
