#!/usr/bin/env python3
"""What ``truewheel unvendor --plan --catalog`` would remove from the benchmark corpus.

Scans the corpus (benchmarks/.cache/corpus, or ``--corpus DIR``) into a fresh catalog,
asks ``unvendor --plan --catalog CATALOG --json`` the question of every wheel in it, and
reports issue 13's figure: the native bytes duplicated today (byte-identical copies of a
library plus copies of the same library and version from different builds: the plan's
``duplicated_unpacked_bytes``, summed), the part of them in libraries whose ABI gate passes
(what the plan removes), and the share; then one row per library family with the reason
for every family left out, wholly or partly. It also counts what the plan could not publish
as it names it (two builds given one library wheel name and version, a wheel that would
require one library wheel at two versions) and the share that remains without those.

The scan's own whole-corpus figure for byte-identical native files is given beside it,
split by what the files are (from the catalog). It is a different question: it counts
extension modules and a project's own libraries unchanged from one release of the
project to the next, which are no library another wheel links to; and it cannot see two
builds of one library version as duplicates, which the plan counts.

Writes benchmarks/results/unvendor-corpus.md and benchmarks/results/unvendor-corpus.json.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import harness as h

KINDS = ("ABI gate", "version unknown", "platform tag", "chain", "name clash", "other")
_CHAIN_RE = re.compile(r"needs (.+), which would stay vendored")
_PLATFORM_RE = re.compile(r"it needs (\S+), but (\S+) is tagged (\S+)")

Plan = dict[str, Any]


# --------------------------------------------------------------------------- reading the plan


def refusal_kind(reason: str) -> str:
    """Which of the gate's refusals ``reason`` is (gate.py and commands/unvendor.py word them)."""
    if reason.startswith("ABI gate"):
        return "ABI gate"
    if reason.startswith("version unknown"):
        return "version unknown"
    if reason.startswith("no copy meets every consumer wheel's platform tag"):
        return "platform tag"
    if "which would stay vendored" in reason:
        return "chain"
    if "would both be the library wheel" in reason:
        return "name clash"
    return "other"


def family_of(plan: Plan) -> tuple[str, str]:
    """(key, display name): the copies' family, else the library's stem."""
    for copy in plan["copies"]:
        if copy.get("family"):
            return copy["family"], copy.get("family_name") or copy["family"]
    stem = plan["library"].partition(".so")[0]
    return stem, f"{stem} (not in the library table)"


def unmangled(member: str) -> str:
    """``pkg.libs/libcrypto-9e1a983b.so.3`` -> ``libcrypto.so.3`` (auditwheel's 8-hex hash,
    once per repair that grafted the file)."""
    return re.sub(r"(?:-[0-9a-f]{8})+(?=\.)", "", member.rsplit("/", 1)[-1])


def shared(plans: list[Plan]) -> list[Plan]:
    """The plans with at least two copies: one copy alone is neither duplicated nor saved."""
    return [p for p in plans if len(p["copies"]) > 1]


def identical_bytes(plan: Plan) -> tuple[int, int]:
    """Unpacked and compressed bytes of the plan's copies beyond one per sha256."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in plan["copies"]:
        groups[c["sha256"]].append(c)
    return (
        sum(g[0]["size"] * (len(g) - 1) for g in groups.values()),
        sum(g[0]["compressed_size"] * (len(g) - 1) for g in groups.values()),
    )


def project_of(wheel: str) -> str:
    """The wheel file name's distribution (``scipy`` of ``scipy-1.17.1-cp311-...whl``)."""
    return Path(wheel).name.split("-", 1)[0].lower()


def within_projects(plan: Plan) -> int:
    """Duplicated unpacked bytes the plan would count if only one project's releases
    shared a copy: per project, per version (or per build when unknown), beyond the largest.

    The rest of the plan's duplicated bytes are copies in different projects: what a user
    installing those projects together downloads twice today.
    """
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for c in plan["copies"]:
        key = f"version {c['version']}" if c.get("version") else c["sha256"]
        groups[(project_of(c["wheel"]), key)].append(c["size"])
    return sum(sum(g) - max(g) for g in groups.values())


