"""A wheel opened for reading: its zip members and its ``.dist-info`` files.

Nothing is extracted to disk.  Opening validates the container and the three
files every wheel must carry (WHEEL, METADATA, RECORD); a wheel that fails
here cannot be inspected meaningfully, so these are errors, while mismatches
between RECORD and the members are left for the caller to report.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from truewheel.errors import MetadataError, TruewheelError
from truewheel.wheel.filename import WheelName
from truewheel.wheel.metadata import CoreMetadata, WheelInfo
from truewheel.wheel.record import RecordEntry, parse_record
from truewheel.wheel.zipreader import Limits, ZipMember, ZipReader

__all__ = ["MAX_TEXT_BYTES", "WheelArchive", "record_mismatch"]

# WHEEL, METADATA and RECORD are read whole; torch's RECORD is 1.3 MB.
MAX_TEXT_BYTES = 64 << 20


class WheelArchive:
    """Read access to one wheel file."""

    def __init__(self, path: str | os.PathLike[str], limits: Limits | None = None) -> None:
        self.path = str(path)
        self.zip = ZipReader(self.path, limits)  # first: a missing file is said to be missing
        try:
            try:
                self.name = WheelName.parse(Path(self.path).name)
            except MetadataError as exc:
                raise MetadataError(exc.message, path=self.path) from exc
            self.files: tuple[ZipMember, ...] = tuple(m for m in self.zip.members if not m.is_dir)
            self.dist_info = self._find_dist_info()
            self.wheel_info = WheelInfo.parse(
                self.read_text("WHEEL"), path=self.path, member=self._member_name("WHEEL")
            )
            self.metadata = CoreMetadata.parse(
                self.read_text("METADATA"), path=self.path, member=self._member_name("METADATA")
            )
            self.record, problems = parse_record(self.read_text("RECORD"))
            if problems:
                more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
                raise MetadataError(problems[0] + more, path=self.path, member=self.record_name)
        except BaseException:
            self.zip.close()
            raise
        self.problems: list[str] = []
        if not self.metadata.matches(self.name.name):
            self.problems.append(
                f"METADATA Name {self.metadata.name!r} does not match the file name"
            )

    def __enter__(self) -> WheelArchive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    @property
    def metadata_name(self) -> str:
        return self._member_name("METADATA")

    @property
    def record_name(self) -> str:
        return self._member_name("RECORD")

    def record_entry(self, member: ZipMember) -> RecordEntry | None:
        return self.record.get(member.name)

    @property
    def missing_files(self) -> list[str]:
        """Paths RECORD lists that the wheel does not hold (deleted after RECORD was made)."""
        present = {m.name for m in self.files}
        return sorted(path for path in self.record if path not in present)

    def read(self, member: ZipMember, *, limit: int | None = None) -> bytes:
        return self.zip.read(member, limit=limit)

    def stream(self, member: ZipMember) -> Iterator[bytes]:
        return self.zip.stream(member)

    def save(self, member: ZipMember, path: Path) -> None:
        """Write a member's bytes to ``path`` as they inflate (patchelf edits files)."""
        with path.open("wb") as out:
            for chunk in self.stream(member):
                out.write(chunk)

    def read_text(self, dist_info_file: str) -> str:
        name = self._member_name(dist_info_file)
        member = self.zip.get(name)
        if member is None:
            raise MetadataError(f"missing {dist_info_file}", path=self.path, member=name)
        try:
            return self.zip.read(member, limit=MAX_TEXT_BYTES).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetadataError("not valid UTF-8", path=self.path, member=name) from exc
        except TruewheelError as exc:
            raise exc.located(path=self.path, member=name) from None

    def _member_name(self, dist_info_file: str) -> str:
        return f"{self.dist_info}/{dist_info_file}"

    def _find_dist_info(self) -> str:
        """The one ``.dist-info`` directory; installers refuse a wheel with several."""
        tops = {m.name.split("/", 1)[0] for m in self.zip.members if "/" in m.name}
        candidates = sorted(t for t in tops if t.endswith(".dist-info"))
        if not candidates:
            raise MetadataError("no .dist-info directory", path=self.path)
        if len(candidates) > 1:
            raise MetadataError(
                f"several .dist-info directories (installers refuse it): {', '.join(candidates)}",
                path=self.path,
            )
        return candidates[0]


def record_mismatch(wheel: WheelArchive, problems: list[str]) -> MetadataError:
    """The refusal of a rewrite whose input does not match its RECORD (never laundered)."""
    shown = "; ".join(problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return MetadataError(
        f"members do not match RECORD, refusing to write a fresh one: {shown}{more}",
        path=wheel.path,
        member=wheel.record_name,
    )
