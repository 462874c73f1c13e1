"""The SQLite catalog: one row per unit (wheel or installed distribution), one per native file.

Each unit is written in its own transaction (old rows deleted, new ones inserted,
committed together), so an interrupted scan leaves only complete units behind and
the next scan finishes the rest.  WAL mode keeps readers out of the writer's way.
The schema version is SQLite's ``user_version``; a catalog of another version is
rebuilt rather than misread, since it is a cache of facts that a scan recreates.

Rebuilding drops tables, so it must only ever happen to a truewheel catalog: a
catalog carries SQLite's ``application_id`` (:data:`APPLICATION_ID`), and a
database with another id, or without it but with tables truewheel never made,
is refused before anything is written to it.  A new or empty file becomes a
catalog; a catalog from before the id (its only tables truewheel's) gets it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from truewheel.catalog.model import NativeFacts, UnitFacts, UnitKey
from truewheel.errors import InputError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "Catalog", "Selection", "default_catalog_path"]

SCHEMA_VERSION = 3  # 3: native_files.format (elf, macho, pe)
APPLICATION_ID = 0x74776331  # "twc1"
_OUR_TABLES = frozenset({"units", "native_files"})

_SCHEMA = """
CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('wheel', 'installed')),
    path TEXT NOT NULL UNIQUE,
    environment TEXT,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    project TEXT,
    version TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    platform_tag TEXT,
    member_count INTEGER NOT NULL DEFAULT 0,
    total_bytes INTEGER NOT NULL DEFAULT 0,
    compressed_bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE TABLE native_files (
    unit_id INTEGER NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    compressed_size INTEGER,
    crc32 INTEGER,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL DEFAULT 'elf' CHECK (format IN ('elf', 'macho', 'pe')),
    elf_class INTEGER NOT NULL,
    machine INTEGER NOT NULL,
    architecture TEXT NOT NULL,
    soname TEXT,
    needed TEXT NOT NULL,
    rpath TEXT NOT NULL,
    runpath TEXT NOT NULL,
    glibc TEXT,
    versions TEXT NOT NULL,
    toolchain TEXT,
    family TEXT,
    library TEXT,
    family_name TEXT,
    category TEXT,
    library_version TEXT,
    evidence TEXT,
    first_party INTEGER NOT NULL,
    restricted INTEGER NOT NULL,
    license TEXT,
    unresolved TEXT NOT NULL,
    PRIMARY KEY (unit_id, path)
) WITHOUT ROWID;
CREATE INDEX native_files_content ON native_files (size, crc32, sha256);
CREATE INDEX native_files_family ON native_files (family);
"""

_FILE_COLUMNS = [
    "path",
    "size",
    "compressed_size",
    "crc32",
    "sha256",
    "kind",
    "format",
    "elf_class",
    "machine",
    "architecture",
    "soname",
    "needed",
    "rpath",
    "runpath",
    "glibc",
    "versions",
    "toolchain",
    "family",
    "library",
    "family_name",
    "category",
    "library_version",
    "evidence",
    "first_party",
    "restricted",
    "license",
    "unresolved",
]


def default_catalog_path() -> Path:
    """``$XDG_CACHE_HOME/truewheel/catalog.sqlite`` (``~/.cache`` when unset)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(cache) / "truewheel" / "catalog.sqlite"


