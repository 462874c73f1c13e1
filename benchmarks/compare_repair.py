#!/usr/bin/env python3
"""Compare what ``truewheel repair`` and ``auditwheel repair`` graft, on the fixture wheels.

The fixture wheels (tests/fixtures/wheelbuild.py) that ``truewheel inspect --json`` says
need grafting (``--all``: every one) are repaired by both tools with the same ``--plat``,
each into its own empty directory, and compared: the grafted libraries (truewheel's from
its JSON report; auditwheel's from the new ``*.libs/`` files, hash stripped and mapped back
to a SONAME with ``auditwheel show --json``, because auditwheel names a copy after the
*file* it copied), the platform tag and the grafted file names. benchmarks/README.md has
the details. Writes benchmarks/results/repair-comparison.md and
benchmarks/results/raw/repair-comparison.json. Exit status 0 whatever the agreement; 2
when the truewheel command cannot be found; 1 when the setup (fixtures, patchelf,
auditwheel) fails.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import _repair as r
import _wheels as w
import harness as h


@dataclass
class RepairOutcome:
    """One tool's repair of one wheel."""

    returncode: int | None = None
    error: str | None = None
    output: str | None = None
    tag: str | None = None
    grafted: list[str] = field(default_factory=list)  # SONAMEs, sorted
    files: list[str] = field(default_factory=list)  # grafted file names in <dist>.libs/, sorted
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.output is not None


@dataclass
class Inspected:
    """What ``truewheel inspect --json`` says about the input wheel."""

    tag: str | None = None
    external: list[str] | None = None
    broken: list[str] = field(default_factory=list)  # in the wheel, but no RPATH reaches them
    error: str | None = None


def inspect_wheel(cmd: list[str], wheel: Path, env: dict[str, str], timeout: float) -> Inspected:
    """``truewheel inspect --json``: computed tag, external libraries, broken references."""
    m = h.run([*cmd, "inspect", "--json", str(wheel)], env=env, timeout=timeout)
    doc = h.json_doc(m.stdout)
    try:
        entry = doc["wheels"][0] if doc else None
        plat = entry["platform"] if entry else None
        tag = plat["computed_tag"] if plat else None
        external = plat["external_libraries"] if plat else None
        broken = sorted(
            {
                str(n["name"])
                for f in (entry or {}).get("native_files") or []
                for n in f.get("needed") or []
                if n.get("status") == "broken"
            }
        )
    except (KeyError, IndexError, TypeError, AttributeError):
        plat = None
    if plat is None or not isinstance(external, list):
        return Inspected(error=f"inspect exit {m.returncode}: {h.tail(m.stderr)}")
    return Inspected(
        tag=w.normalize_tag(tag) if isinstance(tag, str) else None,
        external=sorted(external),
        broken=broken,
    )


def single_output(out_dir: Path, outcome: RepairOutcome) -> Path | None:
    outputs = w.list_wheels(out_dir)
    if len(outputs) == 1:
        outcome.output = outputs[0].name
        tag = r.output_tag(outputs[0])
        outcome.tag = w.normalize_tag(tag) if tag else None
        return outputs[0]
    if outputs:
        outcome.notes.append(f"{len(outputs)} wheels written")
    return None


def run_truewheel(
    cmd: list[str], wheel: Path, out_dir: Path, plat: str, env: dict[str, str], timeout: float
) -> RepairOutcome:
    h.fresh_dir(out_dir)
    argv = r.repair_argv(cmd, wheel, out_dir, plat, json_report=True)
    m = h.run(argv, env=env, timeout=timeout)
    outcome = RepairOutcome(returncode=m.returncode)
    doc = h.json_doc(m.stdout)
    errors = doc.get("errors") if doc else None
    if isinstance(errors, list) and errors:
        outcome.error = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
    elif m.returncode != 0:
        outcome.error = f"exit {m.returncode}: {h.tail(m.stderr or m.stdout)}"
    elif doc is None:
        outcome.error = "no JSON report on stdout"
    if outcome.error:
        return outcome
    assert doc is not None
    try:
        entry = doc["wheels"][0]
        grafted = entry["grafted"]
        outcome.grafted = sorted(str(g["original_name"]) for g in grafted)
        outcome.files = sorted(Path(str(g["wheel_path"])).name for g in grafted)
        if entry.get("note"):
            outcome.notes.append(f"truewheel: {entry['note']}")
    except (KeyError, IndexError, TypeError) as exc:
        outcome.error = f"unexpected JSON report: {exc!r}"
        return outcome
    if single_output(out_dir, outcome) is None:
        outcome.error = "no output wheel"
    return outcome


