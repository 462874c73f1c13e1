"""The per-unit work of a scan: facts about every native file of one wheel or distribution.

These functions run in worker processes (local or Dask), so they take and return
plain data (:mod:`truewheel.catalog.model`) and never raise for bad input: a
wheel that cannot be read comes back as a unit with ``error`` set, and the scan
goes on.  The inspect engine does the work; each native member is inflated once,
hashed and parsed from the same bytes, and other members are never inflated.
"""

from __future__ import annotations

import os
import posixpath
from functools import cache

from packaging.utils import canonicalize_name

from truewheel._files import open_regular, read_regular
from truewheel.analysis.identity import identify
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.member import analyze_stream, file_chunks
from truewheel.analysis.report import LibraryIdentity, NativeFile, newest_versions
from truewheel.analysis.resolve import EXTERNAL
from truewheel.analysis.scan import may_be_elf
from truewheel.catalog.images import identity_columns, image_facts
from truewheel.catalog.model import NativeFacts, UnitFacts, UnitKey
from truewheel.catalog.sources import InstalledDist, installed_key, wheel_key
from truewheel.elf import ElfFile, is_elf
from truewheel.errors import InputError, MetadataError, TruewheelError
from truewheel.policy.libraries import LibraryName
from truewheel.wheel import WheelArchive, ZipMember
from truewheel.wheel.archive import MAX_TEXT_BYTES
from truewheel.wheel.metadata import CoreMetadata, WheelInfo

__all__ = ["installed_facts", "wheel_facts"]

_MAX_INSTALLED_FILE = 16 * 2**30


@cache
def _inspector() -> Inspector:
    """One per process: the policy tables load once, and a worker scans one member at a time."""
    return Inspector(workers=1)


def wheel_facts(path: str, workers: int | None = 1) -> UnitFacts:
    """Scan one wheel; its key is read from the same open file as its facts."""
    try:
        with WheelArchive(path, _inspector().limits) as wheel:
            size, mtime_ns, fingerprint = wheel_key(path, wheel.zip.members)
            key = UnitKey("wheel", path, size, mtime_ns, fingerprint)
            inspector = _inspector()
            if workers != inspector.workers:
                inspector = Inspector(
                    inspector.glibc, inspector.musl, inspector.libraries, workers=workers
                )
            facts = inspector.loader_facts(wheel, deep=True)
            members = {m.name: m for m in wheel.files}
            files = tuple(_wheel_file(f, members[f.path]) for f in facts.native_files) + tuple(
                image_facts(f, members[f.path]) for f in facts.images
            )
            platform = facts.platform.computed.tag if facts.platform else None
            if facts.image_platform is not None:
                platform = facts.image_platform.computed_tag
            return UnitFacts(
                key=key,
                project=canonicalize_name(facts.name),
                version=facts.version,
                tags=tuple(sorted(facts.wheel_info.tags)),
                platform_tag=platform,
                member_count=facts.member_count,
                total_bytes=facts.total_bytes,
                compressed_bytes=facts.compressed_bytes,
                files=files,
            )
    except (TruewheelError, OSError) as exc:
        return _failed("wheel", path, exc)


def _wheel_file(f: NativeFile, member: ZipMember) -> NativeFacts:
    unresolved = tuple(sorted({d.name for d in f.dependencies if d.status == EXTERNAL}))
    return _native_facts(
        f.path,
        f.size,
        f.sha256,
        f.elf,
        f.identity,
        unresolved,
        member.compressed_size,
        member.crc32,
    )


def installed_facts(dist: InstalledDist) -> UnitFacts:
    """Scan one installed distribution: the ELF files its RECORD lists, found by magic."""
    try:
        size, mtime_ns, fingerprint = installed_key(dist)
        key = UnitKey("installed", dist.dist_info, size, mtime_ns, fingerprint, dist.site)
        name, version = _dist_name_version(dist.dist_info)
        files = []
        total = 0
        for rel in dist.files:
            if not may_be_elf(rel):
                continue
            facts = _installed_file(dist.site, rel, name)
            if facts is not None:
                files.append(facts)
                total += facts.size
        return UnitFacts(
            key=key,
            project=canonicalize_name(name),
            version=version,
            tags=_installed_tags(dist.dist_info),
            member_count=len(dist.files),
            total_bytes=total,
            files=tuple(files),
        )
    except (TruewheelError, OSError) as exc:
        return _failed("installed", dist.dist_info, exc, dist.site)


