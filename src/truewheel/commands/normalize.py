"""``truewheel normalize``: rewrite a wheel so its bytes depend only on its contents.

Every member is inflated and deflated again with the one pinned setting (ISA-L
at a fixed level), entries are sorted with ``.dist-info`` last and RECORD
last, timestamps are fixed (``SOURCE_DATE_EPOCH`` when set, else the zip epoch
1980-01-01), permissions are 0644 or 0755, and RECORD is regenerated.  File
contents never change.  Normalizing a normal wheel gives the same bytes, so
``--check`` is "would normalizing change anything?".
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from truewheel.errors import InputError
from truewheel.repair.rewrite import dos_datetime
from truewheel.wheel import Limits, WheelArchive, format_record, record_digest
from truewheel.wheel.writer import NewMember, wheel_order, write_wheel

__all__ = ["NormalizeResult", "normalize_wheel"]

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can carry
NORMAL_LEVEL = 3


@dataclass(frozen=True)
class NormalizeResult:
    input: str
    output: str | None
    already_normal: bool


def normalize_wheel(
    path: str | os.PathLike[str],
    out_dir: Path | None,
    *,
    environ: dict[str, str] | None = None,
    limits: Limits | None = None,
) -> NormalizeResult:
    """Write the normal form of ``path`` into ``out_dir`` (None: only check)."""
    environ = dict(os.environ) if environ is None else environ
    stamp = dos_datetime(_epoch(environ))
    source = Path(path)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    with WheelArchive(source, limits) as wheel:
        members = _normal_members(wheel, stamp)
        with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
            candidate = Path(scratch) / source.name
            write_wheel(candidate, members, None, level=NORMAL_LEVEL)
            normal = _sha256(candidate) == _sha256(source)
            if out_dir is None:
                return NormalizeResult(str(source), None, normal)
            target = out_dir / source.name
            if target.resolve() == source.resolve():
                raise InputError("refusing to overwrite the input wheel", path=str(source))
            candidate.replace(target)
    return NormalizeResult(str(source), str(target), normal)


def _normal_members(wheel: WheelArchive, stamp: tuple[int, int]) -> list[NewMember]:
    record_name = wheel.record_name
    members = [
        NewMember(m.name, wheel.read(m), bool(m.mode & 0o111), stamp)
        for m in wheel.files
        if m.name != record_name and not m.name.startswith(f"{record_name}.")
    ]
    members.sort(key=lambda m: wheel_order(m.name, wheel.dist_info))
    rows = [(m.name, record_digest("sha256", m.data), len(m.data)) for m in members]
    return [*members, NewMember(record_name, format_record(rows, record_name), False, stamp)]


def _epoch(environ: dict[str, str]) -> int:
    value = environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return ZIP_EPOCH
    try:
        return int(value)
    except ValueError as exc:
        raise InputError(f"SOURCE_DATE_EPOCH is not an integer: {value!r}") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
