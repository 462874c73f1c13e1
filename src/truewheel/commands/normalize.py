"""``truewheel normalize``: rewrite a wheel so its bytes depend only on its contents.

Every member is inflated and deflated again with the one pinned setting (ISA-L
at a fixed level), entries are sorted with ``.dist-info`` last and RECORD
last, timestamps are fixed (``SOURCE_DATE_EPOCH`` when set, clamped to what zip
can store, else the zip epoch 1980-01-01), permissions are 0644 or 0755, and
RECORD is regenerated.  File contents never change.  Normalizing a normal wheel
gives the same bytes, so ``--check`` is "would normalizing change anything?",
and when the answer is yes, the normal form is compared with the input member
by member to say why (:class:`Reason`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from truewheel._files import check_not_input, output_directory, sha256_file
from truewheel.commands.diff import compare_zip_metadata
from truewheel.errors import TruewheelError
from truewheel.wheel import Limits, WheelArchive, ZipMember, record_mismatch
from truewheel.wheel.writer import Chunks, NewMember, RecordSpec, wheel_order, write_wheel
from truewheel.wheel.ziptime import ZIP_FIRST, dos_datetime, source_date_epoch

__all__ = ["NormalizeResult", "Reason", "normalize_wheel"]

NORMAL_LEVEL = 3


@dataclass(frozen=True)
class Reason:
    """One property in which the input differs from its normal form, and where."""

    property: str  # order | timestamps | permissions | compression | record | dropped | zip
    message: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class NormalizeResult:
    input: str
    output: str | None
    already_normal: bool
    reasons: tuple[Reason, ...] = field(default=())


def normalize_wheel(
    path: str | os.PathLike[str],
    out_dir: Path | None,
    *,
    environ: dict[str, str] | None = None,
    limits: Limits | None = None,
    inputs: Sequence[str | os.PathLike[str]] = (),
) -> NormalizeResult:
    """Write the normal form of ``path`` into ``out_dir`` (None: only check).

    Every member's hash and size are checked against the input's RECORD as it streams
    through; a mismatch is refused (naming the members) rather than laundered into a
    fresh, valid RECORD.  ``inputs`` are the run's other inputs, which the output may
    not replace either.
    """
    environ = dict(os.environ) if environ is None else environ
    stamp = dos_datetime(_epoch(environ))
    source = Path(path)
    if out_dir is not None:
        out_dir = output_directory(out_dir)
    with WheelArchive(source, limits) as wheel:
        problems: list[str] = []
        members = _normal_members(wheel, stamp, problems)
        with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
            candidate = Path(scratch) / source.name
            record = RecordSpec(wheel.record_name, stamp, {})
            written = write_wheel(candidate, members, None, level=NORMAL_LEVEL, record=record)
            problems += _record_problems(wheel, written)
            if problems:
                raise record_mismatch(wheel, problems)
            normal = sha256_file(candidate) == sha256_file(source)
            reasons = () if normal else _reasons(wheel, candidate)
            if out_dir is None:
                return NormalizeResult(str(source), None, normal, reasons)
            target = out_dir / source.name
            check_not_input(target, [source, *inputs], option="-w")
            candidate.replace(target)
    return NormalizeResult(str(source), str(target), normal, reasons)


def _reasons(wheel: WheelArchive, candidate: Path) -> tuple[Reason, ...]:
    """Why ``wheel`` is not its normal form ``candidate``: what the central directories
    show, RECORD's bytes, and entries normalize leaves out."""
    with WheelArchive(candidate) as normal:
        d = compare_zip_metadata(wheel, normal)
        same_record = wheel.read(_record(wheel)) == normal.read(_record(normal))
        expected = [m.name for m in normal.files]
    reasons = []
    if d.order_differs:
        placed = [m.name for m in wheel.files if m.name in set(expected)]
        moved = [a for a, b in zip(placed, expected, strict=True) if a != b]
        reasons.append(Reason("order", "members are not in the normal order", tuple(moved)))
    for prop, message, members in (
        ("timestamps", "timestamps are not the fixed date", d.timestamps_differ),
        ("permissions", "permissions are not 0644 or 0755", d.permissions_differ),
        (
            "compression",
            f"not deflated the normal way (ISA-L level {NORMAL_LEVEL})",
            d.compression_differs,
        ),
    ):
        if members:
            reasons.append(Reason(prop, message, tuple(members)))
    if not same_record:
        reasons.append(Reason("record", "RECORD is not the regenerated one (rows or format)"))
    dropped = [m.name for m in wheel.zip.members if m.is_dir] + d.only_in_a
    if dropped:
        reasons.append(Reason("dropped", "entries the normal form leaves out", tuple(dropped)))
    if not reasons:
        what = "extra fields, flags, data descriptors or comments"
        reasons.append(Reason("zip", f"zip structure differs ({what})"))
    return tuple(reasons)


def _record(wheel: WheelArchive) -> ZipMember:
    member = wheel.zip.get(wheel.record_name)
    assert member is not None
    return member


def _normal_members(
    wheel: WheelArchive, stamp: tuple[int, int], problems: list[str]
) -> list[NewMember]:
    record_name = wheel.record_name
    members = [
        NewMember(
            m.name,
            Chunks(m.file_size, lambda m=m: _verified(wheel, m, problems)),  # type: ignore[misc]
            bool(m.mode & 0o111),
            stamp,
        )
        for m in wheel.files
        if m.name != record_name and not m.name.startswith(f"{record_name}.")
    ]
    members.sort(key=lambda m: wheel_order(m.name, wheel.dist_info))
    return members


def _verified(wheel: WheelArchive, member: ZipMember, problems: list[str]) -> Iterator[bytes]:
    """The member's bytes; a RECORD hash in another algorithm than sha256 is checked here."""
    entry = wheel.record_entry(member)
    other = entry.algorithm if entry and entry.algorithm not in (None, "sha256") else None
    digest = hashlib.new(other) if other else None
    try:
        for chunk in wheel.stream(member):
            if digest is not None:
                digest.update(chunk)
            yield chunk
    except TruewheelError as exc:
        raise exc.located(path=wheel.path, member=member.name) from None
    if digest is not None and entry is not None and _b64(digest.digest()) != entry.digest:
        problems.append(f"{member.name}: {other} differs from RECORD")


def _record_problems(wheel: WheelArchive, written: dict[str, tuple[str, int]]) -> list[str]:
    """Members whose sha256 or size (as written) disagree with the input's RECORD."""
    problems = [f"{path}: listed in RECORD but not in the wheel" for path in wheel.missing_files]
    for name, (digest, size) in written.items():
        entry = wheel.record.get(name)
        if entry is None:
            problems.append(f"{name}: not listed in RECORD")
        elif entry.size is not None and entry.size != size:
            problems.append(f"{name}: size {size} differs from RECORD's {entry.size}")
        elif entry.algorithm is None or entry.digest is None:
            problems.append(f"{name}: RECORD has no hash for it")
        elif entry.algorithm == "sha256" and entry.digest != digest:
            problems.append(f"{name}: sha256 differs from RECORD")
    return problems


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _epoch(environ: dict[str, str]) -> int:
    epoch = source_date_epoch(environ)
    return ZIP_FIRST if epoch is None else epoch
