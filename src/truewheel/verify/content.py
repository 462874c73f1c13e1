"""Every wheel member accounted for by the sdist, or said not to be.

A member's path in a source tree (``pkg/mod.py``; ``.data/purelib`` dropped) is looked
for among the sdist's files: any file whose path ends with it, at a directory boundary.
The directory above such a file (``src/``, ``lib3/``, the top) is a *layout* prefix;
the prefix that explains the most members is the layout, and each member is compared
with its file under the best-ranked prefix it has, a file under a lower-ranked prefix
with identical bytes winning only a tie.  So a wheel's ``pkg/core.py`` that differs from
``src/pkg/core.py`` is reported as different even when ``tests/data/pkg/core.py``
happens to hold the wheel's bytes: what the build would have copied is the former.
A ``package_dir`` that renames a package (``{'regex': 'regex_3'}``, read statically by
:mod:`.packagedirs`) adds the file it names as one more candidate, under a layout of its
own, ranked the same way.

Native files are compiled from the sdist when their own bytes name a source file the
sdist holds, or export the init function of a module whose source the sdist holds;
grafted libraries are recognised by where repair tools put them and how they rename them.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from truewheel.analysis.sboms import DeclaredComponent, declarations
from truewheel.policy.libraries import LibraryName
from truewheel.verify.bytecode import compiled_from, source_of
from truewheel.verify.compiled import compiled_evidence, foreign_sources
from truewheel.verify.delvewheel import without_patch
from truewheel.verify.generated import generated_reason
from truewheel.verify.model import CATEGORIES, Finding, MemberResult
from truewheel.verify.protoc import protoc_source, reexports_sibling
from truewheel.verify.sdistfiles import MAX_TEXT, SdistFiles
from truewheel.verify.templates import rendered_from
from truewheel.verify.unplaced import (
    cython_header,
    moved_from,
    named_by_build,
    sdist_directories,
    template_of,
)
from truewheel.verify.wheelfiles import WheelFile
from truewheel.wheel import WheelArchive

__all__ = ["MAX_DIFF_CHARS", "MAX_DIFF_LINES", "classify", "layout_prefixes"]

MAX_DIFF_LINES = 200
MAX_DIFF_CHARS = 16 << 10
_CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pth", ".pyw")
_REPAIR_SBOMS = ("auditwheel", "truewheel", "delocate", "delvewheel")


def classify(
    wheel: WheelArchive, files: list[WheelFile], sdist: SdistFiles
) -> tuple[list[MemberResult], list[Finding], tuple[str, ...]]:
    """The members' results (unexplained first), findings, and the layout prefixes used."""
    candidates = {f.path: _candidates(f.tree_path, sdist) for f in files if f.tree_path}
    ranks = Counter(prefix for found in candidates.values() for prefix, _ in found)
    sbom = declarations(wheel).components
    context = _WheelContext(
        sbom=sbom,
        loaded=_loaded_grafts(files),
        originals={
            f.sha256[:8]: f.path for f in files if f.native and not _graft_directory(f.path)
        },
        modules=frozenset(
            f.tree_path for f in files if f.tree_path and f.tree_path.endswith(".py")
        ),
        libs=frozenset(d for f in files if (d := _graft_directory(f.path))),
    )
    results: list[MemberResult] = []
    findings: list[Finding] = []
    used: set[str] = set()
    for file in files:
        found = candidates.get(file.path, [])
        result = _classify_one(wheel, file, found, ranks, sdist, context)
        results.append(result)
        if result.source and result.category in ("from-sdist-identical", "from-sdist-different"):
            found = candidates.get(file.path, [])
            used.update(layout for layout, path in found if path == result.source)
        findings += _findings(result, file)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    results.sort(key=lambda r: (order[r.category], r.path))
    layout = tuple(sorted(used, key=lambda p: (-ranks[p], p)))
    return results, findings, layout


def layout_prefixes(tree_paths: Iterable[str], sdist: SdistFiles) -> Counter[str]:
    """How many members each sdist directory explains (for a caller that wants the layout)."""
    return Counter(p for t in tree_paths for p, _ in _candidates(t, sdist))


