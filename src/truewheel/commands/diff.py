"""``truewheel diff``: how two wheels differ, causes first and consequences after.

Both files are opened as wheels first (anything else is refused), then members
are compared by the CRC-32 and size in the central directories; only members
whose content differs are inflated, as streams, never whole.  ELF members are explained by
:mod:`truewheel.diff.elfdiff`; RECORD lines that only follow from other
members' content are consequences; METADATA/WHEEL and other text are shown as
a short unified diff.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from truewheel.diff.elfdiff import explain_elf_difference
from truewheel.elf import is_elf
from truewheel.errors import TruewheelError
from truewheel.wheel import WheelArchive, ZipMember, parse_record
from truewheel.wheel.archive import MAX_TEXT_BYTES

__all__ = ["MemberDifference", "WheelDiff", "diff_wheels"]

_MAX_TEXT_LINES = 6


@dataclass
class MemberDifference:
    name: str
    kind: str  # elf | record | text | binary
    causes: list[str] = field(default_factory=list)
    consequences: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)


@dataclass
class WheelDiff:
    a: str
    b: str
    identical: bool
    members_compared: int = 0
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    order_differs: bool = False
    timestamps_differ: list[str] = field(default_factory=list)
    permissions_differ: list[str] = field(default_factory=list)
    compression_differs: list[str] = field(default_factory=list)
    members: list[MemberDifference] = field(default_factory=list)

    @property
    def content_differs(self) -> bool:
        return bool(self.only_in_a or self.only_in_b or self.members)


def diff_wheels(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> WheelDiff:
    """Compare two wheels; both are opened (and so validated) before any byte is compared."""
    path_a, path_b = Path(a), Path(b)
    with WheelArchive(path_a) as wa, WheelArchive(path_b) as wb:
        if _same_file_bytes(wa, wb):
            return WheelDiff(str(path_a), str(path_b), identical=True)
        result = WheelDiff(str(path_a), str(path_b), identical=False)
        _compare_archives(wa, wb, result)
        changed = _content_changes(wa, wb, result)
        for name in changed:
            result.members.append(_explain_member(wa, wb, name, changed))
        return result


def _compare_archives(wa: WheelArchive, wb: WheelArchive, result: WheelDiff) -> None:
    names_a = [m.name for m in wa.files]
    names_b = [m.name for m in wb.files]
    result.only_in_a = sorted(set(names_a) - set(names_b))
    result.only_in_b = sorted(set(names_b) - set(names_a))
    common = [n for n in names_a if n in set(names_b)]
    result.members_compared = len(common)
    result.order_differs = common != [n for n in names_b if n in set(names_a)]
    for name in common:
        ma, mb = _member(wa, name), _member(wb, name)
        if ma.dos_datetime != mb.dos_datetime:
            result.timestamps_differ.append(name)
        if ma.mode != mb.mode:
            result.permissions_differ.append(f"{name}: {ma.mode:04o} vs {mb.mode:04o}")
        if ma.method != mb.method or (
            ma.crc32 == mb.crc32 and ma.compressed_size != mb.compressed_size
        ):
            result.compression_differs.append(name)


def _content_changes(wa: WheelArchive, wb: WheelArchive, result: WheelDiff) -> list[str]:
    names_b = {m.name for m in wb.files}
    changed = []
    for ma in wa.files:
        if ma.name not in names_b:
            continue
        mb = _member(wb, ma.name)
        if (ma.crc32, ma.file_size) != (mb.crc32, mb.file_size) or not _same_chunks(
            wa.stream(ma), wb.stream(mb)
        ):
            changed.append(ma.name)
    return changed


def _same_file_bytes(wa: WheelArchive, wb: WheelArchive) -> bool:
    """Whether the two wheel files are byte for byte the same, read in chunks."""
    return _same_chunks(wa.zip.file_chunks(), wb.zip.file_chunks())


def _same_chunks(a: Iterator[bytes], b: Iterator[bytes]) -> bool:
    """Compare two streams whose chunks need not line up."""
    left = right = b""
    while True:
        if not left:
            left = next(a, b"")
        if not right:
            right = next(b, b"")
        if not left or not right:
            return not left and not right
        n = min(len(left), len(right))
        if left[:n] != right[:n]:
            return False
        left, right = left[n:], right[n:]


def _member(wheel: WheelArchive, name: str) -> ZipMember:
    member = wheel.zip.get(name)
    assert member is not None
    return member


def _explain_member(
    wa: WheelArchive, wb: WheelArchive, name: str, changed: list[str]
) -> MemberDifference:
    ma, mb = _member(wa, name), _member(wb, name)
    if is_elf(wa.zip.read_head(ma, 4)) and is_elf(wb.zip.read_head(mb, 4)):
        try:
            elf = explain_elf_difference(
                lambda: wa.stream(ma), ma.file_size, lambda: wb.stream(mb), mb.file_size
            )
        except TruewheelError as exc:
            return MemberDifference(name, "binary", causes=[f"ELF could not be compared: {exc}"])
        return MemberDifference(
            name, "elf", elf.causes, elf.consequences, [f"sections: {', '.join(elf.sections)}"]
        )
    if max(ma.file_size, mb.file_size) > MAX_TEXT_BYTES:
        return MemberDifference(
            name, "binary", causes=[f"content differs ({ma.file_size} vs {mb.file_size} bytes)"]
        )
    data_a, data_b = wa.read(ma), wb.read(mb)
    if name == wa.record_name:
        return _explain_record(name, data_a, data_b, changed)
    try:
        text_a, text_b = data_a.decode("utf-8"), data_b.decode("utf-8")
    except UnicodeDecodeError:
        return MemberDifference(
            name, "binary", causes=[f"content differs ({len(data_a)} vs {len(data_b)} bytes)"]
        )
    lines = list(
        difflib.unified_diff(text_a.splitlines(), text_b.splitlines(), "A", "B", lineterm="", n=0)
    )[2:]
    shown = [line for line in lines if not line.startswith("@@")][:_MAX_TEXT_LINES]
    return MemberDifference(name, "text", causes=["text differs"], detail=shown)


def _explain_record(
    name: str, data_a: bytes, data_b: bytes, changed: list[str]
) -> MemberDifference:
    rows_a, _ = parse_record(data_a.decode("utf-8", "replace"))
    rows_b, _ = parse_record(data_b.decode("utf-8", "replace"))
    differing = sorted(p for p in set(rows_a) | set(rows_b) if rows_a.get(p) != rows_b.get(p))
    explained = set(changed)
    unexplained = [p for p in differing if p not in explained]
    result = MemberDifference(name, "record")
    if differing and not unexplained:
        result.consequences.append(
            f"lines of {len(differing)} changed member(s) (follows from their content)"
        )
    elif unexplained:
        result.causes.append(f"RECORD differs beyond content changes: {', '.join(unexplained[:4])}")
    else:
        result.causes.append("RECORD lines are ordered or formatted differently")
    return result
