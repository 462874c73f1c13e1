"""The Mach-O and PE files of a wheel: which platform judges them, their dependencies,
identity and the tag they allow.

A wheel is judged as a macOS wheel when a file-name tag says macOS (as a Windows
wheel when one says Windows), or, untagged, when it carries extension modules
of that format.  Otherwise its Mach-O and PE files are listed and not judged:
setuptools and pip ship Windows launchers (``cli-64.exe``) in pure wheels on
purpose, and a Linux wheel's stray DLL is data to the Linux loader.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from truewheel.analysis.identity import identify_image
from truewheel.analysis.macos import content_architecture, needed_version, resolve_macos, tag_for
from truewheel.analysis.report import ImageFile, ImagePlatform
from truewheel.analysis.resolve import EXTERNAL, installed_path
from truewheel.analysis.sboms import Declarations
from truewheel.analysis.scan import ScannedMember
from truewheel.analysis.split import (
    CHECKED,
    NAMED,
    UNDECLARED,
    CompanionWheel,
    RequirementLocator,
)
from truewheel.analysis.windows import (
    dll_managing_dirs,
    pth_startup,
    resolve_windows,
    unimported,
    unloaded_foreign,
    wheel_machines,
)
from truewheel.policy.libraries import LibraryTable
from truewheel.policy.systems import MacSystem, WindowsSystem
from truewheel.wheel import WheelArchive

__all__ = ["image_files", "image_platform", "image_system"]

_LOADER_CODE = re.compile(r"[^/]+/(?:__init__|_distributor_init)\.py")
_LOADER_CODE_LIMIT = 1 << 20
_MAX_LOADER_MODULES = 64  # modules followed from the entry points
_MAC_MODULE = re.compile(r".*\.(?:cpython-[0-9]+-darwin|abi3)\.so")


def image_system(wheel: WheelArchive, scanned: list[ScannedMember]) -> str | None:
    """``macos``, ``windows`` or None: which platform's rules judge the wheel's images."""
    platforms = wheel.name.platforms
    if any(p.startswith("macosx_") for p in platforms):
        return "macos"
    if any(p.startswith("win") for p in platforms):
        return "windows"
    if any(p != "any" for p in platforms):
        return None
    if any(m.macho is not None and _MAC_MODULE.fullmatch(m.name) for m in scanned):
        return "macos"
    if any(m.pe is not None and m.name.lower().endswith(".pyd") for m in scanned):
        return "windows"
    return None


def image_files(
    wheel: WheelArchive,
    scanned: list[ScannedMember],
    system: str | None,
    mac: MacSystem,
    windows: WindowsSystem,
    libraries: LibraryTable,
    declared: Declarations,
    companions: Mapping[str, Sequence[CompanionWheel]] | None = None,
) -> list[ImageFile]:
    """Every Mach-O and PE member with its dependencies resolved by ``system``'s rules
    (none when the wheel is not judged as a macOS or Windows wheel) and its identity.

    ``companions`` are other wheels given with this one (canonical name -> wheels, any
    operating system): a required distribution's wheel for the same one proves what it
    installs (analysis/split.py)."""
    machos = {m.name: m.macho for m in scanned if m.macho is not None}
    pes = {m.name: m.pe for m in scanned if m.pe is not None}
    deps = {}
    requires = wheel.metadata.requires_dist
    requirements = RequirementLocator.for_system(
        requires, companions or {}, system, wheel.metadata.name, libraries
    )
    if system == "macos":
        deps = resolve_macos(machos, mac, requirements)
    elif system == "windows":
        names = [m.name for m in wheel.files]
        managed = dll_managing_dirs(names, _loader_code(wheel), _startup_code(wheel, names))
        tags = [(t.interpreter, t.abi, t.platform) for t in wheel.name.tags]
        deps = resolve_windows(pes, windows, managed, windows.beside_python(tags), requirements)
    out = []
    for m in scanned:
        if m.macho is None and m.pe is None:
            continue
        image = ImageFile(
            m.name, m.size, m.sha256, m.mode, m.macho, m.pe, deps.get(m.name, []),
            m.build_paths, None,
        )  # fmt: skip
        image.identity = identify_image(
            image, m.versions, libraries, wheel.metadata.name, declared.components.get(m.name)
        )
        out.append(image)
    return out


def image_platform(
    wheel: WheelArchive,
    images: list[ImageFile],
    system: str | None,
    mac: MacSystem,
    windows: WindowsSystem,
    provided: dict[str, str],
) -> ImagePlatform | None:
    judged = [f for f in images if (f.macho if system == "macos" else f.pe) is not None]
    if system is None or not judged:
        return None
    if system == "windows":  # files of another machine nothing loads do not bound the tag
        unloaded = unloaded_foreign(judged, wheel_machines(wheel.name.platforms, judged, windows))
        judged = [f for f in judged if f.path not in unloaded] or judged
    unused = unimported(judged)  # plugins: what they need is no need of the wheel's
    external = sorted(
        {
            d.name
            for f in judged
            if f.path not in unused
            for d in f.dependencies
            if d.status == EXTERNAL
            and d.via not in ("weak", "delay-load", NAMED, CHECKED, UNDECLARED)
            and posixpath.basename(d.name) not in provided
            and d.name not in provided
        }
    )
    minimum: str | None = None
    minimum_files: list[str] = []
    if system == "macos":
        machos = {f.path: f.macho for f in judged if f.macho is not None}
        arch = content_architecture(machos, mac)
        need = needed_version(machos, mac.tag_architectures(arch), mac) if arch else None
        if need is not None:
            minimum, minimum_files = ".".join(map(str, need[0])), need[1]
        computed = tag_for(need[0] if need else None, arch, mac) if arch else None
        architectures = [arch] if arch else []
    else:
        counts = Counter((f.pe.machine, f.pe.arch) for f in judged if f.pe is not None)
        architectures = sorted(arch for _, arch in counts)
        modules = Counter(
            f.pe.machine for f in judged if f.pe is not None and f.path.lower().endswith(".pyd")
        )  # the extension modules' machine is the one Python must run on
        machine = (modules or Counter(m for m, _ in counts.elements())).most_common(1)[0][0]
        computed = next((t for t, m in sorted(windows.tag_machines.items()) if m == machine), None)
    return ImagePlatform(
        system=system,
        computed_tag=computed,
        architectures=architectures,
        minimum=minimum,
        minimum_files=minimum_files,
        filename_platforms=wheel.name.platforms,
        wheel_platforms=wheel.wheel_info.platforms,
        external_libraries=external,
    )


def _loader_code(wheel: WheelArchive) -> dict[str, bytes]:
    """The package entry points that may carry a DLL loader (see windows.dll_managing_dirs),
    and the package's own modules they import, and those import, in turn: openvino's
    ``__init__`` calls ``package_utils._add_openvino_libs_to_search_path()``, which adds the
    DLL directory; google-crc32c's imports ``cext``, which imports ``__config__``, which
    adds ``extra-dll``."""
    small = {installed_path(m.name): m for m in wheel.files if m.file_size <= _LOADER_CODE_LIMIT}
    code = {
        m.name: wheel.read(m, limit=_LOADER_CODE_LIMIT)
        for path, m in small.items()
        if _LOADER_CODE.fullmatch(path)
    }
    pending = list(code.items())
    while pending and len(code) < _MAX_LOADER_MODULES:
        name, text = pending.pop()
        top = installed_path(name).split("/", 1)[0]
        for module in _submodules_imported(top, text):
            found = small.get(f"{top}/{module}.py") or small.get(f"{top}/{module}/__init__.py")
            if found is not None and found.name not in code:
                code[found.name] = wheel.read(found, limit=_LOADER_CODE_LIMIT)
                pending.append((found.name, code[found.name]))
    return code


def _submodules_imported(top: str, text: bytes) -> list[str]:
    """The direct submodules of package ``top`` that ``text`` imports (``from .x import``,
    ``from top.x import``, ``import top.x``, ``from top import x [as y], z``,
    ``from . import x``): a name imported from the package may be a submodule, and is
    looked for as one."""
    name = re.escape(top.encode())
    pattern = rb"^[ \t]*(?:from[ \t]+(?:\.|" + name + rb"\.)(\w+)[ \t]+import|import[ \t]+"
    pattern += name + rb"\.(\w+))"
    found = {(a or b).decode() for a, b in re.findall(pattern, text, flags=re.MULTILINE)}
    listed = rb"^[ \t]*from[ \t]+(?:\.|" + name + rb")[ \t]+import[ \t]+\(?([\w ,\t]+)"
    for names in re.findall(listed, text, flags=re.MULTILINE):
        for part in names.split(b","):
            words = part.split()
            if words:
                found.add(words[0].decode())
    return sorted(found)


def _startup_code(wheel: WheelArchive, names: list[str]) -> dict[str, bytes]:
    """The import lines of the install root's ``.pth`` files and the modules they import
    (see windows.pth_startup)."""
    small = {m.name: m for m in wheel.files if m.file_size <= _LOADER_CODE_LIMIT}
    pth = {
        name: wheel.read(m, limit=_LOADER_CODE_LIMIT)
        for name, m in small.items()
        if "/" not in (path := installed_path(name)) and path.endswith(".pth")
    }
    if not pth:
        return {}
    lines, modules = pth_startup(names, pth)
    return {
        **lines,
        **{n: wheel.read(small[n], limit=_LOADER_CODE_LIMIT) for n in modules if n in small},
    }
