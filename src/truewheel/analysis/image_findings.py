"""Judge a macOS or Windows wheel's Mach-O or PE files: one small function per concern.

Codes mean what they mean on Linux where the meaning is the same
(``external-library``, ``broken-reference``, ``tag-too-old``,
``architecture-mismatch``, ``build-path``...); the platform's own hazards get
their own: ``code-signature-missing`` (Apple silicon kills unsigned arm64 code),
``architecture-missing`` (a universal2 wheel whose binary lacks a slice),
``msvc-runtime-not-shipped``, ``vendored-system-library`` and
``python-dll-mismatch`` (a module bound to a Python DLL the wheel's tags do not
promise: Windows names the interpreter's version in the import).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Mapping, Sequence

from truewheel.analysis.duplicates import duplicate_findings
from truewheel.analysis.findings import (
    build_path_findings,
    provided_finding,
    requirement_finding,
    unloaded_info,
    vendored_findings,
)
from truewheel.analysis.macos import MacTag, is_loadable, needed_version, parse_mac_tag, tag_for
from truewheel.analysis.report import Finding, ImageFile, ImagePlatform
from truewheel.analysis.resolve import BROKEN, EXTERNAL
from truewheel.analysis.windows import unimported, unloaded_foreign, wheel_machines
from truewheel.policy.libraries import LibraryName
from truewheel.policy.systems import MacSystem, WindowsSystem

__all__ = ["image_findings"]


def image_findings(
    images: list[ImageFile],
    platform: ImagePlatform | None,
    mac: MacSystem,
    windows: WindowsSystem,
    provided: Mapping[str, str],
    python_tags: Sequence[tuple[str, str]] = (),
) -> list[Finding]:
    """Every finding on the judged images; ``python_tags`` are the wheel's (interpreter,
    abi) tag pairs."""
    if platform is None:
        return []
    judged = [f for f in images if (f.macho if platform.system == "macos" else f.pe) is not None]
    unloaded: set[str] = set()
    if platform.system == "windows":
        machines = wheel_machines(platform.filename_platforms, judged, windows)
        unloaded = unloaded_foreign(judged, machines)
    unused = unimported(judged)  # what they need is known to be needed by nothing
    loaded = [f for f in judged if f.path not in unloaded]  # what a process of the wheel loads
    out = [
        *_tag_consistency(platform),
        *dependency_findings(loaded, windows, provided, unused),
        *vendored_findings(judged),
        *duplicate_findings(judged, unloaded),
        *build_path_findings(judged),
    ]
    if platform.system == "macos":
        out += mac_tag_findings(judged, platform, mac)
        out += signature_findings(judged)
        out += mac_rpath_findings(judged, mac)
    else:
        out += windows_tag_findings(judged, platform, windows, unloaded)
        out += system_copy_findings(judged, windows)
        out += python_dll_findings(judged, python_tags)
    return out


def _tag_consistency(platform: ImagePlatform) -> list[Finding]:
    if sorted(platform.filename_platforms) == sorted(platform.wheel_platforms):
        return []
    return [
        Finding(
            "warning",
            "tag-inconsistent",
            f"file name tags {'.'.join(platform.filename_platforms)} differ from WHEEL's "
            f"{'.'.join(platform.wheel_platforms) or '(none)'}",
        )
    ]


def mac_tag_findings(
    images: list[ImageFile], platform: ImagePlatform, mac: MacSystem
) -> list[Finding]:
    """Each claimed macOS tag against the slices a machine accepting it would load."""
    tags = [t for p in platform.filename_platforms if (t := parse_mac_tag(p, mac))]
    out: list[Finding] = []
    for tag in tags:
        mismatch = _architectures_against(images, tag)
        out += mismatch
        out += _minimum_against(images, tag, mac, conservative=not mismatch)
    return out


def _architectures_against(images: list[ImageFile], tag: MacTag) -> list[Finding]:
    out = []
    for f in images:
        if f.macho is None or not is_loadable(f.macho):
            continue
        present = set(f.macho.architectures)
        missing = sorted(tag.architectures - present)
        if not missing:
            continue
        if missing == sorted(tag.architectures):
            out.append(
                Finding(
                    "error",
                    "architecture-mismatch",
                    f"built for {', '.join(sorted(present))}; the wheel is tagged {tag.tag}",
                    f.path,
                )
            )
        else:
            out.append(
                Finding(
                    "error",
                    "architecture-missing",
                    f"has no {', '.join(missing)} slice; {tag.tag} needs "
                    f"{', '.join(sorted(tag.architectures))} in every binary",
                    f.path,
                )
            )
    return out


def _minimum_against(
    images: list[ImageFile], tag: MacTag, mac: MacSystem, *, conservative: bool
) -> list[Finding]:
    """Slices whose minimum macOS is newer than the tag lets pip install them on.

    dyld does not compare a dylib's minimum with the running macOS: its only gate is
    the platform (``Header::loadableIntoProcess`` in Apple's dyld checks that the
    image is built for macOS, not which version).  But the compiler and linker took
    every API of macOS up to the minimum for granted (no availability checks, strong
    references): on an older macOS a symbol it binds may be missing, and the load
    fails ("Symbol not found") or a call crashes later.  delocate refuses such a wheel
    ("Library dependencies do not satisfy target MacOS version"); so does this, as an
    error, with the wording of what may happen.

    Each tag is compared with what its own architectures allow: an arm64 tag is never
    below 11.0, whatever the x86_64 slices of the same wheel allow.
    """
    machos = {f.path: f.macho for f in images if f.macho is not None}
    need = needed_version(machos, tag.architectures, mac)
    allowed = tag_for(need[0] if need else None, tag.arch, mac)
    out = []
    worst: dict[str, dict[str, tuple[tuple[int, ...], str]]] = {}  # path -> arch -> minimum
    for f in images:
        if f.macho is None or not is_loadable(f.macho):
            continue
        for piece in f.macho.slices:
            minimum = piece.macos_minimum
            if piece.arch not in tag.architectures or minimum is None:
                continue
            accepted = max(tag.version, mac.first_macos(piece.arch)[:2])
            if minimum.minos_key[:2] > accepted:
                found = worst.setdefault(f.path, {})
                entry = (minimum.minos_key, minimum.minos)
                found[piece.arch] = max(found.get(piece.arch, entry), entry)
    for path, slices in sorted(worst.items()):
        needs = [
            f"its {arch} slice {'needs macOS ' * (i == 0)}{minos}"
            for i, (arch, (_, minos)) in enumerate(sorted(slices.items()))
        ]
        out.append(
            Finding(
                "error",
                "tag-too-old",
                f"claims {tag.tag} but {', '.join(needs[:-1])}{' and ' * (len(needs) > 1)}"
                f"{needs[-1]} (the minimum it was built for): pip installs the wheel on older "
                "macOS, where it may fail to load or crash (it may use symbols an older macOS "
                f"lacks; content allows {allowed})",
                path,
            )
        )
    allowed_tag = parse_mac_tag(allowed, mac)
    if conservative and not worst and allowed_tag and tag.version > allowed_tag.version:
        out.append(
            Finding("info", "tag-conservative", f"claims {tag.tag}; content would allow {allowed}")
        )
    return out


def signature_findings(images: list[ImageFile]) -> list[Finding]:
    """arm64 code must carry a signature (ad hoc will do): macOS kills the process otherwise."""
    return [
        Finding(
            "error",
            "code-signature-missing",
            "its arm64 slice has no code signature (LC_CODE_SIGNATURE): macOS on Apple "
            "silicon kills a process that loads unsigned arm64 code; sign it (codesign -s -)",
            f.path,
        )
        for f in images
        if f.macho is not None
        and is_loadable(f.macho)
        and any(s.arch == "arm64" and s.code_signature is None for s in f.macho.slices)
    ]


def mac_rpath_findings(images: list[ImageFile], mac: MacSystem) -> list[Finding]:
    """Absolute run paths: a directory of the build machine searched on the user's Mac;
    relative ones: dyld takes them from the process's working directory.

    A run path is searched only for ``@rpath/`` references: in a file without one it is
    dead weight (info), in a file with one, that directory of the user's Mac is searched.
    """
    out = []
    for f in images:
        if f.macho is None:
            continue
        rpaths = {r for s in f.macho.slices for r in s.rpaths}
        entries = sorted(r for r in rpaths if r.startswith("/"))
        used = any(d.name.startswith("@rpath/") for s in f.macho.slices for d in s.dylibs)
        for entry in sorted(r for r in rpaths if not r.startswith(("/", "@"))):
            out.append(
                Finding(
                    "warning" if used else "info",
                    "relative-rpath",
                    f"run path {entry} is relative to the working directory"
                    + ("" if used else "; unused: the file loads nothing through @rpath/"),
                    f.path,
                )
            )
        for entry in entries:
            if mac.is_system(entry.rstrip("/") + "/"):
                continue
            if used:
                out.append(
                    Finding(
                        "warning",
                        "absolute-rpath",
                        f"run path {entry} is outside the wheel: its @rpath/ dylibs are looked "
                        "for in that directory of the user's Mac too",
                        f.path,
                    )
                )
            else:
                out.append(
                    Finding(
                        "info",
                        "absolute-rpath",
                        f"run path {entry} is outside the wheel; unused: the file loads "
                        "nothing through @rpath/",
                        f.path,
                    )
                )
    return out


def dependency_findings(
    images: list[ImageFile],
    windows: WindowsSystem,
    provided: Mapping[str, str],
    unused: Collection[str] = (),
) -> list[Finding]:
    """Where each file's dependencies come from; for a file no module or program loads
    (``unused``), information, except an import of a name the wheel ships only mangled:
    the repair tool renamed the library and left this file's import alone, so it cannot
    load wherever it is loaded from (netCDF4's HDF5 filter plugins); nor can a file that
    imports the debug C runtime (blosc2's ``tcc.dll``, which its JIT loads)."""
    out: list[Finding] = []
    mangled = _mangled_copies(images)
    for f in images:
        for dep in f.dependencies:
            base = posixpath.basename(dep.name)
            copy = None
            if dep.provider is not None:
                finding = requirement_finding(dep, f.path, "macos" if f.macho else "windows")
            elif dep.status == EXTERNAL and (dep.name in provided or base in provided):
                dist = provided.get(dep.name) or provided[base]
                finding = provided_finding(dep.name, dist, f.path)
            elif dep.status == EXTERNAL:
                copy = mangled.get(dep.name.lower()) if f.pe is not None else None
                finding = _external(f, dep.name, dep.via, windows, copy)
            elif dep.status == BROKEN:
                finding = _broken(f, dep.name, dep.path, dep.via)
            else:
                continue
            # a debug runtime is on no user's machine: whatever loads the file, it fails
            debug = f.pe is not None and windows.is_debug_runtime(dep.name)
            unneeded = f.path in unused and finding.severity != "info" and copy is None
            unneeded = unneeded and not debug
            out.append(unloaded_info(finding) if unneeded else finding)
    return out


def _mangled_copies(images: list[ImageFile]) -> dict[str, str]:
    """Lower-cased unmangled DLL name -> the wheel's hash-mangled copy (delvewheel's
    ``<name>-<hash>.dll``): what a module importing the plain name does not find."""
    out: dict[str, str] = {}
    for f in sorted(images, key=lambda i: i.path):
        name = LibraryName.parse(posixpath.basename(f.path))
        if f.pe is not None and name.hash is not None:
            out.setdefault(name.unmangled.lower(), f.path)
    return out


def _external(
    f: ImageFile, name: str, via: str | None, windows: WindowsSystem, mangled: str | None = None
) -> Finding:
    if via == "weak":
        return Finding(
            "info",
            "weak-library-missing",
            f"may use {name} (weak): not in the wheel; loads without it",
            f.path,
        )
    if via == "delay-load":
        return Finding(
            "info",
            "delay-load-missing",
            f"delay-loads {name}, which the user's system must provide when it is first used",
            f.path,
        )
    if f.pe is not None and via == "msvc-runtime":
        return Finding(
            "warning",
            "msvc-runtime-not-shipped",
            f"imports {name}, which neither Windows nor the interpreter installs "
            f"({windows.runtime_note(name)}): "
            + (
                "the import fails with 'DLL load failed' wherever Visual Studio is not installed"
                if windows.is_debug_runtime(name)
                else "without the Visual C++ Redistributable the import fails with 'DLL load "
                "failed'"
            ),
            f.path,
        )
    if via == "interpreter-rpath":
        return Finding(
            "warning",
            "external-library",
            f"needs {name}, which no run path of the wheel reaches (it and the files that "
            "load it have none): dyld finds it only through the Python executable's own "
            "run paths, as in a conda environment's lib/, so the user's Mac must provide it",
            f.path,
        )
    where = "the user's Mac" if f.macho is not None else "the user's Windows"
    shipped = (
        f": the wheel ships it only under the mangled name {mangled}, which the import "
        "does not name"
        if mangled
        else ""
    )
    return Finding(
        "warning",
        "external-library",
        f"needs {name}, which {where} must provide{shipped}",
        f.path,
    )


def _broken(f: ImageFile, name: str, path: str | None, via: str | None) -> Finding:
    if via == "unreached":
        return Finding(
            "error",
            "broken-reference",
            f"needs {name}, which the wheel does not have; every run path of the file and "
            "of the files that load it stays inside the wheel, so dyld cannot find it",
            f.path,
        )
    if via == "weak":
        return Finding(
            "info",
            "weak-library-missing",
            f"may use {name} (weak): no run path reaches it; loads without it",
            f.path,
        )
    if f.macho is not None and via == "absolute":
        why = "but loads it by an absolute path of the build machine"
    elif f.macho is not None:
        why = "but no @loader_path or run path reaches it"
    else:
        why = "but neither the module's directory nor a directory the package adds reaches it"
    return Finding(
        "error", "broken-reference", f"needs {name}; the wheel has it at {path} {why}", f.path
    )


def windows_tag_findings(
    images: list[ImageFile],
    platform: ImagePlatform,
    windows: WindowsSystem,
    unloaded: Collection[str] = (),
) -> list[Finding]:
    """Files of another machine than the tags': an error when an import loads them (an
    extension module, or a DLL one imports); ``unloaded`` ones (windows.unloaded_foreign)
    are an info, as Windows never loads them for the wheel's machine."""
    machines = {m for p in platform.filename_platforms if (m := windows.machine_of_tag(p))}
    if not machines:
        return []
    tag = ".".join(platform.filename_platforms)
    out = []
    for f in images:
        if f.pe is None or f.pe.machine in machines:
            continue
        if f.path in unloaded:
            out.append(
                Finding(
                    "info",
                    "foreign-architecture-file",
                    f"built for {f.pe.arch}; the wheel is tagged {tag}, but no import loads it "
                    "(not an extension module, imported by none of the wheel's modules): only "
                    "code that picks a file per architecture (ctypes) or runs it as a program "
                    "uses it; left out of the tag",
                    f.path,
                )
            )
        else:
            out.append(
                Finding(
                    "error",
                    "architecture-mismatch",
                    f"built for {f.pe.arch}; the wheel is tagged {tag}",
                    f.path,
                )
            )
    return out


def system_copy_findings(images: list[ImageFile], windows: WindowsSystem) -> list[Finding]:
    """A Windows system DLL shipped in the wheel: the system's own copy is loaded instead,
    or worse, the wheel's copy shadows it for the process (delvewheel never vendors them)."""
    return [
        Finding(
            "warning",
            "vendored-system-library",
            f"ships {posixpath.basename(f.path)}, a DLL of Windows itself; Windows loads its "
            "own copy (KnownDLLs) or this one shadows it for every module of the process",
            f.path,
        )
        for f in images
        if f.pe is not None
        and windows.classify(posixpath.basename(f.path)) in ("system", "api-set")
    ]


_PYTHON_DLL = re.compile(r"python3([0-9]+)(t?)(?:_d)?\.dll")
_CPYTHON_ABI = re.compile(r"cp3([0-9]+)([a-z]*)")  # cp37m, cp311, cp313t, cp38d


def _abi_python(abi: str) -> str | None:
    """The ``python3XY[t].dll`` an ABI tag's modules import, as ``XY`` or ``XYt``."""
    match = _CPYTHON_ABI.fullmatch(abi)
    return None if match is None else match.group(1) + ("t" if "t" in match.group(2) else "")


def python_dll_findings(
    images: list[ImageFile], python_tags: Sequence[tuple[str, str]]
) -> list[Finding]:
    """A module importing ``python3XY.dll`` loads under Python 3.XY alone: every other
    version the tags promise fails with 'DLL load failed'.  ``python3.dll`` (the stable
    ABI's forwarder) is in every CPython 3; PyPy's tags are not judged."""
    if not python_tags or any(not i.startswith(("cp", "py")) for i, _ in python_tags):
        return []
    promised = {v for _, abi in python_tags if (v := _abi_python(abi))}
    other = sorted({abi for _, abi in python_tags if not _abi_python(abi)})
    out = []
    for f in images:
        for dll in f.pe.imports if f.pe is not None else ():
            match = _PYTHON_DLL.fullmatch(dll.lower())
            wanted = match.group(1) + match.group(2) if match else None
            if wanted is None or (wanted in promised and not other):
                continue
            tags = ", ".join(sorted({f"{i}-{a}" for i, a in python_tags}))
            out.append(
                Finding(
                    "error",
                    "python-dll-mismatch",
                    f"imports {dll}, so it loads only under Python 3.{wanted.rstrip('t')}"
                    f"{' (free-threaded)' if wanted.endswith('t') else ''}; the wheel is "
                    f"tagged {tags}"
                    + (" (an abi3 module imports python3.dll)" if "abi3" in other else ""),
                    f.path,
                )
            )
    return out
