#!/usr/bin/env python3
"""`truewheel scan` corpus figures per platform: the same releases for Linux, macOS and Windows.

The releases are those of ``foreign_wheels.py`` (torch, numpy, scipy, pillow, gmpy2,
python-flint, ... in one to three versions). For each, the macOS and Windows wheels come from
``foreign_wheels.py`` and the CPython 3.11 manylinux x86_64 wheel of the same version is fetched
beside them (``benchmarks/.cache/foreign/manylinux_x86_64/``; torch from /opt/wheels, as in
``fetch.py``). All of them are scanned into one fresh catalog, which is then read with SQL:

* per platform: wheels, native files and bytes, third-party libraries identified (files, bytes,
  families, the share with a version), the bytes shipped more than once inside the platform
  (byte-identical copies, and copies of one library at one version);
* across platforms: each library family and version found on more than one platform (GMP 6.3.0
  in gmpy2's and python-flint's Linux, macOS and Windows wheels).

    python benchmarks/platform_corpus.py [--no-fetch]

Writes ``results/platform-corpus.md`` and ``.json``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import fetch as linux_fetch
import foreign_wheels as fw
import harness as h

LINUX_DIR = fw.FOREIGN_DIR / "manylinux_x86_64"
RESULTS = h.BENCH_DIR / "results"
LOCAL_WHEELS = Path("/opt/wheels")


def releases() -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for entry in fw.CORPUS:
        seen.setdefault((entry.project, entry.version), None)
    return list(seen)


def _stem(project: str, version: str) -> tuple[str, str]:
    """File-name starts of the release's wheels (a local version: ``torch-2.13.0+cpu-``)."""
    base = f"{project.replace('-', '_').lower()}-{version}"
    return f"{base}-", f"{base}+"


def linux_wheel(project: str, version: str) -> Path | None:
    """The release's manylinux wheel: cached, else fetched (torch: linked from /opt/wheels)."""
    stem = _stem(project, version)
    found = [p for p in sorted(LINUX_DIR.glob("*.whl")) if p.name.lower().startswith(stem)]
    if found:
        return found[0]
    LINUX_DIR.mkdir(parents=True, exist_ok=True)
    local = [p for p in sorted(LOCAL_WHEELS.glob("*.whl")) if p.name.lower().startswith(stem)]
    if project == "torch" or local:
        if not local:
            print(f"skipped {project}=={version} linux: not in {LOCAL_WHEELS}", flush=True)
            return None
        target = LINUX_DIR / local[0].name
        try:
            os.link(local[0], target)
        except OSError:
            shutil.copyfile(local[0], target)
        return target
    options = linux_fetch.pip_download_options(retries=2, timeout=60)
    got, output = h.pip_download(
        sys.executable,
        options,
        f"{project}=={version}",
        LINUX_DIR,
        lambda tmp: next(iter(sorted(tmp.glob("*.whl"))), None),
        timeout=1800,
    )
    if got is None:
        print(f"skipped {project}=={version} linux: {h.tail(output, 2)}", flush=True)
    return got


def platform_of(tag: str) -> str:
    if tag.startswith("macosx"):
        return "macOS"
    if tag.startswith("win"):
        return "Windows"
    return "Linux"


def _platform_rows(db: sqlite3.Connection) -> dict[str, list[sqlite3.Row]]:
    rows: dict[str, list[sqlite3.Row]] = defaultdict(list)
    query = """
        SELECT u.id AS unit, u.project, u.version, u.platform_tag, u.path AS wheel,
               f.path, f.size, f.sha256, f.format, f.family, f.family_name,
               f.library_version, f.first_party
        FROM units u LEFT JOIN native_files f ON f.unit_id = u.id
        WHERE u.kind = 'wheel' AND u.error IS NULL
    """
    for row in db.execute(query):
        tag = row["platform_tag"] or Path(row["wheel"]).stem.rsplit("-", 1)[-1]
        rows[platform_of(tag)].append(row)
    return rows


def platform_figures(rows: list[sqlite3.Row]) -> dict[str, Any]:
    native = [r for r in rows if r["path"] is not None]
    third = [r for r in native if r["family"] and not r["first_party"]]
    first_seen: set[str] = set()
    identical_extra = 0
    for r in sorted(native, key=lambda r: (r["unit"], r["path"])):
        if r["sha256"] in first_seen:
            identical_extra += r["size"]
        first_seen.add(r["sha256"])
    by_release: dict[tuple[str, str], list[sqlite3.Row]] = defaultdict(list)
    for r in third:
        if r["library_version"]:
            by_release[(r["family"], r["library_version"])].append(r)
    same_version_extra = sum(
        sum(r["size"] for r in group) - max(r["size"] for r in group)
        for group in by_release.values()
        if len({r["unit"] for r in group}) > 1
    )
    return {
        "wheels": len({r["unit"] for r in rows}),
        "wheels_with_native": len({r["unit"] for r in native}),
        "native_files": len(native),
        "native_bytes": sum(r["size"] for r in native),
        "formats": sorted({r["format"] for r in native}),
        "third_party_files": len(third),
        "third_party_bytes": sum(r["size"] for r in third),
        "families": len({r["family"] for r in third}),
        "third_party_with_version": sum(1 for r in third if r["library_version"]),
        "identical_copy_bytes": identical_extra,
        "same_library_version_bytes": same_version_extra,
    }


