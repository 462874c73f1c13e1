"""Edits a repair makes to a wheel's name, WHEEL and METADATA, and its DOS timestamps.

WHEEL and METADATA are edited through their parsed header block
(:class:`~truewheel.wheel.metadata.Headers`), never by matching strings: field names
compare case-insensitively, continuation lines belong to their field, new fields go
into the header block (not after a description body) and take the file's own line
ending.  Everything not edited keeps its bytes.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

from truewheel.errors import MetadataError
from truewheel.wheel.metadata import Headers, parse_tag

__all__ = [
    "add_licence_files",
    "add_requirements",
    "retag_filename",
    "retag_wheel_file",
]

_NAME_MAX = 255  # bytes in one file name on Linux file systems
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


def add_licence_files(text: str, paths: list[str]) -> str:
    """Add License-File fields (PEP 639) for files not yet listed, raising the version to 2.4.

    License-File is a Metadata-Version 2.4 field, so a lower version is raised to 2.4
    (core metadata: tools may refuse fields newer than the declared version).  What 2.3
    and 2.4 made stricter (normalized Provides-Extra names, for one) must then hold for
    the whole file: the result is checked as 2.4 with packaging, and a file that would
    not be valid raises MetadataError, the caller then adds no field at all.
    """
    from packaging.metadata import ExceptionGroup, InvalidMetadata, Metadata

    headers = Headers(text)
    present = set(headers.all_unfolded("license-file"))
    added = [f"License-File: {p}{headers.newline}" for p in paths if p not in present]
    if not added:
        return text
    head = _terminated(text[: headers.end], headers.newline)
    version = next((f for f in headers.fields if f.name == "metadata-version"), None)
    if version is not None and _version_tuple(version.unfolded) < (2, 4):
        value_at = text.index(":", version.start) + 1
        head = f"{text[:value_at]} 2.4{headers.newline}{head[version.end :]}"
    result = head + "".join(added) + text[headers.end :]
    try:
        Metadata.from_email(result, validate=True)
    except (ExceptionGroup, InvalidMetadata) as exc:
        causes = exc.exceptions if isinstance(exc, ExceptionGroup) else [exc]
        reason = "; ".join(str(c) for c in causes[:3])
        raise MetadataError(
            f"METADATA would not be valid as Metadata-Version 2.4 ({reason})"
        ) from exc
    return result


def _version_tuple(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in value.split("."))
    except ValueError:
        return (0,)


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
