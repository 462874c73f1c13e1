"""The environment that makes a build independent of the machine and the moment.

Each setting removes one known source of difference: SOURCE_DATE_EPOCH for
embedded times, -ffile-prefix-map for the source tree, the build environment
and the interpreter's headers (DWARF and __FILE__), PYTHONHASHSEED for set
ordering in generated code, TZ and LC_ALL for formatted dates and sorting,
and the umask for file modes (the child runs with 022).  Debug information
is kept: it is made reproducible rather than removed.
"""

from __future__ import annotations

import math
import sys
import sysconfig
from pathlib import Path

from truewheel.wheel.ziptime import ZIP_LAST

__all__ = [
    "CANONICAL",
    "backend_config_settings",
    "build_environment",
    "recorded_time",
]

CANONICAL = "/truewheel"


def recorded_time(value: float) -> int | None:
    """A time found in the source (an sdist member, a commit) if usable as an epoch, else None.

    Such times are data, not the user's choice: one that is not finite, negative or
    beyond the zip range is ignored rather than allowed to stop or skew the build.
    """
    if not math.isfinite(value) or value < 0 or value > ZIP_LAST:
        return None
    return int(value)


def prefix_maps(root: Path) -> list[str]:
    pairs = [
        (root / "src", f"{CANONICAL}/src"),
        (root / "env", f"{CANONICAL}/env"),
        (Path(sys.base_prefix), f"{CANONICAL}/python"),
        (Path(sysconfig.get_paths()["include"]), f"{CANONICAL}/python/include"),
    ]
    return [f"-ffile-prefix-map={old}={new}" for old, new in pairs]


def build_environment(base: dict[str, str], root: Path, epoch: int) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(("PIP_REQUIRE", "PYTHONPATH"))}
    maps = " ".join(prefix_maps(root))
    # setuptools lets an environment CFLAGS replace the interpreter's own (-O3 -g ...), so
    # CFLAGS starts from those; other build systems add the environment's flags to theirs.
    python_cflags = sysconfig.get_config_var("CFLAGS") or ""
    env["CFLAGS"] = " ".join(p for p in (base.get("CFLAGS", python_cflags), maps) if p)
    for flag in ("CXXFLAGS", "FFLAGS", "FCFLAGS"):
        env[flag] = f"{base.get(flag, '')} {maps}".strip()
    env.update(
        {
            "SOURCE_DATE_EPOCH": str(epoch),
            "PYTHONHASHSEED": "0",
            "TZ": "UTC",
            "LC_ALL": "C.UTF-8",
            "LANG": "C.UTF-8",
            "ZERO_AR_DATE": "1",
        }
    )
    return env


def backend_config_settings(backend: str) -> dict[str, str]:
    """Backend-specific knobs: build directories inside the canonical tree."""
    if backend.startswith("mesonpy"):
        return {"build-dir": "build/meson"}
    if backend.startswith("scikit_build_core"):
        return {"build-dir": "build/skbuild"}
    return {}
