#!/usr/bin/env python3
"""Compare ``truewheel inspect --json`` with ``auditwheel show --json`` on real wheels.

For every wheel in benchmarks/.cache/wheels (or those given with --wheels) it
compares the platform tag and the external libraries (the SONAMEs a repair
would have to graft) and writes a Markdown table to
benchmarks/results/auditwheel-comparison.md plus full details to
benchmarks/results/raw/auditwheel-comparison.json.

auditwheel's answers come from the cache that _peer.py fills
(benchmarks/.cache/auditwheel-show/); a wheel without a cached answer is run
through auditwheel once (and cached) unless --no-peer-run is given. How
auditwheel's JSON is mapped is described in benchmarks/README.md and in
``auditwheel_answer`` below.

Exit status: 0, whatever the agreement and even when single wheels fail; 2 when
the truewheel command cannot be found at all (nothing is written then).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import _peer
import _wheels as w
import harness as h


@dataclass
class Answer:
    """One tool's answer for one wheel: normalised tag and sorted external SONAMEs."""

    tag: str | None = None
    external: list[str] | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.tag is not None and self.external is not None


def is_linux_tag(tag: str) -> bool:
    return tag.startswith("linux_")


def _upgrade_entry(upgrades: dict[str, Any], policy: str) -> dict[str, Any] | None:
    """``policy_upgrades[policy]``; keys compared after alias normalisation."""
    if policy in upgrades:
        entry = upgrades[policy]
        return entry if isinstance(entry, dict) else None
    want = w.normalize_tag(policy)
    for key, entry in upgrades.items():
        if w.normalize_tag(key) == want and isinstance(entry, dict):
            return entry
    return None


def auditwheel_answer(result: dict[str, Any] | None) -> Answer:
    """Map ``auditwheel show --json`` (6.8.2, schema version 1) to (tag, external libs).

    Tag: ``overall_tag``, the best policy auditwheel says the wheel is already
    consistent with (``show`` does not allow grafting, so it is ``linux_<arch>``
    whenever some library would have to be grafted).

    External libraries, i.e. what a repair to auditwheel's best policy would graft:

    * ``overall_tag`` is a manylinux policy: ``[]``. auditwheel computes that
      tag as at most the best policy whose external-library set is empty, and
      the whitelists grow monotonically towards newer policies, so the
      overall policy has none either. (The top-level ``external_libs`` is *not*
      used here: auditwheel computes it against the most compatible policy,
      manylinux_2_5, whatever the overall tag.)
    * ``overall_tag`` is ``linux_*`` but ``sym_tag`` (the best policy allowed by
      symbol versions, counting those of host-resolved external libraries) is
      a manylinux policy: that is where ``auditwheel repair`` would go, and
      ``policy_upgrades[sym_tag]["libs_to_eliminate"]`` lists the libraries
      outside its whitelist (a missing entry or key means none).
    * both are ``linux_*`` (no manylinux policy is satisfiable at all): the
      top-level ``external_libs`` keys, noted as such.
    """
    if result is None:
        return Answer(error="auditwheel gave no JSON")
    if "error" in result:
        return Answer(error=f"auditwheel: {result['error']}")
    if result.get("pure"):
        return Answer(error="auditwheel: pure wheel")
    try:
        overall_raw = str(result["overall_tag"])
        sym_raw = str(result["sym_tag"])
        upgrades = result.get("policy_upgrades") or {}
        top_external = sorted(result.get("external_libs") or {})
    except (KeyError, TypeError) as exc:
        return Answer(error=f"unexpected auditwheel JSON: {exc!r}")
    overall = w.normalize_tag(overall_raw)
    sym = w.normalize_tag(sym_raw)
    answer = Answer(tag=overall)
    if result.get("version") != 1:
        answer.notes.append(f"auditwheel JSON version {result.get('version')!r} (expected 1)")
    flags = [k for k in ("unsupported_isa", "pyfpe", "ucs2") if result.get(k)]
    if flags:
        answer.notes.append("auditwheel flags: " + ", ".join(flags))
    if not is_linux_tag(overall):
        answer.external = []
        if sym != overall:
            answer.notes.append(f"auditwheel sym_tag {sym} (overall lowered by other checks)")
        if top_external:
            answer.notes.append(
                "auditwheel external_libs vs manylinux_2_5 whitelist: " + ", ".join(top_external)
            )
    elif not is_linux_tag(sym):
        entry = _upgrade_entry(upgrades, sym_raw) or {}
        answer.external = sorted(entry.get("libs_to_eliminate") or [])
        answer.notes.append(f"auditwheel repair target (sym_tag): {sym}")
        blacklisted = entry.get("blacklisted_symbols") or {}
        if blacklisted:
            answer.notes.append(f"blacklisted symbols for {sym}: " + ", ".join(sorted(blacklisted)))
    else:
        answer.external = top_external
        answer.notes.append(
            "no manylinux policy satisfiable; external libs = top-level external_libs "
            "(manylinux_2_5 whitelist)"
        )
    return answer


