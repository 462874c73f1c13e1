"""Read every member of a wheel once: inflate, check RECORD, and parse ELF files.

This is the only stage that touches member bytes.  Each member streams past
once (:mod:`truewheel.analysis.member`): hashed, and, if its first bytes are
the ELF magic, searched for build paths and library version strings while the
ranges the ELF reader needs are kept; memory stays bounded by what one reader
keeps per worker, whatever the size of the member.  Inflation (ISA-L) and
hashing release the GIL, so threads use every core without copying members
between processes.
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

from truewheel.analysis.member import analyze_stream, claimed_format
from truewheel.elf import ElfFile, is_elf
from truewheel.errors import TruewheelError
from truewheel.macho import MachOFile, is_macho
from truewheel.pe import PEFile, is_pe
from truewheel.policy.libraries import LibraryTable, VersionEvidence
from truewheel.wheel import WheelArchive, ZipMember, record_mismatch

if TYPE_CHECKING:
    from truewheel.elf.buildpaths import BuildPath

__all__ = ["ScannedMember", "digest_members", "may_be_elf", "scan_members"]

_BATCH_BYTES = 8 * 2**20
_HEAD_BYTES = 4096  # the ELF and Mach-O magic; the PE header that e_lfanew points to


@dataclass(slots=True)
class ScannedMember:
    """What one pass over a member's bytes established."""

    name: str
    size: int
    mode: int
    sha256: str
    record_problem: str | None = None
    elf: ElfFile | None = None
    macho: MachOFile | None = None
    pe: PEFile | None = None
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
            digests = _digests_of(wheel, member)
            try:
                for name in digests:
                    for chunk in wheel.stream(member):
                        digests[name].update(chunk)
                    break
            except TruewheelError as exc:
                raise exc.located(path=wheel.path, member=member.name) from None
            sums = {name: h.digest() for name, h in digests.items()}
            problem = _check_record(wheel, member, sums)
            out.append((member.name, (_b64(sums["sha256"]), problem)))
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


def _scan_one(
    wheel: WheelArchive, member: ZipMember, libraries: LibraryTable, *, deep: bool = True
) -> ScannedMember:
    try:
        facts = analyze_stream(
            lambda: wheel.stream(member),
            member.file_size,
            member.name,
            libraries,
            deep=deep,
            digests=_algorithms(wheel, member) if deep else (),
        )
    except TruewheelError as exc:
        raise exc.located(path=wheel.path, member=member.name) from None
    sha256 = facts.digests.get("sha256", b"")
    result = ScannedMember(
        member.name,
        member.file_size,
        member.mode,
        sha256.hex(),
        elf=facts.elf,
        macho=facts.macho,
        pe=facts.pe,
        build_paths=facts.build_paths,
        versions=facts.versions,
    )
    if deep:
        result.record_problem = _check_record(wheel, member, facts.digests)
    return result


# Suffixes of files that are text, bytecode or data in practice; everything else is
# checked for the ELF magic, since programs have no suffix or a version (bin/protoc-3.13.0.0).
_NEVER_ELF = frozenset((
    ".py", ".pyc", ".pyi", ".pyx", ".pxd", ".pxi", ".h", ".hpp", ".c", ".cc", ".cpp", ".txt",
    ".md", ".rst", ".json", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".html", ".js", ".css",
    ".svg", ".png", ".jpg", ".gif", ".csv", ".typed", ".mo", ".po", ".xml", ".pem",
))  # fmt: skip


def may_be_elf(name: str) -> bool:
    """Whether a file's first bytes are worth reading for the ELF magic, by its name.

    Only suffixes that are text, bytecode or data in practice are passed over: in an
    installed torch, 1,427 of 31,862 files are opened instead of all, and none of the
    420 ELF files is missed.
    """
    return posixpath.splitext(name)[1].lower() not in _NEVER_ELF


def _scan_native(
    wheel: WheelArchive, member: ZipMember, libraries: LibraryTable
) -> ScannedMember | None:
    if member.file_size < 64 or not may_be_elf(member.name):
        return None
    try:
        head = wheel.zip.read_head(member, _HEAD_BYTES)
    except TruewheelError as exc:
        raise exc.located(path=wheel.path, member=member.name) from None
    native = (
        is_elf(head) or is_macho(head) or is_pe(head) or bool(claimed_format(member.name, head))
    )
    return _scan_one(wheel, member, libraries) if native else None


def _scan_elf_only(
    wheel: WheelArchive, member: ZipMember, libraries: LibraryTable
) -> ScannedMember:
    """ELF facts from as little of the member as they need (often a few MB of hundreds)."""
    return _scan_one(wheel, member, libraries, deep=False)


def _algorithms(wheel: WheelArchive, member: ZipMember) -> tuple[str, ...]:
    """sha256 always (reports name files by it), and RECORD's algorithm when it differs."""
    entry = wheel.record_entry(member)
    if entry is None or entry.algorithm in (None, "sha256"):
        return ("sha256",)
    return ("sha256", entry.algorithm)


def _digests_of(wheel: WheelArchive, member: ZipMember) -> dict[str, hashlib._Hash]:
    return {name: hashlib.new(name) for name in _algorithms(wheel, member)}


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _check_record(wheel: WheelArchive, member: ZipMember, digests: dict[str, bytes]) -> str | None:
    """What is wrong with the member's RECORD line, given its digests (size checked on read)."""
    if member.name == wheel.record_name or member.name.startswith(f"{wheel.record_name}."):
        return None
    entry = wheel.record_entry(member)
    if entry is None:
        return "not listed in RECORD"
    if entry.size is not None and entry.size != member.file_size:
        return f"size {member.file_size} differs from RECORD's {entry.size}"
    if entry.algorithm is None or entry.digest is None:
        return "RECORD has no hash for it"
    if _b64(digests[entry.algorithm]) != entry.digest:
        return f"{entry.algorithm} differs from RECORD"
    return None


def verified_digests(wheel: WheelArchive) -> dict[str, tuple[str, int]]:
    """RECORD digest and size of every member, refused unless the input's RECORD agrees.

    What a rewrite copies unchanged keeps the digest its RECORD row needs, proven."""
    members = [
        m
        for m in wheel.files
        if m.name != wheel.record_name and not m.name.startswith(f"{wheel.record_name}.")
    ]
    digests = digest_members(wheel, members)
    problems = [f"{path}: listed in RECORD but not in the wheel" for path in wheel.missing_files]
    problems += [f"{name}: {problem}" for name, (_, problem) in sorted(digests.items()) if problem]
    if problems:
        raise record_mismatch(wheel, problems)
    sizes = {m.name: m.file_size for m in members}
    return {name: (digest, sizes[name]) for name, (digest, _) in digests.items()}
