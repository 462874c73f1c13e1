"""The benchmark wheel set: wheels.txt pins, wheel file names, platform tags.

What the scripts run on; how they run it is ``harness``. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import BENCH_DIR, CACHE_DIR

WHEEL_DIR = CACHE_DIR / "wheels"
WHEELS_TXT = BENCH_DIR / "wheels.txt"

# PEP 600 legacy aliases -> canonical glibc-versioned names.
LEGACY_MANYLINUX = {
    "manylinux1": "manylinux_2_5",
    "manylinux2010": "manylinux_2_12",
    "manylinux2014": "manylinux_2_17",
}

_REQ_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(?P<version>[^\s;#]+)$")
_WHEEL_RE = re.compile(
    r"^(?P<dist>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?"
    r"-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)


# --------------------------------------------------------------------------- requirements


@dataclass(frozen=True)
class Requirement:
    """One ``name==version`` line of wheels.txt."""

    name: str
    version: str
    lineno: int
    comment: str = ""

    @property
    def key(self) -> str:
        return normalize_name(self.name)

    @property
    def local_only(self) -> bool:
        """``# local-only`` in the comment: never ask the index for this one."""
        return "local-only" in self.comment

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def normalize_name(name: str) -> str:
    """PEP 503 style normalisation, with ``_`` as separator (as in wheel filenames)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def parse_requirements(path: Path = WHEELS_TXT) -> list[Requirement]:
    """Parse wheels.txt. Raises ValueError naming the line on a malformed entry."""
    reqs: list[Requirement] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        body, _, comment = raw.partition("#")
        body = body.strip()
        if not body:
            continue
        match = _REQ_RE.match(body)
        if match is None:
            raise ValueError(f"{path}:{lineno}: expected 'name==version', got {body!r}")
        reqs.append(Requirement(match["name"], match["version"], lineno, comment.strip()))
    return reqs


# --------------------------------------------------------------------------- wheel names


@dataclass(frozen=True)
class WheelName:
    filename: str
    distribution: str
    version: str
    build: str | None
    python: str
    abi: str
    platform: str

    @property
    def key(self) -> str:
        return normalize_name(self.distribution)

    @property
    def platforms(self) -> list[str]:
        return self.platform.split(".")


def parse_wheel_filename(filename: str) -> WheelName | None:
    match = _WHEEL_RE.match(filename)
    if match is None:
        return None
    return WheelName(
        filename=filename,
        distribution=match["dist"],
        version=match["version"],
        build=match["build"],
        python=match["python"],
        abi=match["abi"],
        platform=match["platform"],
    )


def _release_key(version: str) -> tuple[str, ...]:
    """Version without local label, trailing ``.0`` release parts dropped."""
    public = version.split("+", 1)[0].lower()
    parts = public.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return tuple(parts)


def version_matches(pin: str, version: str) -> bool:
    """``==pin`` semantics for the simple pins used here (a local label on the file is ok)."""
    if "+" in pin:
        return pin.lower() == version.lower()
    return _release_key(pin) == _release_key(version)


def wheel_matches(req: Requirement, wheel: WheelName) -> bool:
    return wheel.key == req.key and version_matches(req.version, wheel.version)


def list_wheels(directory: Path = WHEEL_DIR) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(".whl") and p.is_file())


def find_wheel(req: Requirement, directory: Path = WHEEL_DIR) -> Path | None:
    for path in list_wheels(directory):
        parsed = parse_wheel_filename(path.name)
        if parsed is not None and wheel_matches(req, parsed):
            return path
    return None


def select_wheels(
    specs: Sequence[str], directory: Path = WHEEL_DIR
) -> tuple[list[Path], list[str]]:
    """Resolve user wheel specs: a path to a .whl, ``name`` or ``name==version``.

    Returns (wheels found, specs that matched nothing).
    """
    found: list[Path] = []
    missing: list[str] = []
    cached = [(p, parse_wheel_filename(p.name)) for p in list_wheels(directory)]
    for spec in specs:
        as_path = Path(spec)
        if spec.endswith(".whl") and as_path.is_file():
            found.append(as_path.resolve())
            continue
        name, _, version = spec.partition("==")
        key = normalize_name(name.strip())
        hits = [
            p
            for p, w in cached
            if w is not None
            and w.key == key
            and (not version or version_matches(version.strip(), w.version))
        ]
        if hits:
            found.extend(hits)
        else:
            missing.append(spec)
    return found, missing


# --------------------------------------------------------------------------- platform tags


def normalize_tag(tag: str) -> str:
    """Canonical platform tag: legacy manylinux aliases mapped to PEP 600 names.

    A compressed tag set (``a.b``) is normalised part by part; duplicates that
    the mapping creates are folded, the order of first appearance is kept.
    """
    out: list[str] = []
    for part in tag.strip().split("."):
        canon = part
        for legacy, modern in LEGACY_MANYLINUX.items():
            if part.startswith(legacy + "_"):
                canon = modern + part[len(legacy) :]
                break
        if canon and canon not in out:
            out.append(canon)
    return ".".join(out)


def short_name(wheel: Path) -> str:
    """``torch 2.13.0+cpu`` for a report row (the file name when it does not parse)."""
    parsed = parse_wheel_filename(wheel.name)
    return f"{parsed.distribution} {parsed.version}" if parsed else wheel.name
