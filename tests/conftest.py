"""Shared fixtures: real wheels built from C sources with the machine's gcc."""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
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
def archbuild() -> ModuleType:
    return _load_fixture_module("archbuild")


@pytest.fixture(scope="session")
def providerbuild() -> ModuleType:
    return _load_fixture_module("providerbuild")


@pytest.fixture(scope="session")
def unvendorbuild() -> ModuleType:
    return _load_fixture_module("unvendorbuild")


@pytest.fixture(scope="session")
def repaircases() -> ModuleType:
    return _load_fixture_module("repaircases")


@pytest.fixture(scope="session")
def machobuild() -> ModuleType:
    return _load_fixture_module("machobuild")


def _machobuilt(function: str, factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``machobuild.<function>(fresh dir)``; the test skips when the toolchain is missing."""
    built = getattr(_load_fixture_module("machobuild"), function)(factory.mktemp("macho"))
    if built is None:
        pytest.skip("clang, ld64.lld or llvm-lipo is missing")
    return dict(built)


@pytest.fixture(scope="session")
def macos_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Mach-O fixture wheels (tests/fixtures/machobuild.py), case -> wheel."""
    return _machobuilt("build_macos_wheels", tmp_path_factory)


@pytest.fixture(scope="session")
def macho_other_targets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Mach-O dylibs for armv7/arm64_32 (32-bit images), tvOS and Mac Catalyst."""
    built = _machobuilt("build_other_targets", tmp_path_factory)
    return {target: path.read_bytes() for target, path in built.items()}


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


@pytest.fixture(scope="module")
def private_build_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``TRUEWHEEL_BUILD_ROOT`` for one test module; skips when PyPI is out of reach, since
    every build environment installs its requirements from it."""
    probe = tmp_path_factory.mktemp("probe")
    argv = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(probe)]
    fetched = subprocess.run([*argv, "setuptools>=68"], capture_output=True, check=False)
    if fetched.returncode != 0:
        pytest.skip("PyPI is not reachable: build environments cannot be installed")
    root = tmp_path_factory.mktemp("root") / "truewheel-build"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRUEWHEEL_BUILD_ROOT", str(root))
        yield root


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


def dynamic(path: Path, member: str, tag: str) -> str | None:
    """The RPATH or RUNPATH (``tag``) of one member of a wheel, as readelf prints it."""
    out = path.parent / "readelf.so"
    with zipfile.ZipFile(path) as archive:
        out.write_bytes(archive.read(member))
    text = subprocess.run(
        ["readelf", "-d", "-W", str(out)], capture_output=True, text=True, check=True
    ).stdout
    for line in text.splitlines():
        if f"({tag})" in line:
            return line.split("[", 1)[1].rstrip("]")
    return None


def venv_python(
    root: Path, *wheels: Path, python: str = sys.executable
) -> tuple[str, dict[str, str]]:
    """A fresh venv of ``python`` with ``wheels`` installed by pip, and an environment
    without overrides."""
    subprocess.run([python, "-m", "venv", str(root)], check=True)
    env_python = str(root / "bin" / "python")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    env.pop("LD_LIBRARY_PATH", None)
    pip = [env_python, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    if wheels:
        subprocess.run([*pip, *map(str, wheels)], check=True, env=env, capture_output=True)
    return env_python, env


def run_python(python: str, env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, env=env, cwd="/", check=False
    )


def host_library_files(names: list[str]) -> list[str]:
    """The files behind the x86-64 entries of ``ldconfig -p`` for these SONAMEs."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    return [
        line.split("=>")[1].strip()
        for line in out.splitlines()
        if any(n in line for n in names) and "x86-64" in line
    ]


def skip_without_mount_namespace() -> None:
    if (
        not shutil.which("unshare")
        or subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode != 0
    ):
        pytest.skip("mount namespaces are not permitted here")


def run_hidden(
    argv: list[str],
    hide: list[str],
    *,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (output captured) in a mount namespace where the host files of the
    libraries ``hide`` are /dev/null: what a machine without those libraries shows the loader."""
    real = sorted({os.path.realpath(p) for p in host_library_files(hide)})
    binds = "".join(f"mount --bind /dev/null {shlex.quote(p)}; " for p in real)
    command = ["unshare", "--mount", "sh", "-c", f'{binds}exec "$@"', "sh", *argv]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, input=input, check=False
    )
