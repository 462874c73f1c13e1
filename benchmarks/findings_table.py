#!/usr/bin/env python3
"""List every error and warning ``truewheel inspect`` reports on a set of wheels.

This regenerates the raw list behind docs/findings-table.md, where each line
carries a verdict checked by hand.  The verdicts stay in the doc; rerun this
after a change to findings and compare: a new line needs a new verdict.

    python3 benchmarks/findings_table.py                     # the 42 benchmark wheels
    python3 benchmarks/findings_table.py DIR_OR_WHEEL ...    # other wheels too
    python3 benchmarks/findings_table.py --severity info     # infos as well

Output is a Markdown table (one row per message and wheel, sorted; a message on
several files is one row) followed by counts of findings per code.  Standard
library only; ``truewheel`` runs as a subprocess.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import _wheels as w
import harness as h

_SEVERITIES = ("error", "warning", "info")


def _wheels(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        out += sorted(path.glob("*.whl")) if path.is_dir() else [path]
    return out


def _findings(truewheel: list[str], wheel: Path) -> list[dict[str, str]]:
    cmd = [*truewheel, "inspect", "--json", "--fail-on", "never", str(wheel)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return [{"severity": "error", "code": "(inspect failed)", "message": done.stderr.strip()}]
    document = json.loads(done.stdout)
    return [f for report in document["wheels"] for f in report["findings"]]


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(w.WHEEL_DIR)])
    parser.add_argument(
        "--truewheel", default=h.project_truewheel(), help="command to run truewheel"
    )
    parser.add_argument("--severity", choices=_SEVERITIES, default="warning")
    args = parser.parse_args(argv)
    keep = _SEVERITIES[: _SEVERITIES.index(args.severity) + 1]
    truewheel = shlex.split(args.truewheel)
    counts: Counter[tuple[str, str]] = Counter()
    print("| wheel | severity | code | file | message |")
    print("| --- | --- | --- | --- | --- |")
    wheels = _wheels(args.paths)
    for wheel in wheels:
        name = w.parse_wheel_filename(wheel.name)
        label = f"{name.distribution} {name.version}" if name else wheel.name
        # The same message on several files is one row: torch's 69 test programs share
        # one RUNPATH, and one verdict covers them.
        files: dict[tuple[str, str, str], list[str]] = {}
        for f in _findings(truewheel, wheel):
            if f["severity"] in keep:
                counts[f["severity"], f["code"]] += 1
                files.setdefault((f["severity"], f["code"], f["message"]), []).append(
                    f.get("file") or ""
                )
        for (severity, code, message), paths in sorted(files.items()):
            where = paths[0] if len(paths) == 1 else f"{len(paths)} files, e.g. {min(paths)}"
            row = (label, severity, code, where, message)
            print("| " + " | ".join(_cell(x) for x in row) + " |")
    print()
    print(f"{len(wheels)} wheels")
    for (severity, code), n in sorted(counts.items()):
        print(f"{severity:8} {code:24} {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
