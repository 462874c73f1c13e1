"""Judge a wheel's facts: each function looks at one concern and returns findings."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence

from packaging.utils import canonicalize_name

from truewheel.analysis.duplicates import duplicate_findings
from truewheel.analysis.formats import format_findings
from truewheel.analysis.libc import GLIBC, MUSL
from truewheel.analysis.loaded import unloaded
from truewheel.analysis.platform import (
    architecture_of,
    load_problem,
    tagged_architecture,
    unsupported_architecture,
)
from truewheel.analysis.report import Finding, ImageFile, NativeFile, PlatformReport
from truewheel.analysis.resolve import (
    BROKEN,
    EXTERNAL,
    Dependency,
    installed_path,
    search_path_escape,
)
from truewheel.analysis.scan import ScannedMember
from truewheel.analysis.split import CHECKED, MISSING, UNDECLARED, library_key
from truewheel.analysis.symbols import symbol_findings
from truewheel.elf.machine import runs_under
from truewheel.policy.libraries import SINGLETON_CATEGORIES, LibraryName
from truewheel.policy.manylinux import PolicySet
from truewheel.wheel import WheelArchive

__all__ = ["collect_findings"]

# Library directories of the Python environments wheels are built in: pyenv, the manylinux
# images (/opt/python, /opt/_internal), GitHub's setup-python, uv, conda; and the
# site-packages below them.  The interpreter's LDSHARED adds -Wl,-rpath,<prefix>/lib.
_BUILD_ENVIRONMENT = re.compile(
    r"(?:.*/\.pyenv/versions/[^/]+|/opt/python/[^/]+|/opt/_internal/cpython-[^/]+"
    r"|.*/hostedtoolcache/Python/[^/]+/[^/]+|.*/uv/python/cpython-[^/]+"
    r"|.*/(?:conda_environment_[^/]+|envs/[^/]+|miniconda3?|anaconda3?|miniforge3?|mambaforge))"
    r"/lib(?:64)?(?:/python3\.[0-9]+/site-packages/[^$]+)?/?"
)
# Libraries every process has loaded before a wheel's file: searching for them never happens.
_ALWAYS_LOADED = frozenset({"libc.so.6", "libc.so"})
# Names of relocatable objects that are shipped to be linked, never loaded.
_OBJECT_SUFFIXES = (".o", ".obj", ".lo", ".ko")


def collect_findings(
    wheel: WheelArchive,
    scanned: list[ScannedMember],
    native: list[NativeFile],
    platform: PlatformReport | None,
    glibc: PolicySet,
    musl: PolicySet,
    provided: Mapping[str, str],
) -> list[Finding]:
    findings = [
        *record_findings(wheel, scanned),
        *format_findings(wheel.name.platforms, scanned),
        *libc_findings(platform),
        *tag_findings(platform, musl if platform and platform.computed.libc == MUSL else glibc),
        *architecture_findings(native, wheel.name.platforms),
        *coverage_findings(native, platform, glibc, musl),
        *dependency_findings(native, provided),
        *rpath_findings(native),
        *vendored_findings(native),
        *duplicate_findings(native, _plugins(native)),
        *build_path_findings(native),
        *symbol_findings(native, _claimed_policies(wheel.name.platforms, glibc, musl)),
    ]
    return sorted(findings, key=lambda f: (f.rank, f.code, f.file or "", f.message))


def _claimed_policies(platforms: Sequence[str], glibc: PolicySet, musl: PolicySet) -> set[str]:
    """The manylinux/musllinux policies the file name claims (``manylinux2014`` is
    ``manylinux_2_17``)."""
    out = set()
    for tag in platforms:
        for policies in (glibc, musl):
            policy, _ = policies.policy_of_tag(tag)
            if policy is not None:
                out.add(policy.name)
    return out


def record_findings(wheel: WheelArchive, scanned: list[ScannedMember]) -> list[Finding]:
    out = [Finding("error", "metadata-mismatch", p, wheel.metadata_name) for p in wheel.problems]
    if wheel.wheel_info.ignored is not None:
        out.append(
            Finding(
                "info",
                "wheel-file-body",
                "text after the header block is ignored by installers: "
                f"{wheel.wheel_info.ignored!r}",
                f"{wheel.dist_info}/WHEEL",
            )
        )
    if wheel.wheel_info.purelib_missing is not None:
        out.append(
            Finding(
                "warning",
                "wheel-file-field",
                f"has no Root-Is-Purelib header ({wheel.wheel_info.purelib_missing}): pip and "
                "installer take it as false and install the wheel into platlib",
                f"{wheel.dist_info}/WHEEL",
            )
        )
    out += [
        Finding("error", "record-mismatch", m.record_problem, m.name)
        for m in scanned
        if m.record_problem
    ]
    present = {m.name for m in wheel.files}
    for path in wheel.missing_files:
        if path.replace("\\", "/") in present:  # PyQt5-Qt5 5.15.2's RECORD lists itself so
            out.append(
                Finding(
                    "info",
                    "record-path-separator",
                    "listed in RECORD with backslashes, as a Windows path; the wheel spec "
                    "wants '/', and a tool that checks RECORD by path misses the member",
                    path,
                )
            )
        else:
            out.append(
                Finding(
                    "error", "record-missing-file", "listed in RECORD but not in the wheel", path
                )
            )
    return out


_FAMILY = {GLIBC: "manylinux", MUSL: "musllinux"}


def libc_findings(platform: PlatformReport | None) -> list[Finding]:
    """Files built for both libcs, or tags naming the libc the content is not built for."""
    if platform is None:
        return []
    libc = platform.libc
    if libc.undecided:
        return [
            Finding(
                "info",
                "libc-undecided",
                "needs no C library and its name does not say which it was built for "
                "(CPython before 3.11 names musl extensions -linux-gnu too): no tag is "
                "proven; repair asks for --plat",
                libc.undecided[0],
            )
        ]
    if libc.libc is None:
        return []
    if libc.mixed:
        return [Finding("error", "libc-mixed", libc.describe_conflict())]
    assert libc.libc is not None
    other = _FAMILY[MUSL if libc.libc == GLIBC else GLIBC]
    wrong = [p for p in platform.filename_platforms if p.startswith(other)]
    if not wrong:
        return []
    path, evidence = next(iter(sorted(libc.evidence.items())))
    return [
        Finding(
            "error",
            "tag-wrong-libc",
            f"claims {'.'.join(wrong)} but the content is built for {libc.libc} "
            f"({evidence.reason})",
            path,
        )
    ]


def tag_findings(platform: PlatformReport | None, policies: PolicySet) -> list[Finding]:
    """The claimed tags of the content's libc family against what the content allows."""
    if platform is None:
        return []
    computed = platform.computed
    out: list[Finding] = []
    if sorted(platform.filename_platforms) != sorted(platform.wheel_platforms):
        out.append(
            Finding(
                "warning",
                "tag-inconsistent",
                f"file name tags {'.'.join(platform.filename_platforms)} differ from WHEEL's "
                f"{'.'.join(platform.wheel_platforms) or '(none)'}",
            )
        )
    claimed = [policies.policy_of_tag(p) for p in platform.filename_platforms]
    claimed_policies = [p for p, _ in claimed if p is not None]
    if not claimed_policies:
        untagged = all(p == "any" or p.startswith("linux_") for p in platform.filename_platforms)
        if computed.policy is not None and not platform.libc.undecided and untagged:
            out.append(Finding("info", "tag-untagged", f"content would allow {computed.tag}"))
        return out
    oldest = min(claimed_policies, key=lambda p: p.libc_version)
    why = "; ".join(
        f"{r.value} ({', '.join(posixpath.basename(f) for f in r.files[:2])})"
        for r, _ in computed.constraints[:4]
    )
    if computed.policy is None or (
        oldest.libc_version < computed.policy.libc_version and computed.constraints
    ):
        allowed = platform.repairable.policy
        if allowed is not None and oldest.libc_version >= allowed.libc_version:
            out.append(
                Finding(
                    "info",
                    "tag-excludes-libraries",
                    f"claims {oldest.name}, which holds if the system provides "
                    f"{', '.join(platform.external_libraries)} (no policy lists them; "
                    "auditwheel repair --exclude gives the same tag)",
                )
            )
            return out
        out.append(
            Finding(
                "error",
                "tag-too-old",
                f"claims {oldest.name} but content needs {computed.tag}: {why}",
            )
        )
    elif oldest.libc_version > computed.policy.libc_version:
        out.append(
            Finding(
                "info",
                "tag-conservative",
                f"claims {oldest.name}; content would allow {computed.tag}",
            )
        )
    return out


