#!/usr/bin/env python3
"""The second opinion on macOS/Windows wheels: the peer's facts read by LLVM's tools, and the diff.

Same document shape as ``_foreign_peer.py`` (see there), from Debian's llvm:
``llvm-objdump --macho --private-headers --arch=all`` per Mach-O file (every slice's mach header
and load commands) and ``llvm-readobj --file-headers --coff-imports`` per PE file.

    python benchmarks/_foreign_llvm.py WHEEL...      # documents on stdout, one a line
    python benchmarks/_foreign_llvm.py --compare     # every corpus wheel, llvm vs the peer's
        cached documents (run ``_foreign_peer.py --all`` first) -> results/foreign-peers.md
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import _foreign_peer as peer

OBJDUMP = "llvm-objdump"
READOBJ = "llvm-readobj"
REPORT = peer.HERE / "results" / "foreign-peers.md"
SLICE_RE = re.compile(r"^(?P<file>\S.*?)(?: \(architecture (?P<arch>\S+)\))?:$")
CPU = {"X86_64": "x86_64", "ARM64": "arm64", "I386": "i386", "ARM": "arm", "PPC": "ppc"}
VERSION_FIELDS = {
    ("LC_BUILD_VERSION", "minos"): "minos",
    ("LC_BUILD_VERSION", "sdk"): "sdk",
    ("LC_VERSION_MIN_MACOSX", "version"): "minos",
    ("LC_VERSION_MIN_MACOSX", "sdk"): "sdk",
}
# Each difference seen on the corpus, explained (matched by member path).
EXPLANATIONS = {
    "torch/lib/torch_python.dll": (
        "pefile stops parsing the import directory once it has read more than "
        "MAX_IMPORT_SYMBOLS (0x2000 = 8192) imported symbols in one file: torch_python.dll "
        "imports 4 + 327 + 5513 symbols from its first three DLLs, and pefile then drops the "
        "other 17 descriptors (c10.dll, MSVCP140.dll, VCRUNTIME140_1.dll, the UCRT API sets...) "
        "with only a warning ('Excessive number of imports 8193 (>8192)'). llvm-readobj lists "
        "all 20. A delvewheel-style tool built on pefile's defaults would not see that "
        "torch_python.dll needs c10.dll or msvcp140.dll. llvm is right."
    ),
}
FIELD_RE = re.compile(r"^\s+(cmd|name|path|minos|sdk|version) (.*?)(?: \(offset \d+\))?$")


def _slice() -> dict[str, Any]:
    return {"arch": None, "minos": None, "sdk": None, "install_name": None}


def macho_facts(path: Path) -> dict[str, Any]:
    argv = [OBJDUMP, "--macho", "--private-headers", "--arch=all", str(path)]
    text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    slices: list[dict[str, Any]] = []
    cmd = ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        head = SLICE_RE.match(line)
        if head and not line.startswith(" "):
            slices.append({**_slice(), "dylibs": [], "rpaths": []})
            continue
        if line.startswith("Mach header") and i + 2 < len(lines) and slices:
            slices[-1]["arch"] = CPU.get(lines[i + 2].split()[1], lines[i + 2].split()[1])
            continue
        field = FIELD_RE.match(line)
        if not field or not slices:
            continue
        key, value = field.groups()
        one = slices[-1]
        if key == "cmd":
            cmd = value
        elif key == "name" and cmd in peer.DYLIB_KINDS:
            one["dylibs"].append({"name": value, "kind": peer.DYLIB_KINDS[cmd]})
        elif key == "name" and cmd == "LC_ID_DYLIB":
            one["install_name"] = value
        elif key == "path" and cmd == "LC_RPATH":
            one["rpaths"].append(value)
        elif (cmd, key) in VERSION_FIELDS:
            one[VERSION_FIELDS[cmd, key]] = "0.0" if value == "n/a" else value
    return {"format": "macho", "slices": slices}


def pe_facts(path: Path) -> dict[str, Any]:
    argv = [READOBJ, "--file-headers", "--coff-imports", str(path)]
    text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    facts: dict[str, Any] = {"format": "pe", "machine": None, "imports": [], "delay_imports": []}
    block = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("Machine: ") and facts["machine"] is None:
            code = int(stripped.rsplit("(", 1)[1].rstrip(")"), 16)
            facts["machine"] = peer.PE_MACHINES.get(code, hex(code))
        elif line in ("Import {", "DelayImport {"):
            block = "imports" if line == "Import {" else "delay_imports"
        elif block and line.startswith("  Name: "):
            facts[block].append(line[len("  Name: ") :])
            block = None
    return facts


def read_wheel(wheel: Path) -> dict[str, Any]:
    """The llvm document for one wheel, in the peer's shape."""
    return peer.read_binaries(
        wheel,
        lambda kind, path: macho_facts(path) if kind == "macho" else pe_facts(path),
        (subprocess.CalledProcessError,),
        lambda exc: str(getattr(exc, "stderr", "") or exc).strip()[-300:],
    )