def totals(plans: list[Plan]) -> dict[str, Any]:
    """The corpus figure: duplicated today, removed with the gate passing, the share."""
    passing = [p for p in plans if p["passes"]]
    dup = sum(p["duplicated_unpacked_bytes"] for p in plans)
    dup_c = sum(p["duplicated_compressed_bytes"] for p in plans)
    removed = sum(p["duplicated_unpacked_bytes"] for p in passing)
    removed_c = sum(p["duplicated_compressed_bytes"] for p in passing)
    ident = [identical_bytes(p) for p in plans]
    multi = shared(plans)
    return {
        "libraries": len(plans),
        "libraries_with_copies": len(multi),
        "libraries_with_copies_passing": sum(1 for p in multi if p["passes"]),
        "copies": sum(len(p["copies"]) for p in multi),
        "duplicated_unpacked_bytes": dup,
        "duplicated_compressed_bytes": dup_c,
        "identical_unpacked_bytes": sum(i[0] for i in ident),
        "identical_compressed_bytes": sum(i[1] for i in ident),
        "removed_unpacked_bytes": removed,
        "removed_compressed_bytes": removed_c,
        "removed_within_projects_bytes": sum(within_projects(p) for p in passing),
        "share": removed / dup if dup else None,
        "share_compressed": removed_c / dup_c if dup_c else None,
        "saved_unpacked_bytes": sum(p["saved_unpacked_bytes"] for p in plans),
        "saved_compressed_bytes": sum(p["saved_compressed_bytes"] for p in plans),
        "refusals": {k: sum(1 for p in multi if _kind(p) == k) for k in KINDS},
    }


def name_clashes(plans: list[Plan]) -> dict[str, Any]:
    """Passing libraries the plan could not publish as it names them.

    Over a catalog every revision, and every build of unknown version, is its own
    library wheel, named from the library alone: two different builds can get one
    name and version (two files, one ``NAME==VERSION`` pin), and a wheel vendoring two
    builds would require one name at two versions, which no installer resolves. The
    conservative figure keeps, per clashing name and version, only the library that
    removes most, then drops every library whose shared copy needs a dropped one, and
    leaves a doubly-pinned wheel's copies where they are (counted as not removed).
    """
    passing = [p for p in plans if p["passes"]]
    by_name: dict[tuple[str, str, str, str], list[Plan]] = defaultdict(list)
    pins: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for p in passing:
        by_name[(p["distribution"], p["version"], p["architecture"], p["libc"] or "")].append(p)
        for c in p["copies"]:
            pins[(c["wheel"], p["distribution"], p["architecture"], p["libc"] or "")].add(
                p["version"]
            )
    clashes = {k: v for k, v in by_name.items() if len(v) > 1}
    doubly = {k: sorted(v) for k, v in pins.items() if len(v) > 1}
    lost: dict[int, Plan] = {}
    for group in clashes.values():
        ranked = sorted(group, key=lambda p: -p["duplicated_unpacked_bytes"])
        lost.update((id(p), p) for p in ranked[1:])
    _lose_chains(passing, lost)
    kept_back = [  # a doubly-pinned wheel keeps its copies; the others still share
        c
        for p in passing
        if id(p) not in lost
        for c in p["copies"]
        if (c["wheel"], p["distribution"], p["architecture"], p["libc"] or "") in doubly
    ]
    return {
        "clashing_names": len(clashes),
        "clashing_libraries": sum(len(v) for v in clashes.values()),
        "clashing_duplicated_bytes": sum(
            p["duplicated_unpacked_bytes"] for v in clashes.values() for p in v
        ),
        "examples": [
            f"{d} {v}: " + ", ".join(p["revision"] for p in group)
            for (d, v, _a, _l), group in sorted(
                clashes.items(),
                key=lambda kv: -sum(p["duplicated_unpacked_bytes"] for p in kv[1]),
            )[:5]
        ],
        "doubly_pinned": [
            f"{Path(w).name} would require {d} at {', '.join(v)}"
            for (w, d, _a, _l), v in sorted(doubly.items())
        ],
        "lost_unpacked_bytes": sum(p["duplicated_unpacked_bytes"] for p in lost.values())
        + sum(c["size"] for c in kept_back),
        "lost_compressed_bytes": sum(p["duplicated_compressed_bytes"] for p in lost.values())
        + sum(c["compressed_size"] for c in kept_back),
    }


