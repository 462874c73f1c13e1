"""The WHEEL and METADATA files of a wheel's ``.dist-info`` directory.

Both use the email header format.  WHEEL follows the binary distribution
format spec; METADATA's Name and Version are read from its headers and validated
strictly, the rest loosely with packaging's ``parse_email`` when first needed, so a
wheel with odd metadata can still be inspected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from packaging.utils import canonicalize_name

from truewheel.errors import MetadataError

__all__ = ["CoreMetadata", "HeaderField", "Headers", "WheelInfo", "parse_tag"]


# A line and its ending; like email.parser, only CR, LF and CRLF end a line.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_TAG_PART = r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*"
_TAG = re.compile(rf"{_TAG_PART}-{_TAG_PART}-{_TAG_PART}")
_WHEEL_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*")


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One field of a header block and where its lines lie in the text."""

    name: str  # lower case
    value: str  # continuation lines joined with "\n", as compat32 keeps them
    start: int  # offset of the field's first line
    end: int  # offset just past its last line ending

    @property
    def unfolded(self) -> str:
        """The value on one line, as RFC 5322 unfolds it (line breaks removed), stripped."""
        return self.value.replace("\n", "").strip()


class Headers:
    """The header block of an email-format file, read the way ``email.parser`` does.

    Fields are ``Name: value`` lines (a name of printable ASCII) up to the first empty
    line; a line starting with a space or tab continues the field before it; the first
    line that is neither ends the headers (compat32 starts the body there).  Names
    compare case-insensitively and a field may repeat.  Lines end with CR, LF or CRLF.
    Each field keeps its place in the text (``start``, ``end``), and ``end`` is where
    the block stops, so a repair can edit fields without touching anything else.  Small
    enough to spare every command the email package's ~15 ms import; packaging's full
    METADATA parser is still used for everything beyond Name and Version.
    """

    def __init__(self, text: str) -> None:
        self.end = len(text)
        self.newline = "\n"
        # name, value lines, start, end; joined once at the end (a field may fold a
        # thousand lines, and growing a string line by line would be quadratic)
        found: list[tuple[str, list[str], int, int]] = []
        open_field = False  # whether a continuation line has a field to continue
        for index, match in enumerate(_LINE.finditer(text)):
            raw = match.group()
            line = raw.rstrip("\r\n")
            if index == 0 and line != raw:
                self.newline = raw[len(line) :]
            if not line:
                self.end = match.start()
                break
            if line[0] in " \t":
                if open_field:
                    name, lines, start, _ = found[-1]
                    lines.append(line)
                    found[-1] = (name, lines, start, match.end())
                continue
            name, sep, value = line.partition(":")
            if not sep or not all("!" <= c <= "~" for c in name):
                self.end = match.start()
                break
            open_field = bool(name)  # compat32 drops a field without a name
            if name:
                found.append((name.lower(), [value.lstrip(" \t")], match.start(), match.end()))
        self.fields = [HeaderField(n, "\n".join(v), start, end) for n, v, start, end in found]

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((f.value for f in self.fields if f.name == wanted), None)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [f.value for f in self.fields if f.name == wanted]

    def unfolded(self, name: str) -> str | None:
        """The first field's value on one line, stripped."""
        wanted = name.lower()
        return next((f.unfolded for f in self.fields if f.name == wanted), None)

    def all_unfolded(self, name: str) -> list[str]:
        wanted = name.lower()
        return [f.unfolded for f in self.fields if f.name == wanted]


def parse_tag(tag: str) -> tuple[str, str, str] | None:
    """``python``, ``abi`` and ``platform`` of a WHEEL Tag value, or None if malformed."""
    if not _TAG.fullmatch(tag):
        return None
    python, abi, platform = tag.split("-")
    return python, abi, platform


