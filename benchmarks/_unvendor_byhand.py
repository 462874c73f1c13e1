#!/usr/bin/env python3
"""Unvendor GMP and MPFR from gmpy2 + python-flint by hand, the way a maintainer can today.

The peer side of ``unvendor_speed.py``, run (and timed) as one process. No tool does the
whole operation, so this is the script a maintainer writes around the real tools:

1. **Two library wheels.** gmpy2's vendored ``libgmp`` and ``libmpfr`` each go to
   ``libNAME/lib/`` with their SONAME kept (``patchelf --set-soname`` only when the file
   name and SONAME differ); libmpfr's DT_NEEDED on gmpy2's mangled libgmp stays as it is,
   since that is the SONAME the libgmp wheel ships. A tiny ``__init__.py`` loader
   (``load()`` with RTLD_GLOBAL, libgmp before libmpfr), the libraries' licence files,
   METADATA and WHEEL by hand; packed with ``python -m wheel pack``.
2. **The two consumers.** Unzipped; the vendored copies deleted from ``<pkg>.libs/``;
   ``patchelf --replace-needed`` on every ELF file that names python-flint's mangled
   copies; ``Requires-Dist: libgmp==V`` and ``libmpfr==V`` added to METADATA and a preload
   to the package's ``__init__.py``; repacked with ``wheel pack``; then ``auditwheel repair
   --exclude 'libgmp-*' --exclude 'libmpfr-*'``, which re-checks and re-tags the wheel and
   leaves the excluded libraries out.

``patchelf`` comes from ``PATH`` (``unvendor_speed.py`` puts one first); the work
directory is removed at the end. Run it with a Python that has ``wheel`` installed; it prints
the wall seconds spent in each tool as JSON. Standard library only; every step is a real
tool call.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

SPENT: dict[str, float] = {}
LIB_TAGS = ("py3-none-manylinux_2_17_x86_64", "py3-none-manylinux2014_x86_64")


@dataclass(frozen=True)
class Library:
    """One library to share: its distribution name, version, and what it needs."""

    name: str
    version: str
    summary: str
    licence_dir: str
    requires: tuple[str, ...] = ()


LIBRARIES = (
    Library("libgmp", "6.3.0", "GNU MP 6.3.0, shared by gmpy2 and python-flint", "gmp-6.3.0"),
    Library(
        "libmpfr",
        "4.2.2",
        "GNU MPFR 4.2.2, shared by gmpy2 and python-flint",
        "mpfr-4.2.2",
        ("libgmp",),
    ),
)

LOADER = '''"""{summary}: one copy of {soname}; load() before importing its users."""

import ctypes
import os

SONAME = {soname!r}
_handle = None


def library_path():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", SONAME)


def load():
    global _handle
    if _handle is None:
        for name in {requires!r}:
            __import__(name).load()
        _handle = ctypes.CDLL(library_path(), mode=ctypes.RTLD_GLOBAL)
    return _handle
'''

PRELOAD = "import {last} as _unvendored\n_unvendored.load()\ndel _unvendored\n"


def tool(label: str, *argv: str | Path) -> str:
    """Run one tool, stop the script with its message when it fails; its stdout.

    Its wall time is added to ``SPENT[label]``, which the script prints at the end.
    """
    start = time.perf_counter()
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)
    SPENT[label] = SPENT.get(label, 0.0) + time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(str(a) for a in argv[:3])} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def unzip(wheel: Path, dest: Path) -> Path:
    """Extract ``wheel`` into ``dest`` keeping the members' permission bits (as unzip does)."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, dest))
            mode = info.external_attr >> 16 & 0o777
            if mode and not info.is_dir():
                path.chmod(mode)
    return dest


def dist_info(tree: Path) -> Path:
    return next(tree.glob("*.dist-info"))


def vendored(tree: Path, lib: Library) -> Path:
    """The one ``<pkg>.libs/libNAME-<hash>.so.*`` copy of ``lib`` in an unpacked wheel."""
    found = sorted(tree.glob(f"*.libs/{lib.name}-*.so*"))
    if len(found) != 1:
        sys.exit(f"{tree.name}: expected one vendored {lib.name}, found {len(found)}")
    return found[0]


