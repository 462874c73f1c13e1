"""Name the third-party library a native file is, if it is one."""

from __future__ import annotations

import posixpath
from fnmatch import fnmatchcase

from packaging.utils import canonicalize_name

from truewheel.analysis.report import LibraryIdentity
from truewheel.elf import ElfFile
from truewheel.policy.libraries import LibraryName, LibraryTable, VersionEvidence

__all__ = ["identify"]


def identify(
    path: str, elf: ElfFile, versions: list[VersionEvidence], table: LibraryTable, dist: str
) -> LibraryIdentity | None:
    """Match the file name and SONAME against the family table; extension modules never match.

    A family the distribution itself produces (libtorch in torch, the CUDA libraries in
    nvidia-* wheels) is identified but marked first-party: it is not vendored code.
    """
    basename = posixpath.basename(path)
    if ".cpython-" in basename or ".abi3." in basename or not elf.is_shared_object:
        return None
    names = [basename] + ([elf.soname] if elf.soname else [])
    family = next((f for f in map(table.family_for, names) if f), None)
    if family is None:
        return None
    mangled = LibraryName.parse(basename).hash or (
        LibraryName.parse(elf.soname).hash if elf.soname else None
    )
    version = next((v for v in versions if v.family == family.id), None)
    return LibraryIdentity(
        family=family.id,
        name=family.name,
        category=family.category,
        version=version.version if version else None,
        evidence=version.evidence if version else None,
        mangled_hash=mangled,
        restricted=family.restricted,
        license=family.license,
        note=family.note,
        first_party=any(fnmatchcase(canonicalize_name(dist), p) for p in family.first_party_dists),
    )