def auditwheel_show(
    aw: list[str], wheel: Path, env: dict[str, str], timeout: float
) -> tuple[dict[str, str], list[str]]:
    """``auditwheel show --json``'s ``external_libs``: (SONAME -> host path, unresolved SONAMEs)."""
    m = h.run([*aw, "show", "--json", str(wheel)], env=env, timeout=timeout)
    doc = h.json_doc(m.stdout) or {}
    libs = doc.get("external_libs")
    if not isinstance(libs, dict):
        return {}, []
    found = {str(k): str(v) for k, v in libs.items() if v}
    return found, sorted(str(k) for k, v in libs.items() if not v)


def soname_for(filename: str, by_file: dict[str, str], known: set[str]) -> tuple[str, str | None]:
    """Map a grafted file name (hash already stripped) to a SONAME: (name, note or None)."""
    if filename in by_file:
        return by_file[filename], None
    matches = [s for s in known if filename == s or filename.startswith(s + ".")]
    if matches:
        return max(matches, key=len), None
    return filename, f"{filename}: no SONAME found, file name used"


def run_auditwheel(
    aw: list[str],
    wheel: Path,
    out_dir: Path,
    plat: str,
    env: dict[str, str],
    timeout: float,
    known: set[str],
) -> RepairOutcome:
    external, unresolved = auditwheel_show(aw, wheel, env, timeout)
    h.fresh_dir(out_dir)
    m = h.run(r.repair_argv(aw, wheel, out_dir, plat), env=env, timeout=timeout)
    outcome = RepairOutcome(returncode=m.returncode)
    if unresolved:
        outcome.notes.append(
            "`auditwheel show --json` lists as not found on the host: " + ", ".join(unresolved)
        )
    if m.returncode != 0:
        outcome.error = f"exit {m.returncode}: {h.tail(m.stderr or m.stdout)}"
        if len(unresolved) > 1:
            outcome.notes.append(
                "auditwheel's repair error names only the first unresolved library it meets; "
                "which one depends on the iteration order of a set, i.e. on PYTHONHASHSEED, so "
                "the message changes between runs"
            )
        return outcome
    output = single_output(out_dir, outcome)
    if output is None:
        outcome.error = "no output wheel"
        return outcome
    by_file = {Path(path).name: soname for soname, path in external.items()}
    names = [Path(n).name for n in r.new_libs_members(output, wheel)]
    outcome.files = sorted(names)
    sonames = []
    for name in names:
        soname, note = soname_for(r.strip_hash(name), by_file, known | set(external))
        sonames.append(soname)
        if note:
            outcome.notes.append(f"auditwheel: {note}")
    outcome.grafted = sorted(sonames)
    return outcome


def compare(tw: RepairOutcome, aw: RepairOutcome) -> dict[str, Any]:
    """Agreement flags and the explanation lines for every difference."""
    explain: list[str] = []
    if not tw.ok or not aw.ok:
        both_failed = not tw.ok and not aw.ok
        if both_failed:
            explain.append(f"both tools failed. truewheel: {tw.error}. auditwheel: {aw.error}.")
        else:
            failed, other = (
                ("truewheel", "auditwheel") if not tw.ok else ("auditwheel", "truewheel")
            )
            err = tw.error if not tw.ok else aw.error
            explain.append(f"only {failed} failed ({err}); {other} wrote a wheel.")
        return {
            "outcome": "both failed" if both_failed else "one failed",
            "grafted_agree": both_failed,
            "tag_agree": both_failed,
            "files_agree": both_failed,
            "explain": explain,
        }
    grafted_agree = tw.grafted == aw.grafted
    tag_agree = tw.tag == aw.tag
    files_agree = tw.files == aw.files
    if not grafted_agree:
        only_tw = sorted(set(tw.grafted) - set(aw.grafted))
        only_aw = sorted(set(aw.grafted) - set(tw.grafted))
        explain.append(
            "grafted libraries differ: only truewheel "
            + (", ".join(only_tw) or "nothing")
            + "; only auditwheel "
            + (", ".join(only_aw) or "nothing")
            + "."
        )
    if not tag_agree:
        tw_parts = set((tw.tag or "").split("."))
        aw_parts = set((aw.tag or "").split("."))
        text = f"platform tags differ: truewheel {tw.tag}, auditwheel {aw.tag}"
        if tw_parts < aw_parts:
            extra = ".".join(sorted(aw_parts - tw_parts))
            text += (
                f"; auditwheel also tags {extra}, the more compatible policy the wheel satisfies "
                "(auditwheel adds it to --plat unless --only-plat is given)"
            )
        explain.append(text + ".")
    if grafted_agree and not files_agree:
        explain.append(
            "same libraries, different file names: truewheel "
            + ", ".join(tw.files)
            + "; auditwheel "
            + ", ".join(aw.files)
            + "."
        )
    return {
        "outcome": "both repaired",
        "grafted_agree": grafted_agree,
        "tag_agree": tag_agree,
        "files_agree": files_agree,
        "explain": explain,
    }


