"""Reports over the catalog: duplicates, builds and versions of a library, top families.

Every query takes the :class:`~truewheel.catalog.store.Selection` it reports on (the
units named on this scan's command line), so one catalog can serve many corpora.
Duplicates are grouped by the central directory's size and CRC-32 first (an
index lookup) and confirmed by sha256; installed files, which have no CRC, are
grouped by size and sha256.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from truewheel.catalog.store import Selection

__all__ = [
    "BuildGroup",
    "Copy",
    "DuplicateGroup",
    "Failure",
    "FamilyTotal",
    "Summary",
    "VersionSpread",
    "build_groups",
    "duplicate_groups",
    "failures",
    "family_totals",
    "summary",
    "version_spreads",
]

SELECTED_UNITS = "(SELECT value FROM json_each(:selection))"
"""The selection's unit ids, for ``IN``; the statement binds ``Selection.param``."""

_SELECTED = f"""
    SELECT f.*, u.project, u.version AS project_version, u.path AS unit_path, u.kind AS unit_kind
    FROM native_files f JOIN units u ON u.id = f.unit_id WHERE f.unit_id IN {SELECTED_UNITS}
"""


@dataclass(frozen=True, slots=True)
class Copy:
    """One native file in one unit."""

    project: str
    version: str
    unit: str
    path: str
    size: int
    compressed_size: int | None
    sha256: str
    toolchain: str | None
    library_version: str | None
    soname: str | None
    format: str  # "elf", "macho" or "pe"
    architecture: str  # the platform-tag architecture; a fat Mach-O's slices joined by "+"


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    sha256: str
    size: int
    family: str | None
    copies: tuple[Copy, ...]
    wasted_bytes: int  # unpacked: every copy but one
    wasted_compressed_bytes: int  # compressed: every copy but the smallest

    @property
    def projects(self) -> list[str]:
        return sorted({c.project for c in self.copies})


@dataclass(frozen=True, slots=True)
class BuildGroup:
    """One library at one version for one format and architecture, present as more
    than one distinct build.  Copies for other platforms are never one build: libpng
    1.6.37 for macOS arm64 and for Windows amd64 are two groups, not two builds."""

    family: str
    name: str
    library: str
    library_version: str
    format: str
    architecture: str
    builds: tuple[tuple[str, tuple[Copy, ...]], ...]  # (sha256, copies) per build

    @property
    def projects(self) -> list[str]:
        return sorted({c.project for _, copies in self.builds for c in copies})


@dataclass(frozen=True, slots=True)
class VersionSpread:
    family: str
    name: str
    versions: tuple[tuple[str, tuple[str, ...]], ...]  # (version, projects)


@dataclass(frozen=True, slots=True)
class FamilyTotal:
    family: str
    name: str
    category: str | None
    copies: int
    builds: int
    projects: tuple[str, ...]
    total_bytes: int
    unique_bytes: int


@dataclass(frozen=True, slots=True)
class Failure:
    path: str
    error: str


@dataclass(frozen=True, slots=True)
class Summary:
    units: int
    wheels: int
    installed: int
    failed: int
    with_native: int
    native_files: int
    native_bytes: int
    unique_native_bytes: int
    duplicate_groups: int
    wasted_bytes: int
    wasted_compressed_bytes: int
    projects: int
    total_bytes: int
    compressed_bytes: int
    families: dict[str, int] = field(default_factory=dict)


def _copy(row: sqlite3.Row) -> Copy:
    return Copy(
        project=row["project"] or "?",
        version=row["project_version"] or "?",
        unit=row["unit_path"],
        path=row["path"],
        size=row["size"],
        compressed_size=row["compressed_size"],
        sha256=row["sha256"],
        toolchain=row["toolchain"],
        library_version=row["library_version"],
        soname=row["soname"],
        format=row["format"],
        architecture=row["architecture"],
    )


def _rows(db: sqlite3.Connection, sql: str, selection: Selection) -> list[sqlite3.Row]:
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql, selection.param).fetchall()
    finally:
        db.row_factory = None


