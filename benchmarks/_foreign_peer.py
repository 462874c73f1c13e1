#!/usr/bin/env python3
"""The macOS/Windows peer: what delocate and delvewheel do to read a wheel, scripted.

delocate shells out to ``otool`` (macOS only) and delvewheel reads DLLs with pefile, so the peer
that runs on this Linux host is: unpack the wheel to a temporary directory, then macholib on
every Mach-O file (every header of a fat file: CPU type, LC_LOAD_DYLIB and its variants,
LC_ID_DYLIB, LC_RPATH, LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX) and pefile
(``PE(fast_load=True)``, then ``parse_data_directories`` for the import and delay-import
directories, as delvewheel does since its issue #29) on every PE file. Files are recognised by
their magic bytes, not their names.

It runs in its own venv, ``benchmarks/.cache/venv-peers`` (macholib and pefile, pinned), made
on first use. One JSON document per wheel: ``{"wheel", "elapsed_s", "files": {member: facts}}``
where facts are ``{"format": "macho", "slices": [{arch, minos, sdk, install_name, dylibs,
rpaths}]}`` or ``{"format": "pe", "machine", "imports", "delay_imports"}`` (or ``"error"``).
``elapsed_s`` is the wall time of the whole thing, unpacking included.

    python benchmarks/_foreign_peer.py WHEEL...  # documents on stdout, one a line
    python benchmarks/_foreign_peer.py --all     # every corpus wheel -> .cache/foreign-peer/
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV_DIR = HERE / ".cache" / "venv-peers"
OUT_DIR = HERE / ".cache" / "foreign-peer"
PINS = ("macholib==1.16.4", "pefile==2024.8.26")

MACHO_MAGICS = {b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe"}
FAT_MAGICS = {b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"}
CPU_NAMES = {7: "i386", 0x01000007: "x86_64", 12: "arm", 0x0100000C: "arm64", 18: "ppc"}
PE_MACHINES = {0x14C: "i386", 0x8664: "amd64", 0xAA64: "arm64", 0x1C4: "armnt"}
DYLIB_KINDS = {
    "LC_LOAD_DYLIB": "load",
    "LC_LOAD_WEAK_DYLIB": "weak",
    "LC_REEXPORT_DYLIB": "reexport",
    "LC_LAZY_LOAD_DYLIB": "lazy",
    "LC_LOAD_UPWARD_DYLIB": "upward",
}


def ensure_venv() -> Path:
    """The peers venv's python, created with the pinned macholib and pefile when needed."""
    python = VENV_DIR / "bin" / "python"
    check = [str(python), "-c", "import macholib, pefile"]
    if python.is_file() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    return python


def kind_of(path: Path) -> str | None:
    """'macho', 'pe' or None, from the first bytes (a fat header must declare few archs)."""
    with path.open("rb") as f:
        head = f.read(8)
    if head[:4] in MACHO_MAGICS:
        return "macho"
    if head[:4] in FAT_MAGICS and 0 < int.from_bytes(head[4:8], "big") < 20:
        return "macho"
    return "pe" if head[:2] == b"MZ" else None


def _version(packed: int) -> str:
    """A Mach-O xxxx.yy.zz version as text ('11.0', '10.9', '13.0.1')."""
    text = f"{packed >> 16}.{(packed >> 8) & 0xFF}"
    return text + (f".{packed & 0xFF}" if packed & 0xFF else "")


