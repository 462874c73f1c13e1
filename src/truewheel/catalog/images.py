"""A Mach-O or PE file of a wheel as a catalog row, beside the ELF ones.

The library's own name is what groups builds across platforms: GMP is ``libgmp``
whether it ships as ``libgmp.so.10``, ``libgmp.10.dylib`` or ``libgmp-10.dll``
(the MinGW/libtool major after a dash is dropped, as the ELF major is).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from truewheel.analysis.report import ImageFile, LibraryIdentity
from truewheel.analysis.resolve import EXTERNAL
from truewheel.catalog.model import NativeFacts
from truewheel.policy.libraries import LibraryName
from truewheel.wheel import ZipMember

__all__ = ["identity_columns", "image_facts", "image_kind", "image_library"]

# MinGW's ``libgmp-10`` and CMake's ``libflint.24.0.0``: the ABI version, not the name.
_DLL_MAJOR = re.compile(r"-[0-9]+$|\.[0-9][0-9.]*$")


def image_facts(f: ImageFile, member: ZipMember) -> NativeFacts:
    if f.macho is not None:
        first = f.macho.slices[0]
        bits = max(s.bits for s in f.macho.slices)
        machine, own = first.cpu_type, first.install_name
        needed = tuple(dict.fromkeys(d.name for s in f.macho.slices for d in s.dylibs))
        rpath = tuple(dict.fromkeys(r for s in f.macho.slices for r in s.rpaths))
    else:
        assert f.pe is not None
        bits, machine, own = 64 if f.pe.pe32_plus else 32, f.pe.machine, f.pe.export_name
        needed, rpath = tuple(f.pe.imports) + tuple(f.pe.delay_imports), ()
    return NativeFacts(
        path=f.path,
        size=f.size,
        sha256=f.sha256,
        kind=image_kind(f),
        elf_class=bits,
        machine=machine,
        architecture="+".join(f.architectures),
        soname=own,
        needed=needed,
        rpath=rpath,
        runpath=(),
        glibc=None,
        versions=(),
        toolchain=None,
        **identity_columns(f.identity, image_library(f)),
        unresolved=tuple(sorted({d.name for d in f.dependencies if d.status == EXTERNAL})),
        compressed_size=member.compressed_size,
        crc32=member.crc32,
        format=f.format,
    )


def identity_columns(identity: LibraryIdentity | None, library: str) -> dict[str, Any]:
    """A native file's identity as catalog columns (``library``: its own name)."""
    if identity is None:
        return {"first_party": False, "restricted": False}
    return {
        "family": identity.family,
        "library": library,
        "family_name": identity.name,
        "category": identity.category,
        "library_version": identity.version,
        "evidence": identity.evidence,
        "first_party": identity.first_party,
        "restricted": identity.restricted,
        "license": identity.license,
    }


def image_library(f: ImageFile) -> str:
    """The library's own name without mangling or version (``libgmp``)."""
    stem = LibraryName.parse(posixpath.basename(f.path)).stem
    return _DLL_MAJOR.sub("", stem) if f.pe is not None else stem


def image_kind(f: ImageFile) -> str:
    base = posixpath.basename(f.path).lower()
    if f.macho is not None:
        types = {s.filetype for s in f.macho.slices}
        if "execute" in types:
            return "executable"
        if types <= {"bundle"} or ".cpython-" in base or ".abi3." in base:
            return "extension"
        return "library" if types <= {"dylib"} else "object"
    assert f.pe is not None
    if base.endswith(".pyd"):
        return "extension"
    return "library" if f.pe.is_dll else "executable"