def architecture_findings(native: list[NativeFile], platforms: list[str]) -> list[Finding]:
    """Files no process of the wheel's architecture can load: another machine, class or
    byte order, or not a program or shared object at all.

    The architecture is the one most native files are built for, or the one the file
    name's Linux tags claim when those files do not suit it (a wheel named x86_64 holding
    aarch64 code: auditwheel refuses it too).  A relocatable object named as one
    (``foo.o``, shipped for linking, or a kernel module) is left alone.
    """
    if not native:
        return []
    tagged = tagged_architecture(platforms)
    content = architecture_of(native)
    exact = tagged is None or runs_under(content, tagged)
    arch = content if exact else str(tagged)
    why = f"its other native files are {arch}"
    if arch == tagged:
        why = f"the wheel is tagged for {arch}"
    out: list[Finding] = []
    for f in native:
        problem = load_problem(f.elf, arch, exact=exact)
        if problem is None:
            continue
        if f.elf.type not in ("DYN", "EXEC"):
            if f.elf.type == "REL" and f.path.endswith(_OBJECT_SUFFIXES):
                continue
            out.append(Finding("error", "not-loadable", f"{problem}: it cannot be loaded", f.path))
            continue
        out.append(Finding("error", "architecture-mismatch", f"{problem}; {why}", f.path))
    return out


