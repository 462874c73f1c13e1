"""The wheel side of ``verify``: each member's digest and, for native files, what names
its sources, from one pass over its bytes.

Every member streams once through :func:`truewheel.analysis.member.analyze_stream`
(hash; ELF, Mach-O and PE facts from the ranges their readers ask for).  A native file's
bytes (a static ``ar`` archive of object files counts) are also searched as they pass, for
the two things a compiled module says about where it came from: its module init function
(``PyInit_<name>``, which the import system requires to match the file name) and source
file names the toolchain wrote into it: DWARF compile-unit and line-table names,
``__FILE__`` in assertions, Cython's table of ``.pyx`` files and mypyc's of ``.py`` files
for tracebacks, Rust's panic locations; the name of the mypyc library a mypyc module's shim
loads, and Pythran's ``__pythran__``.  A hit is labelled with the ELF section it lies in, so
``.debug_line_str`` says DWARF.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from truewheel.analysis.member import MemberFacts, analyze_stream
from truewheel.elf import is_elf
from truewheel.errors import located
from truewheel.macho import is_macho
from truewheel.pe import is_pe
from truewheel.policy.libraries import LibraryTable, VersionSearch
from truewheel.verify.sourcesearch import SourceSearch
from truewheel.wheel import WheelArchive
from truewheel.wheel.zipreader import ZipMember

__all__ = ["SOURCE_SUFFIXES", "NativeEvidence", "WheelFile", "read_wheel", "source_path"]

#: Files a compiler turns into a native module (headers are not evidence: every module
#: includes Python.h, and a vendored copy of it proves nothing).
SOURCE_SUFFIXES = (
    ".c", ".cc", ".cpp", ".cxx", ".c++", ".m", ".mm", ".pyx", ".rs", ".f", ".f90", ".go", ".zig",
)  # fmt: skip
_MAX_HITS = 4096
#: ``x.cpython-311-x86_64-linux-gnu.so``, ``x.abi3.so``, ``x.cp311-win_amd64.pyd``, ``x.pyd``
_EXTENSION_MODULE = re.compile(r"\.(?:cpython-|cp3|pypy|abi3)[^/]*\.(?:so|pyd|dylib)$|\.pyd$")
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-")


@dataclass(frozen=True, slots=True)
class NativeEvidence:
    """What a native file's bytes say about its origin."""

    format: str  # "elf", "macho", "pe" or "ar" (a static library of object files)
    init_functions: tuple[str, ...]  # PyInit_<name> found
    mypyc_groups: tuple[str, ...]  # dotted names of mypyc's shared libraries (pkg.mod__mypyc)
    sources: tuple[tuple[str, str], ...]  # (source name as written, where: section or "")
    pythran: bool = False  # ``__pythran__``: Pythran compiled it from a .py module
    library: str | None = None  # what the library table knows it as ("Apache Arrow C++ 16.0.0")
    #: the libraries it loads, by file name, lower-cased (DT_NEEDED, LC_LOAD_DYLIB, PE imports)
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class WheelFile:
    """One wheel member: its digest, its path as a source tree would hold it, evidence."""

    member: ZipMember
    sha256: str
    tree_path: str | None  # None for .dist-info members
    native: NativeEvidence | None

    @property
    def path(self) -> str:
        return self.member.name


def source_path(name: str, dist_info: str) -> str | None:
    """Where a member would sit in a source tree: ``.data/purelib`` and ``platlib`` dropped,
    ``.data/scripts`` and ``headers`` as their own directories; None for ``.dist-info``."""
    top, _, rest = name.partition("/")
    if top == dist_info:
        return None
    if top.endswith(".data") and rest:
        return rest.partition("/")[2] or None  # purelib, platlib, scripts, headers, data
    return name


def read_wheel(wheel: WheelArchive) -> list[WheelFile]:
    """Every regular member, in archive order, read once."""
    tables: list[LibraryTable] = []  # loaded (0.1 s) for the first library, if any

    def table() -> LibraryTable:
        if not tables:
            tables.append(LibraryTable.load())
        return tables[0]

    return [_read_member(wheel, member, table) for member in wheel.files]


