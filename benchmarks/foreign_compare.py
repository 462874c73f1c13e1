#!/usr/bin/env python3
"""truewheel's facts of every corpus macOS/Windows wheel against llvm's and the peer's.

For each wheel of ``foreign_wheels.py``: ``truewheel inspect --json``, turned into the
peer's document shape (per Mach-O file its slices: arch, minimum OS and SDK, install name,
dylibs with kinds, rpaths; per PE file its machine, imports and delay imports), compared
field by field with llvm-objdump/llvm-readobj (``_foreign_llvm.py``) and with macholib/
pefile (``_foreign_peer.py``'s cached documents, when ``_foreign_peer.py --all`` ran).
Then the tag: what truewheel computes and finds against delocate's and delvewheel's rules
(``_foreign_llvm.tag_verdict`` on llvm's facts). Writes results/foreign-compare.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import _foreign_llvm as llvm
import _foreign_peer as peer
import foreign_wheels as fw
import harness as h

PEER_DOCS = h.CACHE_DIR / "foreign-peer"
MACHINES = {0x14C: "i386", 0x8664: "amd64", 0xAA64: "arm64"}


def truewheel_doc(cmd: list[str], wheel: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the peer-shaped document, the inspect JSON body) of one wheel."""
    run = subprocess.run([*cmd, "inspect", "--json", str(wheel)], capture_output=True, text=True)
    body = json.loads(run.stdout)["wheels"][0]
    files: dict[str, Any] = {}
    for image in body["images"]:
        if image["macho"] is not None:
            files[image["path"]] = {
                "format": "macho",
                "slices": [_slice(s) for s in image["macho"]["slices"]],
            }
        else:
            pe = image["pe"]
            files[image["path"]] = {
                "format": "pe",
                "machine": MACHINES.get(pe["machine"], hex(pe["machine"])),
                "imports": pe["imports"],
                "delay_imports": pe["delay_imports"],
            }
    return {"wheel": wheel.name, "files": files}, body


def _slice(s: dict[str, Any]) -> dict[str, Any]:
    macos = next((b for b in s["build_versions"]), None)
    return {
        "arch": s["arch"],
        "minos": macos["minos"] if macos else None,
        "sdk": (macos["sdk"] or "0.0") if macos else None,
        "install_name": s["install_name"],
        "dylibs": [{"name": d["name"], "kind": d["kind"]} for d in s["dylibs"]],
        "rpaths": s["rpaths"],
    }


def _same_shape(doc: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    """The other side's facts limited to the fields both documents carry."""
    out = {}
    for member, facts in doc["files"].items():
        if facts.get("format") == "macho":
            out[member] = {
                "format": "macho",
                "slices": [{k: s.get(k) for k in keys["macho"]} for s in facts.get("slices", [])],
            }
        else:
            out[member] = {k: facts.get(k) for k in keys["pe"]}
    return out


KEYS = {
    "macho": ("arch", "minos", "sdk", "install_name", "dylibs", "rpaths"),
    "pe": ("format", "machine", "imports", "delay_imports"),
}


def _differing(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(m for m in set(a) | set(b) if a.get(m) != b.get(m))


def tag_line(body: dict[str, Any], verdict: tuple[str, str, str]) -> list[str]:
    platform = body["image_platform"] or {}
    codes = sorted(
        {f["code"] for f in body["findings"] if f["code"].startswith(("tag-", "architecture-"))}
    )
    return [
        body["filename"],
        verdict[0],
        platform.get("computed_tag") or "-",
        ", ".join(codes) or "-",
        verdict[2],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = h.parser((__doc__ or "").splitlines()[0])
    h.add_outputs(parser, "foreign-compare")
    args = parser.parse_args(argv)
    cmd = h.truewheel_command(args.truewheel, "foreign_compare")
    rows, tags, notes = [], [], []
    totals = {"wheels": 0, "binaries": 0, "llvm": 0, "peer": 0}
    for entry in fw.CORPUS:
        wheel = fw.wheel_path(entry)
        if wheel is None:
            continue
        ours, body = truewheel_doc(cmd, wheel)
        theirs = llvm.read_wheel(wheel)
        cached = PEER_DOCS / f"{wheel.name}.json"
        peer_doc = json.loads(cached.read_text()) if cached.is_file() else None
        mine = _same_shape(ours, KEYS)
        vs_llvm = _differing(mine, _same_shape(theirs, KEYS))
        vs_peer = _differing(mine, _same_shape(peer_doc, KEYS)) if peer_doc else None
        totals["wheels"] += 1
        totals["binaries"] += len(mine)
        totals["llvm"] += len(vs_llvm)
        totals["peer"] += len(vs_peer or [])
        rows.append([wheel.name, len(mine), len(vs_llvm), "-" if vs_peer is None else len(vs_peer)])
        for member in sorted(vs_llvm):
            notes.append(
                f"- `{wheel.name}` `{member}`: truewheel `{json.dumps(mine.get(member))}` vs llvm "
                f"`{json.dumps(_same_shape(theirs, KEYS).get(member))}`"
            )
        for member in sorted(vs_peer or []):
            if member not in vs_llvm:
                notes.append(
                    f"- `{wheel.name}` `{member}`: agrees with llvm, not with macholib/pefile"
                )
        tags.append(tag_line(body, llvm.tag_verdict(theirs)))
        print(f"{wheel.name}: {len(mine)} binaries, {len(vs_llvm)} differ from llvm", flush=True)
    meta = h.meta(args.truewheel, cmd)
    lines = [
        *h.header(
            "truewheel vs llvm and macholib/pefile on macOS and Windows wheels",
            "foreign_compare.py",
            meta,
        ),
        "",
        f"{totals['wheels']} wheels, {totals['binaries']} Mach-O and PE files; files whose facts "
        f"differ: {totals['llvm']} from llvm, {totals['peer']} from macholib/pefile.",
        "",
        *h.table("wheel | binaries | differ from llvm | differ from macholib/pefile", "lrrr", rows),
        "",
        "## Differences",
        "",
        *(notes or ["None."]),
        "",
        "## Tags: truewheel against delocate's and delvewheel's rules",
        "",
        *h.table(
            "wheel | tag | truewheel computes | truewheel's tag findings | their rules say",
            "lllll",
            tags,
        ),
    ]
    h.write_report(
        args.output_md,
        "\n".join(lines) + "\n",
        args.output_json,
        {"meta": meta, "rows": rows, "tags": tags, "notes": notes},
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(peer.HERE))
    sys.exit(main())