def platform_section(doc: object) -> dict[str, Any] | None:
    """``doc["wheels"][0]["platform"]`` when the document has that shape."""
    if not isinstance(doc, dict):
        return None
    wheels = doc.get("wheels")
    if not isinstance(wheels, list) or not wheels or not isinstance(wheels[0], dict):
        return None
    plat = wheels[0].get("platform")
    return plat if isinstance(plat, dict) else None


def truewheel_answer(doc: object) -> Answer:
    """``doc["wheels"][0]["platform"]`` -> ``computed_tag`` and ``external_libraries``."""
    plat = platform_section(doc)
    if plat is None:
        return Answer(error='truewheel JSON has no doc["wheels"][0]["platform"] object')
    tag = plat.get("computed_tag")
    external = plat.get("external_libraries")
    if not isinstance(tag, str):
        return Answer(error=f"computed_tag is not a string: {tag!r}")
    if not isinstance(external, list) or not all(isinstance(x, str) for x in external):
        return Answer(error=f"external_libraries is not a list of strings: {external!r}")
    return Answer(tag=w.normalize_tag(tag), external=sorted(set(external)))


def run_truewheel(
    cmd: list[str], wheel: Path, timeout: float | None
) -> tuple[Answer, dict[str, Any]]:
    argv = [*cmd, "inspect", "--json", str(wheel)]
    try:
        m = h.run(argv, timeout=timeout)
    except OSError as exc:
        return Answer(error=f"cannot run truewheel: {exc}"), {"argv": argv}
    info: dict[str, Any] = {**m.record(), "argv": argv, "stderr_tail": m.stderr[-2000:]}
    if m.timed_out:
        return Answer(error=f"truewheel timed out after {timeout} s"), info
    doc = h.json_doc(m.stdout)
    if doc is None:
        return Answer(error=f"truewheel exit {m.returncode}, no JSON: {h.tail(m.stderr)}"), info
    info["platform"] = platform_section(doc)
    answer = truewheel_answer(doc)
    if m.returncode != 0:
        answer.notes.append(f"truewheel exit status {m.returncode}")
    return answer, info


def fmt_libs(libs: list[str] | None) -> str:
    if libs is None:
        return "?"
    return ", ".join(libs) if libs else "—"


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100.0 * n / d:.1f}%)" if d else f"{n}/0 (n/a)"


def _row(r: dict[str, Any]) -> list[str]:
    aw: Answer = r["aw"]
    tw: Answer = r["tw"]
    cmp_ok = aw.ok and tw.ok
    return [
        h.md_cell(r["short"]),
        h.md_cell(aw.tag or "error"),
        h.md_cell(tw.tag or "error"),
        ("yes" if r["tag_agree"] else "**no**") if cmp_ok else "n/a",
        h.md_cell(fmt_libs(aw.external)),
        h.md_cell(fmt_libs(tw.external)),
        ("yes" if r["libs_agree"] else "**no**") if cmp_ok else "n/a",
    ]


