"""Build paths in Mach-O and PE files: the strings a build left, and the PDB a linker named.

On macOS the leak is in strings (``/Users/runner/work/...`` in assertion
messages, and the object-file paths of the debug map, N_OSO, in the symbol
string table); the search over every byte finds them (:mod:`truewheel.elf.buildpaths`)
and, without the section table of a Mach-O slice, a hit counts with the same
shape rules that apply to read-only data.  On Windows the leak is the
CodeView record of the debug directory: the absolute path of the PDB file on
the machine that linked the image (``D:\\a\\proj\\build\\...``), which the
POSIX search cannot see.
"""

from __future__ import annotations

import re

from truewheel.elf.buildpaths import BuildPath, grouped_build_paths
from truewheel.elf.search import Hit
from truewheel.pe import PEFile

__all__ = ["image_build_paths"]

_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:\\|\\\\)")
_WINDOWS_RANDOM = re.compile(
    r"^(?:pip-(?:req-build|install|build-env|wheel)-[a-z0-9_]{6,}|tmp[a-z0-9_]{6,})$", re.I
)


def image_build_paths(size: int, pe: PEFile | None, hits: list[Hit]) -> list[BuildPath]:
    """Build paths of a Mach-O (``pe`` None) or PE file from the search's hits and its PDB."""
    if pe is None:
        return grouped_build_paths(hits, [(0, size, "strings")])
    spans = sorted((s.offset, s.offset + s.size, s.name or "?") for s in pe.sections if s.size)
    return grouped_build_paths(hits, spans) + _pdb_paths(pe)


def _pdb_paths(pe: PEFile) -> list[BuildPath]:
    out: dict[str, BuildPath] = {}
    for path in pe.pdb_paths:
        if not _WINDOWS_ABSOLUTE.match(path):
            continue
        parts = path.split("\\")
        cut = next((i for i, p in enumerate(parts) if _WINDOWS_RANDOM.match(p)), None)
        randomized = cut is not None
        root = "\\".join(parts[: cut + 1 if cut is not None else min(len(parts) - 1, 4)])
        if root not in out:
            out[root] = BuildPath(root, "CodeView PDB", path, randomized, 1)
    return list(out.values())