def _read_member(
    wheel: WheelArchive, member: ZipMember, table: Callable[[], LibraryTable]
) -> WheelFile:
    search: SourceSearch | None = None
    versions: VersionSearch | None = None
    started = False
    detected: str | None = None

    def stream() -> Iterator[bytes]:
        nonlocal search, versions, started, detected
        first = not started
        started = True
        position = 0
        for chunk in wheel.stream(member):
            if first:
                if position == 0 and (detected := _native_format(chunk)) is not None:
                    search = SourceSearch(_MAX_HITS)
                    versions = _version_search(table, member)
                if search is not None:
                    search.feed(position, chunk)
                if versions is not None:
                    versions.feed(position, chunk)
            position += len(chunk)
            yield chunk
        if first and search is not None:
            search.finish()
        if first and versions is not None:
            versions.finish()

    with located(wheel.path, member.name):
        facts = analyze_stream(stream, member.file_size, member.name, None, deep=True)
    native = None
    if search is not None:
        kind = "elf" if facts.elf else "macho" if facts.macho else "pe" if facts.pe else None
        kind = "ar" if detected == "ar" else kind
        if kind is not None:
            sections = sorted(
                (s.offset, s.offset + s.size, s.name)
                for s in (facts.elf.sections.values() if facts.elf else ())
                if s.type != 8  # SHT_NOBITS occupies no bytes of the file
            )
            inits: dict[str, None] = {}
            groups: dict[str, None] = {}
            sources: dict[tuple[str, str], None] = {}
            pythran = False
            for hit in search.hits:
                text = hit.text.decode("ascii", "replace")
                if text == "__pythran__":
                    pythran = True
                elif text.startswith("PyInit_"):
                    inits.setdefault(text)
                elif text.endswith("__mypyc"):
                    groups.setdefault(text)
                elif not _continues(hit.before):
                    sources.setdefault((text, _section_at(sections, hit.offset)))
            library = _library(versions, wheel.metadata.name)
            native = NativeEvidence(
                kind, tuple(inits), tuple(groups), tuple(sources), pythran, library, _needs(facts)
            )
    return WheelFile(
        member=member,
        sha256=facts.digests["sha256"].hex(),
        tree_path=source_path(member.name, wheel.dist_info),
        native=native,
    )


def _needs(facts: MemberFacts) -> frozenset[str]:
    """The file names of the libraries a binary loads (a graft is matched by its name)."""
    names: list[str] = []
    if facts.elf:
        names += facts.elf.needed
    if facts.macho:
        names += [d.name for s in facts.macho.slices for d in s.dylibs]
    if facts.pe:
        names += [*facts.pe.imports, *facts.pe.delay_imports]
    return frozenset(n.rsplit("/", 1)[-1].lower() for n in names)


def _version_search(table: Callable[[], LibraryTable], member: ZipMember) -> VersionSearch | None:
    """The library table's version patterns for a native file whose name is a known
    family's, to say what an unexplained library is; not for extension modules (their
    names end in an interpreter tag or ``.pyd``) nor for grafts in ``*.libs/`` or
    ``.dylibs/``, which repair evidence accounts for anyway."""
    directory = member.name.rsplit("/", 2)[-2] if member.name.count("/") else ""
    if directory.endswith(".libs") or directory == ".dylibs":
        return None
    if _EXTENSION_MODULE.search(member.name.rsplit("/", 1)[-1]):
        return None
    search = table().version_search(member.name, member.file_size)
    return search if search.family is not None else None


def _library(versions: VersionSearch | None, dist: str) -> str | None:
    """The family and version ``policy/libraries.py`` identifies (by file name; the version
    from the family's strings), and whether the table says this distribution ships it as
    its own product; None for no known family."""
    if versions is None or versions.family is None:
        return None
    family, found = versions.family, versions.found()
    shown = f"{family.name} {found[0]}" if found else family.name
    if found:
        said = " ".join(found[1].replace("\x00", " ").split())[:80]
        shown += f" (version from {said!r})"
    canonical = canonicalize_name(dist)
    if any(fnmatch.fnmatchcase(canonical, p) for p in family.first_party_dists):
        shown += f"; {canonical} ships it as its own product"
    return shown


def _native_format(head: bytes) -> str | None:
    if head.startswith(b"!<arch>\n"):
        return "ar"  # numpy ships libnpymath.a: object files, each naming its source
    if is_elf(head[:4]):
        return "elf"
    if is_macho(head[:64]):
        return "macho"
    if is_pe(head[:4096]):
        return "pe"
    return None


def _continues(before: int) -> bool:
    """A hit that starts mid-name (the byte before could be part of it) is a fragment."""
    return before >= 0 and chr(before) in _NAME_CHARS


def _section_at(sections: list[tuple[int, int, str]], offset: int) -> str:
    return next((name for start, end, name in sections if start <= offset < end), "")