def build_markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    both_ok = [r for r in rows if r["aw"].ok and r["tw"].ok]
    tag_ok = sum(1 for r in both_ok if r["tag_agree"])
    lib_ok = sum(1 for r in both_ok if r["libs_agree"])
    all_ok = sum(1 for r in both_ok if r["tag_agree"] and r["libs_agree"])
    n = len(both_ok)
    failed = len(rows) - n
    title = "truewheel vs auditwheel: platform tag and external libraries"
    lines = [
        *h.header(title, "compare_auditwheel.py", meta),
        f"Wheels: {len(rows)} real PyPI wheels (`benchmarks/wheels.txt`).",
        f"Peer: auditwheel {_peer.AUDITWHEEL_VERSION}, `auditwheel show --json WHEEL`. "
        f"truewheel: `{meta['truewheel_cmd']} inspect --json WHEEL`"
        + (f" ({meta['truewheel_version']})" if meta.get("truewheel_version") else "")
        + ".",
        (
            "auditwheel's answer is read as described in `benchmarks/README.md` "
            "(tag = `overall_tag`; external = what a repair to its best policy would graft)."
        ),
        "Tags are compared after mapping manylinux1/2010/2014 to manylinux_2_5/_2_12/_2_17.",
        "",
        f"**Agreement** over {n} wheels that both tools answered: platform tag "
        f"{pct(tag_ok, n)}, external libraries {pct(lib_ok, n)}, both {pct(all_ok, n)}."
        + (f" {failed} wheel(s) not compared (a tool failed; see notes)." if failed else ""),
        "",
        *h.table(
            "wheel | auditwheel tag | truewheel tag | tag agree | auditwheel external "
            "| truewheel external | libs agree",
            "lllllll",
            map(_row, rows),
        ),
    ]
    notes = []
    for r in rows:
        aw = r["aw"]
        tw = r["tw"]
        items = []
        if aw.error:
            items.append(aw.error)
        if tw.error:
            items.append(tw.error)
        items += aw.notes + tw.notes
        if items:
            notes.append(f"- {r['short']}: " + "; ".join(h.md_cell(i) for i in items))
    if notes:
        lines += ["", "## Notes", "", *notes]
    lines += ["", "## Files", ""]
    lines += [f"- `{r['wheel']}`" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = h.parser("Compare truewheel inspect --json with auditwheel show --json.")
    parser.add_argument(
        "--wheels", nargs="+", metavar="SPEC", help="wheel paths or NAME[==VERSION] (default: all)"
    )
    parser.add_argument(
        "--no-peer-run",
        action="store_true",
        help="do not run auditwheel for wheels without a cached answer (they show as errors)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="per truewheel run (s)")
    h.add_outputs(
        parser, "auditwheel-comparison", raw_json=True, aliases=("--output", "--raw-json")
    )
    args = parser.parse_args(argv)

    cmd = h.truewheel_command(args.truewheel, "compare")
    wheels, missing = w.select_wheels(args.wheels) if args.wheels else (w.list_wheels(), [])
    for spec in missing:
        print(f"compare: no cached wheel matches {spec!r}", file=sys.stderr)
    if not wheels:
        print("compare: no wheels; run benchmarks/fetch.py first", file=sys.stderr)
        return 0

    rows: list[dict[str, Any]] = []
    for i, wheel in enumerate(wheels, start=1):
        print(f"[{i:>2}/{len(wheels)}] {wheel.name}", flush=True)
        record = _peer.load_cached(wheel)
        if record is None and not args.no_peer_run:
            try:
                record = _peer.ensure_show(wheel)
            except h.ToolError as exc:
                print(f"  auditwheel unavailable: {exc}", file=sys.stderr)
        aw = (
            auditwheel_answer(record.get("result"))
            if record is not None
            else Answer(error="no cached auditwheel result")
        )
        tw, tw_info = run_truewheel(cmd, wheel, args.timeout)
        tag_agree = aw.ok and tw.ok and aw.tag == tw.tag
        libs_agree = aw.ok and tw.ok and aw.external == tw.external
        rows.append(
            {
                "wheel": wheel.name,
                "short": w.short_name(wheel),
                "aw": aw,
                "tw": tw,
                "tag_agree": tag_agree,
                "libs_agree": libs_agree,
                "truewheel_run": tw_info,
                "auditwheel_elapsed_s": record.get("elapsed_s") if record else None,
            }
        )
        status = "ok" if tag_agree and libs_agree else "DIFF" if aw.ok and tw.ok else "error"
        print(
            f"  auditwheel {aw.tag} {fmt_libs(aw.external)} | truewheel {tw.tag} "
            f"{fmt_libs(tw.external)} -> {status}",
            flush=True,
        )

    meta = h.meta(args.truewheel, cmd, auditwheel_version=_peer.AUDITWHEEL_VERSION)
    raw_rows = [{**r, "aw": asdict(r["aw"]), "tw": asdict(r["tw"])} for r in rows]
    markdown = build_markdown(rows, meta)
    h.write_report(args.output_md, markdown, args.output_json, {"meta": meta, "rows": raw_rows})
    both = [r for r in rows if r["aw"].ok and r["tw"].ok]
    agree = sum(1 for r in both if r["tag_agree"] and r["libs_agree"])
    print(f"{agree}/{len(both)} wheels agree on tag and external libraries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
