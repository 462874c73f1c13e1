"""What a scan learns about one wheel or installed distribution: plain, picklable data.

Workers (local processes or Dask) return these; the catalog stores them.  Nothing
here refers to open files, so results travel between processes and machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["KINDS", "NativeFacts", "UnitFacts", "UnitKey"]

KINDS = ("extension", "library", "executable", "object")
"""How a native file is used: a Python extension module, a shared library, a program."""


@dataclass(frozen=True, slots=True)
class UnitKey:
    """What says a unit is unchanged since the catalog saw it.

    For a wheel: its path, size, mtime and a digest of its central directory (member
    names, CRC-32s and sizes).  For an installed distribution: its ``.dist-info``
    path, RECORD's size and mtime and a digest of the size and mtime of every file
    that may be native.
    """

    kind: str  # "wheel" | "installed"
    path: str
    size: int
    mtime_ns: int
    fingerprint: str
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class NativeFacts:
    """One native file (ELF, Mach-O or PE): the inspect engine's facts plus its sha256.

    The columns are ELF's; a Mach-O file fills them with its slices' architectures
    joined by ``+``, its install name (``soname``), its dylibs (``needed``) and LC_RPATH,
    a PE file with its machine, export name and imported DLLs; ``elf_class`` is then
    the word size.
    """

    path: str  # member name, or path relative to site-packages when installed
    size: int
    sha256: str  # hex
    kind: str
    elf_class: int
    machine: int
    architecture: str
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    glibc: str | None  # newest GLIBC_ symbol version needed
    versions: tuple[tuple[str, str], ...]  # newest version needed per namespace
    toolchain: str | None  # first .comment line (the compiler)
    family: str | None = None
    library: str | None = None  # the file's unmangled stem: libboost_python311, libavcodec
    family_name: str | None = None
    category: str | None = None
    library_version: str | None = None
    evidence: str | None = None
    first_party: bool = False
    restricted: bool = False
    license: str | None = None
    unresolved: tuple[str, ...] = ()  # DT_NEEDED the wheel cannot satisfy (external)
    compressed_size: int | None = None
    crc32: int | None = None
    format: str = "elf"  # "elf", "macho" or "pe"


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """A scanned wheel or installed distribution, or why it could not be scanned."""

    key: UnitKey
    project: str | None = None  # canonical name
    version: str | None = None
    tags: tuple[str, ...] = ()
    platform_tag: str | None = None  # the best tag the content allows (wheels)
    member_count: int = 0
    total_bytes: int = 0
    compressed_bytes: int = 0
    files: tuple[NativeFacts, ...] = field(default=())
    error: str | None = None
