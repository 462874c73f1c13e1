"""Plain data shared by the repair stages (planning, patching, SBOM, writing)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DroppedLibpython",
    "ExcludedLibrary",
    "GraftedLibrary",
    "MovedScript",
    "OwnerPackage",
    "ProvidedLibrary",
]


@dataclass(frozen=True, slots=True)
class OwnerPackage:
    """The distribution package that installed a host library (dpkg or rpm)."""

    manager: str  # "deb" or "rpm"
    name: str
    version: str
    architecture: str | None
    distro: str | None  # e.g. "debian", "almalinux" (from /etc/os-release ID)
    licence_files: tuple[str, ...] = ()  # host paths of copyright/licence files
    source: str | None = None  # the source package it was built from, e.g. "gmp"
    licence: str | None = None  # SPDX expression, where the package states one plainly

    @property
    def purl(self) -> str:
        """Package URL per the purl spec: pkg:deb/debian/zlib1g@1:1.2.13?arch=amd64."""
        namespace = f"/{self.distro}" if self.distro else ""
        qualifiers = f"?arch={self.architecture}" if self.architecture else ""
        return f"pkg:{self.manager}{namespace}/{self.name}@{self.version}{qualifiers}"


@dataclass(frozen=True, slots=True)
class GraftedLibrary:
    """A host library copied into the wheel."""

    original_name: str  # the DT_NEEDED / SONAME it was known by, e.g. libgmp.so.10
    source_path: str  # absolute host path it was copied from (symlinks resolved)
    wheel_path: str  # member name inside the wheel, e.g. pkg.libs/libgmp-1a2b3c4d.so.10.4.1
    soname: str  # the new (hash-mangled) SONAME
    sha256: str  # of the file as copied from the host, before patching
    size: int
    family: str | None = None  # identity from the library table, e.g. "gmp"
    family_name: str | None = None  # e.g. "GNU MP"
    version: str | None = None
    owner: OwnerPackage | None = None
    needed_by: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ExcludedLibrary:
    """A library left out by --exclude: not grafted, nor anything only it needs."""

    name: str
    pattern: str
    needed_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProvidedLibrary:
    """A library another distribution provides (--provided-by DIST[SPEC]:PATTERN)."""

    name: str
    requirement: str  # e.g. "scipy-openblas64>=0.3.28"
    distribution: str  # canonical project name of the provider
    pattern: str
    needed_by: tuple[str, ...]
    #: preload rank: a library loads after those of lower rank (unvendor's chains, where
    #: MPFR's copy needs GMP's already loaded); equal ranks load by name
    order: int = 0


@dataclass(frozen=True, slots=True)
class DroppedLibpython:
    """A DT_NEEDED on libpython removed from a file the interpreter loads.

    The interpreter that imports an extension already provides every libpython symbol;
    the entry only makes the loader look for a shared libpython that statically linked
    interpreters (manylinux's, Debian's) do not have.  auditwheel removes it too.
    """

    name: str
    file: str


@dataclass(frozen=True, slots=True)
class MovedScript:
    """An ELF program of ``.data/scripts/`` that needs a grafted library.

    pip installs scripts to ``bin/``, with no fixed path to the grafted libraries, so the
    program moves into the install root (``program``) where ``$ORIGIN`` reaches them, and
    a Python launcher takes its place (``script``) and execs it.
    """

    script: str
    program: str