def duplicate_groups(db: sqlite3.Connection, selection: Selection) -> list[DuplicateGroup]:
    """Byte-identical native files, most wasted bytes first."""
    rows = _rows(
        db,
        f"""
        WITH sel AS ({_SELECTED}),
        candidates AS (
            SELECT size, crc32 FROM sel GROUP BY size, crc32 HAVING COUNT(*) > 1
        )
        SELECT sel.* FROM sel JOIN candidates c
            ON c.size = sel.size AND c.crc32 IS sel.crc32
        ORDER BY sel.sha256, sel.project, sel.project_version, sel.unit_path, sel.path
        """,
        selection,
    )
    by_content: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for row in rows:
        by_content[row["sha256"]].append(row)
    groups = []
    for sha256, members in by_content.items():
        if len(members) < 2:
            continue
        copies = tuple(_copy(r) for r in members)
        size = members[0]["size"]
        compressed = [c.compressed_size for c in copies if c.compressed_size is not None]
        wasted_compressed = sum(compressed) - min(compressed) if len(compressed) > 1 else 0
        family = next((r["family"] for r in members if r["family"]), None)
        groups.append(
            DuplicateGroup(
                sha256, size, family, copies, size * (len(copies) - 1), wasted_compressed
            )
        )
    groups.sort(key=lambda g: (-g.wasted_bytes, g.sha256))
    return groups


def build_groups(db: sqlite3.Connection, selection: Selection) -> list[BuildGroup]:
    """One third-party library at one known version in more than one distinct build
    for one format and architecture.

    The identity is the family, the library's own name (``libavcodec`` and
    ``libavformat`` are both FFmpeg, but not builds of one another), the version and
    the platform the copy loads on (format, architecture): the same library on
    several platforms is :func:`family_totals`' and :func:`version_spreads`' to show.
    Groups that span the most projects come first.
    """
    rows = _rows(
        db,
        f"""
        WITH sel AS ({_SELECTED}
            AND f.family IS NOT NULL AND f.first_party = 0 AND f.library_version IS NOT NULL)
        SELECT * FROM sel WHERE (family, library, library_version, format, architecture) IN (
            SELECT family, library, library_version, format, architecture FROM sel
            GROUP BY family, library, library_version, format, architecture
            HAVING COUNT(DISTINCT sha256) > 1
        )
        ORDER BY family, library, library_version, format, architecture, sha256, project,
            project_version, unit_path, path
        """,
        selection,
    )
    grouped: dict[tuple[str, str, str, str, str], dict[str, list[Copy]]] = defaultdict(
        lambda: defaultdict(list)
    )
    names: dict[str, str] = {}
    for row in rows:
        key = (
            row["family"],
            row["library"],
            row["library_version"],
            row["format"],
            row["architecture"],
        )
        grouped[key][row["sha256"]].append(_copy(row))
        names[row["family"]] = row["family_name"] or row["family"]
    result = [
        BuildGroup(
            family,
            names[family],
            library,
            version,
            fmt,
            arch,
            tuple((sha, tuple(copies)) for sha, copies in builds.items()),
        )
        for (family, library, version, fmt, arch), builds in grouped.items()
    ]
    result.sort(key=lambda g: (-len(g.projects), -len(g.builds), g.family, g.library, g.format))
    return result


def version_spreads(db: sqlite3.Connection, selection: Selection) -> list[VersionSpread]:
    """Third-party libraries present at more than one known version."""
    rows = _rows(
        db,
        f"""
        WITH sel AS ({_SELECTED}
            AND f.family IS NOT NULL AND f.first_party = 0 AND f.library_version IS NOT NULL)
        SELECT family, family_name, library_version, project FROM sel WHERE family IN (
            SELECT family FROM sel GROUP BY family HAVING COUNT(DISTINCT library_version) > 1
        )
        GROUP BY family, library_version, project
        ORDER BY family, library_version, project
        """,
        selection,
    )
    spreads: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    names: dict[str, str] = {}
    for row in rows:
        spreads[row["family"]][row["library_version"]].append(row["project"] or "?")
        names[row["family"]] = row["family_name"] or row["family"]
    result = [
        VersionSpread(
            family,
            names[family],
            tuple(
                (v, tuple(projects))
                for v, projects in sorted(versions.items(), key=lambda kv: _version_key(kv[0]))
            ),
        )
        for family, versions in spreads.items()
    ]
    result.sort(key=lambda s: (-len(s.versions), s.family))
    return result