def _candidates(tree_path: str | None, sdist: SdistFiles) -> list[tuple[str, str]]:
    """(layout, sdist path) of every sdist file whose path ends with ``tree_path`` (the
    layout is the prefix above it), and of the file a ``package_dir`` rename puts there
    (the layout names the mapping)."""
    if not tree_path:
        return []
    found = []
    if tree_path in sdist.digests:
        found.append(("", tree_path))
    tail = "/" + tree_path
    for path in sdist.by_basename.get(tree_path.rsplit("/", 1)[-1], ()):
        if path.endswith(tail):
            found.append((path[: -len(tree_path)], path))
    found += [
        (label, p) for label, p in sdist.package_dirs.sources(tree_path) if p in sdist.digests
    ]
    return found


def _classify_one(
    wheel: WheelArchive,
    file: WheelFile,
    candidates: list[tuple[str, str]],
    ranks: Counter[str],
    sdist: SdistFiles,
    context: _WheelContext,
) -> MemberResult:
    loaded = context.loaded
    result = MemberResult(file.path, "metadata", file.member.file_size, file.sha256)
    if file.tree_path is None:
        name = file.path.rsplit("/", 1)[-1]
        if file.path.startswith(f"{wheel.dist_info}/sboms/") and name.startswith(_REPAIR_SBOMS):
            return replace(result, category="added-by-repair", evidence=("repair SBOM",))
        return result
    if candidates:
        best = max(ranks[p] for p, _ in candidates)
        top = [path for p, path in candidates if ranks[p] == best]
        identical = [path for path in top if sdist.digests[path] == file.sha256]
        source = identical[0] if identical else min(top, key=len)
        others = [path for _, path in candidates if path != source]
        if identical:
            also = tuple(f"also at {p}" for p in others[:3])
            return replace(result, category="from-sdist-identical", source=source, evidence=also)
        return _different(wheel, file, replace(result, source=source), others, sdist, context)
    repaired = _repair_evidence(file, context)
    if repaired:
        return replace(result, category="added-by-repair", evidence=repaired)
    prefixes = _prefixes(ranks)
    moved = moved_from(file.tree_path, file.sha256, sdist, prefixes)
    if moved is not None:
        same = ("the same name and bytes elsewhere in the sdist (in its package, or at its top)",)
        return replace(result, category="from-sdist-identical", source=moved, evidence=same)
    lf = _lf_sha256(wheel, file) if file.native is None else None
    moved = moved_from(file.tree_path, lf, sdist, prefixes) if lf else None
    if moved is not None:
        same = (
            "the same name and text elsewhere in the sdist (in its package, or at its top);"
            " only its line endings differ (CRLF against LF)",
        )
        return replace(result, category="from-sdist-identical", source=moved, evidence=same)
    directories = sdist_directories(file.tree_path, prefixes)
    if file.native is not None:
        evidence, compiled_from = compiled_evidence(file, sdist, directories)
        if evidence:
            return replace(
                result, category="compiled-from-sdist", source=compiled_from, evidence=evidence
            )
        summary = _native_summary(file, loaded, foreign_sources(file, sdist))
        return replace(result, category="unexplained", evidence=summary)
    for prefix in prefixes:  # a .c the sdist lacks, that Cython wrote (thinc's .cpp)
        cython = _regenerated_by_cython(wheel, file, prefix + file.tree_path, sdist)
        if cython is not None:
            cython_source = prefix + file.tree_path.rsplit(".", 1)[0] + ".pyx"
            return replace(result, category="generated", source=cython_source, evidence=(cython,))
    if file.member.file_size <= MAX_TEXT:
        data = wheel.read(file.member, limit=MAX_TEXT)
        reason = generated_reason(file.tree_path, data, wheel.metadata.version)
        if reason:
            return replace(result, category="generated", evidence=(reason,))
        bytecode = _bytecode_evidence(file.tree_path, data, sdist, prefixes)
        if bytecode is not None:
            return replace(
                result, category="compiled-from-sdist", source=bytecode[0], evidence=bytecode[1:]
            )
        pyx = cython_header(file.tree_path, data, sdist, prefixes)
        if pyx is not None:
            header = (f"Cython's header for the public/api declarations of {pyx}",)
            return replace(result, category="generated", source=pyx, evidence=header)
        protoc = _protoc_evidence(file.tree_path, data, sdist, context.modules)
        if protoc is not None:
            return replace(result, category="generated", source=protoc[0], evidence=(protoc[1],))
        if _setup_pth(file.tree_path, data, sdist):
            written = ("setup.py holds its code as a string literal and quotes its name",)
            return replace(result, category="generated", source="setup.py", evidence=written)
        scripted = _script_template(file.tree_path, data, sdist)
        if scripted is not None:
            return replace(
                result, category="generated", source=scripted[0], evidence=(scripted[1],)
            )
        rendered = template_of(file.tree_path, data, sdist, prefixes)
        if rendered is not None:
            diff = None
            if rendered.category == "from-sdist-different" and rendered.source is not None:
                diff = _diff(sdist.kept[rendered.source], data, rendered.source, file.path)
            return replace(
                result,
                category=rendered.category,
                source=rendered.source,
                evidence=(rendered.evidence,),
                diff=diff,
            )
    build = named_by_build(file.path, file.tree_path, file.member.file_size, sdist, directories)
    if build is not None:
        named = (f"not in the sdist; {build} names it: a file the build writes (unchecked)",)
        return replace(result, category="generated", evidence=named)
    return replace(result, category="unexplained")


