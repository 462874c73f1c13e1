"""Build paths in Mach-O and PE files: the strings a build left, and the PDB a linker named.

On macOS the leak is in strings (``/Users/runner/work/...`` in assertion
messages, and the object-file paths of the debug map, N_OSO, in the symbol
string table); the search over every byte finds them (:mod:`truewheel.elf.buildpaths`)
and, without the section table of a Mach-O slice, a hit counts with the same
shape rules that apply to read-only data.  On Windows the leak is the
CodeView record of the debug directory: the absolute path of the PDB file on
the machine that linked the image (``D:\\a\\proj\\build\\...``), and the same
drive-letter paths in read-only data (``__FILE__`` in assertion messages:
``C:\\Users\\runneradmin\\AppData\\Local\\Temp\\tmp453k4de2\\src\\H5.c``), which the POSIX
search cannot see.  Paths under the places a program looks at run time
(``C:\\Program Files``, ``C:\\Windows``, ``C:\\ProgramData``: OpenSSL's default
``OPENSSLDIR``) are configuration, not build paths, and are left out.
"""

from __future__ import annotations

import re

from truewheel.elf.buildpaths import BuildPath, grouped_build_paths
from truewheel.elf.search import Hit, StreamSearch
from truewheel.pe import PEFile

__all__ = ["image_build_paths", "windows_path_search"]

_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")
# As elf/buildpaths.py's: pip's and Python's temp dirs, meson-python's and cibuildwheel's build
# dirs; ``.tmp`` + 6 is the Rust ``tempfile`` crate's (maturin, cargo).
_WINDOWS_RANDOM = re.compile(
    r"^(?:pip-(?:req-build|install|build-env|wheel|ephem-wheel-cache|modern-metadata)-[a-z0-9_]{6,}"
    r"|tmp[a-z0-9_]{6,}|build-env-[a-z0-9_]{6,}|[0-9a-f]{16,}|\.tmp[A-Za-z0-9]{6}"
    r"|\.mesonpy-[a-z0-9_]{8}|build-via-sdist-[a-z0-9_]{8})$",
    re.I,
)
# From the colon on, so that the search skips ahead at C speed to each ':' (the look-behind
# comes after it for that reason); the drive letter is the byte before, and the byte before
# it no word character (``qrc:/qt-project.org/...`` is a Qt resource URL, not drive C).
# Backslashes may be doubled (a stringified macro keeps C's escapes); ``://`` is a URL.
_WINDOWS_PATH = re.compile(
    rb":(?<![A-Za-z0-9_][A-Za-z]:)(?:\\{1,2}|/(?!/))"
    rb"(?:[A-Za-z0-9._+@%~=$() -]+[\\/]{1,2})+[A-Za-z0-9._+@%~=$()-]*"
)
_DOUBLED = re.compile(r"(?<=[\\/])[\\/]")  # a separator doubled by a stringified macro
_SEPARATOR = re.compile(r"[\\/]")
_ESCAPES = frozenset({"n", "r", "t"})  # C:\n is a colon before an escaped newline
_RUN_TIME_ROOTS = frozenset({"program files", "program files (x86)", "programdata", "windows"})
_SOURCE_SUFFIX = re.compile(r"\.(?:c|cc|cpp|cxx|h|hh|hpp|hxx|pyx|pxd|pxi|f|f90|cu|rs|s)$", re.I)
_MAX_HITS = 50_000
_MAX_HITS_PER_SECTION = 2000


def windows_path_search() -> StreamSearch:
    """A search for drive-letter paths in every byte of a PE file as it streams past."""
    return StreamSearch(_WINDOWS_PATH, max_hits=_MAX_HITS)


def image_build_paths(
    size: int, pe: PEFile | None, hits: list[Hit], windows_hits: list[Hit] | None = None
) -> list[BuildPath]:
    """Build paths of a Mach-O (``pe`` None) or PE file from the searches' hits and its PDB."""
    if pe is None:
        return grouped_build_paths(hits, [(0, size, "strings")])
    spans = sorted((s.offset, s.offset + s.size, s.name or "?") for s in pe.sections if s.size)
    windows = windows_hits or []
    # ``C:/Users/...`` is the POSIX search's ``/Users/...`` as well: kept with its drive letter
    drives = {h.offset + 1 for h in windows if _is_letter(h.before)}
    posix = [h for h in hits if h.offset not in drives]
    pdb = {_normal(p) for p in pe.pdb_paths}
    return grouped_build_paths(posix, spans) + _windows_paths(windows, spans, pdb) + _pdb_paths(pe)


def _is_letter(byte: int) -> bool:
    return 65 <= byte <= 90 or 97 <= byte <= 122


def _pdb_paths(pe: PEFile) -> list[BuildPath]:
    out: dict[str, BuildPath] = {}
    for path in pe.pdb_paths:
        if not _WINDOWS_ABSOLUTE.match(path):
            continue
        root, randomized = _windows_root(path)
        if root not in out:
            out[root] = BuildPath(root, "CodeView PDB", path, randomized, 1)
    return list(out.values())


def _windows_root(path: str) -> tuple[str, bool]:
    """Cut a path after its first randomized component, or after three levels; its
    separators stay as the file writes them (``C:/Users/...`` from Cython, CMake)."""
    parts = _SEPARATOR.split(path)
    cut = next((i for i, p in enumerate(parts) if _WINDOWS_RANDOM.match(p)), None)
    keep = cut + 1 if cut is not None else min(len(parts) - 1, 4)
    return path[: sum(len(p) + 1 for p in parts[:keep]) - 1], cut is not None


def _windows_paths(
    hits: list[Hit], spans: list[tuple[int, int, str]], pdb: set[str]
) -> list[BuildPath]:
    """Group drive-letter paths found in the image's sections by root and section."""
    counts: dict[tuple[str, str], int] = {}
    examples: dict[tuple[str, str], tuple[str, bool]] = {}
    per_section: dict[str, int] = {}
    for hit in hits:
        span = next((sp for sp in spans if sp[0] <= hit.offset < sp[1]), None)
        if span is None or not _is_letter(hit.before):
            continue
        per_section[span[2]] = per_section.get(span[2], 0) + 1
        if per_section[span[2]] > _MAX_HITS_PER_SECTION:
            continue
        raw = hit.text[: span[1] - hit.offset].decode("ascii", "replace")
        path = _DOUBLED.sub("", chr(hit.before) + raw).rstrip(". -")
        if _normal(path) in pdb or not _looks_like_build_path(path):
            continue
        root, randomized = _windows_root(path)
        key = (root, span[2])
        counts[key] = counts.get(key, 0) + 1
        examples.setdefault(key, (path, randomized))
    return [
        BuildPath(root, section, *examples[(root, section)], counts[(root, section)])
        for root, section in sorted(counts)
    ]


def _normal(path: str) -> str:
    """The path with backslashes alone, for comparing with the PDB path."""
    return _SEPARATOR.sub(r"\\", _DOUBLED.sub("", path))


def _looks_like_build_path(path: str) -> bool:
    """A build path names a source file, a temp dir, or lies deep; not a run-time location."""
    parts = _SEPARATOR.split(path)
    if len(parts) < 3 or parts[1].lower() in _RUN_TIME_ROOTS or "%" in path:
        return False
    if parts[1] in _ESCAPES or any(p[:1].isspace() or "  " in p for p in parts):
        return False  # text with escapes: "a Bert model:\\n\\n    - a SEP token"
    if any(_WINDOWS_RANDOM.match(p) for p in parts):
        return True
    return len(parts) >= 5 or bool(_SOURCE_SUFFIX.search(path))
