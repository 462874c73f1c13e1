"""Findings that must be right: each false-alarm class of issue 10 on real gcc-built wheels.

The libraries are compiled from C and named as popular wheels name theirs (pillow's
libwebp family, torch's own libraries, numpy's OpenBLAS, torchvision's cudart, scipy's
two libgfortran builds); the wheels install with pip and import.  Grafted libraries are
checked after a real ``truewheel repair`` (and against ``auditwheel repair --exclude``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport
from truewheel.cli import main
from truewheel.policy.libraries import LibraryName


@pytest.fixture(scope="module")
def naming(
    wheelbuild: ModuleType, findingsbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    wheels: dict[str, Path] = findingsbuild.build_naming_wheels(
        wheelbuild, tmp_path_factory.mktemp("naming")
    )
    return wheels


def install_and_import(python: Path, wheel: Path, module: str, code: str = "") -> str:
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall"]
    subprocess.run([*pip, str(wheel)], check=True)
    done = subprocess.run(
        [str(python), "-c", f"import {module}; {code}"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def messages(report: WheelReport, code: str) -> list[str]:
    return [f"{f.file}: {f.message}" for f in report.findings if f.code == code]


def test_library_families_are_not_duplicates(naming: dict[str, Path], python: Path) -> None:
    report = Inspector().inspect(naming["names"])
    assert messages(report, "duplicate-library") == []
    assert messages(report, "duplicate-file") == []
    families = {
        f.path.rsplit("/", 1)[1]: f.identity.family if f.identity else None
        for f in report.native_files
    }
    assert families["libwebpmux-2b3c4d5e.so.3.1.2"] == families["libsharpyuv-4d5e6f70.so.0.1.2"]
    install_and_import(python, naming["names"], "twnames")


def test_true_duplicates_still_warn(naming: dict[str, Path], python: Path) -> None:
    report = Inspector().inspect(naming["twice"])
    [dup] = messages(report, "duplicate-library")
    assert "libgfortran" in dup and "2 times" in dup
    assert (
        "libgfortran-040039e1-0352e75f.so.5.0.0" in dup and "libgfortran-8f1e9814.so.5.0.0" in dup
    )
    install_and_import(python, naming["twice"], "twtwice")


def test_every_mangling_scheme_is_recognised(
    naming: dict[str, Path], findingsbuild: ModuleType
) -> None:
    report = Inspector().inspect(naming["names"])
    identities = {f.path.rsplit("/", 1)[1]: f.identity for f in report.native_files}
    for name in findingsbuild.MANGLED:
        ident = identities[name]
        assert ident is not None and ident.mangled_hash, name
    unmangled = {f.file: f.severity for f in report.findings if f.code == "vendored-unmangled"}
    assert not {f"twnames.libs/{name}" for name in findingsbuild.MANGLED} & set(unmangled)
    warned = [path for path, severity in unmangled.items() if severity == "warning"]
    assert warned == [f"twnames.libs/{findingsbuild.UNMANGLED}"]


@pytest.mark.parametrize(
    ("name", "stem", "hash_"),
    [
        ("libopenblas64_p-r0-0cf96a72.3.23.dev.so", "libopenblas64_p-r0", "0cf96a72"),
        ("libscipy_openblas64_-ff651d7f.so", "libscipy_openblas64_", "ff651d7f"),
        ("libcudart.faf08d9a.so.13", "libcudart", "faf08d9a"),
        ("libgfortran-040039e1-0352e75f.so.5.0.0", "libgfortran", "0352e75f"),
        ("libcrypto-5409cd36.so.1.1.1k", "libcrypto", "5409cd36"),
        ("zlib-" + "0123456789abcdef" * 2 + ".dll", "zlib", "0123456789abcdef" * 2),
        ("libgomp.so.1", "libgomp", None),
        ("libarrow_python.so.2600.1.0", "libarrow_python", None),
    ],
)
def test_library_name_schemes(name: str, stem: str, hash_: str | None) -> None:
    parsed = LibraryName.parse(name)
    assert (parsed.stem, parsed.hash) == (stem, hash_)


def _repair(source: Path, out: Path, *extra: str) -> Path:
    assert main(["repair", "-w", str(out), *extra, str(source)]) == 0
    [wheel] = out.glob("*.whl")
    return wheel


def test_grafted_libyaml_is_identified_and_counted(
    wheelbuild: ModuleType, findingsbuild: ModuleType, tmp_path: Path, python: Path
) -> None:
    if not Path("/usr/include/yaml.h").exists():
        pytest.skip("libyaml headers (libyaml-dev) are not installed")
    source = findingsbuild.build_yaml_wheel(wheelbuild, tmp_path / "src")
    repaired = _repair(source, tmp_path / "out")
    report = Inspector().inspect(repaired)
    [grafted] = [f for f in report.native_files if ".libs/" in f.path]
    assert grafted.identity is not None and grafted.identity.family == "libyaml"
    assert report.vendored_bytes == grafted.size
    loaded = install_and_import(python, repaired, "twyaml", "print(twyaml._core.version())")
    assert grafted.identity.version == loaded


def test_grafted_library_in_no_table_is_identified_from_the_sbom(
    wheelbuild: ModuleType,
    findingsbuild: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    libdir = tmp_path / "hostlib"
    source = findingsbuild.build_plain_wheel(wheelbuild, tmp_path / "src", libdir)
    monkeypatch.setenv("LD_LIBRARY_PATH", str(libdir))
    repaired = _repair(source, tmp_path / "out")
    report = Inspector().inspect(repaired)
    [grafted] = [f for f in report.native_files if ".libs/" in f.path]
    ident = grafted.identity
    assert ident is not None and not ident.first_party
    assert ident.note is not None and "twplain-1.0.dist-info/sboms/" in ident.note
    assert "libtwplain" in ident.name
    assert report.vendored_bytes == grafted.size


def test_excluded_library_tag_is_not_an_error(
    fixture_wheels: dict[str, Path], tmp_path: Path
) -> None:
    repaired = _repair(fixture_wheels["system_libs"], tmp_path / "tw", "--exclude", "libgomp.so.1")
    report = Inspector().inspect(repaired)
    assert report.worst() != "error", report.findings
    [info] = messages(report, "tag-excludes-libraries")
    assert "libgomp.so.1" in info
    auditwheel = shutil.which("auditwheel") or str(Path(sys.executable).parent / "auditwheel")
    if not Path(auditwheel).exists():
        return
    out = tmp_path / "aw"
    subprocess.run(
        [
            auditwheel,
            "repair",
            "-w",
            str(out),
            "--exclude",
            "libgomp.so.1",
            str(fixture_wheels["system_libs"]),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PATH": f"{Path(auditwheel).parent}{os.pathsep}{os.environ['PATH']}"},
    )
    [theirs] = out.glob("*.whl")
    assert theirs.name == repaired.name
    assert Inspector().inspect(theirs).worst() != "error"


def test_built_wheel_inspects_clean(tmp_path: Path, private_build_root: Path) -> None:
    """truewheel build drops the build interpreter's own RUNPATH (pyenv's <prefix>/lib);
    in a plain pip wheel build it is named, not warned about."""
    project = Path(__file__).resolve().parent / "fixtures" / "buildproj"
    assert main(["build", "-w", str(tmp_path / "tw"), str(project)]) == 0
    [wheel] = (tmp_path / "tw").glob("*.whl")
    report = Inspector().inspect(wheel)
    assert [f for f in report.findings if f.severity != "info"] == []
    assert messages(report, "build-environment-rpath") == []
    ldshared = str(sysconfig.get_config_var("LDSHARED") or "")
    if f"-rpath,{sys.base_prefix}/lib" in ldshared and "/.pyenv/versions/" in sys.base_prefix:
        source = tmp_path / "src"
        shutil.copytree(project, source)
        pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-cache-dir"]
        subprocess.run([*pip, "-w", str(tmp_path / "pip"), str(source)], check=True)
        [plain] = (tmp_path / "pip").glob("*.whl")
        report = Inspector().inspect(plain)
        assert [f for f in report.findings if f.severity != "info"] == []
        [named] = messages(report, "build-environment-rpath")
        assert f"{sys.base_prefix}/lib" in named


def test_absolute_runpath(
    wheelbuild: ModuleType, findingsbuild: ModuleType, tmp_path: Path
) -> None:
    """Warned where ld.so searches it; named but not warned where the file needs only libc."""
    for dist, libs, severity in [("twlibz", ["-lz"], "warning"), ("twlibc", [], "info")]:
        wheel = findingsbuild.build_runpath_wheel(wheelbuild, tmp_path, dist, libs)
        report = Inspector().inspect(wheel)
        [finding] = [f for f in report.findings if f.code == "absolute-rpath"]
        assert finding.severity == severity and "/usr/local/lib64" in finding.message


@pytest.mark.parametrize(
    ("requires", "severity"),
    [
        (["torch>=2.0", "numpy"], "info"),
        ([], "warning"),
        (['torch; extra == "gpu"'], "warning"),
        (["torchaudio"], "warning"),
    ],
)
def test_library_a_requirement_ships_is_not_the_systems_to_provide(
    wheelbuild: ModuleType,
    findingsbuild: ModuleType,
    tmp_path: Path,
    requires: list[str],
    severity: str,
) -> None:
    """torchvision needs libc10.so and requires torch, which ships it: no "system must provide"."""
    wheel = findingsbuild.build_torch_consumer(
        wheelbuild, tmp_path, tmp_path / "lib", "twvision", requires
    )
    report = Inspector().inspect(wheel)
    [finding] = [f for f in report.findings if "libc10.so" in f.message]
    assert finding.severity == severity
    if severity == "info":
        assert finding.code == "provided-by-requirement"
        assert report.provided == {"libc10.so": "torch"}
    else:
        assert finding.code == "external-library"
        assert report.provided == {}