def _protoc_evidence(
    tree_path: str, data: bytes, sdist: SdistFiles, modules: frozenset[str]
) -> tuple[str | None, str] | None:
    """protoc's output for a ``.proto`` the sdist holds, or a re-export of a sibling
    ``_pb2`` module (:mod:`.protoc`)."""
    if not tree_path.endswith(".py"):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    proto = protoc_source(text)
    if proto is not None:
        held = [
            p
            for p in sdist.by_basename.get(proto.rsplit("/", 1)[-1], ())
            if p == proto or p.endswith("/" + proto)
        ]
        if held:
            return held[0], (
                f"protoc's output for {proto}, which the sdist holds: only protobuf's"
                " descriptor calls (its bytes not compared)"
            )
        return None
    directory = tree_path.rsplit("/", 1)[0] + "/" if "/" in tree_path else ""
    siblings = {
        m[len(directory) : -3]
        for m in modules
        if m.startswith(directory) and "/" not in m[len(directory) :] and m.endswith("_pb2.py")
    }
    sibling = reexports_sibling(text, siblings)
    if sibling is not None:
        return None, f"only re-exports {directory}{sibling}.py (from .{sibling} import *)"
    return None


def _setup_pth(tree_path: str, data: bytes, sdist: SdistFiles) -> bool:
    """A ``.pth`` at the wheel's top that ``setup.py`` writes from a literal (setuptools'
    ``distutils-precedence.pth``): the same statements, exactly."""
    if "/" in tree_path or not tree_path.endswith(".pth"):
        return False
    try:
        code = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sdist.scripts.writes_pth(tree_path.removesuffix(".pth"), code)


def _script_template(tree_path: str, data: bytes, sdist: SdistFiles) -> tuple[str, str] | None:
    """(script, why) when a script that names the member holds it as a ``%(name)s``
    template and the member is that template filled (pywavelets' ``version_utils.py``)."""
    for script, literal in sdist.written.get(tree_path, ()):
        template = literal.encode()
        filled = rendered_from(template, data, python=True, percent=True)
        if filled is None:
            continue
        old = set(template.decode().splitlines())
        values = [line.strip() for line in data.decode().splitlines() if line not in old]
        shown = "; ".join(values[:3]) + ("; ..." if len(values) > 3 else "")
        return script, (
            f"{script} names {tree_path} and holds it as a %(name)s template: {filled} lines"
            f" filled ({shown}), every other line the template's"
        )
    return None


def _bytecode_evidence(
    tree_path: str, data: bytes, sdist: SdistFiles, prefixes: list[str]
) -> tuple[str, str] | None:
    """(source, why) for a ``.pyc`` that is its sdist ``.py`` compiled (:mod:`.bytecode`)."""
    found = source_of(tree_path)
    if found is None:
        return None
    source_path, optimize = found
    for prefix in prefixes:
        source = sdist.kept.get(prefix + source_path)
        if source is None:
            continue
        why = compiled_from(data, source, source_path.rsplit("/", 1)[-1], optimize)
        if why is not None:
            return prefix + source_path, why
    return None


