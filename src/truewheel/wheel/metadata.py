"""The WHEEL and METADATA files of a wheel's ``.dist-info`` directory.

Both use the email header format.  WHEEL follows the binary distribution
format spec; METADATA's Name and Version are read from its headers and validated
strictly, the rest loosely with packaging's ``parse_email`` when first needed, so a
wheel with odd metadata can still be inspected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from packaging.utils import canonicalize_name

from truewheel.errors import MetadataError

__all__ = ["CoreMetadata", "Headers", "WheelInfo"]


class Headers:
    """The header block of an email-format file, read the way ``email.parser`` does.

    Fields are ``Name: value`` lines (a name of printable ASCII) up to the first empty
    line; a line starting with a space or tab continues the field before it; the first
    line that is neither ends the headers (compat32 starts the body there).  Names
    compare case-insensitively and a field may repeat.  Small enough to spare every
    command the email package's ~15 ms import; packaging's full METADATA parser is
    still used for everything beyond Name and Version.
    """

    def __init__(self, text: str) -> None:
        self._fields: list[tuple[str, str]] = []
        open_field = False  # whether a continuation line has a field to continue
        for line in text.splitlines():
            if not line:
                break
            if line[0] in " \t":
                if open_field:
                    name, value = self._fields[-1]
                    self._fields[-1] = (name, value + "\n" + line)
                continue
            name, sep, value = line.partition(":")
            if not sep or not all("!" <= c <= "~" for c in name):
                break
            open_field = bool(name)  # compat32 drops a field without a name
            if name:
                self._fields.append((name.lower(), value.lstrip(" \t")))

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for n, v in self._fields if n == wanted), None)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for n, v in self._fields if n == wanted]


@dataclass(frozen=True)
class WheelInfo:
    """The WHEEL file: format version, generator, purelib flag and tags."""

    wheel_version: str
    generator: str | None
    root_is_purelib: bool
    tags: tuple[str, ...]
    build: str | None

    @classmethod
    def parse(cls, text: str, *, path: str, member: str) -> WheelInfo:
        headers = Headers(text)
        version = headers.get("Wheel-Version")
        if not version:
            raise MetadataError("missing Wheel-Version header", path=path, member=member)
        major = version.strip().split(".")[0]
        if major != "1":
            raise MetadataError(
                f"unsupported Wheel-Version: {version.strip()}", path=path, member=member
            )
        purelib = (headers.get("Root-Is-Purelib") or "").strip().lower()
        if purelib not in ("true", "false"):
            raise MetadataError(
                f"Root-Is-Purelib must be true or false: {purelib or '(missing)'}",
                path=path,
                member=member,
            )
        tags = tuple(t.strip() for t in headers.get_all("Tag") or [])
        for tag in tags:
            if tag.count("-") != 2:
                raise MetadataError(f"malformed Tag: {tag}", path=path, member=member)
        build = headers.get("Build")
        return cls(
            wheel_version=version.strip(),
            generator=(headers.get("Generator") or "").strip() or None,
            root_is_purelib=purelib == "true",
            tags=tags,
            build=build.strip() if build else None,
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
        name = (headers.get("Name") or "").strip()
        version = (headers.get("Version") or "").strip()
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
