"""The environment that makes a build independent of the machine and the moment.

Each setting removes one known source of difference: SOURCE_DATE_EPOCH for
embedded times, PYTHONHASHSEED for set ordering in generated code, TZ and
LC_ALL for formatted dates and sorting, a fresh TMPDIR inside the build root
for the temporary directories backends compile in, and the umask for file
modes (the child runs with 022).  Compiler flags are not set here: the
compiler shims (compilers.py) add the prefix maps to each invocation, so the
package's own flags stay exactly those of ``pip wheel``.  As under pip's build
isolation, the build environment's ``bin/`` comes first on PATH (meson,
ninja, cmake and cython installed as build requirements are found) and the
user site is off.  Debug information is kept: it is made reproducible rather
than removed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from truewheel.reproducible.compilers import CompilerShims
from truewheel.wheel.ziptime import ZIP_LAST

__all__ = [
    "backend_config_settings",
    "build_environment",
    "recorded_time",
]


def recorded_time(value: float) -> int | None:
    """A time found in the source (an sdist member, a commit) if usable as an epoch, else None.

    Such times are data, not the user's choice: one that is not finite, negative or
    beyond the zip range is ignored rather than allowed to stop or skew the build.
    """
    if not math.isfinite(value) or value < 0 or value > ZIP_LAST:
        return None
    return int(value)


def build_environment(
    base: dict[str, str], root: Path, epoch: int, shims: CompilerShims, tmp: Path
) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(("PIP_REQUIRE", "PYTHONPATH"))}
    env.update(shims.environment)
    path = [str(root / "env" / "bin"), str(shims.directory), base.get("PATH", os.defpath)]
    env.update(
        {
            "PATH": os.pathsep.join(path),
            "TMPDIR": str(tmp),
            "PYTHONNOUSERSITE": "1",
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
    """Backend-specific knobs: build directories at a fixed path in the source tree.

    meson-python's own default is a random ``.mesonpy-*`` directory there; one of the same
    depth keeps the relative paths meson writes into compile commands as under pip.
    """
    if backend.startswith("mesonpy"):
        return {"build-dir": ".mesonpy-build"}
    if backend.startswith("scikit_build_core"):
        return {"build-dir": "build/skbuild"}
    return {}