def _prefixes(ranks: Counter[str]) -> list[str]:
    """The plain layout prefixes (not package_dir renames), best ranked first; the top last."""
    plain = [p for p in ranks if p == "" or p.endswith("/")]
    return [*sorted((p for p in plain if p), key=lambda p: (-ranks[p], p)), ""]


def _different(
    wheel: WheelArchive,
    file: WheelFile,
    result: MemberResult,
    others: list[str],
    sdist: SdistFiles,
    context: _WheelContext,
) -> MemberResult:
    """A member whose sdist file has other bytes: a known rewrite, or a difference."""
    assert result.source is not None and file.tree_path is not None
    evidence: list[str] = []
    twins = [p for p in others if sdist.digests[p] == file.sha256]
    if twins:
        evidence.append(f"identical to {twins[0]}, which the layout does not place here")
    old = sdist.kept.get(result.source)
    new = wheel.read(file.member, limit=MAX_TEXT) if file.member.file_size <= MAX_TEXT else None
    diff = None
    if old is not None and new is not None:
        diff = _diff(old, new, result.source, file.path)
        if _same_script(old, new, file.path):
            evidence.append("the same script; only its #! line was rewritten")
            return replace(
                result, category="from-sdist-identical", evidence=tuple(evidence), diff=diff
            )
        if _same_lines(old, new):
            evidence.append("the same text; only its line endings differ (CRLF against LF)")
            return replace(result, category="from-sdist-identical", evidence=tuple(evidence))
        patched = without_patch(new, set(context.libs)) if file.path.endswith(".py") else None
        if patched is not None and _lines(patched[0]) == _lines(old):
            evidence.insert(
                0,
                f"the sdist's file with delvewheel's patch inserted (a repair edit: it adds"
                f" {patched[1]} to the DLL search path), and blank lines around it",
            )
            return replace(result, category="added-by-repair", evidence=tuple(evidence), diff=diff)
        if (b"\r\n" in old) != (b"\r\n" in new):
            evidence.append("line endings differ too (CRLF against LF); the diff is of LF text")
            lf = (old.replace(b"\r\n", b"\n"), new.replace(b"\r\n", b"\n"))
            diff = _diff(*lf, result.source, file.path)
    if new is not None:
        reason = generated_reason(file.tree_path, new, wheel.metadata.version)
        if reason:
            evidence.insert(0, f"{reason}, rewritten at build time")
            return replace(result, category="generated", evidence=tuple(evidence), diff=diff)
    regenerated = _regenerated_by_cython(wheel, file, result.source, sdist)
    if regenerated is not None:
        evidence.append(regenerated)
        return replace(result, category="generated", evidence=tuple(evidence), diff=diff)
    if diff is None and _lf_sha256(wheel, file) == sdist.digests[result.source]:
        evidence.append("the same text; only its line endings differ (CRLF against LF)")
        return replace(result, category="from-sdist-identical", evidence=tuple(evidence))
    if diff is None:
        sizes = (sdist.sizes.get(result.source, 0), file.member.file_size)
        evidence.append(f"no diff shown: {_no_diff(old, new, sizes)}")
    return replace(result, category="from-sdist-different", evidence=tuple(evidence), diff=diff)


_CYTHON_HEADER = re.compile(rb"/\* Generated by Cython ([0-9][\w.+-]{0,40}) \*/")


def _regenerated_by_cython(
    wheel: WheelArchive, file: WheelFile, source: str, sdist: SdistFiles
) -> str | None:
    """A C file Cython wrote again at build time from the sdist's ``.pyx`` beside it
    (cytoolz 1.2.0, editdistance 0.8.1, cftime 1.6.6.1): C source shipped in the wheel,
    never loaded; the module compiled from it is judged on its own."""
    if not source.endswith((".c", ".cpp")):
        return None
    pyx = source.rsplit(".", 1)[0] + ".pyx"
    if pyx not in sdist.digests:
        return None
    head = next(iter(wheel.stream(file.member)), b"")[:200]
    found = _CYTHON_HEADER.match(head)
    if found is None:
        return None
    version = found.group(1).decode("ascii", "replace")
    said = f"Cython {version} wrote it from {pyx} at build time"
    if source not in sdist.digests:
        return said
    return f"{said} (the sdist's copy differs: another Cython, other headers, or stale)"


