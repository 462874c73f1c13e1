"""Every failure the coverage-guided fuzzers found, replayed through its harness.

The inputs are crafted in code (``fuzz/reproducers.py``); the harnesses (``fuzz/harnesses.py``)
let only truewheel's own errors out and check the promises they keep (errors name the file,
nothing written outside the build directory, input untouched).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"


def _load(name: str) -> ModuleType:
    if str(FUZZ_DIR) not in sys.path:
        sys.path.insert(0, str(FUZZ_DIR))  # harnesses import their siblings by name
    spec = importlib.util.spec_from_file_location(f"truewheel_fuzz_{name}", FUZZ_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_REPRODUCERS: dict[str, bytes] = _load("reproducers").reproducers()


@pytest.mark.parametrize("name", sorted(_REPRODUCERS))
def test_reproducer_gives_only_truewheel_errors(name: str) -> None:
    harnesses = _load("harnesses")
    harness = harnesses.HARNESSES[name.split("/")[0]]
    harness(_REPRODUCERS[name])  # raises (and fails the test) unless the promise holds