def _lose_chains(passing: list[Plan], lost: dict[int, Plan]) -> None:
    """A library whose shared copy needs a lost one is lost too (until nothing changes)."""
    owner = {(c["wheel"], c["member"]): p for p in passing for c in p["copies"]}
    changed = True
    while changed:
        changed = False
        for p in passing:
            if id(p) in lost:
                continue
            chosen = next(
                c
                for c in p["copies"]
                if (c["wheel"], c["member"]) == (p["chosen"]["wheel"], p["chosen"]["member"])
            )
            needed = [owner.get((chosen["wheel"], m)) for m in chosen["needs"]]
            if any(n is None or id(n) in lost for n in needed):
                lost[id(p)] = p
                changed = True


def _kind(plan: Plan) -> str | None:
    return refusal_kind(plan["refusal"]["reason"]) if plan.get("refusal") else None


def why(plan: Plan, owner: dict[tuple[str, str], Plan]) -> str:
    """One short line: the refusal, its kind first; a chain names what it waits for."""
    reason: str = plan["refusal"]["reason"]
    kind = refusal_kind(reason)
    if kind == "chain":
        found = _CHAIN_RE.search(reason)
        wheel = plan["refusal_wheel"]
        waits = []
        for member in found.group(1).split(", ") if found else []:
            other = owner.get((wheel, member))
            because = _kind(other) if other else None
            waits.append(f"{unmangled(member)}" + (f" ({because})" if because else ""))
        return f"{plan['revision']}: needs {', '.join(waits)}, not shared"
    if kind == "platform tag":
        found = _PLATFORM_RE.search(reason)
        if found:
            need, wheel, tag = found.groups()
            return f"{plan['revision']}: the newest copy needs {need}; {wheel} is tagged {tag}"
    if kind == "version unknown":
        said = sorted({c["version"] for c in plan["copies"] if c.get("version")})
        told = f" (the copies say {', '.join(said)}, not a version the gate can order)"
        return f"{plan['revision']}: different builds, version unknown" + (told if said else "")
    return f"{plan['revision']}: {reason[:200]}"


def family_rows(plans: list[Plan]) -> list[dict[str, Any]]:
    """One row per family of the plans with copies, the most duplicated first."""
    owner = {(c["wheel"], c["member"]): p for p in plans for c in p["copies"]}
    for p in plans:
        if p.get("refusal"):  # the chain message names members of the chosen copy's wheel
            found = re.search(r"the copy to share, (\S+?):", p["refusal"]["reason"])
            names = {Path(c["wheel"]).name: c["wheel"] for c in p["copies"]}
            p["refusal_wheel"] = names.get(found.group(1), "") if found else ""
    rows: dict[str, dict[str, Any]] = {}
    for p in shared(plans):
        key, name = family_of(p)
        row = rows.setdefault(
            key,
            {
                "family": key,
                "name": name,
                "libraries": 0,
                "copies": 0,
                "builds": 0,
                "duplicated_unpacked_bytes": 0,
                "removed_unpacked_bytes": 0,
                "duplicated_compressed_bytes": 0,
                "removed_compressed_bytes": 0,
                "left_out": {},
            },
        )
        row["libraries"] += 1
        row["copies"] += len(p["copies"])
        row["builds"] += len({c["sha256"] for c in p["copies"]})
        for what in ("unpacked", "compressed"):
            dup = p[f"duplicated_{what}_bytes"]
            row[f"duplicated_{what}_bytes"] += dup
            row[f"removed_{what}_bytes"] += dup if p["passes"] else 0
        if p.get("refusal"):
            row["left_out"].setdefault(_kind(p), []).append(why(p, owner))
    for row in rows.values():
        dup = row["duplicated_unpacked_bytes"]
        row["share"] = row["removed_unpacked_bytes"] / dup if dup else None
    return sorted(rows.values(), key=lambda r: (-r["duplicated_unpacked_bytes"], r["family"]))


