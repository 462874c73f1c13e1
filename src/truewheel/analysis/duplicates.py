"""The same library shipped more than once in a wheel: identical bytes, one build
rewritten by a repair tool, or different builds.

A library is the same when its SONAME, install name or export name (or, without
one, its file name) names the same stem once hash mangling is removed: scipy's two
libgfortran builds are, but libwebp and libwebpmux, or libtorch and libc10, are
members of one project.  Copies for different formats or architectures are never
duplicates of each other: sounddevice ships ``portaudio_x64.dll`` for amd64 and for
arm64 (one export name), and only one of them can ever load.

Different bytes need not be different builds.  delocate copies a dylib into
``.dylibs/`` and rewrites its install name, delvewheel copies a DLL into
``<pkg>.libs/`` and rewrites the names it imports, so a package that also ships the
original carries one link output twice (tables 3.11.1 does on macOS and Windows).
What survives the rewrite is the link's identity:

* Mach-O: ``LC_UUID``, which ld64 derives from the output (or makes random) on
  every link, and which install_name_tool leaves alone; equal for every slice.
* PE: the COFF ``TimeDateStamp`` (the link time, or under ``/Brepro`` a hash of the
  output), the machine, and the section layout (names, addresses, file offsets and
  raw sizes; a rewrite may grow a section's virtual size inside its file padding,
  as delvewheel's did in tables' ``libblosc2.dll``).  A zero stamp proves nothing.

* ELF: the GNU build-id note, a hash the linker computes over its output, which
  patchelf (auditwheel's SONAME and RPATH edits) leaves alone.  Without one, only
  the bytes count.

One build twice is an info, the bytes it wastes, unless the library keeps
process-wide state that two loaded copies duplicate (an OpenMP runtime, BLAS, MPI:
two thread pools), which is a warning as two different builds are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from truewheel.analysis.identity import image_stem, library_stem
from truewheel.analysis.report import Finding, ImageFile, NativeFile
from truewheel.policy.libraries import SINGLETON_CATEGORIES

__all__ = ["duplicate_findings"]

_Copy = NativeFile | ImageFile
_NIL_UUID = "00000000-0000-0000-0000-000000000000"


def duplicate_findings(native: Sequence[_Copy], unloaded: Collection[str] = ()) -> list[Finding]:
    """``duplicate-file`` (identical bytes), ``duplicate-build`` (one link output with
    rewritten names: info, the bytes it wastes) and ``duplicate-library`` (different
    builds of one library for one architecture).  ``unloaded`` files (a Windows wheel's
    copies for machines no import loads) count for identical bytes only."""
    out: list[Finding] = []
    by_hash: dict[str, list[_Copy]] = defaultdict(list)
    by_stem: dict[tuple[str, str], list[_Copy]] = defaultdict(list)
    for f in native:
        by_hash[f.sha256].append(f)
        stem = library_stem(f.path, f.elf) if isinstance(f, NativeFile) else image_stem(f)
        if stem is not None and f.path not in unloaded:
            by_stem[(stem, _platform(f))].append(f)
    for copies in by_hash.values():
        if len(copies) > 1:
            paths = ", ".join(c.path for c in copies)
            out.append(
                Finding(
                    "warning",
                    "duplicate-file",
                    f"{len(copies)} identical copies ({copies[0].size} bytes each): {paths}",
                )
            )
    for (stem, arch), copies in by_stem.items():
        if len({c.sha256 for c in copies}) < 2:
            continue
        ident = next((c.identity for c in copies if c.identity), None)
        name = stem if ident is None or stem in ident.name else f"{ident.name} ({stem})"
        builds: dict[object, list[_Copy]] = defaultdict(list)
        for c in copies:
            builds[_build(c) or c.sha256].append(c)
        if len(builds) > 1:
            paths = ", ".join(c.path for c in copies)
            what = name if isinstance(copies[0], NativeFile) else _with(name, arch)
            out.append(
                Finding(
                    "warning",
                    "duplicate-library",
                    f"{what} is shipped {len(builds)} times, built differently: {paths}"
                    if len(builds) == len({c.sha256 for c in copies})
                    else f"{what} is shipped {len(copies)} times in {len(builds)} different "
                    f"builds: {paths}",
                )
            )
        for same in builds.values():
            if len({c.sha256 for c in same}) > 1:
                out.append(_same_build(_with(name, arch), same))
    return out


def _with(name: str, arch: str) -> str:
    """``C-Blosc2 (libblosc2.7, Mach-O arm64)``."""
    return f"{name[:-1]}, {arch})" if name.endswith(")") else f"{name} ({arch})"


def _same_build(name: str, copies: list[_Copy]) -> Finding:
    distinct = {c.sha256: c.size for c in copies}
    wasted = sum(distinct.values()) - max(distinct.values())
    image = copies[0]
    if isinstance(image, NativeFile):
        evidence, tools = "GNU build-id", "auditwheel does"
    elif image.macho is not None:
        evidence, tools = "LC_UUID", "delocate does"
    else:
        evidence, tools = "link time stamp and section layout", "delvewheel does"
    ident = next((c.identity for c in copies if c.identity), None)
    singleton = ident is not None and ident.category in SINGLETON_CATEGORIES
    paths = ", ".join(c.path for c in copies)
    return Finding(
        "warning" if singleton else "info",
        "duplicate-build",
        f"{name} is one build shipped {len(distinct)} times (same {evidence}; names rewritten "
        f"in a copy, as {tools}): {paths}; {wasted} bytes more than one copy"
        + ("; both copies loaded make two runtimes in one process" if singleton else ""),
    )


def _platform(f: _Copy) -> str:
    """The architecture a copy loads under (``arm64+x86_64`` for a fat file), format
    named: copies differing in either are never duplicates."""
    if isinstance(f, NativeFile):
        return f"ELF {f.elf.architecture}"
    return f"{'Mach-O' if f.macho is not None else 'PE'} {'+'.join(sorted(f.architectures))}"


def _build(f: _Copy) -> object | None:
    """What identifies the link that made the copy, or None when nothing does (an ELF file
    without a build-id, a Mach-O slice without LC_UUID, a PE stamp of zero): then only
    the bytes count."""
    if isinstance(f, NativeFile):
        return ("build-id", f.elf.build_id) if f.elf.build_id else None
    if f.macho is not None:
        uuids = tuple(sorted((s.arch, s.uuid) for s in f.macho.slices))
        if any(u is None or u == _NIL_UUID for _, u in uuids):
            return None
        return uuids
    assert f.pe is not None
    if f.pe.timestamp == 0:
        return None
    layout = tuple((s.name, s.virtual_address, s.offset, s.size) for s in f.pe.sections)
    return f.pe.machine, f.pe.timestamp, layout