def differences(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Every fact on which the two documents of one wheel disagree, as 'member: what' lines."""
    found = []
    for member in sorted(set(ours) | set(theirs)):
        a, b = theirs.get(member), ours.get(member)
        if a != b:
            why = EXPLANATIONS.get(member, "not explained yet")
            found.append(
                f"`{member}`: macholib/pefile `{json.dumps(a)}` vs llvm `{json.dumps(b)}`. "
                f"**Why:** {why}"
            )
    return found


# Each tag disagreement seen on the corpus, explained (by wheel file name).
TAG_NOTES = {
    "cryptography-46.0.7-cp311-abi3-macosx_10_9_universal2.whl": (
        "the Rust extension _rust.abi3.so says minos 10.13 in its x86_64 slice, yet the wheel "
        "claims macOS 10.9: pip on macOS 10.9 to 10.12 installs a module that needs 10.13. "
        "The case issue 14 wants reported; delocate targeting 10.9 would refuse it"
    ),
    "llvmlite-0.50.0-cp311-cp311-macosx_12_0_arm64.whl": (
        "harmless: every binary says 11.0, the tag claims 12.0, so the wheel asks for more "
        "than it needs; delocate, recomputing the tag, would write macosx_11_0_arm64"
    ),
}
WIN_MACHINES = {"win32": "i386", "win_amd64": "amd64", "win_arm64": "arm64"}
MULTI_ARCH = {"universal2": ("x86_64", "arm64"), "intel": ("i386", "x86_64")}


def _ver(text: str) -> tuple[int, int]:
    major, minor = [*text.split("."), "0"][:2]
    return int(major), int(minor)


def tag_verdict(doc: dict[str, Any]) -> tuple[str, str, str]:
    """(tag, what the binaries need, verdict) by delocate and delvewheel rules, from the peer."""
    platform = doc["wheel"][:-4].rsplit("-", 1)[1]
    files = doc["files"].values()
    if platform in WIN_MACHINES:
        machines = sorted({f.get("machine") or "?" for f in files})
        ok = machines == [WIN_MACHINES[platform]]
        return platform, ",".join(machines), "agrees" if ok else "MACHINE MISMATCH"
    _, major, minor, fmt = platform.split("_", 3)
    tag = (int(major), int(minor))
    newest: dict[str, tuple[int, int]] = {}
    for slc in (s for f in files for s in f.get("slices", [])):
        if slc["minos"]:
            newest[slc["arch"]] = max(newest.get(slc["arch"], (0, 0)), _ver(slc["minos"]))
    need = ", ".join(f"{a} {v[0]}.{v[1]}" for a, v in sorted(newest.items()))
    verdicts = []
    for arch in MULTI_ARCH.get(fmt, (fmt,)):
        floor = max(tag, (11, 0)) if arch == "arm64" else tag
        have = newest.get(arch)
        if have is None:
            verdicts.append(f"no {arch} binary (delocate refuses)")
        elif have > floor:
            verdicts.append(f"{arch} needs {have[0]}.{have[1]} > tag (delocate refuses at the tag)")
        elif have < floor:
            verdicts.append(f"{arch} would allow {have[0]}.{have[1]} (delocate renames down)")
    return platform, need, "; ".join(verdicts) or "agrees"


def compare() -> int:
    sys.path.insert(0, str(peer.HERE))
    import foreign_wheels as fw

    rows, notes, tags = [], [], []
    for entry in fw.CORPUS:
        wheel = fw.wheel_path(entry)
        cached = peer.OUT_DIR / f"{wheel.name}.json" if wheel else None
        if wheel is None or cached is None or not cached.is_file():
            continue
        theirs = json.loads(cached.read_text())
        tags.append((wheel.name, *tag_verdict(theirs)))
        ours = read_wheel(wheel)
        diff = differences(ours["files"], theirs["files"])
        kinds = {f["format"] for f in ours["files"].values()}
        slices = sum(len(f.get("slices", [1])) for f in ours["files"].values())
        rows.append((wheel.name, "/".join(sorted(kinds)), len(ours["files"]), slices, len(diff)))
        notes += [f"* {wheel.name}: {d}" for d in diff]
        print(f"{len(diff):3d} differences  {wheel.name}", flush=True)
    lines = ["# macholib/pefile vs llvm-objdump/llvm-readobj on the foreign corpus", ""]
    lines += [
        "Generated by `benchmarks/_foreign_llvm.py --compare`; each difference says why.",
        "",
    ]
    lines += [
        "| wheel | formats | binaries | slices/images | differences |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {n} | {k} | {f} | {s} | {d} |" for n, k, f, s, d in rows]
    total = sum(r[2] for r in rows)
    slices = sum(r[3] for r in rows)
    summary = f"{len(rows)} wheels, {total} binaries ({slices} Mach-O slices and PE images)"
    lines += ["", f"{summary}, {len(notes)} differences.", ""]
    lines += [
        "Compared per binary: format; per Mach-O slice the arch, minos, sdk, LC_ID_DYLIB,",
        "every LC_LOAD_DYLIB / LOAD_WEAK / REEXPORT / LAZY_LOAD / LOAD_UPWARD name and kind in",
        "order, and LC_RPATH in order; per PE image the machine and the import and delay-import",
        "DLL names in order. Peer versions: " + ", ".join(peer.PINS) + "; llvm 14 (Debian).",
        "",
    ]
    lines += ["## Differences", "", *(notes or ["None."]), ""]
    lines += ["## Tags against the binaries (delocate's and delvewheel's rules)", ""]
    lines += [
        "Per macOS wheel the newest minos per arch over all binaries and slices, against the",
        "tag (arm64 floored at 11.0, as delocate does); per Windows wheel the machines of all PE",
        "files against the tag. From the peer's documents.",
        "",
        "| wheel | tag | binaries need | verdict |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {n} | {t} | {need} | {v}{'. **Why:** ' + TAG_NOTES[n] if n in TAG_NOTES else ''} |"
        for n, t, need, v in tags
    ]
    lines += [""]
    REPORT.write_text("\n".join(lines))
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--compare"]:
        return compare()
    return peer.print_documents(argv, read_wheel, __doc__ or "")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