def coverage_findings(
    native: list[NativeFile], platform: PlatformReport | None, glibc: PolicySet, musl: PolicySet
) -> list[Finding]:
    """An architecture no policy of the wheel's libc covers: no manylinux or musllinux tag
    fits it, whatever a repair does (soft-float ARM, mips64, x32).  Files that do not
    suit the wheel's own tag are architecture_findings' to report."""
    if platform is None:
        return []
    tagged = tagged_architecture(platform.filename_platforms)
    if tagged is not None and not runs_under(architecture_of(native), tagged):
        return []
    policies = musl if platform.computed.libc == musl.libc else glibc
    found = unsupported_architecture(native, policies)
    if found is None:
        return []
    path, why = found
    return [Finding("error", "architecture-unsupported", why, path)]


def provided_finding(name: str, dist: str, path: str) -> Finding:
    """A library the wheel leaves to a required distribution, which must be imported first."""
    return Finding(
        "info",
        "provided-by-requirement",
        f"needs {name}, which the required distribution {dist} provides once {dist} is "
        "imported (this package must import it first)",
        path,
    )


_LOADERS = {"linux": "ld.so", "macos": "dyld", "windows": "Windows"}
_REUSE = {
    "linux": "ld.so reuses the library it loads under that SONAME",
    "macos": "dyld reuses the image it loads under that install name",
    "windows": "Windows reuses the DLL it loads",
}


