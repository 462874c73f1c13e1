"""The result of inspecting one wheel: plain data, no rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from truewheel.analysis.libc import WheelLibc
from truewheel.analysis.resolve import Dependency
from truewheel.elf import ElfFile
from truewheel.macho import MachOFile
from truewheel.pe import PEFile
from truewheel.policy.manylinux import TagResult
from truewheel.wheel import CoreMetadata, WheelInfo

if TYPE_CHECKING:
    from truewheel.elf.buildpaths import BuildPath

__all__ = [
    "SEVERITIES",
    "Finding",
    "ImageFile",
    "ImagePlatform",
    "LibraryIdentity",
    "LoaderFacts",
    "NativeFile",
    "PlatformReport",
    "WheelReport",
    "newest_versions",
]

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str
    code: str
    message: str
    file: str | None = None

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)


@dataclass(frozen=True, slots=True)
class LibraryIdentity:
    """A vendored third-party library as recognised from its name and contents."""

    family: str
    name: str
    category: str
    version: str | None
    evidence: str | None
    mangled_hash: str | None
    restricted: bool
    license: str | None
    note: str | None
    first_party: bool = False


@dataclass(slots=True)
class NativeFile:
    path: str
    size: int
    sha256: str
    mode: int
    elf: ElfFile
    dependencies: list[Dependency]
    build_paths: list[BuildPath]
    identity: LibraryIdentity | None

    @property
    def max_versions(self) -> dict[str, str]:
        """The newest version required in each namespace (GLIBC, GLIBCXX, ...)."""
        return newest_versions(self.elf)

    @property
    def toolchain(self) -> str | None:
        return self.elf.comment[0] if self.elf.comment else None


def newest_versions(elf: ElfFile) -> dict[str, str]:
    """The newest symbol version an ELF file requires in each namespace (GLIBC, GLIBCXX, ...)."""
    best: dict[str, tuple[tuple[int, ...], str]] = {}
    for need in elf.version_needs:
        for name in need.versions:
            namespace, _, version = name.partition("_")
            key = tuple(int(p) for p in version.split(".") if p.isascii() and p.isdigit())
            if key and (namespace not in best or key > best[namespace][0]):
                best[namespace] = (key, version)
    return {ns: v for ns, (_, v) in sorted(best.items())}


@dataclass(slots=True)
class ImageFile:
    """A Mach-O or PE file of a macOS or Windows wheel, and where its dependencies come from.

    Kept apart from :class:`NativeFile` (ELF), whose facts the Linux judgements,
    repair and unvendor read; a wheel's report carries both lists.
    """

    path: str
    size: int
    sha256: str
    mode: int
    macho: MachOFile | None
    pe: PEFile | None
    dependencies: list[Dependency]
    build_paths: list[BuildPath]
    identity: LibraryIdentity | None

    @property
    def format(self) -> str:
        return "macho" if self.macho is not None else "pe"

    @property
    def toolchain(self) -> str | None:
        return None  # Mach-O and PE files name no compiler the way ELF's .comment does

    @property
    def rpaths(self) -> list[str]:
        """LC_RPATH entries of every slice (none for PE)."""
        if self.macho is None:
            return []
        return sorted({r for s in self.macho.slices for r in s.rpaths})

    @property
    def architectures(self) -> tuple[str, ...]:
        if self.macho is not None:
            return self.macho.architectures
        assert self.pe is not None
        return (self.pe.arch,)


@dataclass(slots=True)
class ImagePlatform:
    """A macOS or Windows wheel's platform tags against what its binaries need.

    ``minimum`` is the oldest macOS every binary loads on (the newest minimum over
    all files and slices that a machine accepting the tag may run), with the files
    that set it; Windows has none.  ``computed_tag`` is the most compatible tag the
    content allows, None when the binaries' architectures fit no tag.
    """

    system: str  # "macos" or "windows"
    computed_tag: str | None
    architectures: list[str]  # the content's tag architecture: arm64, x86_64, universal2, amd64
    minimum: str | None
    minimum_files: list[str]
    filename_platforms: list[str]
    wheel_platforms: list[str]
    external_libraries: list[str]


@dataclass(slots=True)
class PlatformReport:
    """Tags the wheel claims against the tags its content supports."""

    computed: TagResult
    repairable: TagResult
    filename_platforms: list[str]
    wheel_platforms: list[str]
    external_libraries: list[str]
    libc: WheelLibc = field(default_factory=lambda: WheelLibc(None, {}))


@dataclass(slots=True)
class LoaderFacts:
    """A wheel's native files as the loader and the tag rules see them: no judgement.

    What the repair planner and the scan catalog ask the engine for.  ``deep`` says
    how the native files were read: fully (sha256, build paths, version strings:
    the catalog's pass), or only as far as their dynamic facts reach (the planner's:
    ``sha256`` empty, no build paths).  Other members are counted, never read.
    """

    path: str
    filename: str
    name: str
    version: str
    wheel_info: WheelInfo
    metadata: CoreMetadata
    member_count: int
    total_bytes: int
    compressed_bytes: int
    native_files: list[NativeFile]
    platform: PlatformReport | None
    deep: bool
    #: external library -> the required distribution that provides it (analysis/provided.py)
    provided: dict[str, str] = field(default_factory=dict)
    #: Mach-O and PE files (macOS and Windows wheels), and their platform
    images: list[ImageFile] = field(default_factory=list)
    image_platform: ImagePlatform | None = None


@dataclass(slots=True)
class WheelReport(LoaderFacts):
    """A full inspect: every member read and checked against RECORD, and judged."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def native_bytes(self) -> int:
        return sum(f.size for f in self.native_files) + sum(f.size for f in self.images)

    @property
    def vendored_bytes(self) -> int:
        files: list[NativeFile | ImageFile] = [*self.native_files, *self.images]
        return sum(f.size for f in files if f.identity and not f.identity.first_party)

    def worst(self) -> str | None:
        return min(self.findings, key=lambda f: f.rank).severity if self.findings else None