class Catalog:
    """An open catalog database."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _refuse_special_file(self.path)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open the catalog: {exc}", path=self.path) from exc
        try:
            self._check_ours()
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            self.db.close()
            raise InputError(f"cannot open the catalog: {exc}", path=self.path) from exc
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_ours(self) -> None:
        """Refuse, having only read, a database truewheel did not create."""
        try:
            app_id = self.db.execute("PRAGMA application_id").fetchone()[0]
            objects = self.db.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"cannot open the catalog: not an SQLite database ({exc}); refusing to change it",
                path=self.path,
            ) from exc
        if app_id == APPLICATION_ID:
            return
        foreign = sorted(
            {name for kind, name, table in objects if kind != "index" or table not in _OUR_TABLES}
            - _OUR_TABLES
        )
        if app_id != 0 or foreign:
            shown = ", ".join(foreign[:4]) + (", ..." if len(foreign) > 4 else "")
            what = f"application_id {app_id:#x}" if app_id else f"holds {shown}"
            raise InputError(
                f"cannot open the catalog: not a truewheel catalog ({what}); refusing to change it",
                path=self.path,
            )

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        app_id = self.db.execute("PRAGMA application_id").fetchone()[0]
        if version == SCHEMA_VERSION:
            if app_id != APPLICATION_ID:  # a catalog from before the id: mark it
                self.db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            return
        tables = [
            r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        drops = "".join(f'DROP TABLE IF EXISTS "{name}";' for name in tables)
        self.db.executescript(
            f"BEGIN IMMEDIATE;{drops}{_SCHEMA}PRAGMA user_version={SCHEMA_VERSION};"
            f"PRAGMA application_id={APPLICATION_ID};COMMIT;"
        )

    # -- incremental scanning -----------------------------------------------------------

    def known_keys(self) -> dict[str, tuple[UnitKey, bool]]:
        """Every stored unit's key and whether it failed, by path."""
        rows = self.db.execute(
            "SELECT kind, path, size, mtime_ns, fingerprint, environment, error IS NOT NULL "
            "FROM units"
        )
        return {r[1]: (UnitKey(r[0], r[1], r[2], r[3], r[4], r[5]), bool(r[6])) for r in rows}

    def store(self, unit: UnitFacts) -> None:
        """Replace whatever the catalog held for this unit's path, in one transaction."""
        key = unit.key
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM units WHERE path = ?", (key.path,))
            cursor = db.execute(
                "INSERT INTO units (kind, path, environment, size, mtime_ns, fingerprint, "
                "project, version, tags, platform_tag, member_count, total_bytes, "
                "compressed_bytes, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    key.kind,
                    key.path,
                    key.environment,
                    key.size,
                    key.mtime_ns,
                    key.fingerprint,
                    unit.project,
                    unit.version,
                    json.dumps(list(unit.tags)),
                    unit.platform_tag,
                    unit.member_count,
                    unit.total_bytes,
                    unit.compressed_bytes,
                    unit.error,
                ),
            )
            unit_id = cursor.lastrowid
            db.executemany(
                f"INSERT INTO native_files (unit_id, {', '.join(_FILE_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' * len(_FILE_COLUMNS))})",
                [(unit_id, *_file_row(f)) for f in unit.files],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def select(self, paths: Iterable[str]) -> Selection:
        """The stored units among these paths: what a report on this scan covers."""
        wanted = list(paths)
        found: list[int] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found += [
                r[0]
                for r in self.db.execute(
                    f"SELECT id FROM units WHERE path IN ({','.join('?' * len(chunk))})", chunk
                )
            ]
        return Selection(tuple(sorted(found)))


@dataclass(frozen=True, slots=True)
class Selection:
    """The units a report covers, handed to every query (one catalog serves many corpora).

    Queries bind :attr:`param` as ``:selection`` and read units with
    ``IN (SELECT value FROM json_each(:selection))``: the scope is in the statement,
    not in connection state a query joins without saying so.
    """

    unit_ids: tuple[int, ...]

    @property
    def param(self) -> dict[str, str]:
        return {"selection": json.dumps(list(self.unit_ids))}


def _refuse_special_file(path: str) -> None:
    """SQLite would block reading a FIFO; only a regular file (or none yet) can be a catalog."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise OSError("not a regular file")


def _file_row(f: NativeFacts) -> tuple[object, ...]:
    return (
        f.path,
        f.size,
        f.compressed_size,
        f.crc32,
        f.sha256,
        f.kind,
        f.format,
        f.elf_class,
        f.machine,
        f.architecture,
        f.soname,
        json.dumps(list(f.needed)),
        json.dumps(list(f.rpath)),
        json.dumps(list(f.runpath)),
        f.glibc,
        json.dumps(dict(f.versions)),
        f.toolchain,
        f.family,
        f.library,
        f.family_name,
        f.category,
        f.library_version,
        f.evidence,
        int(f.first_party),
        int(f.restricted),
        f.license,
        json.dumps(list(f.unresolved)),
    )