def fmt_libs(libs: list[str]) -> str:
    return ", ".join(libs) if libs else "—"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _row(x: dict[str, Any]) -> list[str]:
    tw: RepairOutcome = x["tw"]
    aw: RepairOutcome = x["aw"]
    cmp = x["cmp"]
    failed = cmp["outcome"] != "both repaired"
    return [
        h.md_cell(x["short"]),
        h.md_cell(fmt_libs(x["inspect_external"] or [])),
        "**failed**" if not tw.ok else h.md_cell(fmt_libs(tw.grafted)),
        "**failed**" if not aw.ok else h.md_cell(fmt_libs(aw.grafted)),
        ("yes (both failed)" if cmp["outcome"] == "both failed" else "**no**")
        if failed
        else yes_no(cmp["grafted_agree"]),
        h.md_cell(tw.tag or "—"),
        h.md_cell(aw.tag or "—"),
        "n/a" if failed else yes_no(cmp["tag_agree"]),
        "n/a" if failed else yes_no(cmp["files_agree"]),
    ]


def build_markdown(rows: list[dict[str, Any]], skipped: list[dict[str, Any]], meta: Any) -> str:
    repaired = [x for x in rows if x["cmp"]["outcome"] == "both repaired"]
    both_failed = [x for x in rows if x["cmp"]["outcome"] == "both failed"]
    one_failed = [x for x in rows if x["cmp"]["outcome"] == "one failed"]
    n = len(repaired)
    title = "`truewheel repair` vs `auditwheel repair`: grafted libraries and platform tag"
    lines = [
        *h.header(title, "compare_repair.py", meta),
        "Inputs: the fixture wheels of `tests/fixtures/wheelbuild.py`.",
        (
            f"Commands: `{meta['truewheel_cmd']} repair --json --plat {meta['plat']} -w OUT W`"
            + (f" ({meta['truewheel_version']})" if meta.get("truewheel_version") else "")
            + (f" at {meta['revision']}" if meta.get("revision") else "")
            + f" and `auditwheel repair --plat {meta['plat']} -w OUT W` (auditwheel "
            f"{meta['auditwheel_version']}), each into its own empty OUT, with "
            f"{meta['patchelf']} first on PATH."
        ),
        (
            "Wheels: "
            + (
                "every fixture wheel (`--all`)."
                if meta["all"]
                else "the fixture wheels for which `truewheel inspect --json` reports a non-empty "
                "`platform.external_libraries` (the others are listed at the end)."
            )
        ),
        (
            "truewheel grafted = `wheels[].grafted[].original_name` of its JSON report. "
            "auditwheel grafted = the new files in the output's `*.libs/`, `-<8 hex>` hash "
            "stripped, mapped to the SONAME whose host path `auditwheel show --json` gives that "
            "file name. Tag = platform part of the output file name (legacy aliases mapped to "
            "PEP 600 names)."
        ),
        "",
        (
            f"**Agreement** over {n} wheel(s) both tools repaired: grafted libraries "
            f"{sum(1 for x in repaired if x['cmp']['grafted_agree'])}/{n}, platform tag "
            f"{sum(1 for x in repaired if x['cmp']['tag_agree'])}/{n}, grafted file names "
            f"{sum(1 for x in repaired if x['cmp']['files_agree'])}/{n}. Both tools failed on "
            f"{len(both_failed)} wheel(s); exactly one failed on {len(one_failed)}."
        ),
        "",
        *h.table(
            "wheel | inspect: external | truewheel grafted | auditwheel grafted | grafted agree "
            "| truewheel tag | auditwheel tag | tag agree | same file names",
            "lllllllll",
            map(_row, rows),
        ),
    ]
    explained = [x for x in rows if x["cmp"]["explain"]]
    if explained:
        lines += ["", "## Differences and failures", ""]
        for x in explained:
            lines += [f"- {x['short']}: " + " ".join(h.md_cell(e) for e in x["cmp"]["explain"])]
    notes = [(x["short"], note) for x in rows for note in x["tw"].notes + x["aw"].notes]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {short}: {h.md_cell(note)}" for short, note in notes]
    lines += ["", "## Grafted files", ""]
    for x in rows:
        if x["tw"].ok or x["aw"].ok:
            lines.append(
                f"- {x['short']}: truewheel {', '.join(x['tw'].files) or '—'} "
                f"(`{x['tw'].output or '—'}`); auditwheel {', '.join(x['aw'].files) or '—'} "
                f"(`{x['aw'].output or '—'}`)"
            )
    if skipped:
        lines += [
            "",
            "## Not repaired: nothing to graft according to `truewheel inspect --json`",
            "",
        ]
        for s in skipped:
            extra = f" ({s['error']})" if s.get("error") else ""
            lines.append(f"- {s['short']}: inspect tag {s['tag'] or '?'}{extra}")
    lines += ["", "## Files", ""]
    lines += [f"- `{x['wheel']}`" for x in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = h.parser("Compare the libraries truewheel repair and auditwheel repair graft.")
    r.add_arguments(parser)
    parser.add_argument("--all", action="store_true", help="repair every fixture wheel")
    parser.add_argument("--timeout", type=float, default=600.0, help="per command (s)")
    h.add_outputs(parser, "repair-comparison", raw_json=True, aliases=("--output", "--raw-json"))
    args = parser.parse_args(argv)
    try:
        tools = r.setup_tools(args.truewheel, "compare_repair")
        wheels = r.ensure_fixture_wheels(args.fixture_python, rebuild=args.rebuild)
    except h.ToolError as exc:
        print(f"compare_repair: {exc}", file=sys.stderr)
        return 1
    tw_cmd, env = tools.truewheel, tools.env
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    out_root = r.OUT_ROOT / "compare"
    for wheel in wheels:
        ins = inspect_wheel(tw_cmd, wheel, env, args.timeout)
        if not args.all and ins.external is not None and not ins.external:
            skipped.append({"wheel": wheel.name, "short": w.short_name(wheel), "tag": ins.tag})
            print(f"{wheel.name}: nothing to graft ({ins.tag}), skipped", flush=True)
            continue
        if ins.error:
            print(f"{wheel.name}: {ins.error}; repairing anyway", flush=True)
        base = out_root / wheel.name.removesuffix(".whl")
        tw = run_truewheel(tw_cmd, wheel, base / "truewheel", args.plat, env, args.timeout)
        if ins.broken:
            tw.notes.append(
                "`truewheel inspect` marks as broken (in the wheel, but no RPATH/RUNPATH "
                "reaches it), not external: " + ", ".join(ins.broken)
            )
        known = set(ins.external or []) | set(tw.grafted)
        aw_out = base / "auditwheel"
        aw = run_auditwheel(tools.auditwheel, wheel, aw_out, args.plat, env, args.timeout, known)
        cmp = compare(tw, aw)
        rows.append(
            {
                "wheel": wheel.name,
                "short": w.short_name(wheel),
                "inspect": asdict(ins),
                "inspect_external": ins.external,
                "tw": tw,
                "aw": aw,
                "cmp": cmp,
            }
        )
        status = cmp["outcome"]
        if status == "both repaired":
            ok = cmp["grafted_agree"] and cmp["tag_agree"]
            status += ", agree" if ok else ", DIFF"
        print(
            f"{wheel.name}: truewheel {fmt_libs(tw.grafted) if tw.ok else 'failed'} {tw.tag or ''}"
            f" | auditwheel {fmt_libs(aw.grafted) if aw.ok else 'failed'} {aw.tag or ''}"
            f" -> {status}",
            flush=True,
        )
        if not args.keep_outputs:
            shutil.rmtree(base, ignore_errors=True)

    meta = tools.meta(args.truewheel, plat=args.plat, all=args.all)
    raw_rows = [{**x, "tw": asdict(x["tw"]), "aw": asdict(x["aw"])} for x in rows]
    data = {"meta": meta, "rows": raw_rows, "skipped": skipped}
    h.write_report(args.output_md, build_markdown(rows, skipped, meta), args.output_json, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
