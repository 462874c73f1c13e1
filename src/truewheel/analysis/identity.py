"""Name the third-party library a native file is, if it is one."""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatchcase

from packaging.utils import canonicalize_name

from truewheel.analysis.report import ImageFile, LibraryIdentity
from truewheel.analysis.sboms import DeclaredComponent
from truewheel.elf import ElfFile
from truewheel.policy.libraries import LibraryName, LibraryTable, VersionEvidence

__all__ = ["identify", "identify_image", "image_stem", "library_stem"]


def identify(
    path: str,
    elf: ElfFile,
    versions: list[VersionEvidence],
    table: LibraryTable,
    dist: str,
    declared: DeclaredComponent | None = None,
) -> LibraryIdentity | None:
    """Match the file name and SONAME against the family table; extension modules never match.

    A family the distribution itself produces (libtorch in torch, the CUDA libraries in
    nvidia-* wheels) is identified but marked first-party: it is not vendored code.  A
    library the wheel's SBOM declares as grafted (``declared``) is third-party whatever
    its name; the SBOM names it when the table does not, and gives the version when the
    bytes do not.
    """
    if not elf.is_shared_object:
        return None
    return _identity(path, elf.soname, versions, table, dist, declared)


def identify_image(
    image: ImageFile,
    versions: list[VersionEvidence],
    table: LibraryTable,
    dist: str,
    declared: DeclaredComponent | None = None,
) -> LibraryIdentity | None:
    """:func:`identify` for a Mach-O dylib (by file and install name) or a DLL (by file
    and export name); bundles, programs and ``.pyd`` modules never match."""
    return (
        _identity(image.path, _own_name(image), versions, table, dist, declared)
        if _is_library(image)
        else None
    )


def _identity(
    path: str,
    soname: str | None,
    versions: list[VersionEvidence],
    table: LibraryTable,
    dist: str,
    declared: DeclaredComponent | None,
) -> LibraryIdentity | None:
    basename = posixpath.basename(path)
    if _is_module(basename):
        return None
    mangled = LibraryName.parse(basename).hash or (
        LibraryName.parse(soname).hash if soname else None
    )
    family = table.family_of(path, soname)
    if family is None:
        return None if declared is None else _declared_identity(declared, mangled)
    version = next((v for v in versions if v.family == family.id), None)
    found = (version.version, version.evidence) if version else _declared_version(declared)
    return LibraryIdentity(
        family=family.id,
        name=family.name,
        category=family.category,
        version=found[0] if found else None,
        evidence=found[1] if found else None,
        mangled_hash=mangled,
        restricted=family.restricted,
        license=family.license,
        note=family.note,
        first_party=declared is None
        and any(fnmatchcase(canonicalize_name(dist), p) for p in family.first_party_dists),
    )


def _declared_identity(declared: DeclaredComponent, mangled: str | None) -> LibraryIdentity:
    found = _declared_version(declared)
    return LibraryIdentity(
        family=canonicalize_name(declared.name),
        name=declared.name,
        category="other",
        version=found[0] if found else None,
        evidence=found[1] if found else None,
        mangled_hash=mangled,
        restricted=False,
        license=declared.license,
        note=f"declared in {declared.sbom}" + (f" as {declared.purl}" if declared.purl else ""),
    )


def _declared_version(declared: DeclaredComponent | None) -> tuple[str, str] | None:
    if declared is None or declared.version is None:
        return None
    return declared.version, f"SBOM {declared.sbom}" + (
        f" ({declared.purl})" if declared.purl else ""
    )


def library_stem(path: str, elf: ElfFile) -> str | None:
    """Which library a shared object is, by name, with any hash mangling removed: the
    stem and the ABI major (``libcom_err.so.2``).

    From the SONAME, or the file name of a ``lib*`` file without one; None for
    programs and Python extension modules (which are named for their package).  The
    major keeps apart two libraries that share a name (e2fsprogs' libcom_err.so.2 and
    krb5's libcom_err.so.3) and, like the loader, two ABI versions of one.
    """
    basename = posixpath.basename(path)
    if not elf.is_shared_object or _is_module(basename):
        return None
    if not elf.soname and not basename.startswith("lib"):
        return None
    name = LibraryName.parse(elf.soname or basename)
    major = _MAJOR.match(name.suffix)
    return name.stem + (major.group() if major else "")


_MAJOR = re.compile(r"\.so\.\d+")


def image_stem(image: ImageFile) -> str | None:
    """:func:`library_stem` of a dylib or DLL: ``libgmp.10`` of ``libgmp.10.dylib`` (the
    install name's), ``libgmp-10`` of ``libgmp-10-<hash>.dll``; the case of DLL names
    does not count, as on Windows."""
    if not _is_library(image):
        return None
    name = LibraryName.parse(posixpath.basename(_own_name(image) or image.path))
    if image.pe is not None:
        return name.stem.lower()
    return name.stem + name.suffix.removesuffix(".dylib")


def _own_name(image: ImageFile) -> str | None:
    if image.macho is not None:
        names = [s.install_name for s in image.macho.slices if s.install_name]
        return posixpath.basename(names[0]) if names else None
    return image.pe.export_name if image.pe is not None else None


def _is_library(image: ImageFile) -> bool:
    if image.macho is not None:
        return all(s.filetype == "dylib" for s in image.macho.slices)
    return image.pe is not None and image.pe.is_dll and not image.path.lower().endswith(".pyd")


def _is_module(basename: str) -> bool:
    return ".cpython-" in basename or ".abi3." in basename or basename.lower().endswith(".pyd")