# --------------------------------------------------------------------------- the scan's figure


def scan_identical(catalog: Path, planned: set[str]) -> dict[str, dict[str, int]]:
    """The scan's byte-identical native files, wasted bytes by what the files are.

    Read from the catalog: per sha256, every copy beyond the first is waste, as scan
    counts it; ``library`` is split into a project's own and third-party ones, those
    among the plan's copies (``planned``: their sha256) or not.
    """
    query = """
        SELECT f.kind, f.first_party, f.size, f.compressed_size, COUNT(*), f.sha256
        FROM native_files f JOIN units u ON u.id = f.unit_id
        WHERE u.error IS NULL
        GROUP BY f.sha256 HAVING COUNT(*) > 1
    """
    out: dict[str, dict[str, int]] = {}
    with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True) as db:
        for kind, first_party, size, compressed, count, sha in db.execute(query):
            if kind == "library" and first_party:
                kind = "a project's own library"
            elif kind == "library":
                where = "in" if sha in planned else "not in"
                kind = f"third-party library, {where} the plan"
            row = out.setdefault(kind, {"groups": 0, "wasted_bytes": 0, "wasted_compressed": 0})
            row["groups"] += 1
            row["wasted_bytes"] += size * (count - 1)
            row["wasted_compressed"] += (compressed or size) * (count - 1)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["wasted_bytes"]))


# --------------------------------------------------------------------------- the report


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def left_out_cell(row: dict[str, Any], limit: int | None = None) -> str:
    parts = []
    for kind in KINDS:
        reasons = row["left_out"].get(kind)
        if reasons:
            shown = reasons if limit is None else reasons[:limit]
            more = f"; and {len(reasons) - len(shown)} more" if len(shown) < len(reasons) else ""
            parts.append(f"**{kind}**: " + "; ".join(shown) + more)
    return h.md_cell(" · ".join(parts)) if parts else ""


def family_table(rows: list[dict[str, Any]], limit: int | None = None) -> list[str]:
    return h.table(
        "family | libraries | copies | builds | duplicated MB | removed MB | share | left out",
        "lrrrrrrl",
        (
            [
                h.md_cell(r["name"]),
                r["libraries"],
                r["copies"],
                r["builds"],
                _mb(r["duplicated_unpacked_bytes"]),
                _mb(r["removed_unpacked_bytes"]),
                _pct(r["share"]),
                left_out_cell(r, limit),
            ]
            for r in rows
        ),
    )


def scan_lines(kinds: dict[str, dict[str, int]], t: dict[str, Any]) -> list[str]:
    def wasted(*names: str) -> int:
        return sum(kinds.get(n, {}).get("wasted_bytes", 0) for n in names)

    own = wasted("extension", "a project's own library", "executable")
    inside = wasted("third-party library, in the plan")
    same_version = t["duplicated_unpacked_bytes"] - t["identical_unpacked_bytes"]
    return [
        f"The difference: {_mb(own)} MB of the scan's figure are extension modules and "
        "projects' own libraries (and programs) unchanged between two releases of one "
        "project, identical but no library another wheel links to (an index could store "
        "them once by content; unvendoring cannot share them); "
        f"{_mb(wasted('third-party library, not in the plan'))} MB are third-party "
        "libraries the catalog could not name (no library stem) or that only one wheel "
        f"vendors. The remaining {_mb(inside)} MB the plan counts as well (byte-identical "
        f"copies in the plan: {_mb(t['identical_unpacked_bytes'])} MB); on top of them it "
        "counts "
        f"{_mb(same_version)} MB the scan cannot see as duplicated: other builds of the "
        "same library version.",
    ]