def _installed_file(site: str, rel: str, dist_name: str) -> NativeFacts | None:
    path = os.path.join(site, rel)
    try:
        fd = open_regular(path)  # a FIFO or device listed in RECORD is refused, not read
    except InputError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            return None  # RECORD lists it, but it was removed: nothing to load
        raise
    try:
        size = os.fstat(fd).st_size
        if not is_elf(os.pread(fd, 4, 0)):
            return None
        if size > _MAX_INSTALLED_FILE:
            raise TruewheelError("larger than 16 GiB; not scanned", path=path)
        table = _inspector().libraries
        try:
            facts = analyze_stream(lambda: file_chunks(fd, size, path), size, rel, table)
        except TruewheelError as exc:
            raise exc.located(path=path) from None
    finally:
        os.close(fd)
    assert facts.elf is not None
    identity = identify(rel, facts.elf, facts.versions, table, dist_name)
    sha256 = facts.digests["sha256"].hex()
    return _native_facts(rel, size, sha256, facts.elf, identity, (), None, None)


def _native_facts(
    path: str,
    size: int,
    sha256: str,
    elf: ElfFile,
    identity: LibraryIdentity | None,
    unresolved: tuple[str, ...],
    compressed: int | None,
    crc32: int | None,
) -> NativeFacts:
    versions = newest_versions(elf)
    return NativeFacts(
        path=path,
        size=size,
        sha256=sha256,
        kind=file_kind(path, elf),
        elf_class=elf.elf_class,
        machine=elf.machine,
        architecture=elf.architecture,
        soname=elf.soname,
        needed=tuple(elf.needed),
        rpath=tuple(elf.rpath),
        runpath=tuple(elf.runpath),
        glibc=versions.get("GLIBC"),
        versions=tuple(versions.items()),
        toolchain=elf.comment[0] if elf.comment else None,
        **identity_columns(identity, _stem(path, elf)),
        unresolved=unresolved,
        compressed_size=compressed,
        crc32=crc32,
    )


def _stem(path: str, elf: ElfFile) -> str:
    """The library's own name, without hash mangling or version: what tells builds apart."""
    return LibraryName.parse(elf.soname or posixpath.basename(path)).stem


def file_kind(path: str, elf: ElfFile) -> str:
    """Extension module, shared library, executable or other object, from name and type."""
    base = posixpath.basename(path)
    if elf.interpreter or elf.type == "EXEC":
        return "executable"
    if elf.type != "DYN":
        return "object"
    if ".cpython-" in base or ".abi3." in base or ".pypy" in base:
        return "extension"
    if base.endswith(".so") and not base.startswith("lib"):
        return "extension"
    return "library"


def _dist_name_version(dist_info: str) -> tuple[str, str]:
    """Name and version from METADATA (the wheel reader's parser), else from the directory name."""
    stem = posixpath.basename(dist_info.rstrip("/"))[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    text = _dist_info_text(dist_info, "METADATA", strict=True)
    if text is not None:
        try:
            metadata = CoreMetadata.parse(text, path=dist_info, member="METADATA")
            name, version = metadata.name, metadata.version
        except MetadataError:
            pass  # Name or Version missing: the directory name (PEP 627) says them too
    if not name:
        raise TruewheelError("cannot tell the distribution's name", path=dist_info)
    return name, version


def _installed_tags(dist_info: str) -> tuple[str, ...]:
    text = _dist_info_text(dist_info, "WHEEL", strict=False)
    if text is None:
        return ()
    try:
        return tuple(sorted(WheelInfo.parse(text, path=dist_info, member="WHEEL").tags))
    except TruewheelError:
        return ()


def _dist_info_text(dist_info: str, name: str, *, strict: bool) -> str | None:
    """A small text file of an installed distribution; None if missing (or unusable).

    Read like every input (a FIFO or a device never blocks, the size is bounded); with
    ``strict``, a file that is there but unusable fails the unit in one line.
    """
    path = os.path.join(dist_info, name)
    if not os.path.lexists(path):
        return None
    try:
        return read_regular(path, MAX_TEXT_BYTES).decode("utf-8", "replace")
    except InputError:
        if strict:
            raise
        return None


def _failed(kind: str, path: str, exc: Exception, environment: str | None = None) -> UnitFacts:
    try:
        st = os.stat(path)
        size, mtime_ns = st.st_size, st.st_mtime_ns
    except OSError:
        size, mtime_ns = -1, -1
    message = f"{path}: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
    if isinstance(exc, TruewheelError) and exc.path is None:
        message = f"{path}: {message}"
    return UnitFacts(key=UnitKey(kind, path, size, mtime_ns, "", environment), error=message)
