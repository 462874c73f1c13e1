"""Shared fixtures: real wheels built from C sources with the machine's gcc."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


def load_wheelbuild() -> ModuleType:
    """Import fixtures/wheelbuild.py by path, independent of pytest's import mode."""
    name = "truewheel_fixtures_wheelbuild"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, FIXTURES_DIR / "wheelbuild.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def wheelbuild() -> ModuleType:
    return load_wheelbuild()


@pytest.fixture(scope="session")
def fixture_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("fixture-wheels")
    wheels: dict[str, Path] = load_wheelbuild().build_fixture_wheels(out_dir)
    return wheels