@dataclass(frozen=True)
class WheelInfo:
    """The WHEEL file: format version, generator, purelib flag and tags."""

    wheel_version: str
    generator: str | None
    root_is_purelib: bool
    tags: tuple[str, ...]
    build: str | None
    ignored: str | None = None  # the first line after the header block, which readers ignore
    #: why Root-Is-Purelib was taken as false although WHEEL does not say it (else None)
    purelib_missing: str | None = None

    @classmethod
    def parse(cls, text: str, *, path: str, member: str) -> WheelInfo:
        """Validate strictly: these values name the file, and repair rewrites them.

        Only the header block counts, as for every installer (email headers); text after
        it (google_re2 1.0-2 has ``Build: 2`` there) is ignored and reported, not refused.
        """
        headers = Headers(text)
        rest = text[headers.end :].strip()
        ignored = rest.splitlines()[0][:60] if rest else None
        version = headers.unfolded("Wheel-Version")
        if not version:
            raise MetadataError("missing Wheel-Version header", path=path, member=member)
        if not _WHEEL_VERSION.fullmatch(version):
            raise MetadataError(f"malformed Wheel-Version: {version!r}", path=path, member=member)
        if version.split(".")[0].lstrip("0") != "1":
            raise MetadataError(f"unsupported Wheel-Version: {version}", path=path, member=member)
        purelib = (headers.unfolded("Root-Is-Purelib") or "").lower()
        missing = None
        if not purelib:  # pip and installer read a missing one as false (PyQt5 5.15.0 on macOS)
            near = [f.name for f in headers.fields if f.name.replace("_", "-") == "root-is-purelib"]
            missing = f"misspelled {near[0]!r}" if near else "absent"
            purelib = "false"
        if purelib not in ("true", "false"):
            shown = repr(purelib) if purelib else "(missing)"
            raise MetadataError(
                f"Root-Is-Purelib must be true or false: {shown}", path=path, member=member
            )
        tags = tuple(headers.all_unfolded("Tag"))
        for tag in tags:
            if parse_tag(tag) is None:
                raise MetadataError(
                    f"malformed Tag (not python-abi-platform): {tag!r}", path=path, member=member
                )
        return cls(
            wheel_version=version,
            generator=headers.unfolded("Generator") or None,
            root_is_purelib=purelib == "true",
            tags=tags,
            build=headers.unfolded("Build") or None,
            ignored=ignored,
            purelib_missing=missing,
        )

    @property
    def platforms(self) -> list[str]:
        return sorted({p for t in self.tags for p in t.split("-")[2].split(".")})


@dataclass(frozen=True)
class CoreMetadata:
    """METADATA: Name and Version checked at once, the rest parsed when asked for.

    Every wheel is opened with its METADATA, but most commands need only the name and
    version; the full parse (packaging's ``parse_email``, with its requirement and
    marker grammar) is deferred to the first use of another field.
    """

    name: str
    version: str
    text: str = field(repr=False)

    @classmethod
    def parse(cls, text: str, *, path: str, member: str) -> CoreMetadata:
        headers = Headers(text)
        name = headers.unfolded("Name") or ""
        version = headers.unfolded("Version") or ""
        if not name or not version:
            missing = ", ".join(k for k, v in (("Name", name), ("Version", version)) if not v)
            raise MetadataError(f"missing required field(s): {missing}", path=path, member=member)
        return cls(name=name, version=version, text=text)

    @cached_property
    def _parsed(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        from packaging.metadata import parse_email

        raw, unparsed = parse_email(self.text)
        return dict(raw), tuple(sorted(unparsed))

    @property
    def metadata_version(self) -> str | None:
        value = self._parsed[0].get("metadata_version")
        return str(value) if value else None

    @property
    def requires_dist(self) -> tuple[str, ...]:
        return tuple(self._parsed[0].get("requires_dist", ()))

    @property
    def license_expression(self) -> str | None:
        raw = self._parsed[0]
        value = raw.get("license_expression") or raw.get("license")
        return str(value) if value else None

    @property
    def unparsed(self) -> tuple[str, ...]:
        """Fields packaging could not parse (kept so nothing is silently lost)."""
        return self._parsed[1]

    def matches(self, name: str) -> bool:
        return canonicalize_name(self.name) == canonicalize_name(name)