def family_totals(db: sqlite3.Connection, selection: Selection) -> list[FamilyTotal]:
    """Every third-party library family by total bytes across the selection."""
    rows = _rows(
        db,
        f"""
        WITH sel AS ({_SELECTED} AND f.family IS NOT NULL AND f.first_party = 0)
        SELECT family, MAX(family_name) AS name, MAX(category) AS category,
               COUNT(*) AS copies, COUNT(DISTINCT sha256) AS builds,
               GROUP_CONCAT(DISTINCT project) AS projects, SUM(size) AS total
        FROM sel GROUP BY family
        """,
        selection,
    )
    unique = dict(
        db.execute(
            f"""
            SELECT family, SUM(size) FROM (
                SELECT DISTINCT family, sha256, size FROM ({_SELECTED})
                WHERE family IS NOT NULL AND first_party = 0
            ) GROUP BY family
            """,
            selection.param,
        ).fetchall()
    )
    result = [
        FamilyTotal(
            family=row["family"],
            name=row["name"] or row["family"],
            category=row["category"],
            copies=row["copies"],
            builds=row["builds"],
            projects=tuple(sorted(set((row["projects"] or "").split(",")) - {""})),
            total_bytes=row["total"] or 0,
            unique_bytes=unique.get(row["family"], 0) or 0,
        )
        for row in rows
    ]
    result.sort(key=lambda t: (-t.total_bytes, t.family))
    return result


def failures(db: sqlite3.Connection, selection: Selection) -> list[Failure]:
    rows = db.execute(
        f"SELECT u.path, u.error FROM units u WHERE u.id IN {SELECTED_UNITS} "
        "AND u.error IS NOT NULL ORDER BY u.path",
        selection.param,
    ).fetchall()
    return [Failure(path, error) for path, error in rows]


def summary(
    db: sqlite3.Connection, selection: Selection, duplicates: list[DuplicateGroup]
) -> Summary:
    units = db.execute(
        f"""
        SELECT COUNT(*), SUM(kind = 'wheel'), SUM(kind = 'installed'), SUM(error IS NOT NULL),
               COUNT(DISTINCT project), SUM(total_bytes), SUM(compressed_bytes)
        FROM units u WHERE u.id IN {SELECTED_UNITS}
        """,
        selection.param,
    ).fetchone()
    files = db.execute(
        f"SELECT COUNT(*), SUM(size), COUNT(DISTINCT unit_id) FROM ({_SELECTED})", selection.param
    ).fetchone()
    unique = db.execute(
        f"SELECT SUM(size) FROM (SELECT DISTINCT sha256, size FROM ({_SELECTED}))",
        selection.param,
    ).fetchone()[0]
    return Summary(
        units=units[0] or 0,
        wheels=units[1] or 0,
        installed=units[2] or 0,
        failed=units[3] or 0,
        with_native=files[2] or 0,
        native_files=files[0] or 0,
        native_bytes=files[1] or 0,
        unique_native_bytes=unique or 0,
        duplicate_groups=len(duplicates),
        wasted_bytes=sum(g.wasted_bytes for g in duplicates),
        wasted_compressed_bytes=sum(g.wasted_compressed_bytes for g in duplicates),
        projects=units[4] or 0,
        total_bytes=units[5] or 0,
        compressed_bytes=units[6] or 0,
    )


def _version_key(version: str) -> tuple[tuple[int, object], ...]:
    """Numeric parts compare as numbers, the rest as text; "1.10" sorts after "1.9"."""
    parts: list[tuple[int, object]] = []
    for piece in version.replace("-", ".").replace("+", ".").split("."):
        parts.append((0, int(piece)) if piece.isascii() and piece.isdigit() else (1, piece))
    return tuple(parts)
