"""Find the vendored copies of the libraries asked for, and who binds to each.

A copy is a shared library inside a wheel (not an extension module, not a
program) whose name, with any repair tool's hash mangling removed, matches one
of the patterns.  Its users are the files of the same wheel whose DT_NEEDED
resolves to it the way ld.so would (``analysis/resolve.py``); what it needs of
the other vendored files is kept too, so a library that needs another copy
(MPFR needs GMP) is shared only together with it.  Copies are grouped by what
the loader would call the same library on the same platform: stem and SONAME
major (``libgmp.so.10``, :func:`library_stem`), revision, architecture and libc.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from truewheel.analysis.identity import library_stem
from truewheel.analysis.libc import file_libc
from truewheel.analysis.report import LoaderFacts, NativeFile
from truewheel.analysis.resolve import BUNDLED
from truewheel.policy.libraries import LibraryName
from truewheel.unvendor.model import Copy

__all__ = ["GroupKey", "find_copies", "group_copies", "matches", "revision"]


def matches(path: str, soname: str | None, patterns: Sequence[str]) -> bool:
    """Whether the unmangled file name or SONAME of a library matches a pattern."""
    names = {LibraryName.parse(posixpath.basename(path)).unmangled}
    if soname:
        names.add(LibraryName.parse(soname).unmangled)
    return any(fnmatchcase(name, p) for name in names for p in patterns)


def find_copies(
    facts: LoaderFacts, patterns: Sequence[str] | None, compressed: dict[str, int]
) -> list[Copy]:
    """The copies in one wheel (``facts`` read deep: sha256 and versions known).

    ``patterns`` None takes every vendored library (:func:`_vendored`: what ``--plan``
    without ``--lib`` asks about); ``compressed`` gives
    each member's compressed size.
    """
    users: dict[str, list[str]] = {}
    for f in facts.native_files:
        for dep in f.dependencies:
            if dep.status == BUNDLED and dep.path is not None:
                users.setdefault(dep.path, []).append(f.path)
    copies = []
    for f in facts.native_files:
        library = library_stem(f.path, f.elf)
        if library is None:
            continue
        if patterns is None:
            if not _vendored(f):
                continue
        elif not matches(f.path, f.elf.soname, patterns):
            continue
        copies.append(_copy(facts, f, library, users.get(f.path, []), compressed))
    return copies


def _vendored(f: NativeFile) -> bool:
    """A third-party library by the table or the SBOM, or one a repair tool grafted."""
    if f.identity is not None:
        return not f.identity.first_party
    return LibraryName.parse(posixpath.basename(f.path)).hash is not None


def _copy(
    facts: LoaderFacts, f: NativeFile, library: str, users: list[str], compressed: dict[str, int]
) -> Copy:
    evidence = file_libc(f.path, f.elf)
    needed = {d.name: d.path for d in f.dependencies if d.status == BUNDLED and d.path is not None}
    identity = f.identity
    return Copy(
        wheel=facts.path,
        member=f.path,
        library=library,
        soname=f.elf.soname,
        size=f.size,
        compressed_size=compressed.get(f.path, f.size),
        sha256=f.sha256,
        family=identity.family if identity else None,
        family_name=identity.name if identity else None,
        version=identity.version if identity else None,
        toolchain=f.toolchain,
        architecture=f.elf.architecture,
        libc=evidence.libc if evidence else None,
        users=tuple(sorted(set(users))),
        needs=tuple(sorted(set(needed.values()))),
        needed_names=needed,
    )


GroupKey = tuple[str, str, str, str]  # library, revision, architecture, libc ("" unknown)


def revision(copy: Copy) -> str:
    """The ABI revision: the file name without mangling (``libgmp.so.10.5.0``)."""
    return LibraryName.parse(posixpath.basename(copy.member)).unmangled


def group_copies(copies: Iterable[Copy], *, mirror: bool = False) -> dict[GroupKey, list[Copy]]:
    """Copies by library, revision, architecture and libc, each in wheel and member order.

    With ``mirror`` (a plan over a whole index), copies whose version is unknown are
    grouped by their bytes as well: each build is its own library wheel, since only
    identical copies of unknown version may be shared (see gate.py), and an index
    operator would publish each one.

    libtool promises that a newer revision serves the older ones' consumers, but not
    every library keeps that promise (Boost changes its ABI with every release under
    one SONAME major), and from a mangled copy the original SONAME cannot be told:
    copies of different revisions are never merged.
    """
    groups: dict[GroupKey, list[Copy]] = {}
    for c in copies:
        build = f"@{c.sha256[:12]}" if mirror and c.version is None else ""
        key = (c.library, revision(c) + build, c.architecture, c.libc or "")
        groups.setdefault(key, []).append(c)
    return {k: sorted(v, key=lambda c: c.key) for k, v in sorted(groups.items())}
