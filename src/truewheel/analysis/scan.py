"""Read every member of a wheel once: inflate, check RECORD, and parse ELF files.

This is the only stage that touches member bytes.  Each member is inflated
exactly once, hashed, and, if its first bytes are the ELF magic, parsed and
searched for build paths and library version strings; the bytes are dropped
before the next member, so memory stays bounded by the members in flight (one
per worker).  Inflation (ISA-L) and hashing release the GIL, so threads use
every core without copying members between processes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from truewheel.elf import ElfFile, is_elf
from truewheel.errors import ElfError, TruewheelError
from truewheel.policy.libraries import LibraryTable, VersionEvidence
from truewheel.wheel import WheelArchive, ZipMember, record_digest

if TYPE_CHECKING:
    from truewheel.elf.buildpaths import BuildPath

__all__ = ["ScannedMember", "digest_members", "scan_members"]

_BATCH_BYTES = 8 * 2**20
_HEAD_BYTES = 64 * 1024


@dataclass(slots=True)
class ScannedMember:
    """What one pass over a member's bytes established."""

    name: str
    size: int
    mode: int
    sha256: str
    record_problem: str | None = None
    elf: ElfFile | None = None
    build_paths: list[BuildPath] = field(default_factory=list)
    versions: list[VersionEvidence] = field(default_factory=list)


ProgressCallback = Callable[[int], None]


def scan_members(
    wheel: WheelArchive,
    libraries: LibraryTable,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    deep: bool = True,
    native_only: bool = False,
) -> list[ScannedMember]:
    """Scan every file member, largest first, on a pool of threads.

    ``deep=False`` is the repair planner's pass: only the start of ELF members is inflated,
    as far as their dynamic facts reach (others are recognised from their first bytes);
    nothing is hashed, no strings are searched and no sections are read; ``sha256`` is
    then empty and RECORD is not checked.  ``native_only=True`` is the
    catalog's pass: ELF members get the deep scan, the others are left out of the result
    without being inflated (names that are never ELF are not even opened).
    """
    workers = workers or min(os.cpu_count() or 1, 8)
    batches = list(_batches(wheel.files))

    scan = _scan_native if native_only else _scan_one if deep else _scan_elf_only

    def run(batch: list[ZipMember]) -> list[ScannedMember]:
        results = [r for member in batch if (r := scan(wheel, member, libraries)) is not None]
        if progress:
            progress(sum(m.compressed_size for m in batch))
        return results

    if workers == 1 or len(batches) == 1:
        scanned = [r for batch in batches for r in run(batch)]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            scanned = [r for results in pool.map(run, batches) for r in results]
    scanned.sort(key=lambda m: m.name)
    return scanned


def digest_members(
    wheel: WheelArchive, members: list[ZipMember], *, workers: int | None = None
) -> dict[str, tuple[str, str | None]]:
    """RECORD-style sha256 of each member and the RECORD problem it has, if any."""
    workers = workers or min(os.cpu_count() or 1, 8)

    def run(batch: list[ZipMember]) -> list[tuple[str, tuple[str, str | None]]]:
        out = []
        for member in batch:
            try:
                data = wheel.read(member)
            except TruewheelError as exc:
                raise exc.located(path=wheel.path, member=member.name) from None
            digest = hashlib.sha256(data).digest()
            problem = _check_record(wheel, member, data, digest)
            out.append(
                (member.name, (base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), problem))
            )
        return out

    batches = list(_batches(members))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(item for results in pool.map(run, batches) for item in results)


def _batches(members: Iterable[ZipMember]) -> Iterator[list[ZipMember]]:
    """Large members alone, small ones grouped, so scheduling overhead stays small."""
    batch: list[ZipMember] = []
    size = 0
    for member in sorted(members, key=lambda m: m.compressed_size, reverse=True):
        if member.compressed_size >= _BATCH_BYTES:
            yield [member]
            continue
        batch.append(member)
        size += member.compressed_size
        if size >= _BATCH_BYTES or len(batch) >= 512:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _scan_one(wheel: WheelArchive, member: ZipMember, libraries: LibraryTable) -> ScannedMember:
    try:
        data = wheel.read(member)
        sha256 = hashlib.sha256(data)
        result = ScannedMember(member.name, member.file_size, member.mode, sha256.hexdigest())
        result.record_problem = _check_record(wheel, member, data, sha256.digest())
        if is_elf(data[:4]):
            elf = ElfFile.parse(data)
            result.elf = elf
            from truewheel.elf.buildpaths import find_build_paths

            result.build_paths = find_build_paths(elf, data)
            result.versions = libraries.find_versions(member.name, elf, data)
        return result
    except TruewheelError as exc:
        raise exc.located(path=wheel.path, member=member.name) from None


# Suffixes of members that are text, bytecode or data in practice; everything else is
# checked for the ELF magic, since executables and libraries often have no suffix at all.
_NEVER_ELF = frozenset((
    ".py", ".pyc", ".pyi", ".pyx", ".pxd", ".pxi", ".h", ".hpp", ".c", ".cc", ".cpp", ".txt",
    ".md", ".rst", ".json", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".html", ".js", ".css",
    ".svg", ".png", ".jpg", ".gif", ".csv", ".typed", ".mo", ".po", ".xml", ".pem",
))  # fmt: skip


def _scan_native(
    wheel: WheelArchive, member: ZipMember, libraries: LibraryTable
) -> ScannedMember | None:
    suffix = posixpath.splitext(member.name)[1].lower()
    if member.file_size < 64 or suffix in _NEVER_ELF:
        return None
    try:
        head = wheel.zip.read_head(member, 4)
    except TruewheelError as exc:
        raise exc.located(path=wheel.path, member=member.name) from None
    return _scan_one(wheel, member, libraries) if is_elf(head) else None


def _scan_elf_only(
    wheel: WheelArchive, member: ZipMember, libraries: LibraryTable
) -> ScannedMember:
    """ELF facts from as little of the member as they need (often a few MB of hundreds)."""
    try:
        result = ScannedMember(member.name, member.file_size, member.mode, "")
        head = wheel.zip.read_head(member, _HEAD_BYTES)
        if not is_elf(head[:4]):
            return result
        needed = ElfFile.prefix_size(head)
        if needed is not None and needed < member.file_size:
            if needed > len(head):
                head = wheel.zip.read_head(member, needed)
            try:
                result.elf = ElfFile.parse(head, prefix=True)
                return result
            except ElfError:
                pass  # a table beyond the prefix, or a malformed file: judge the whole
        result.elf = ElfFile.parse(wheel.read(member))
        return result
    except TruewheelError as exc:
        raise exc.located(path=wheel.path, member=member.name) from None


def _check_record(
    wheel: WheelArchive, member: ZipMember, data: bytes, sha256_digest: bytes
) -> str | None:
    if member.name == wheel.record_name or member.name.startswith(f"{wheel.record_name}."):
        return None
    entry = wheel.record_entry(member)
    if entry is None:
        return "not listed in RECORD"
    if entry.size is not None and entry.size != len(data):
        return f"size {len(data)} differs from RECORD's {entry.size}"
    if entry.algorithm is None or entry.digest is None:
        return "RECORD has no hash for it"
    if entry.algorithm == "sha256":
        actual = base64.urlsafe_b64encode(sha256_digest).rstrip(b"=").decode()
    else:
        actual = record_digest(entry.algorithm, data)
    if actual != entry.digest:
        return f"{entry.algorithm} differs from RECORD"
    return None