def _no_diff(old: bytes | None, new: bytes | None, sizes: tuple[int, int]) -> str:
    """Why a differing member has no diff, said exactly; ``sizes`` are (sdist, wheel)."""
    for side, size in zip(("sdist", "wheel"), sizes, strict=True):
        if size > MAX_TEXT:
            return f"the {side}'s file is {size} bytes, above the {MAX_TEXT}-byte diff limit"
    if old is None or new is None:
        return "past the memory budget for kept texts"
    if b"\0" in old + new:
        return "binary (NUL bytes)"
    return "not UTF-8 text"


def _lf_sha256(wheel: WheelArchive, file: WheelFile) -> str | None:
    """The sha256 of the member with CRLF read as LF, when it has a CRLF and no NUL: a file
    a Windows build took from a git checkout with autocrlf (scipy's Windows wheels), too
    large to keep for a diff, compared with the sdist's LF file by digest."""
    digest = hashlib.sha256()
    crlf = False
    carry = b""
    for chunk in wheel.stream(file.member):
        chunk = carry + chunk
        if b"\0" in chunk:
            return None
        carry = b"\r" if chunk.endswith(b"\r") else b""
        body = chunk[:-1] if carry else chunk
        crlf = crlf or b"\r\n" in body
        digest.update(body.replace(b"\r\n", b"\n"))
    digest.update(carry)
    return digest.hexdigest() if crlf else None


def _lines(data: bytes) -> list[bytes]:
    """The non-blank lines, without their line ends: delvewheel adds blank lines around its
    patch and drops the file's last line end (blank lines run nothing)."""
    return [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip()]


def _same_script(old: bytes, new: bytes, path: str) -> bool:
    """A ``.data/scripts`` file whose only change is its ``#!`` line (``#!python``)."""
    if ".data/scripts/" not in path or not (old.startswith(b"#!") and new.startswith(b"#!")):
        return False
    return old.split(b"\n", 1)[1:] == new.split(b"\n", 1)[1:]


def _same_lines(old: bytes, new: bytes) -> bool:
    """The same text but for CRLF against LF line ends: a wheel built on Windows from a git
    checkout with autocrlf (every Windows wheel of msgpack 1.0.8, wrapt 1.16.0).  Python
    reads both alike (the tokenizer normalises newlines, string literals included)."""
    return b"\r\n" in old + new and old.replace(b"\r\n", b"\n") == new.replace(b"\r\n", b"\n")


def _diff(old: bytes, new: bytes, source: str, path: str) -> str | None:
    if b"\0" in old or b"\0" in new:
        return None
    try:
        a, b = old.decode("utf-8"), new.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = list(
        difflib.unified_diff(
            a.splitlines(keepends=True),
            b.splitlines(keepends=True),
            fromfile=f"sdist/{source}",
            tofile=f"wheel/{path}",
            n=2,
        )
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines[:MAX_DIFF_LINES])
    if len(lines) > MAX_DIFF_LINES or len(text) > MAX_DIFF_CHARS:
        text = text[:MAX_DIFF_CHARS] + f"... (diff cut; {len(lines)} lines in all)\n"
    return text


@dataclass(frozen=True)
class _WheelContext:
    """What classifying one member needs to know about the others."""

    sbom: dict[str, DeclaredComponent]
    loaded: frozenset[str]  # library names the wheel's binaries load (through grafts)
    originals: dict[str, str]  # sha256[:8] -> path of each binary outside graft directories
    modules: frozenset[str]  # the wheel's .py members, as source-tree paths
    libs: frozenset[str]  # the graft directories the wheel has (``<dist>.libs``)


def _graft_directory(path: str) -> str | None:
    """``<dist>.libs`` or ``.dylibs`` when the member sits directly in one."""
    parts = path.split("/")
    directory = parts[-2] if len(parts) > 1 else ""
    return directory if directory.endswith(".libs") or directory == ".dylibs" else None


