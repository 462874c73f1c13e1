"""`truewheel build` compiles with exactly the flags of `pip wheel`, plus only prefix maps.

A logging compiler wrapper sits first on PATH for both builds and records every compiler
invocation (truewheel's shims find it on PATH and call it, so its log shows what reaches
the real compiler).  Paths that differ by nature (where the source and the build
environment live) are written as tokens before the two logs are compared.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import run_python, venv_python
from truewheel.cli import main
from truewheel.reproducible.compilers import interpreter_run_paths

FIXTURES = Path(__file__).parent / "fixtures"
COMPILERS = ("cc", "gcc", "c++", "g++", "gfortran")
PREFIX_MAP = re.compile(r"^-f(file|debug|macro)-prefix-map=")


@pytest.fixture(scope="module", autouse=True)
def build_root(private_build_root: Path) -> Path:
    return private_build_root


def logging_compilers(directory: Path) -> Path:
    """One sh script per compiler on PATH: log ``name cwd args...`` (NUL-separated), run it."""
    directory.mkdir()
    for name in COMPILERS:
        real = shutil.which(name)
        if real is None:
            continue
        script = directory / name
        script.write_text(
            "#!/bin/sh\n"
            'log=$(mktemp "$TW_COMPILE_LOG/call.XXXXXX")\n'
            f'printf \'%s\\0\' {name} "$PWD" "$@" > "$log"\n'
            f'exec {shlex.quote(real)} "$@"\n'
        )
        script.chmod(0o755)
    return directory


def invocations(log: Path, places: list[tuple[str, str]]) -> list[tuple[str, ...]]:
    """Every logged invocation, places replaced by tokens, sorted (parallel builds reorder).

    ``cc --version`` is left out: truewheel also asks it, for the buildinfo.
    """
    calls = []
    for path in log.iterdir():
        fields = path.read_bytes().decode().split("\0")[:-1]
        if [f for f in fields[2:] if not PREFIX_MAP.match(f)] == ["--version"]:
            continue
        canonical = []
        for value in fields:
            for place, token in places:
                value = re.sub(place, token, value)
            canonical.append(value)
        calls.append(tuple(canonical))
    return sorted(calls)


def pip_wheel(source: Path, out: Path, env: dict[str, str]) -> Path:
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-cache-dir"]
    subprocess.run([*argv, "-w", str(out), str(source)], check=True, env=env, capture_output=True)
    [wheel] = out.glob("*.whl")
    return wheel


def producers(wheel: Path, member_suffix: str, scratch: Path) -> list[str]:
    """The DW_AT_producer strings of one member, as readelf prints them."""
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(member_suffix)]
        scratch.write_bytes(archive.read(name))
    text = subprocess.run(
        ["readelf", "--debug-dump=info", str(scratch)], capture_output=True, text=True, check=True
    ).stdout
    return [line.split("): ", 1)[1] for line in text.splitlines() if "DW_AT_producer" in line]


def compiler_calls(
    project: str, tmp_path: Path, build_root: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], Path, Path]:
    """Build ``project`` with pip wheel and with truewheel through the logging compilers;
    return both logs in canonical form and both wheels."""
    wrappers = logging_compilers(tmp_path / "wrappers")
    path = f"{wrappers}{os.pathsep}{os.environ['PATH']}"
    pip_tmp, pip_log, tw_log = tmp_path / "pip-tmp", tmp_path / "pip-log", tmp_path / "tw-log"
    for directory in (pip_tmp, pip_log, tw_log):
        directory.mkdir()
    pip_source = tmp_path / "pip-src" / project
    shutil.copytree(FIXTURES / project, pip_source)
    pip_env = {**os.environ, "PATH": path, "TW_COMPILE_LOG": str(pip_log), "TMPDIR": str(pip_tmp)}
    pip_built = pip_wheel(pip_source, tmp_path / "pip-out", pip_env)

    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("TW_COMPILE_LOG", str(tw_log))
    out = tmp_path / "tw-out"
    assert main(["build", str(FIXTURES / project), "-w", str(out)]) == 0
    [built] = out.glob("*.whl")
    # Where each side keeps the same things: the source, a build directory the backend
    # chose (meson-python: a random .mesonpy-* one under pip; scikit-build-core: a random
    # temporary one), the build requirements and the interpreter's prefix.
    pip_places = [
        (re.escape(str(pip_source)) + r"/\.mesonpy-[^/]+", "<build>"),
        (re.escape(str(pip_tmp)) + r"/tmp[^/]+/build", "<build>"),
        (re.escape(str(pip_tmp)) + r"/pip-build-env-[^/]+/(overlay|normal)", "<prefix>"),
        (re.escape(str(pip_source)), "<source>"),
        (re.escape(sys.exec_prefix), "<prefix>"),
    ]
    tw_places = [
        (re.escape(str(build_root / "src")) + r"/(\.mesonpy-build|build/skbuild)", "<build>"),
        (re.escape(str(build_root / "src")), "<source>"),
        (re.escape(str(build_root / "env")), "<prefix>"),
    ]
    # Compiler checks run in random directories of meson's and CMake's own on both sides.
    probes = [
        (r"/meson-private/tmp[^/]+", "/meson-private/<probe>"),
        (r"/CMakeScratch/TryCompile-[^/]+", "/CMakeScratch/<probe>"),
        (r"cmTC_[0-9a-f]+", "cmTC_<probe>"),
    ]
    return (
        invocations(pip_log, pip_places + probes),
        invocations(tw_log, tw_places + probes),
        pip_built,
        built,
    )


def assert_same_but_maps(pip_calls: list[tuple[str, ...]], tw_calls: list[tuple[str, ...]]) -> None:
    """truewheel adds prefix maps after the package's flags and drops the interpreter's
    own run path; every other argument of every call is pip's."""
    run_paths = set(interpreter_run_paths())
    assert len(pip_calls) == len(tw_calls) >= 1
    for pip_call, tw_call in zip(pip_calls, tw_calls, strict=True):
        added = [a for a in tw_call if PREFIX_MAP.match(a)]
        removed = [a for a in pip_call if a in run_paths]
        assert [a for a in tw_call if a not in added] == [a for a in pip_call if a not in removed]
        assert len(added) >= 3, "the shims append the prefix maps to every call"
        assert tw_call[-len(added) :] == tuple(added), "after the package's flags"


