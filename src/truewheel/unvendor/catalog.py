"""``unvendor --plan --catalog``: the question asked of every wheel a scan catalog holds.

The catalog knows each native file's library, family and architecture, so it picks
the wheels worth opening: those holding a library, not their own product, that some
other file in the catalog also is.  The ABI gate needs the symbols, which the catalog does not
keep, so those wheels are then read like wheels given on the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from truewheel.errors import InputError

__all__ = ["catalog_wheels"]

_QUERY = """
WITH copies AS (
    SELECT u.path AS path, f.library AS library, f.architecture AS architecture
    FROM native_files f JOIN units u ON u.id = f.unit_id
    WHERE u.kind = 'wheel' AND u.error IS NULL AND f.kind = 'library' AND f.format = 'elf'
      AND f.library IS NOT NULL AND f.first_party = 0
)
SELECT DISTINCT path FROM copies
WHERE (library, architecture) IN (
    SELECT library, architecture FROM copies GROUP BY library, architecture HAVING COUNT(*) > 1
)
ORDER BY path
"""


def catalog_wheels(catalog: str, within: Sequence[str] = ()) -> list[str]:
    """Paths of the catalog's wheels that vendor a library vendored elsewhere too.

    ``within``: directories or files to keep to (all the catalog's wheels if empty).
    A catalog that does not exist is an error, never created.
    """
    from truewheel.catalog.store import Catalog

    if not Path(catalog).exists():
        raise InputError("no such catalog (make one with truewheel scan --catalog)", path=catalog)
    if not Path(catalog).is_file():
        raise InputError("not a catalog file", path=catalog)
    for root in within:
        if not Path(root).exists():
            raise InputError("no such file or directory", path=root)
    with Catalog(catalog) as db:
        paths = [row[0] for row in db.db.execute(_QUERY)]
    if within:
        roots = [Path(w).resolve() for w in within]
        paths = [
            p
            for p in paths
            if any(Path(p).resolve() == r or r in Path(p).resolve().parents for r in roots)
        ]
    if not paths:
        where = " under " + ", ".join(within) if within else ""
        raise InputError(
            f"the catalog holds no wheel{where} with a library that another wheel also vendors",
            path=catalog,
        )
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise InputError(
            f"{len(missing)} wheels the catalog names are gone (first: {missing[0]}); scan again",
            path=catalog,
        )
    return paths