def _loaded_grafts(files: list[WheelFile]) -> frozenset[str]:
    """The names of the libraries the wheel's binaries load, followed through the grafted
    ones they load: what a repair tool had a reason to graft."""
    natives = [f for f in files if f.native is not None]
    grafts = {f.path.rsplit("/", 1)[-1].lower(): f for f in natives if _graft_directory(f.path)}
    loaded: set[str] = set()
    pending = [f for f in natives if not _graft_directory(f.path)]
    while pending:
        file = pending.pop()
        assert file.native is not None
        for name in file.native.needs - loaded:
            loaded.add(name)
            if name in grafts:
                pending.append(grafts[name])
    return frozenset(loaded)


def _repair_evidence(file: WheelFile, context: _WheelContext) -> tuple[str, ...]:
    """Why a native file was grafted by a repair tool; empty when nothing says so.

    The wheel's SBOM, or where it sits (``<dist>.libs/``, ``.dylibs/``) when another binary
    of the wheel loads it: a repair tool grafts what a binary needs, so a library there
    that nothing loads was put there otherwise (rtree 1.4.1's ``libspatialindex``, loaded
    through ctypes, built by the project's CI).  A mangled name alone says nothing (a
    project may ship its own ``libfoo-1a2b3c4d.so``).  A graft whose name's hash is the
    sha256 prefix of another binary of the wheel is a copy of it (the hash auditwheel puts
    in a graft's name: tables 3.11.1 grafts its own ``libblosc2.so``).
    """
    loaded, originals, sbom = context.loaded, context.originals, context.sbom
    if file.native is None:
        return ()
    parts = file.path.split("/")
    directory = _graft_directory(file.path)
    declared = sbom.get(file.path)
    evidence: list[str] = []
    if directory is not None and parts[-1].lower() in loaded:
        evidence.append(f"in {directory}/, where repair tools graft libraries, and loaded")
    if declared is not None:
        evidence.append(
            f"declared by the wheel's SBOM ({declared.sbom}): {declared.purl or declared.name}"
        )
    if not evidence:
        return ()
    name = LibraryName.parse(parts[-1])
    if name.hash:
        evidence.append(f"mangled name: {name.unmangled} renamed with hash {name.hash}")
        original = originals.get(name.hash)
        if original is not None:
            evidence.append(f"a copy of the wheel's own {original} (that hash is its sha256's)")
    return tuple(evidence)


def _native_summary(file: WheelFile, loaded: frozenset[str], foreign: list[str]) -> tuple[str, ...]:
    assert file.native is not None
    out = [f"{file.native.format} file; nothing in it names a source file the sdist holds"]
    if foreign:
        shown = ", ".join(foreign[:4]) + (
            f" and {len(foreign) - 4} more" if len(foreign) > 4 else ""
        )
        out.append(f"names sources the sdist lacks: {shown}")
    directory = _graft_directory(file.path)
    if directory is not None and file.path.rsplit("/", 1)[-1].lower() not in loaded:
        out.append(f"in {directory}/, but no binary of the wheel loads it: no repair grafted it")
    if file.native.init_functions:
        out.append("exports " + ", ".join(file.native.init_functions[:3]))
    if file.native.library:
        out.append(f"the library table identifies it: {file.native.library}")
    return tuple(out)


def _findings(result: MemberResult, file: WheelFile) -> list[Finding]:
    # a static library (ar) is linked by later builds, never loaded: unexplained, a note
    loaded = file.native is not None and file.native.format != "ar"
    code = result.path.endswith(_CODE_SUFFIXES) or loaded
    code = code or ".data/scripts/" in result.path
    if result.category == "unexplained":
        if code and result.size > 0:
            what = "native file" if loaded else "code"
            return [
                Finding(
                    "finding",
                    "unexplained-code",
                    f"{what} that nothing in the sdist accounts for",
                    result.path,
                )
            ]
        return [Finding("note", "unexplained", "nothing in the sdist accounts for it", result.path)]
    foreign = [e for e in result.evidence if e.startswith("also names ")]
    if result.category == "compiled-from-sdist" and foreign:
        # compiled from the sdist, but mostly from code it lacks (llvmlite, blosc2_ext)
        return [Finding("note", "mostly-foreign-sources", foreign[0], result.path)]
    if result.category == "from-sdist-different" and result.path.endswith((".py", ".pth", ".pyw")):
        return [
            Finding(
                "finding",
                "python-differs",
                f"differs from the sdist's {result.source}",
                result.path,
            )
        ]
    return []
