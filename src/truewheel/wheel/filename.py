"""Wheel file names (PEP 427 / the binary distribution format spec)."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.tags import Tag
from packaging.utils import (
    BuildTag,
    InvalidWheelFilename,
    NormalizedName,
    parse_wheel_filename,
)
from packaging.version import Version

from truewheel.errors import MetadataError

__all__ = ["WheelName"]


@dataclass(frozen=True)
class WheelName:
    """The parsed parts of a wheel's file name."""

    filename: str
    name: NormalizedName
    version: Version
    build: BuildTag
    tags: frozenset[Tag]

    @classmethod
    def parse(cls, filename: str) -> WheelName:
        try:
            name, version, build, tags = parse_wheel_filename(filename)
        except InvalidWheelFilename as exc:
            raise MetadataError(f"invalid wheel file name ({exc})", path=filename) from exc
        return cls(filename, name, version, build, tags)

    @property
    def platforms(self) -> list[str]:
        return sorted({t.platform for t in self.tags})

    @property
    def dist_info(self) -> str:
        """The ``.dist-info`` directory name the spec expects for this file name."""
        stem = self.filename.split("-")
        return f"{stem[0]}-{stem[1]}.dist-info"
