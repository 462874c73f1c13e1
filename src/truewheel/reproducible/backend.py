"""Run a PEP 517 backend in an isolated build environment at the canonical path."""

from __future__ import annotations

import posixpath
import shutil
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from truewheel._files import is_regular_file, read_regular
from truewheel.errors import InputError, TruewheelError
from truewheel.reproducible.process import failure_line, run_group

__all__ = [
    "BuildError",
    "BuildSystem",
    "ensure_environment",
    "pip_for",
    "requirements",
    "run_build_wheel",
]

DEFAULT_REQUIRES = ["setuptools>=40.8.0"]
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
_MAX_PYPROJECT = 4 * 2**20
# Real projects need a handful of build requirements; these keep pip's argument list (and
# its resolver's time) bounded: 200,000 of them overflowed execve, 60,000 ran for minutes.
_MAX_REQUIREMENTS = 256
_MAX_REQUIREMENT_LENGTH = 1024


class BuildError(TruewheelError):
    """The backend, the compiler or the build environment failed."""


def requirements(values: object, what: str) -> list[str]:
    """PEP 508 requirements, and nothing else: a string pip could take for an option or a
    path (``--target=/tmp/x``, ``./evil.zip``) is not one."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputError(f"{what} must be a list of strings")
    if len(values) > _MAX_REQUIREMENTS:
        raise InputError(f"{what}: {len(values)} requirements (limit {_MAX_REQUIREMENTS})")
    for value in values:
        if len(value) > _MAX_REQUIREMENT_LENGTH:
            raise InputError(
                f"{what}: a requirement of {len(value)} characters "
                f"(limit {_MAX_REQUIREMENT_LENGTH}): {value[:40]!r}"
            )
        try:
            Requirement(value)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0]
            raise InputError(f"{what}: not a PEP 508 requirement ({reason}): {value!r}") from exc
    return list(values)


class BuildSystem:
    """``[build-system]`` of pyproject.toml (PEP 517/518), with their defaults when it is absent.

    Every value is type-checked here, so a malformed table is one error naming
    the file rather than a crash in pip or in the hook caller.
    """

    def __init__(self, source: Path, *, label: str | None = None) -> None:
        where = {"path": label or str(source), "member": "pyproject.toml"}
        try:
            table = _build_system(source / "pyproject.toml")
            if table is None:
                self.requires = list(DEFAULT_REQUIRES)
                self.backend = DEFAULT_BACKEND
                self.backend_path: list[str] | None = None
                return
            if "requires" not in table:
                raise InputError("[build-system] has no requires (PEP 518 makes it mandatory)")
            self.requires = requirements(table["requires"], "build-system.requires")
            self.backend = table.get("build-backend", DEFAULT_BACKEND)
            if not isinstance(self.backend, str) or not self.backend.strip():
                raise InputError("build-system.build-backend must be a non-empty string")
            self.backend_path = _backend_path(table.get("backend-path"))
        except InputError as exc:
            exc.located(**where)
            raise


def _build_system(pyproject: Path) -> dict[str, Any] | None:
    if not (pyproject.is_symlink() or pyproject.exists()):
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    data = read_regular(pyproject, _MAX_PYPROJECT)
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML ({exc})") from exc
    except RecursionError as exc:
        raise InputError("invalid TOML (nested too deeply)") from exc
    table = document.get("build-system")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise InputError("build-system must be a table")
    return table


def _backend_path(value: object) -> list[str] | None:
    """PEP 517: directories relative to the project, inside it."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("build-system.backend-path must be a list of strings")
    for entry in value:
        inside = posixpath.normpath(entry)
        if "\0" in entry or entry.startswith("/") or inside == ".." or inside.startswith("../"):
            raise InputError(f"build-system.backend-path leaves the project: {entry!r}")
    return list(value)


def _run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None, what: str) -> str:
    done = run_group(argv, env=env, cwd=cwd)
    if done.returncode != 0:
        output = f"{done.stdout}\n{done.stderr}"
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:]) or "no output"
        raise BuildError(f"{what} failed: {failure_line(output) or tail}")
    return done.stdout


def ensure_environment(root: Path, requires: list[str], env: Mapping[str, str]) -> Path:
    """The build environment's Python, reused when it already holds exactly these requirements."""
    venv = root / "env"
    marker = venv / "truewheel-requires.txt"
    wanted = "\n".join(sorted(requires)) + "\n" + _constraints(env)
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


def _constraints(env: Mapping[str, str]) -> str:
    """A PIP_CONSTRAINT file's pins (``verify --rebuild`` pins the published wheel's backend)
    belong to what the environment holds: one built under other pins is not reused."""
    path = env.get("PIP_CONSTRAINT")
    if not path or not is_regular_file(Path(path)):
        return ""
    return "# constraints\n" + read_regular(Path(path), _MAX_PYPROJECT).decode("utf-8", "replace")


def pip_for(python: Path) -> list[str]:
    """This process's pip, working on the build environment's interpreter."""
    return [sys.executable, "-m", "pip", "--python", str(python)]


def install(python: Path, wanted: Sequence[str], env: Mapping[str, str]) -> None:
    """Install PEP 508 requirements: after ``--``, so none is read as an option, and in an
    empty directory, so none names a local file."""
    if wanted:
        argv = [*pip_for(python), "install", "-q", "--disable-pip-version-check", "--", *wanted]
        with tempfile.TemporaryDirectory(prefix="truewheel-pip-") as empty:
            _run(argv, env=env, cwd=Path(empty), what="installing build requirements")


def run_build_wheel(
    source: Path,
    python: Path,
    system: BuildSystem,
    env: Mapping[str, str],
    out_dir: Path,
    config_settings: dict[str, str],
) -> Path:
    """Ask the backend for a wheel; return its path."""
    from pyproject_hooks import (
        BackendInvalid,
        BackendUnavailable,
        BuildBackendHookCaller,
        HookMissing,
        UnsupportedOperation,
    )

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
        try:
            extra = hooks.get_requires_for_build_wheel(config_settings)
            wanted = requirements(extra, f"{system.backend}'s get_requires_for_build_wheel")
            install(python, [r for r in wanted if r not in system.requires], env)
            name = hooks.build_wheel(str(out_dir), config_settings)
        except InputError as exc:
            raise BuildError(exc.message) from exc
        except (BackendUnavailable, BackendInvalid, HookMissing, UnsupportedOperation) as exc:
            raise BuildError(
                f"the build backend {system.backend} failed: {_hook_error(exc)}"
            ) from exc
    if not isinstance(name, str) or not name.endswith(".whl"):
        raise BuildError(f"the build backend {system.backend} returned {name!r}, not a wheel name")
    wheel = out_dir / Path(name).name
    if not is_regular_file(wheel):
        raise BuildError(f"the backend reported {name} but wrote no such wheel")
    return wheel


def _hook_error(exc: Exception) -> str:
    """pyproject_hooks' exceptions carry the backend's traceback; its last line says why."""
    detail = getattr(exc, "traceback", None) or getattr(exc, "message", None) or ""
    lines = [line for line in str(detail).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__