def cross_platform(platforms: dict[str, list[sqlite3.Row]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    names: dict[str, str] = {}
    for platform, rows in platforms.items():
        for r in rows:
            if r["family"] and r["library_version"] and not r["first_party"]:
                seen[(r["family"], r["library_version"])][platform].add(r["project"])
                names[r["family"]] = r["family_name"]
    out = []
    for (family, version), where in sorted(seen.items()):
        if len(where) > 1:
            out.append(
                {
                    "family": family,
                    "name": names[family],
                    "version": version,
                    "platforms": {p: sorted(projects) for p, projects in sorted(where.items())},
                }
            )
    return out


def render(meta: dict[str, Any], figures: dict[str, dict[str, Any]], cross: list[dict[str, Any]],
           scan: dict[str, Any]) -> str:  # fmt: skip
    lines = h.header("truewheel scan: corpus figures per platform", "platform_corpus.py", meta)
    lines += [
        f"One fresh catalog of {scan['wheels']} wheels ({h.fmt_mb(scan['bytes'])} MB): the "
        "releases of `foreign_wheels.py` for macOS and Windows and the manylinux x86_64 wheel "
        "of each. "
        f"`truewheel scan` took {h.fmt_s(scan['seconds'])} s (exit {scan['exit']}).",
        "",
        "Third-party = a library family from `policy/data/libraries.json`, not first-party "
        "to the wheel's project. Duplicate bytes count every copy after the first, across "
        "different wheels of one platform.",
        "",
    ]
    order = [p for p in ("Linux", "macOS", "Windows") if p in figures]
    rows = []
    for key, label in (
        ("wheels", "wheels"),
        ("wheels_with_native", "wheels with native code"),
        ("native_files", "native files"),
        ("native_bytes", "native MB"),
        ("third_party_files", "third-party library files"),
        ("third_party_bytes", "third-party library MB"),
        ("families", "library families"),
        ("third_party_with_version", "third-party files with a version"),
        ("identical_copy_bytes", "byte-identical copies (MB)"),
        ("same_library_version_bytes", "same library and version again (MB)"),
    ):
        cells = [figures[p][key] for p in order]
        rows.append([label, *(h.fmt_mb(c) if key.endswith("bytes") else c for c in cells)])
    lines += h.table(" | " + " | ".join(order), "l" + "r" * len(order), rows)
    lines += ["", "## The same library and version on more than one platform", ""]
    lines += h.table(
        "library | version | " + " | ".join(order),
        "ll" + "l" * len(order),
        (
            [c["name"], c["version"], *(", ".join(c["platforms"].get(p, [])) or "-" for p in order)]
            for c in cross
        ),
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = h.parser(__doc__.splitlines()[0])
    parser.add_argument("--no-fetch", action="store_true", help="use only what is cached")
    args = parser.parse_args(argv)
    wheels: list[Path] = []
    for entry in fw.CORPUS:
        path = fw.wheel_path(entry) if args.no_fetch else fw.fetch(entry)[1]
        if path is not None:
            wheels.append(path)
    for project, version in releases():
        stem = _stem(project, version)
        if args.no_fetch:
            cached = sorted(LINUX_DIR.glob("*.whl")) if LINUX_DIR.is_dir() else []
            path = next((p for p in cached if p.name.lower().startswith(stem)), None)
        else:
            path = linux_wheel(project, version)
        if path is not None:
            wheels.append(path)
    wheels = sorted(set(wheels))
    if not wheels:
        print("platform_corpus.py: no wheels available (offline?); nothing measured")
        return 0
    work = h.fresh_dir(h.CACHE_DIR / "platform-corpus")
    catalog = work / "catalog.sqlite"
    cmd = [h.project_truewheel(), "scan", "--no-progress", "--catalog", str(catalog), "--json",
           "-o", str(work / "scan.json"), *map(str, wheels)]  # fmt: skip
    run = h.run(cmd, timeout=3600)
    scan = {
        "wheels": len(wheels),
        "bytes": sum(p.stat().st_size for p in wheels),
        "seconds": run.wall_s,
        "exit": run.returncode,
    }
    if run.returncode not in (0, 1):
        print(h.tail(run.stderr, 5))
        return 1
    db = sqlite3.connect(catalog)
    db.row_factory = sqlite3.Row
    platforms = _platform_rows(db)
    figures = {p: platform_figures(rows) for p, rows in platforms.items()}
    cross = cross_platform(platforms)
    meta = h.meta(h.project_truewheel(), cmd[:2])
    data = {"meta": meta, "scan": scan, "platforms": figures, "cross_platform": cross,
            "wheels": [p.name for p in wheels]}  # fmt: skip
    h.write_report(RESULTS / "platform-corpus.md", render(meta, figures, cross, scan),
                   RESULTS / "platform-corpus.json", data)  # fmt: skip
    print(render(meta, figures, cross, scan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
