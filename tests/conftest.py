"""Shared fixtures: real wheels built from C sources with the machine's gcc."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


def _load_fixture_module(stem: str) -> ModuleType:
    """Import fixtures/<stem>.py by path, independent of pytest's import mode."""
    name = f"truewheel_fixtures_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, FIXTURES_DIR / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_wheelbuild() -> ModuleType:
    return _load_fixture_module("wheelbuild")


@pytest.fixture(scope="session")
def wheelbuild() -> ModuleType:
    return load_wheelbuild()


@pytest.fixture(scope="session")
def findingsbuild() -> ModuleType:
    return _load_fixture_module("findingsbuild")


@pytest.fixture(scope="session")
def providerbuild() -> ModuleType:
    return _load_fixture_module("providerbuild")


@pytest.fixture(scope="session")
def fixture_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("fixture-wheels")
    wheels: dict[str, Path] = load_wheelbuild().build_fixture_wheels(out_dir)
    return wheels


@pytest.fixture(scope="session")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv's interpreter, with pip, for installing fixture wheels and importing them."""
    import venv

    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    return env_dir / "bin" / "python"


def check_document(document: dict[str, object]) -> None:
    """Validate a ``--json`` document against the schema its ``schema`` field names.

    Every schema shipped in ``truewheel/schemas`` is registered by its ``$id``, so one
    schema may refer to another (build's ``check.diff`` is diff's ``$defs/diff``).
    """
    import json
    from importlib.resources import files

    import jsonschema
    from referencing import Registry, Resource

    schemas = {
        path.name.removesuffix(".schema.json"): json.loads(path.read_text())
        for path in files("truewheel").joinpath("schemas").iterdir()
        if path.name.endswith(".schema.json")
    }
    registry: Registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    command = str(document["schema"]).removeprefix("truewheel-")
    validator = jsonschema.Draft202012Validator(schemas[command], registry=registry)
    validator.validate(document)