def requirement_finding(dep: Dependency, path: str, system: str) -> Finding:
    """A library of a split wheel that a required distribution installs, is expected to,
    or, by its wheel given on the same command line, does not (analysis/split.py)."""
    at = f", which {_LOADERS[system]} looks for at {dep.path}" if dep.path else ""
    after_library = library_key(dep.name) == canonicalize_name(dep.provider or "")
    reuse = ""
    if after_library and (dep.via == CHECKED or not at):
        reuse = f"; {dep.provider} must be imported first: {_REUSE[system]}"
    if dep.via == MISSING:
        broken = system == "macos"
        whose = "Windows" if system == "windows" else "system"
        return Finding(
            "error" if broken else "warning",
            "broken-reference" if broken else "external-library",
            f"needs {dep.name}{at}: neither this wheel nor the wheel of its requirement "
            f"{dep.provider} given here ships it"
            + ("" if broken else f", so the user's {whose} must provide it"),
            path,
        )
    if dep.via == UNDECLARED:
        return Finding(
            "warning",
            "undeclared-requirement",
            f"needs {dep.name}: not in this wheel; the wheel of {dep.provider} given here ships "
            f"it at {dep.path}, but this wheel does not require {dep.provider}: it loads only "
            f"when something else installs {dep.provider}",
            path,
        )
    if dep.via == CHECKED:
        at = ""
        how = f"provides it (checked: its wheel given here ships it at {dep.path}{reuse})"
    else:
        why = (
            "named after that directory" if at
            else "named after the library" if after_library
            else f"the library table says {dep.provider} ships this library"
        )  # fmt: skip
        how = f"is expected to provide it ({why}; not checked: its wheel was not given{reuse})"
    return Finding(
        "info",
        "provided-by-requirement",
        f"needs {dep.name}{at}: not in this wheel; the required distribution {dep.provider} " + how,
        path,
    )


def unloaded_info(finding: Finding) -> Finding:
    """What a library that no module or program of the wheel loads needs (analysis/loaded.py)
    is only needed when something loads it at run time: information, not a warning or an
    error."""
    note = (
        "; no extension module or program of the wheel loads this file, directly or through "
        "others: it matters only to code that loads it at run time (a plugin loader, ctypes)"
    )
    return Finding("info", finding.code, finding.message + note, finding.file)


def dependency_findings(native: list[NativeFile], provided: Mapping[str, str]) -> list[Finding]:
    """Where each ELF file's dependencies come from; what a library nothing of the wheel
    loads needs is information (PySide2's Qt plugins), unless it imports the plain name of
    a library the wheel ships only hash-mangled: the repair left it unpatched."""
    unused = _unloaded_elf(native)
    mangled = {n.stem for f in native if (n := LibraryName.parse(posixpath.basename(f.path))).hash}
    out: list[Finding] = []
    for f in native:
        for dep in f.dependencies:
            if dep.provider is not None:
                finding = requirement_finding(dep, f.path, "linux")
            elif dep.status == EXTERNAL and dep.name in provided:
                finding = provided_finding(dep.name, provided[dep.name], f.path)
            elif dep.status == EXTERNAL:
                finding = Finding(
                    "warning",
                    "external-library",
                    f"needs {dep.name}, which the user's system must provide",
                    f.path,
                )
            elif dep.status == BROKEN:
                finding = Finding(
                    "error",
                    "broken-reference",
                    f"needs {dep.name}; the wheel has it at {dep.path} "
                    "but no RPATH/RUNPATH entry reaches it",
                    f.path,
                )
            else:
                continue
            name = LibraryName.parse(dep.name)
            plain = name.hash is None and name.stem in mangled  # the unpatched import
            quiet = f.path in unused and finding.severity != "info" and not plain
            out.append(unloaded_info(finding) if quiet else finding)
    return out


def _unloaded_elf(native: list[NativeFile]) -> set[str]:
    """ELF files nothing of the wheel loads: the roots are its extension modules (any
    ``.so`` CPython can import: not a ``lib*`` library, or named ``.cpython-*``/``.abi3``)
    and its programs (those with an interpreter)."""
    modules = [f.path for f in native if _is_module(posixpath.basename(f.path))]
    roots = modules + [f.path for f in native if f.elf.interpreter and f.path not in modules]
    files = {f.path: f.dependencies for f in native}
    return unloaded(files, roots, modules=bool(modules))


def _plugins(native: list[NativeFile]) -> set[str]:
    """Files nothing of the wheel loads and that have no SONAME: plugins, loaded by path;
    two with one file name in different directories are two plugins (PySide2's Wayland
    client and server ``libdmabuf-server.so``), not two builds of one library."""
    by_path = {f.path: f for f in native}
    return {p for p in _unloaded_elf(native) if not by_path[p].elf.soname}