def _cstr(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def macho_facts(path: Path) -> dict[str, Any]:
    from macholib import mach_o  # type: ignore[import-not-found]  # peers venv only
    from macholib.MachO import MachO  # type: ignore[import-not-found]

    names = {v: k for k, v in vars(mach_o).items() if k.startswith("LC_") and isinstance(v, int)}
    slices = []
    for header in MachO(str(path)).headers:
        cpu = header.header.cputype
        one: dict[str, Any] = {"arch": CPU_NAMES.get(cpu, hex(cpu)), "minos": None, "sdk": None}
        one.update(install_name=None, dylibs=[], rpaths=[])
        for load, command, data in header.commands:
            name = names.get(load.cmd, "")
            if name in DYLIB_KINDS:
                one["dylibs"].append({"name": _cstr(data), "kind": DYLIB_KINDS[name]})
            elif name == "LC_ID_DYLIB":
                one["install_name"] = _cstr(data)
            elif name == "LC_RPATH":
                one["rpaths"].append(_cstr(data))
            elif name == "LC_BUILD_VERSION":
                one["minos"], one["sdk"] = _version(command.minos), _version(command.sdk)
            elif name == "LC_VERSION_MIN_MACOSX":
                one["minos"], one["sdk"] = _version(command.version), _version(command.sdk)
        slices.append(one)
    return {"format": "macho", "slices": slices}


def pe_facts(path: Path) -> dict[str, Any]:
    import pefile  # type: ignore[import-not-found]  # peers venv only

    pe = pefile.PE(str(path), fast_load=True)
    try:
        entries = pefile.DIRECTORY_ENTRY
        pe.parse_data_directories(
            directories=[
                entries["IMAGE_DIRECTORY_ENTRY_IMPORT"],
                entries["IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT"],
            ]
        )
        machine = pe.FILE_HEADER.Machine
        return {
            "format": "pe",
            "machine": PE_MACHINES.get(machine, hex(machine)),
            "imports": [_cstr(e.dll) for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])],
            "delay_imports": [
                _cstr(e.dll) for e in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])
            ],
        }
    finally:
        pe.close()


def read_binaries(
    wheel: Path,
    facts: Callable[[str, Path], dict[str, Any]],
    failures: tuple[type[BaseException], ...],
    describe: Callable[[BaseException], str],
) -> dict[str, Any]:
    """Unpack ``wheel`` to a temporary directory and read every Mach-O and PE file in it.

    ``facts(kind, path)`` reads one file; an exception in ``failures`` becomes that file's
    ``error`` (a tool failing on a real file is a finding, not a crash). The wall time covers
    the whole thing, unpacking included.
    """
    start = time.perf_counter()
    files: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tw-foreign-") as tmp:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tmp)
        for path in sorted(Path(tmp).rglob("*")):
            kind = kind_of(path) if path.is_file() and not path.is_symlink() else None
            if kind is None:
                continue
            member = path.relative_to(tmp).as_posix()
            try:
                files[member] = facts(kind, path)
            except failures as exc:
                files[member] = {"format": kind, "error": describe(exc)}
    return {"wheel": wheel.name, "elapsed_s": time.perf_counter() - start, "files": files}


def read_wheel(wheel: Path) -> dict[str, Any]:
    """The peer's document for one wheel (run inside the peers venv)."""
    return read_binaries(
        wheel,
        lambda kind, path: macho_facts(path) if kind == "macho" else pe_facts(path),
        (Exception,),
        lambda exc: f"{type(exc).__name__}: {exc}",
    )


def print_documents(argv: list[str], read: Callable[[Path], dict[str, Any]], doc: str) -> int:
    """The one-document-a-line output of both scripts; usage on stderr without wheels."""
    if not argv or argv[0].startswith("-"):
        print(doc, file=sys.stderr)
        return 2
    for name in argv:
        print(json.dumps(read(Path(name))), flush=True)
    return 0


def run_all() -> int:
    """Every cached corpus wheel through the peer (in its venv); one JSON file per wheel."""
    sys.path.insert(0, str(HERE))
    import foreign_wheels as fw

    python = ensure_venv()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for entry in fw.CORPUS:
        wheel = fw.wheel_path(entry)
        if wheel is None:
            continue
        proc = subprocess.run(
            [str(python), __file__, str(wheel)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            print(f"{wheel.name}: peer failed: {proc.stderr.strip()[-300:]}", flush=True)
            continue
        doc = json.loads(proc.stdout)
        (OUT_DIR / f"{wheel.name}.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(f"{doc['elapsed_s']:8.2f} s  {len(doc['files']):4d} files  {wheel.name}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--all"]:
        return run_all()
    if argv and Path(sys.prefix).resolve() != VENV_DIR.resolve():
        os.execv(str(ensure_venv()), [str(VENV_DIR / "bin" / "python"), __file__, *argv])
    return print_documents(argv, read_wheel, __doc__ or "")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
