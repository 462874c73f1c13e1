"""Extension modules in a binary format the wheel's platform cannot load.

Each platform's Python imports extension modules of one format: ELF on Linux and
Android, Mach-O on macOS and iOS, PE on Windows.  A wheel tagged for one
platform holding a module of another format (a ``.pyd`` in a macOS wheel, a
darwin ``.so`` in a Windows wheel, a Linux ``.so`` retagged for macOS) installs,
and its import fails every time.  The libraries such a module needs by name
(DT_NEEDED, install names, PE imports) and the wheel ships in that format are
named too: nothing will ever load them.

Other foreign files are left alone: sounddevice's Windows wheel ships macOS's
``libportaudio.dylib`` for ctypes on another platform's install, setuptools ships
Windows launchers in every wheel; no module needs them, and no import fails.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from truewheel.analysis.report import Finding
from truewheel.analysis.scan import ScannedMember

__all__ = ["expected_format", "format_findings"]

#: platform tag prefix -> (the system's name, the format its Python imports)
_SYSTEMS = (
    ("macosx_", "macOS", "macho"),
    ("ios_", "iOS", "macho"),
    ("win", "Windows", "pe"),
    ("manylinux", "Linux", "elf"),
    ("musllinux", "Linux", "elf"),
    ("linux_", "Linux", "elf"),
    ("android_", "Android", "elf"),
)
_FORMAT_NAMES = {"macho": "macOS Mach-O", "pe": "Windows PE", "elf": "Linux ELF"}
# An importable extension module's file name: name.pyd, name[.tag].so
_MODULE = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.(?:cpython-[^./]+|abi3|pypy[^./]*|cp[0-9]+-[^./]+))?"
    r"\.(?:so|pyd)",
    re.IGNORECASE,
)
_MAX_DEPTH = 32


def expected_format(platforms: Sequence[str]) -> tuple[str, set[str]] | None:
    """The system the wheel's platform tags name and the formats its Python imports;
    None for ``any`` or tags of no known system."""
    systems = [(name, fmt) for p in platforms for pre, name, fmt in _SYSTEMS if p.startswith(pre)]
    if not systems:
        return None
    return " or ".join(sorted({name for name, _ in systems})), {fmt for _, fmt in systems}


def format_findings(platforms: Sequence[str], scanned: Sequence[ScannedMember]) -> list[Finding]:
    """``format-mismatch``: each extension module of a format the tags' system cannot
    import, and the wheel's libraries of that format it needs (transitively)."""
    expected = expected_format(platforms)
    if expected is None:
        return []
    system, formats = expected
    foreign = {m.name: m for m in scanned if (f := _format(m)) and f not in formats}
    modules = sorted(n for n, m in foreign.items() if _is_module(m))
    out = []
    for name in modules:
        fmt = _format(foreign[name])
        out.append(
            Finding(
                "error",
                "format-mismatch",
                f"a {_FORMAT_NAMES[fmt]} extension module in a {system} wheel cannot be "
                f"imported: Python on {system} imports only {_wanted(formats)} modules",
                name,
            )
        )
    for library, module in sorted(_needed(modules, foreign).items()):
        out.append(
            Finding(
                "error",
                "format-mismatch",
                f"a {_FORMAT_NAMES[_format(foreign[library])]} library in a {system} wheel, "
                f"needed by {module}: {system} cannot load it",
                library,
            )
        )
    return out


def _format(m: ScannedMember) -> str:
    return "elf" if m.elf else "macho" if m.macho else "pe" if m.pe else ""


def _wanted(formats: set[str]) -> str:
    return " or ".join(sorted(_FORMAT_NAMES[f].split()[1] for f in formats))


def _is_module(m: ScannedMember) -> bool:
    """Named as Python imports a module, and a shared object of its format."""
    if not _MODULE.fullmatch(posixpath.basename(m.name)):
        return False
    if m.elf is not None:
        return m.elf.type == "DYN"
    if m.macho is not None:
        return all(s.filetype in ("bundle", "dylib") for s in m.macho.slices)
    return m.pe is not None and m.pe.is_dll


def _references(m: ScannedMember) -> list[str]:
    """The base names of the libraries a file needs, as its format writes them."""
    if m.elf is not None:
        return [posixpath.basename(n) for n in m.elf.needed]
    if m.macho is not None:
        return [posixpath.basename(d.name) for s in m.macho.slices for d in s.dylibs]
    return [n.lower() for n in m.pe.imports] if m.pe is not None else []


def _needed(modules: list[str], foreign: dict[str, ScannedMember]) -> dict[str, str]:
    """Foreign members the modules need, directly or through each other: library ->
    the module whose chain reaches it (the first in name order)."""
    by_base: dict[tuple[str, str], str] = {}
    for name, m in sorted(foreign.items()):
        base = posixpath.basename(name)
        by_base.setdefault((_format(m), base.lower() if m.pe else base), name)
    found: dict[str, str] = {}
    for module in modules:
        frontier, depth = [module], 0
        while frontier and depth < _MAX_DEPTH:
            depth += 1
            step = []
            for name in frontier:
                m = foreign[name]
                for ref in _references(m):
                    target = by_base.get((_format(m), ref))
                    if target and target not in modules and target not in found:
                        found[target] = module
                        step.append(target)
            frontier = step
    return found
