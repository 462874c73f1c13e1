"""Run a PEP 517 backend in an isolated build environment at the canonical path."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from truewheel.errors import TruewheelError

__all__ = ["BuildError", "BuildSystem", "ensure_environment", "pip_for", "run_build_wheel"]

DEFAULT_REQUIRES = ["setuptools>=40.8.0"]
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"


class BuildError(TruewheelError):
    """The backend, the compiler or the build environment failed."""


class BuildSystem:
    """``[build-system]`` of pyproject.toml, with PEP 517's defaults when it is absent."""

    def __init__(self, source: Path) -> None:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        table: dict[str, Any] = {}
        pyproject = source / "pyproject.toml"
        if pyproject.is_file():
            try:
                table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("build-system", {})
            except (ValueError, UnicodeDecodeError) as exc:
                raise BuildError(f"invalid pyproject.toml ({exc})", path=str(pyproject)) from exc
        self.requires: list[str] = list(table.get("requires", DEFAULT_REQUIRES))
        self.backend: str = table.get("build-backend", DEFAULT_BACKEND)
        self.backend_path: list[str] | None = table.get("backend-path")


def _run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None, what: str) -> str:
    done = subprocess.run(
        list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True, umask=0o022, check=False
    )
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:]) or "no output"
        raise BuildError(f"{what} failed: {tail}")
    return done.stdout


def ensure_environment(root: Path, requires: list[str], env: Mapping[str, str]) -> Path:
    """The build environment's Python, reused when it already holds exactly these requirements."""
    venv = root / "env"
    marker = venv / "truewheel-requires.txt"
    wanted = "\n".join(sorted(requires)) + "\n"
    python = venv / "bin" / "python"
    if python.exists() and marker.is_file() and marker.read_text() == wanted:
        return python
    if venv.exists():
        shutil.rmtree(venv)
    # No pip inside: the running pip installs into it with --python, which saves seconds.
    argv = [sys.executable, "-m", "venv", "--without-pip", str(venv)]
    _run(argv, env=env, what="creating the build environment")
    install(python, requires, env)
    marker.write_text(wanted)
    return python


def pip_for(python: Path) -> list[str]:
    """This process's pip, working on the build environment's interpreter."""
    return [sys.executable, "-m", "pip", "--python", str(python)]


def install(python: Path, requirements: Sequence[str], env: Mapping[str, str]) -> None:
    if requirements:
        argv = [*pip_for(python), "install", "-q", "--disable-pip-version-check", *requirements]
        _run(argv, env=env, what="installing build requirements")


def run_build_wheel(
    source: Path,
    python: Path,
    system: BuildSystem,
    env: Mapping[str, str],
    out_dir: Path,
    config_settings: dict[str, str],
) -> Path:
    """Ask the backend for a wheel; return its path."""
    from pyproject_hooks import BuildBackendHookCaller

    def runner(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        _run(
            cmd,
            env={**env, **(extra_environ or {})},
            cwd=Path(cwd) if cwd else None,
            what=f"the build backend {system.backend}",
        )

    hooks = BuildBackendHookCaller(
        str(source),
        system.backend,
        system.backend_path,
        runner=runner,
        python_executable=str(python),
    )
    # pyproject_hooks re-raises the backend's warnings (deprecated metadata and the like)
    # in this process; they are the project's business, not the build's result.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extra = hooks.get_requires_for_build_wheel(config_settings)
        install(python, [r for r in extra if r not in system.requires], env)
        name = hooks.build_wheel(str(out_dir), config_settings)
    wheel = out_dir / Path(name).name
    if not wheel.is_file():
        raise BuildError(f"the backend reported {name} but wrote no such wheel")
    return wheel