def names_lines(names: dict[str, Any], t: dict[str, Any]) -> list[str]:
    kept = t["removed_unpacked_bytes"] - names["lost_unpacked_bytes"]
    dup = t["duplicated_unpacked_bytes"]
    if not names["clashing_libraries"] and not names["doubly_pinned"]:
        return [
            "Every passing library has a name and version of its own (over a catalog each "
            "build of unknown version is named with its sha256's first eight hex digits) and "
            "no wheel would require one library wheel at two versions: the whole figure is "
            "publishable as named."
        ]
    lines = [
        f"Over a catalog each build of unknown version is its own library wheel. "
        f"{names['clashing_libraries']} passing libraries share "
        f"{names['clashing_names']} names and versions with another, different build "
        f"({_mb(names['clashing_duplicated_bytes'])} MB of the duplicated bytes), e.g. "
        + "; ".join(names["examples"])
        + ". A pin `NAME==VERSION` cannot tell such builds apart, and an index holds one "
        "file per name, version and tag.",
    ]
    if names["doubly_pinned"]:
        lines += [
            "",
            "Wheels that would require one library wheel at two versions (not installable):",
            "",
            *(f"- {h.md_cell(x)}" for x in names["doubly_pinned"]),
        ]
    lines += [
        "",
        "Keeping one library per clashing name and version (the one removing most), then "
        "dropping every library whose shared copy needs a dropped one, and leaving a "
        "doubly-pinned wheel's copies vendored, the plan as named removes "
        f"{_mb(kept)} MB "
        f"({_pct(kept / dup if dup else None)} of the duplicated bytes; a greedy lower "
        "bound). Naming each build apart (a distinct name or version per build) would make "
        "the whole figure above publishable.",
    ]
    return lines