def _is_module(name: str) -> bool:
    if ".cpython-" in name or name.endswith(".abi3.so"):
        return name.endswith(".so")
    return name.endswith(".so") and not name.startswith("lib") and name.count(".") == 1


def rpath_findings(native: list[NativeFile]) -> list[Finding]:
    """Search paths that leave the wheel; the harmless absolute ones named for what they are."""
    out: list[Finding] = []
    for f in native:
        origin = posixpath.dirname(installed_path(f.path))
        for entry in [*f.elf.rpath, *f.elf.runpath]:
            escape = search_path_escape(entry, origin)
            if escape is None:
                continue
            code, what = _RPATH_ESCAPES[escape]
            severity = "warning"
            if escape == "absolute" and _BUILD_ENVIRONMENT.fullmatch(entry):
                severity, code = "info", "build-environment-rpath"
                what = "is in the Python environment the file was built in"
                what += "; other machines rarely have it"
            elif escape == "absolute" and all(
                n in _ALWAYS_LOADED or n.startswith(("ld-", "libc.musl-")) for n in f.elf.needed
            ):
                severity = "info"
                what += "; unused: the file needs only the C library, which is always loaded "
                what += "before it"
            out.append(Finding(severity, code, f"search path {entry} {what}", f.path))
    return out


_RPATH_ESCAPES = {
    "absolute": ("absolute-rpath", "is outside the wheel"),
    "outside": ("rpath-outside-wheel", "leaves the wheel"),
    "relative": ("relative-rpath", "is relative to the working directory"),
}


def vendored_findings(native: Sequence[NativeFile | ImageFile]) -> list[Finding]:
    out: list[Finding] = []
    for f in native:
        ident = f.identity
        if ident is None:
            continue
        if ident.first_party:
            if ident.restricted:
                out.append(
                    Finding(
                        "info",
                        "restricted-library",
                        f"{ident.name} is distributed under a proprietary licence "
                        f"({ident.license or 'see its licence'})",
                        f.path,
                    )
                )
            continue
        version = f" {ident.version}" if ident.version else ""
        built = f", built by {f.toolchain}" if f.toolchain else ""
        mangled = f", hash-mangled ({ident.mangled_hash})" if ident.mangled_hash else ""
        out.append(
            Finding("info", "vendored-library", f"{ident.name}{version}{built}{mangled}", f.path)
        )
        if ident.mangled_hash is None and not (isinstance(f, ImageFile) and f.macho is not None):
            severity = "warning" if ident.category in SINGLETON_CATEGORIES else "info"
            out.append(
                Finding(
                    severity,
                    "vendored-unmangled",
                    f"{ident.name} is shipped under its usual name {posixpath.basename(f.path)}; "
                    "another copy loaded first in the process will be used instead of it",
                    f.path,
                )
            )
        if ident.restricted:
            out.append(
                Finding(
                    "warning",
                    "restricted-library",
                    f"{ident.name} is proprietary or redistribution-restricted "
                    f"({ident.license or 'see its licence'})",
                    f.path,
                )
            )
    return out


def build_path_findings(native: Sequence[NativeFile | ImageFile]) -> list[Finding]:
    """Build paths in a binary, except the RPATH/RUNPATH strings judged on their own."""
    out: list[Finding] = []
    for f in native:
        roots: dict[str, tuple[bool, list[str]]] = {}
        search_path = [*f.elf.rpath, *f.elf.runpath] if isinstance(f, NativeFile) else f.rpaths
        for bp in f.build_paths:
            if bp.section in (".dynstr", "strings") and any(
                e.startswith(bp.example) for e in search_path
            ):
                continue
            randomized, sections = roots.setdefault(bp.root, (bp.randomized, []))
            sections.append(bp.section)
        for root, (randomized, sections) in roots.items():
            out.append(
                Finding(
                    "warning" if randomized else "info",
                    "build-path",
                    f"embeds build path {root} in {', '.join(sections)}"
                    + (" (differs on every build)" if randomized else ""),
                    f.path,
                )
            )
    return out
