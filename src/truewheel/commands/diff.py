"""``truewheel diff``: how two wheels differ, causes first and consequences after.

Both files are opened as wheels first (anything else is refused), then members
are compared by the CRC-32 and size in the central directories; only members
whose content differs are inflated, as streams, never whole.  ELF members are explained by
:mod:`truewheel.diff.elfdiff`; RECORD lines that only follow from other
members' content are consequences; WHEEL is compared by its fields (the order
of Tag lines means nothing); METADATA and other text are shown as a short
unified diff.  Members under ``<name>-<version>.dist-info/`` and ``.data/`` are
paired by the path inside those directories, so two versions of one project
compare file by file.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from truewheel.diff.elfdiff import explain_elf_difference
from truewheel.elf import is_elf
from truewheel.errors import TruewheelError
from truewheel.wheel import RecordEntry, WheelArchive, parse_record
from truewheel.wheel.archive import MAX_TEXT_BYTES

__all__ = ["MemberDifference", "WheelDiff", "compare_zip_metadata", "diff_wheels"]

_MAX_TEXT_LINES = 6


@dataclass
class MemberDifference:
    name: str  # A's name; B's when it differs (another version's .dist-info) is ``name_b``
    kind: str  # elf | record | wheel | text | binary
    causes: list[str] = field(default_factory=list)
    consequences: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)
    name_b: str | None = None


@dataclass
class WheelDiff:
    a: str
    b: str
    identical: bool
    members_compared: int = 0
    paired: list[list[str]] = field(default_factory=list)  # [A dir, B dir] matched by role
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    libraries_removed: list[str] = field(default_factory=list)  # ELF members of only_in_a
    libraries_added: list[str] = field(default_factory=list)  # ELF members of only_in_b
    order_differs: bool = False
    timestamps_differ: list[str] = field(default_factory=list)
    permissions_differ: list[str] = field(default_factory=list)
    compression_differs: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)  # bytes differ, meaning does not
    members: list[MemberDifference] = field(default_factory=list)

    @property
    def content_differs(self) -> bool:
        return bool(self.only_in_a or self.only_in_b or self.members)


class _Side:
    """One wheel's members by their role: ``*.dist-info/X`` and ``*.data/X`` for its own
    metadata directories, the name itself for everything else."""

    def __init__(self, wheel: WheelArchive) -> None:
        self.wheel = wheel
        self.dist_info = wheel.dist_info + "/"
        self.data = wheel.dist_info[: -len(".dist-info")] + ".data/"
        self.by_key = {self.key(m.name): m for m in wheel.files}
        self.keys = [self.key(m.name) for m in wheel.files]

    def key(self, name: str) -> str:
        for prefix, role in ((self.dist_info, "*.dist-info/"), (self.data, "*.data/")):
            if name.startswith(prefix):
                return role + name[len(prefix) :]
        return name


def diff_wheels(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> WheelDiff:
    """Compare two wheels; both are opened (and so validated) before any byte is compared."""
    path_a, path_b = Path(a), Path(b)
    with WheelArchive(path_a) as wa, WheelArchive(path_b) as wb:
        if _same_file_bytes(wa, wb):
            return WheelDiff(str(path_a), str(path_b), identical=True)
        result = compare_zip_metadata(wa, wb)
        sa, sb = _Side(wa), _Side(wb)
        changed = _content_changes(sa, sb)
        for key in changed:
            explained = _explain_member(sa, sb, key, changed, result)
            if explained is not None:
                result.members.append(explained)
        return result


def compare_zip_metadata(wa: WheelArchive, wb: WheelArchive) -> WheelDiff:
    """The differences the central directories show, no member read: which members are
    on one side only, order, timestamps, permissions, compression (``members`` empty)."""
    result = WheelDiff(wa.path, wb.path, identical=False)
    sa, sb = _Side(wa), _Side(wb)
    for role, x, y in (("*.dist-info/", sa.dist_info, sb.dist_info), ("*.data/", sa.data, sb.data)):
        if x != y and any(k.startswith(role) for k in (*sa.keys, *sb.keys)):
            result.paired.append([x, y])
    only_a = [k for k in sa.keys if k not in sb.by_key]
    only_b = [k for k in sb.keys if k not in sa.by_key]
    result.only_in_a = sorted(sa.by_key[k].name for k in only_a)
    result.only_in_b = sorted(sb.by_key[k].name for k in only_b)
    result.libraries_removed = _elf_members(sa, only_a)
    result.libraries_added = _elf_members(sb, only_b)
    common = [k for k in sa.keys if k in sb.by_key]
    result.members_compared = len(common)
    result.order_differs = common != [k for k in sb.keys if k in sa.by_key]
    for key in common:
        ma, mb = sa.by_key[key], sb.by_key[key]
        if ma.dos_datetime != mb.dos_datetime:
            result.timestamps_differ.append(ma.name)
        if ma.mode != mb.mode:
            result.permissions_differ.append(f"{ma.name}: {ma.mode:04o} vs {mb.mode:04o}")
        if ma.method != mb.method or (
            ma.crc32 == mb.crc32 and ma.compressed_size != mb.compressed_size
        ):
            result.compression_differs.append(ma.name)
    return result


def _elf_members(side: _Side, keys: list[str]) -> list[str]:
    members = [side.by_key[k] for k in keys]
    return sorted(m.name for m in members if is_elf(side.wheel.zip.read_head(m, 4)))


def _content_changes(sa: _Side, sb: _Side) -> list[str]:
    """Keys of the common members whose bytes differ."""
    changed = []
    for key in sa.keys:
        mb = sb.by_key.get(key)
        if mb is None:
            continue
        ma = sa.by_key[key]
        if (ma.crc32, ma.file_size) != (mb.crc32, mb.file_size) or not _same_chunks(
            sa.wheel.stream(ma), sb.wheel.stream(mb)
        ):
            changed.append(key)
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


def _explain_member(
    sa: _Side, sb: _Side, key: str, changed: list[str], result: WheelDiff
) -> MemberDifference | None:
    """What differs in one common member; None when only its bytes do (``result.equivalent``)."""
    wa, wb = sa.wheel, sb.wheel
    ma, mb = sa.by_key[key], sb.by_key[key]
    name, name_b = ma.name, (mb.name if mb.name != ma.name else None)
    if is_elf(wa.zip.read_head(ma, 4)) and is_elf(wb.zip.read_head(mb, 4)):
        try:
            elf = explain_elf_difference(
                lambda: wa.stream(ma), ma.file_size, lambda: wb.stream(mb), mb.file_size
            )
        except TruewheelError as exc:
            cause = f"ELF could not be compared: {exc}"
            return MemberDifference(name, "binary", causes=[cause], name_b=name_b)
        detail = [f"sections: {', '.join(elf.sections)}"]
        return MemberDifference(name, "elf", elf.causes, elf.consequences, detail, name_b)
    if max(ma.file_size, mb.file_size) > MAX_TEXT_BYTES:
        cause = f"content differs ({ma.file_size} vs {mb.file_size} bytes)"
        return MemberDifference(name, "binary", causes=[cause], name_b=name_b)
    data_a, data_b = wa.read(ma), wb.read(mb)
    if key == "*.dist-info/RECORD":
        ignored = {*changed, *(sa.key(n) for n in result.only_in_a)}
        ignored |= {sb.key(n) for n in result.only_in_b}
        return _explain_record(sa, sb, data_a, data_b, ignored, name_b)
    if key == "*.dist-info/WHEEL":
        return _explain_wheel_file(wa, wb, data_a, data_b, result)
    lines = _text_diff(data_a, data_b)
    if lines is None:
        cause = f"content differs ({len(data_a)} vs {len(data_b)} bytes)"
        return MemberDifference(name, "binary", causes=[cause], name_b=name_b)
    return MemberDifference(name, "text", causes=["text differs"], detail=lines, name_b=name_b)


def _text_diff(data_a: bytes, data_b: bytes) -> list[str] | None:
    """The first changed lines of a unified diff; None when either side is not UTF-8."""
    try:
        text_a, text_b = data_a.decode("utf-8"), data_b.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = list(
        difflib.unified_diff(text_a.splitlines(), text_b.splitlines(), "A", "B", lineterm="", n=0)
    )[2:]
    return [line for line in lines if not line.startswith("@@")][:_MAX_TEXT_LINES]


def _explain_wheel_file(
    wa: WheelArchive, wb: WheelArchive, data_a: bytes, data_b: bytes, result: WheelDiff
) -> MemberDifference | None:
    """WHEEL by its fields: tags are a set, so Tag lines in another order are no difference."""
    name, name_b = f"{wa.dist_info}/WHEEL", f"{wb.dist_info}/WHEEL"
    info_a, info_b = wa.wheel_info, wb.wheel_info
    tags_a, tags_b = sorted(info_a.tags), sorted(info_b.tags)
    same_fields = dataclasses.replace(info_a, tags=()) == dataclasses.replace(info_b, tags=())
    if same_fields and tags_a == tags_b:
        result.equivalent.append(f"{name}: same fields (Tag lines in another order or formatting)")
        return None
    causes = [] if same_fields else ["fields differ"]
    if tags_a != tags_b:
        causes.insert(0, f"tags changed: A {'.'.join(info_a.tags)}  B {'.'.join(info_b.tags)}")
    detail = [] if same_fields else (_text_diff(data_a, data_b) or [])
    shown_b = name_b if name_b != name else None
    return MemberDifference(name, "wheel", causes=causes, detail=detail, name_b=shown_b)


def _explain_record(
    sa: _Side, sb: _Side, data_a: bytes, data_b: bytes, explained: set[str], name_b: str | None
) -> MemberDifference:
    """RECORD rows compared by role; rows of members that changed, came or went follow."""
    rows_a, _ = parse_record(data_a.decode("utf-8", "replace"))
    rows_b, _ = parse_record(data_b.decode("utf-8", "replace"))
    keyed_a = {sa.key(p): row for p, row in rows_a.items()}
    keyed_b = {sb.key(p): row for p, row in rows_b.items()}
    differing = sorted(
        k for k in set(keyed_a) | set(keyed_b) if _row(keyed_a.get(k)) != _row(keyed_b.get(k))
    )
    explained |= {k for k in differing if k.startswith("*.dist-info/RECORD")}
    unexplained = [k for k in differing if k not in explained]
    result = MemberDifference(sa.wheel.record_name, "record", name_b=name_b)
    if differing and not unexplained:
        result.consequences.append(
            f"lines of {len(differing)} changed, added or removed member(s) "
            "(follows from their content)"
        )
    elif unexplained:
        result.causes.append(f"RECORD differs beyond content changes: {', '.join(unexplained[:4])}")
    else:
        result.causes.append("RECORD lines are ordered or formatted differently")
    return result


def _row(entry: RecordEntry | None) -> tuple[str | None, str | None, int | None] | None:
    """A RECORD row without its path, which pairing has already matched."""
    return None if entry is None else (entry.algorithm, entry.digest, entry.size)