def build_markdown(report: dict[str, Any]) -> str:
    t = report["totals"]
    scan = report["scan"]
    kinds = dict(
        sorted(report["scan_identical_by_kind"].items(), key=lambda kv: -kv[1]["wasted_bytes"])
    )
    lines = [
        *h.header(
            "`truewheel unvendor --plan --catalog` on the benchmark corpus",
            "unvendor_corpus.py",
            report["meta"],
        ),
        "",
        f"Corpus: {report['corpus']['source']}, {scan['wheels']:,} wheels, "
        f"{scan['with_native']} with native code, {scan['native_files']:,} native files "
        f"({scan['native_bytes'] / 1e9:.2f} GB unpacked). The plan opened "
        f"{report['plan_wheels']} wheels (those the catalog says vendor a library vendored "
        f"elsewhere too) and found {t['libraries']} libraries, {t['libraries_with_copies']} "
        f"of them with two copies or more ({t['copies']:,} copies).",
        "",
        "## The figure",
        "",
        *h.table(
            "| unpacked MB | compressed MB",
            "lrr",
            [
                [
                    "duplicated today (identical bytes, or same library and version)",
                    _mb(t["duplicated_unpacked_bytes"]),
                    _mb(t["duplicated_compressed_bytes"]),
                ],
                [
                    "… of which byte-identical copies",
                    _mb(t["identical_unpacked_bytes"]),
                    _mb(t["identical_compressed_bytes"]),
                ],
                [
                    "… of which other builds of the same version",
                    _mb(t["duplicated_unpacked_bytes"] - t["identical_unpacked_bytes"]),
                    _mb(t["duplicated_compressed_bytes"] - t["identical_compressed_bytes"]),
                ],
                [
                    "removed by the plan (duplicated bytes of libraries whose gate passes)",
                    _mb(t["removed_unpacked_bytes"]),
                    _mb(t["removed_compressed_bytes"]),
                ],
                [
                    "… of which copies in releases of one project",
                    _mb(t["removed_within_projects_bytes"]),
                    "",
                ],
                ["**share removed**", f"**{_pct(t['share'])}**", _pct(t["share_compressed"])],
            ],
        ),
        "",
        f"{t['libraries_with_copies_passing']} of the {t['libraries_with_copies']} libraries "
        "with two copies or more pass the ABI gate; refused: "
        + ", ".join(f"{k} {n}" for k, n in t["refusals"].items() if n)
        + ". Copies in releases of one project (numpy 2.3 and 2.4, av 17 and 18) save "
        "an index's storage; the others, in different projects, are also downloaded twice by "
        "whoever installs those projects together. Target (issue 13): at least 60% "
        "(moonshot 80%). The plan's own saving, every copy but one of each passing library "
        "(different versions included, "
        f"the newest serving older ones), is {_mb(t['saved_unpacked_bytes'])} MB unpacked "
        f"({_mb(t['saved_compressed_bytes'])} MB compressed).",
        "",
        "## What the plan names but could not publish",
        "",
        *names_lines(report["names"], t),
        "",
        "## Beside the scan's figure",
        "",
        f"`truewheel scan` counts {_mb(scan['wasted_bytes'])} MB unpacked "
        f"({_mb(scan['wasted_compressed_bytes'])} MB compressed) of byte-identical native "
        "files over the whole corpus. By what the files are (from the catalog):",
        "",
        *h.table(
            "kind | groups of identical files | wasted MB unpacked | compressed",
            "lrrr",
            (
                [k, v["groups"], _mb(v["wasted_bytes"]), _mb(v["wasted_compressed"])]
                for k, v in kinds.items()
            ),
        ),
        "",
        *scan_lines(kinds, t),
        "",
        "## Per family",
        "",
        "One row per family (the library table's family, else the library's stem) of the "
        "libraries with two copies or more. `builds`: distinct sha256 summed over the "
        "family's libraries; `removed`: duplicated bytes of the libraries whose ABI gate "
        "passes; `left out`: every refused library, grouped by the kind of refusal (a chain "
        "names the library it needs and why that one is not shared).",
        "",
        *family_table(report["families"]),
        "",
        f"Runs: scan {h.fmt_s(report['runs']['scan']['elapsed_s'], 1)} s, plan "
        f"{h.fmt_s(report['runs']['plan']['elapsed_s'], 1)} s (one run each; not a timing "
        "benchmark).",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def run_step(argv: list[str | Path], what: str) -> tuple[h.Measurement, dict[str, Any]]:
    print(f"  {what} ...", end="", flush=True)
    m = h.run(argv, rss_method="auto")
    print(f" {m.wall_s:.1f} s", flush=True)
    doc = h.json_doc(m.stdout)
    problem = m.problem((0, 1))
    if problem or doc is None:
        raise h.ToolError(f"{what}: {problem or 'no JSON document'}")
    return m, doc


def main(argv: list[str] | None = None) -> int:
    parser = h.parser((__doc__ or "").splitlines()[0], truewheel=h.project_truewheel())
    parser.add_argument("--corpus", type=Path, help="the wheels in this directory instead")
    parser.add_argument(
        "--catalog", type=Path, help="keep the fresh catalog here (must not exist yet)"
    )
    h.add_outputs(parser, "unvendor-corpus")
    args = parser.parse_args(argv)
    cmd = h.truewheel_command(args.truewheel, "unvendor_corpus")
    corpus = h.corpus_dir(args.corpus, "unvendor_corpus")
    if corpus is None:
        return 0
    if args.catalog is not None and args.catalog.exists():
        print(f"unvendor_corpus: {args.catalog} exists; give a new path", file=sys.stderr)
        return 2
    meta = h.meta(args.truewheel, cmd)
    h.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=h.CACHE_DIR) as tmp:
        catalog = args.catalog or Path(tmp) / "corpus.sqlite"
        try:
            scan_m, scan = run_step(
                [*cmd, "scan", "--json", "--no-progress", "--catalog", catalog, corpus], "scan"
            )
            plan_m, plan = run_step(
                [*cmd, "unvendor", "--plan", "--catalog", catalog, "--json"], "unvendor --plan"
            )
        except h.ToolError as exc:
            print(f"unvendor_corpus: {exc}", file=sys.stderr)
            return 1
        plans: list[Plan] = plan["libraries"]
        by_kind = scan_identical(catalog, {c["sha256"] for p in plans for c in p["copies"]})
    report = {
        "meta": meta,
        "corpus": {"source": "benchmarks/corpus.txt" if args.corpus is None else h.rel(corpus)},
        "scan": {"wheels": scan["summary"]["wheels"], **scan["summary"]},
        "scan_identical_by_kind": by_kind,
        "plan_wheels": len(plan["wheels"]),
        "totals": totals(plans),
        "names": name_clashes(plans),
        "families": family_rows(plans),
        "runs": {"scan": scan_m.record(), "plan": plan_m.record()},
        "plan_errors": plan.get("errors", []),
    }
    h.write_report(args.output_md, build_markdown(report), args.output_json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
