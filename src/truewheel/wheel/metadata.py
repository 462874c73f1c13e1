"""The WHEEL and METADATA files of a wheel's ``.dist-info`` directory.

Both use the email header format.  WHEEL follows the binary distribution
format spec; METADATA is parsed loosely with packaging's ``parse_email`` so
that a wheel with odd metadata can still be inspected, and only what truewheel
relies on (Name and Version) is validated strictly.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field

from packaging.metadata import parse_email
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
    """The parts of METADATA truewheel uses, plus what it could not parse."""

    name: str
    version: str
    metadata_version: str | None
    requires_dist: tuple[str, ...]
    license_expression: str | None
    unparsed: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, text: str, *, path: str, member: str) -> CoreMetadata:
        raw, unparsed = parse_email(text)
        name, version = raw.get("name"), raw.get("version")
        if not name or not version:
            missing = ", ".join(k for k, v in (("Name", name), ("Version", version)) if not v)
            raise MetadataError(f"missing required field(s): {missing}", path=path, member=member)
        return cls(
            name=name,
            version=version,
            metadata_version=raw.get("metadata_version"),
            requires_dist=tuple(raw.get("requires_dist", ())),
            license_expression=raw.get("license_expression") or raw.get("license"),
            unparsed=tuple(sorted(unparsed)),
        )

    def matches(self, name: str) -> bool:
        return canonicalize_name(self.name) == canonicalize_name(name)
