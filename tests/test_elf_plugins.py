"""ELF plugins: libraries no extension module or program of the wheel loads (PySide2's Qt
plugins).  What they need is information; two plugins with one file name are not two builds
of one library; a plugin importing the plain name of a library the wheel ships only
hash-mangled keeps its warning.  Real shared objects built with gcc."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport

MODULE = "twplug/_core.cpython-311-x86_64-linux-gnu.so"


def _gcc(out: Path, source: str, *args: str) -> Path:
    c = out.with_suffix(".c")
    c.write_text(source)
    done = subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(out), str(c), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"gcc failed: {done.stderr}")
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("plugins")
    missing = _gcc(work / "libtwabsent.so", "int tw_absent(void) { return 1; }\n",
                   "-Wl,-soname,libtwabsent.so.1")  # fmt: skip
    twz = _gcc(work / "libtwz.so", "int tw_z(void) { return 2; }\n", "-Wl,-soname,libtwz.so.1")
    mangled = "-Wl,-soname,libtwz-0a1b2c3d.so.1"  # as auditwheel's patchelf leaves it
    return {
        "module": _gcc(work / "core.so", "int PyInit__core(void) { return 0; }\n"),
        "client": _gcc(
            work / "client.so",
            "int tw_absent(void);\nint tw_c(void) { return tw_absent(); }\n",
            str(missing),
        ),
        "server": _gcc(
            work / "server.so",
            "int tw_absent(void);\nint tw_s(void) { return tw_absent() + 1; }\n",
            str(missing),
        ),
        "zlib": _gcc(work / "libtwz-graft.so", "int tw_z(void) { return 2; }\n", mangled),
        "filter": _gcc(
            work / "filter.so", "int tw_z(void);\nint tw_f(void) { return tw_z(); }\n", str(twz)
        ),
    }


def _inspect(tmp_path: Path, wheelbuild: ModuleType, files: dict[str, Path]) -> WheelReport:
    tmp_path.mkdir(parents=True, exist_ok=True)
    contents = wheelbuild._WheelContents("twplug", "ELF plugins")
    contents.add_text("twplug/__init__.py", "")
    for name, path in files.items():
        contents.add_elf(name, path)
    return Inspector().inspect(contents.write(tmp_path, "cp311-cp311-linux_x86_64"))


def _judged(report: WheelReport, code: str) -> list[tuple[str, str | None]]:
    return sorted((f.severity, f.file) for f in report.findings if f.code == code)


def test_what_a_plugin_needs_is_info(
    tmp_path: Path, wheelbuild: ModuleType, built: dict[str, Path]
) -> None:
    client = "twplug/plugins/client/libdmabuf.so"
    server = "twplug/plugins/server/libdmabuf.so"
    files = {MODULE: built["module"], client: built["client"], server: built["server"]}
    report = _inspect(tmp_path, wheelbuild, files)
    assert _judged(report, "external-library") == [("info", client), ("info", server)]
    assert "no extension module or program of the wheel loads this file" in next(
        f.message for f in report.findings if f.code == "external-library"
    )
    assert _judged(report, "duplicate-library") == []  # two plugins, not two builds
    loaded = _inspect(tmp_path / "loaded", wheelbuild, {MODULE: built["client"]})
    assert _judged(loaded, "external-library") == [("warning", MODULE)]


def test_a_plugin_importing_a_mangled_library_by_its_plain_name(
    tmp_path: Path, wheelbuild: ModuleType, built: dict[str, Path]
) -> None:
    """netCDF4's shape on Linux: the repair renamed libtwz for the modules, the plugin still
    imports libtwz.so.1, which the process does not have under that name."""
    plugin = "twplug/plugins/libfilter.so"
    files = {
        MODULE: built["module"],
        "twplug.libs/libtwz-0a1b2c3d.so.1": built["zlib"],
        plugin: built["filter"],
    }
    report = _inspect(tmp_path, wheelbuild, files)
    assert _judged(report, "external-library") == [("warning", plugin)]