def library_wheel(lib: Library, source: Path, licences: Path, work: Path, out: Path) -> str:
    """Step 1 for one library (its copy taken from the unpacked ``source``); its SONAME."""
    copy = vendored(source, lib)
    tree = work / f"{lib.name}-{lib.version}"
    libdir = tree / lib.name / "lib"
    libdir.mkdir(parents=True)
    target = libdir / copy.name
    shutil.copy2(copy, target)
    if tool("patchelf", "patchelf", "--print-soname", target).strip() != copy.name:
        tool("patchelf", "patchelf", "--set-soname", copy.name, target)
    (tree / lib.name / "__init__.py").write_text(
        LOADER.format(summary=lib.summary, soname=copy.name, requires=lib.requires)
    )
    info = tree / f"{lib.name}-{lib.version}.dist-info"
    licence_files = sorted(licences.glob(f"**/{lib.licence_dir}/*"))
    for licence in licence_files:
        (info / "licenses").mkdir(parents=True, exist_ok=True)
        shutil.copy2(licence, info / "licenses" / licence.name)
    metadata = [
        "Metadata-Version: 2.4",
        f"Name: {lib.name}",
        f"Version: {lib.version}",
        f"Summary: {lib.summary}",
        *(f"License-File: {p.name}" for p in licence_files),
        *(f"Requires-Dist: {dep}=={by_name(dep).version}" for dep in lib.requires),
    ]
    (info / "METADATA").write_text("\n".join(metadata) + "\n")
    wheel = ["Wheel-Version: 1.0", "Generator: by hand", "Root-Is-Purelib: false"]
    (info / "WHEEL").write_text("\n".join([*wheel, *(f"Tag: {t}" for t in LIB_TAGS)]) + "\n")
    pack(tree, out)
    return copy.name


def by_name(name: str) -> Library:
    return next(lib for lib in LIBRARIES if lib.name == name)


def pack(tree: Path, dest: Path) -> Path:
    """``python -m wheel pack TREE -d DEST`` (it writes RECORD); the wheel it wrote."""
    before = set(dest.glob("*.whl"))
    tool("wheel pack", sys.executable, "-m", "wheel", "pack", "-d", dest, tree)
    (new,) = set(dest.glob("*.whl")) - before
    return new


def rewrite_consumer(tree: Path, package: str, sonames: dict[str, str]) -> None:
    """Step 2 in place: copies deleted, DT_NEEDED renamed, Requires-Dist and preload added."""
    renames: dict[str, str] = {}
    for lib in LIBRARIES:
        copy = vendored(tree, lib)
        if copy.name != sonames[lib.name]:
            renames[copy.name] = sonames[lib.name]
        copy.unlink()
    for elf in sorted(p for p in tree.rglob("*.so*") if p.is_file()):
        needed = tool("patchelf", "patchelf", "--print-needed", elf).split()
        pairs = [
            arg
            for old in needed
            if old in renames
            for arg in ("--replace-needed", old, renames[old])
        ]
        if pairs:
            tool("patchelf", "patchelf", *pairs, elf)
    meta_path = dist_info(tree) / "METADATA"
    head, sep, body = meta_path.read_text(encoding="utf-8").partition("\n\n")
    requires = "".join(f"\nRequires-Dist: {lib.name}=={lib.version}" for lib in LIBRARIES)
    meta_path.write_text(head + requires + sep + body, encoding="utf-8")
    init = tree / package / "__init__.py"
    init.write_text(PRELOAD.format(last=LIBRARIES[-1].name) + init.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--gmpy2", type=Path, required=True, help="gmpy2 manylinux wheel")
    p.add_argument("--flint", type=Path, required=True, help="python-flint manylinux wheel")
    p.add_argument("--auditwheel", required=True, help="the auditwheel executable")
    p.add_argument("-w", "--wheel-dir", type=Path, required=True, help="output directory")
    p.add_argument("--work", type=Path, required=True, help="scratch directory (removed)")
    args = p.parse_args(argv)
    work: Path = args.work
    out: Path = args.wheel_dir
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True)
    try:
        gmpy2 = unzip(args.gmpy2, work / "gmpy2")
        flint = unzip(args.flint, work / "flint")
        licences = dist_info(flint) / "licenses"
        sonames = {
            lib.name: library_wheel(lib, gmpy2, licences, work / "libs", out) for lib in LIBRARIES
        }
        packed = work / "packed"
        packed.mkdir()
        excludes = [arg for lib in LIBRARIES for arg in ("--exclude", f"{lib.name}-*")]
        for tree, package in ((gmpy2, "gmpy2"), (flint, "flint")):
            rewrite_consumer(tree, package, sonames)
            wheel = pack(tree, packed)
            tool("auditwheel repair", args.auditwheel, "repair", *excludes, "-w", out, wheel)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"tool_seconds": {k: round(v, 4) for k, v in SPENT.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
