"""Find absolute build paths that a compiler or a program baked into a binary.

A path such as ``/tmp/pip-req-build-x1y2z3/src/foo.c`` in ``DW_AT_comp_dir`` or
in an assertion message makes two builds of the same source differ and tells
the world where and how a binary was built.  We search the sections that hold
such strings (DWARF string tables, line programs, read-only data, the
toolchain comment): every byte is searched as the file streams past, and a hit
counts only when it lies in one of those sections, so code bytes cannot produce
false hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from truewheel.elf.reader import ElfFile
from truewheel.elf.search import Hit, StreamSearch

__all__ = ["BuildPath", "build_paths", "grouped_build_paths", "path_search", "root_of"]

SCANNED_SECTIONS = (
    ".debug_str",
    ".debug_line_str",
    ".debug_line",
    ".debug_info",
    ".rodata",
    ".comment",
    ".dynstr",
)

# Roots where builders put sources and temporary trees: pip and build isolation
# (/tmp, /var/tmp), CI runners (/__w GitHub Actions, /builds GitLab, /project
# cibuildwheel, /io manylinux docs), developer homes, distro and conda builders.
_ROOTS = (
    r"tmp|var/tmp|private/var/folders|build|builds|home|Users|root|__w|project|io|workspace"
    r"|github/workspace|opt/conda/conda-bld|croot|usr/src|var/lib/jenkins|jenkins|buildbot"
)
# No look-behind: a pattern that starts with a literal lets re skip ahead at C speed (25x
# faster on torch's .rodata); the byte before a match is checked in Python instead.
_PATH = re.compile(rb"/(?:" + _ROOTS.encode() + rb")/[A-Za-z0-9._+@%~=-][A-Za-z0-9._+@%~=/-]*")
_PATH_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+@%~=/-")
# Components that differ on every build: pip's temp dirs, mkdtemp names, meson-python's
# and cibuildwheel's build dirs, the Rust tempfile crate's, Homebrew's <formula>-<date>-<pid>-<6>.
_RANDOM = re.compile(
    r"pip-(?:req-build|install|build-env|wheel|ephem-wheel-cache|modern-metadata)-[a-z0-9_]{6,}"
    r"|^tmp[a-z0-9_]{6,}$|^build-env-[a-z0-9_]{6,}$|^[0-9a-f]{16,}$"
    r"|^\.mesonpy-[a-z0-9_]{8}$|^build-via-sdist-[a-z0-9_]{8}$|^\.tmp[A-Za-z0-9]{6}$"
    r"|^[A-Za-z0-9+._-]+-20[0-9]{6}-[0-9]+-[a-z0-9]{6}$"
)
_MAX_HITS_PER_SECTION = 2000
# Hits anywhere in a file, before they are sorted into sections: bounds memory.
_MAX_HITS = 50_000


@dataclass(frozen=True, slots=True)
class BuildPath:
    """One build root found in a binary and where it was found."""

    root: str
    section: str
    example: str
    randomized: bool
    count: int


def path_search() -> StreamSearch:
    """A search for build paths in every byte of a file as it streams past."""
    return StreamSearch(_PATH, max_hits=_MAX_HITS)


def build_paths(elf: ElfFile, hits: list[Hit]) -> list[BuildPath]:
    """Group the hits that lie in the sections builders' strings go to, by root and section."""
    spans = sorted(
        (s.offset, s.offset + s.size, name)
        for name in SCANNED_SECTIONS
        if (s := elf.sections.get(name)) is not None and s.type != 8
    )
    return grouped_build_paths(hits, spans)


def grouped_build_paths(hits: list[Hit], spans: list[tuple[int, int, str]]) -> list[BuildPath]:
    """Group the hits inside ``spans`` (start, end, section name; sorted) by root and section."""
    counts: dict[tuple[str, str], int] = {}
    examples: dict[tuple[str, str], tuple[str, bool]] = {}
    per_section: dict[str, int] = {}
    for hit in hits:
        span = next((sp for sp in spans if sp[0] <= hit.offset < sp[1]), None)
        if span is None:
            continue
        lo, hi, name = span
        per_section[name] = per_section.get(name, 0) + 1
        if per_section[name] > _MAX_HITS_PER_SECTION:
            continue
        if hit.offset > lo and hit.before in _PATH_BYTES:
            continue  # the middle of a longer path, e.g. /usr/local/tmp/...
        text = hit.text[: hi - hit.offset]
        path = _first_path(text.decode("utf-8", "replace")).rstrip(".-")
        if not _looks_like_build_path(path, name):
            continue
        root, randomized = root_of(path)
        key = (root, name)
        counts[key] = counts.get(key, 0) + 1
        examples.setdefault(key, (path, randomized))
    return [
        BuildPath(root, section, examples[key][0], examples[key][1], counts[key])
        for key in sorted(counts)
        for root, section in [key]
    ]


_SOURCE_SUFFIX = re.compile(r"\.(?:c|cc|cpp|cxx|h|hh|hpp|hxx|pyx|pxd|pxi|f|f90|f95|cu|cuh|rs|S|s)$")


# Strings without a terminating NUL (Rust's) run together: ``.../mod.rs/private/tmp/...``.
_RUN_TOGETHER = re.compile(r"\.(?:c|cc|cpp|cxx|h|hh|hpp|hxx|pyx|pxd|f90|cu|rs)(?=/)")


# A crate's source under Cargo's home runs into the next string with no ``/`` between:
# ``.../faer-0.21.9/src/sparse/linalg/cholesky.rsi8usizeIndexOverflow.../rustc/<commit>``.
_CARGO_SOURCE = re.compile(r"/\.cargo/(?:registry|git)/.*?\.rs")


def _first_path(text: str) -> str:
    """The first of several paths run together, cut after its source file's name."""
    cargo = _CARGO_SOURCE.search(text)
    if cargo is not None:
        return text[: cargo.end()]
    match = _RUN_TOGETHER.search(text)
    return text[: match.end()] if match else text


def _looks_like_build_path(path: str, section: str) -> bool:
    """Skip run-time templates such as ``/tmp/perf-%d.map`` found in read-only data."""
    if "%" in path or "XXXXXX" in path:
        return False
    if section.startswith(".debug") or section == ".comment":
        return True
    if root_of(path)[1]:
        return True
    return path.count("/") >= 4 or bool(_SOURCE_SUFFIX.search(path))


def root_of(path: str) -> tuple[str, bool]:
    """Cut a path after its first randomized component, or after a few levels."""
    parts = path.split("/")
    for i, part in enumerate(parts[2:], start=2):
        if _RANDOM.search(part):
            return "/".join(parts[: i + 1]), True
    depth = 4 if parts[1] in ("home", "Users", "__w", "var", "opt", "private", "github") else 3
    return "/".join(parts[:depth]), False
