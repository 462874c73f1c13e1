"""`truewheel verify --rebuild` on real native releases: the sdist built here, compared with
the cp311 manylinux x86_64 wheel PyPI serves.

Downloads (once, into benchmarks/.cache/verify-rebuild/) with the project's pip, as
benchmarks/verify_real.py does, runs ``truewheel verify --rebuild --json`` on each pair
(every build in the private build root ``TRUEWHEEL_BUILD_ROOT``) and prints the Markdown
table docs/verify.md holds, then every differing member with its named causes.
``--json`` writes the raw documents too.

    python benchmarks/verify_rebuild.py [--packages NAME==VERSION ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import harness as h
import verify_real

REBUILD_DIR = h.CACHE_DIR / "verify-rebuild"
RELEASES = (
    "markupsafe==3.0.2",
    "msgpack==1.1.0",
    "pyyaml==6.0.2",
    "ujson==5.10.0",
    "frozenlist==1.5.0",
    "psutil==6.1.0",
    "simplejson==3.19.3",
    "multidict==6.1.0",
    "propcache==0.2.0",
    "cffi==1.17.1",
    "brotli==1.1.0",
)


def row(spec: str, doc: dict[str, object], seconds: float) -> str:
    if "error" in doc:
        return f"| {spec} | does not build here | | | {str(doc['error'])[:200]} | {seconds:.0f} |"
    result = doc["rebuild"]
    assert isinstance(result, dict)
    counts = ", ".join(f"{n} {s}" for s, n in result["counts"].items() if n)
    causes = ", ".join(f"{k} {n}" for k, n in result["causes"].items())
    if result["bit_identical"]:
        verdict = "bit for bit"
    elif result["reproduced"]:
        verdict = "reproduced"
    else:
        verdict = "differs"
    tool = result["toolchain"]
    toolchain = "same" if tool["same"] else "; ".join(tool["published"]) or "-"
    pins = ", ".join(result["pins"]) or "-"
    return (
        f"| {spec} | {verdict} | {counts} | {causes or '-'} | {toolchain} | {pins} "
        f"| {seconds:.0f} |"
    )


def details(spec: str, doc: dict[str, object]) -> list[str]:
    result = doc.get("rebuild")
    if not isinstance(result, dict):
        return []
    lines = [f"* **{spec}**"]
    for m in result["members"]:
        if m["status"] == "identical":
            continue
        shown = "; ".join(m["causes"]) or "; ".join(m["consequences"]) or m["status"]
        lines.append(f"  * `{m['path']}` {m['status']} [{', '.join(m['cause_kinds'])}]: {shown}")
    lines += [f"  * proven: {p}" for p in result["proven"]]
    repair = result["repair"]
    if isinstance(repair, dict):
        lines += [f"  * repair: {n}" for n in repair["notes"]]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=list(RELEASES))
    parser.add_argument("--python", type=Path, default=h.project_python())
    parser.add_argument("--json", type=Path, default=None, help="also write the documents here")
    args = parser.parse_args()
    truewheel = h.project_truewheel()
    verify_real.VERIFY_DIR = REBUILD_DIR
    print("| release | rebuild | members | causes (members) | published toolchain | pins | s |")
    print("|---|---|---|---|---|---|---|")
    documents: dict[str, dict[str, object]] = {}
    for spec in args.packages:
        sdist, wheel = verify_real.fetch(spec, args.python)
        if sdist is None or wheel is None:
            missing = "no sdist" if sdist is None else "no wheel"
            print(f"| {spec} | not downloaded | | | {missing} | | |")
            continue
        _, doc, seconds = verify_real.verify(truewheel, wheel, sdist, "--rebuild")
        documents[spec] = doc
        print(row(spec, doc, seconds), flush=True)
    print()
    for spec, doc in documents.items():
        print("\n".join(details(spec, doc)))
    if args.json:
        args.json.write_text(json.dumps(documents, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
