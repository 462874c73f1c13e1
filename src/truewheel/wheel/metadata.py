"""The WHEEL and METADATA files of a wheel's ``.dist-info`` directory.

Both use the email header format.  WHEEL follows the binary distribution
format spec; METADATA's Name and Version are read with the same email parser and
validated strictly, the rest loosely with packaging's ``parse_email`` when first
needed, so a wheel with odd metadata can still be inspected.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from packaging.utils import canonicalize_name

from truewheel.errors import MetadataError

__all__ = ["CoreMetadata", "WheelInfo"]


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
        headers = email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
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
        headers = email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
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