@pytest.mark.parametrize("project", ["mesonproj", "cmakeproj"])
def test_meson_and_cmake_builds_keep_their_flags(
    project: str, tmp_path: Path, build_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip_calls, tw_calls, pip_built, built = compiler_calls(
        project, tmp_path, build_root, monkeypatch
    )
    compiles = [call for call in tw_calls if "-c" in call]
    assert compiles, "the extension was compiled through the shims"
    assert_same_but_maps(pip_calls, tw_calls)
    assert pip_built.name == built.name
    python, env = venv_python(tmp_path / "venv", built)
    module = project.removesuffix("proj")
    done = run_python(python, env, f"import tw{module}; print(tw{module}.ndebug())")
    assert done.stdout.strip() == "True", done.stderr


def test_flags_equal_pip_wheel_apart_from_prefix_maps(
    tmp_path: Path, build_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip_calls, tw_calls, pip_built, built = compiler_calls(
        "flagsproj", tmp_path, build_root, monkeypatch
    )
    assert len(tw_calls) >= 4
    assert_same_but_maps(pip_calls, tw_calls)
    names = {call[0] for call in tw_calls}
    assert {"gcc", "g++"} <= names
    if shutil.which("gfortran"):
        [fortran] = [call for call in tw_calls if call[0] == "gfortran"]
        assert "-O1" in fortran and "-fno-underscoring" in fortran

    interpreter_flags = shlex.split(sysconfig.get_config_var("CFLAGS") or "")
    [cxx_compile] = [c for c in tw_calls if c[0] == "g++" and "-c" in c]
    assert all(flag in cxx_compile for flag in interpreter_flags)
    optimization = [f for f in interpreter_flags if f.startswith("-O")]
    for producer in producers(
        built, "_cpp" + sysconfig.get_config_var("EXT_SUFFIX"), tmp_path / "cpp.so"
    ):
        assert all(flag in producer.split() for flag in optimization), producer
        assert "-fwrapv" in producer.split() or "-fwrapv" not in interpreter_flags

    python, env = venv_python(tmp_path / "venv", built)
    done = run_python(
        python,
        env,
        "import twflags as t; print(t.c_ndebug(), t.cpp_ndebug(), t.fortran_square(3.0))",
    )
    assert done.returncode == 0, done.stderr
    ndebug = "-DNDEBUG" in interpreter_flags
    expected_square = "9.0" if shutil.which("gfortran") else "None"
    assert done.stdout.split() == [str(ndebug), str(ndebug), expected_square]
    assert pip_built.name == built.name


def test_built_extension_has_no_interpreter_run_path(tmp_path: Path) -> None:
    if not interpreter_run_paths():
        pytest.skip("this interpreter links extensions without a run path into itself")
    out = tmp_path / "out"
    assert main(["build", str(FIXTURES / "flagsproj"), "-w", str(out)]) == 0
    [built] = out.glob("*.whl")
    scratch = tmp_path / "ext.so"
    with zipfile.ZipFile(built) as archive:
        for name in (n for n in archive.namelist() if n.endswith(".so")):
            scratch.write_bytes(archive.read(name))
            dynamic = subprocess.run(
                ["readelf", "-d", "-W", str(scratch)], capture_output=True, text=True, check=True
            ).stdout
            assert "RPATH" not in dynamic and "RUNPATH" not in dynamic, name
    info = (out / (built.name + ".buildinfo.json")).read_text()
    assert all(path in info for path in interpreter_run_paths())
    assert main(["inspect", "--json", str(built)]) == 0


def test_check_varies_the_root_and_catches_a_leak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = FIXTURES / "tempproj"
    assert main(["build", "--check", "2", "-w", str(tmp_path / "clean"), str(source)]) == 0
    out = capsys.readouterr().out
    assert "reproducible" in out and "-alt" in out, "the second build runs in another root"
    [built] = (tmp_path / "clean").glob("*.whl")
    python, env = venv_python(tmp_path / "venv", built)
    done = run_python(python, env, "import twtemp; print(twtemp.where())")
    assert done.stdout.strip() == "/truewheel/tmp/build/src/twtemp_core.c", done.stderr

    monkeypatch.setenv("TWTEMP_LEAK_ROOT", "1")
    assert main(["build", "--check", "2", "-w", str(tmp_path / "leaky"), str(source)]) == 1
    out = capsys.readouterr().out
    assert "NOT reproducible" in out and "where.txt" in out


def test_rust_program_with_a_vendored_crate_is_the_same_from_both_roots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rustc shim remaps the build root: a vendored crate's ``file!()`` (an absolute
    path under plain pip wheel) reads /truewheel/... and the program is identical from
    both roots.  maturin's own SBOM records the project's path, which no compiler flag
    reaches: the check names it, the only difference."""
    if shutil.which("cargo") is None or shutil.which("rustc") is None:
        pytest.skip("cargo and rustc are not installed")
    out = tmp_path / "out"
    code = main(["build", "--check", "2", "-w", str(out), str(FIXTURES / "rustproj")])
    report = capsys.readouterr().out
    [built] = out.glob("*.whl")
    program = "twrust-1.0.data/scripts/twrust"
    with zipfile.ZipFile(built) as archive:
        first = archive.read(program)
    if code == 1:
        [other] = (out / "check-b").glob("*.whl")
        with zipfile.ZipFile(other) as archive:
            assert archive.read(program) == first
        causes = report.split("causes:\n", 1)[1].split("consequences:", 1)[0].split("\n")
        assert [c for c in causes if c.strip()] == [
            "  twrust-1.0.dist-info/sboms/twrust.cyclonedx.json: text differs"
        ]
    else:
        assert code == 0
    binary = tmp_path / "twrust"
    binary.write_bytes(first)
    binary.chmod(0o755)
    done = subprocess.run([str(binary)], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["src/main.rs", "/truewheel/src/vendor/twdep/src/lib.rs"]


def test_a_compiler_named_by_absolute_path_is_shimmed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``CC=/usr/bin/gcc`` never looks at PATH; the build still gets the prefix maps."""
    real = shutil.which("gcc")
    assert real is not None
    monkeypatch.setenv("CC", real)
    out = tmp_path / "out"
    assert main(["build", str(FIXTURES / "buildproj"), "-w", str(out)]) == 0
    [built] = out.glob("*.whl")
    info = (out / (built.name + ".buildinfo.json")).read_text()
    assert f"cc-{Path(real).name}" in info
    record = json.loads(info)
    assert record["environment"]["CC"] == real, "the user's CC, not the shim standing in"
    assert record["toolchain"]["compiler"], "asked of the user's compiler"
    with zipfile.ZipFile(built) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".so")]
        binary = archive.read(name)
    assert b"/truewheel/src" in binary
    assert str(tmp_path).encode() not in binary and b"truewheel-build" not in binary
