"""macOS and Windows judgements on real Mach-O (clang + ld64.lld) and PE (mingw-w64) files:
every slice a tag is too old for, plugins only a shipped program loads, and DLLs that nothing
of the wheel loads."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport

CORE = "twmac/_core.cpython-311-darwin.so"
DEP = "twmac/.dylibs/libtwdep.1.dylib"


def _findings(report: WheelReport, code: str) -> list[tuple[str, str, str | None]]:
    return sorted((f.severity, f.message, f.file) for f in report.findings if f.code == code)


@pytest.fixture
def mac(tmp_path: Path, machobuild: ModuleType) -> tuple[ModuleType, Any]:
    tools = machobuild.find_tools(tmp_path / "bin")
    if tools is None:
        pytest.skip("clang, ld64.lld or llvm-lipo missing")
    return machobuild, machobuild.MacBuild(tools, tmp_path)


def test_tag_too_old_names_every_slice_that_needs_more(
    tmp_path: Path, mac: tuple[ModuleType, Any], wheelbuild: ModuleType
) -> None:
    """A macosx_10_9_universal2 wheel whose arm64 slices need 12.0 and x86_64 slices 10.15:
    one error per file that says both; a file whose x86_64 slice keeps to 10.9 names arm64
    alone."""
    machobuild, mb = mac
    arm = machobuild._thin(mb, tmp_path / "arm", "arm64", "12.0")
    intel = machobuild._thin(mb, tmp_path / "intel", "x86_64", "10.15")
    intel_dep = machobuild._dep(mb, tmp_path / "intel-dep", "x86_64", "10.9")
    contents = wheelbuild._WheelContents("twmac", "slices newer than the tag")
    contents.add_text("twmac/__init__.py", "")
    contents.add_bytes(CORE, mb.lipo(tmp_path / "core", [arm[CORE], intel[CORE]]).read_bytes())
    contents.add_bytes(DEP, mb.lipo(tmp_path / "dep", [arm[DEP], intel_dep]).read_bytes())
    report = Inspector().inspect(contents.write(tmp_path, "cp311-cp311-macosx_10_9_universal2"))
    tail = (
        " (the minimum it was built for): pip installs the wheel on older macOS, where it may "
        "fail to load or crash (it may use symbols an older macOS lacks; content allows "
        "macosx_12_0_universal2)"
    )
    claims = "claims macosx_10_9_universal2 but its arm64 slice needs macOS 12.0"
    assert _findings(report, "tag-too-old") == [
        ("error", f"{claims}{tail}", DEP),
        ("error", f"{claims} and its x86_64 slice 10.15{tail}", CORE),
    ]


@pytest.fixture
def pebuild(tmp_path: Path) -> ModuleType:
    from conftest import _load_fixture_module

    module: ModuleType = _load_fixture_module("pebuild")
    if not module.shutil.which(module.TARGETS["amd64"].gcc):
        pytest.skip("mingw-w64 missing")
    return module


def test_what_an_unimported_dll_needs_is_info(
    tmp_path: Path, pebuild: ModuleType, wheelbuild: ModuleType
) -> None:
    """vcamp140.dll (the C++ AMP runtime an MSVC runtime bundle brings) imports
    D3DCOMPILER_47.dll; no module of the wheel imports it, so what it needs is information.
    Imported by the module, the same DLL's need is a warning; in a wheel without extension
    modules (soundfile's DLL, opened by path) too."""
    builder = pebuild._Builder(tmp_path / "build")
    d3d = builder.named("amd64", "D3DCOMPILER_47.dll")
    amp = builder.module("amd64", "amp", dep=d3d).read_bytes()  # imports D3DCOMPILER_47.dll
    core = builder.module("amd64", "core").read_bytes()  # imports twdep-<hash>.dll alone
    dep = builder.dep("amd64")
    alone = pebuild._wheel(tmp_path, "alone", core, dep, "win_amd64", extra={AMP: amp})
    used = builder.module("amd64", "used", dep=builder.named("amd64", AMP.rsplit("/")[-1]))
    imported = pebuild._wheel(
        tmp_path, "imported", used.read_bytes(), None, "win_amd64", extra={AMP: amp}
    )
    contents = wheelbuild._WheelContents("twwin", "a DLL and no extension module")
    contents.add_text("twwin/__init__.py", "")
    contents.add_bytes(AMP, amp)
    no_module = contents.write(tmp_path, "py3-none-win_amd64")
    needs = "needs D3DCOMPILER_47.dll, which the user's Windows must provide"
    note = (
        "; no extension module or program of the wheel loads this file, directly or through "
        "others: it matters only to code that loads it at run time (a plugin loader, ctypes)"
    )
    inspector = Inspector()
    assert _findings(inspector.inspect(alone), "external-library") == [("info", needs + note, AMP)]
    for wheel in (imported, no_module):
        assert _findings(inspector.inspect(wheel), "external-library") == [("warning", needs, AMP)]


AMP = "twwin/vcamp140.dll"


def test_plugins_and_programs_of_the_wheel(
    tmp_path: Path, mac: tuple[ModuleType, Any], wheelbuild: ModuleType
) -> None:
    """Qt Designer's layout: a program (``Tool.app/Contents/MacOS/Tool``) whose run path
    ``@executable_path/../../../lib`` reaches the wheel's libraries, and plugins it loads
    with dlopen from ``lib/plugins/designer/`` whose own run path (``@loader_path/``, as
    PySide6's libPySidePlugin has) does not: dlopen searches the main executable's run
    paths, so the plugin finds ``@rpath/libtwdep.1.dylib`` through the program's
    (``program-rpath``), and the program finds ``@executable_path/../Frameworks/...`` in
    its own bundle.  A plugin's library that the wheel lacks is still reported, as
    information: no module or program of the wheel loads the plugin."""
    machobuild, mb = mac
    arm = {"arch": "arm64", "macos": "11.0"}
    core_c = str(machobuild.CSRC / "twmac_core.c")
    dep = machobuild._dep(mb, tmp_path, "arm64", "11.0")
    framework = mb.stub("arm64", "@executable_path/../Frameworks/libtwexe.dylib", "twmac_stub.c")
    missing = mb.stub("arm64", "@rpath/libtwmissing.dylib", "twmac_stub.c")

    def link(name: str, inputs: list[Path], kind: str, *flags: str) -> bytes:
        out = mb.link(tmp_path / name, [core_c, *map(str, inputs)], kind=kind, flags=flags, **arm)
        data: bytes = out.read_bytes()
        return data

    tool = "twmac/Tool.app/Contents/MacOS/Tool"
    plugin, web = (
        "twmac/lib/plugins/designer/libtwplugin.dylib",
        "twmac/lib/plugins/designer/libtwweb.dylib",
    )
    members = {
        CORE: link("core.so", [dep], "-bundle", "-Wl,-rpath,@loader_path/lib"),
        "twmac/lib/libtwdep.1.dylib": dep.read_bytes(),
        tool: link(
            "Tool", [dep, framework], "-Wl,-e,_PyInit__core",
            "-DTWMAC_EXTRA=libtwexe_value", "-Wl,-rpath,@executable_path/../../../lib",
        ),
        "twmac/Tool.app/Contents/Frameworks/libtwexe.dylib": framework.read_bytes(),
        plugin: link("libtwplugin.dylib", [dep], "-bundle", "-Wl,-rpath,@loader_path/"),
        web: link(
            "libtwweb.dylib", [dep, missing], "-bundle",
            "-DTWMAC_EXTRA=libtwmissing_value", "-Wl,-rpath,@loader_path/../../",
        ),
    }  # fmt: skip
    contents = wheelbuild._WheelContents("twmac", "a program and its plugins")
    contents.add_text("twmac/__init__.py", "")
    for name, data in members.items():
        contents.add_bytes(name, data, 0o755)
    report = Inspector().inspect(contents.write(tmp_path, "cp311-cp311-macosx_11_0_arm64"))
    needed = {
        (f.path, d.name): (d.status, d.path, d.via)
        for f in report.images
        for d in f.dependencies
        if not d.name.startswith("/usr/lib/")
    }
    lib = "twmac/lib/libtwdep.1.dylib"
    assert needed == {
        (CORE, "@rpath/libtwdep.1.dylib"): ("bundled", lib, "rpath"),
        (tool, "@rpath/libtwdep.1.dylib"): ("bundled", lib, "program-rpath"),
        (tool, "@executable_path/../Frameworks/libtwexe.dylib"): (
            "bundled",
            "twmac/Tool.app/Contents/Frameworks/libtwexe.dylib",
            "executable_path",
        ),
        (plugin, "@rpath/libtwdep.1.dylib"): ("bundled", lib, "program-rpath"),
        (web, "@rpath/libtwdep.1.dylib"): ("bundled", lib, "rpath"),
        (web, "@rpath/libtwmissing.dylib"): ("broken", None, "unreached"),
    }
    assert [(f.severity, f.code, f.file) for f in report.findings if f.severity != "info"] == []
    [(severity, message, file)] = _findings(report, "broken-reference")
    assert (severity, file) == ("info", web)
    assert message.startswith("needs @rpath/libtwmissing.dylib, which the wheel does not have")
    assert message.endswith(
        "it matters only to code that loads it at run time (a plugin loader, ctypes)"
    )


def test_plugins_of_a_library_wheel_and_mangled_imports(
    tmp_path: Path, pebuild: ModuleType, wheelbuild: ModuleType
) -> None:
    """PyQt5-Qt5's shape: no extension module, a host library in ``bin/`` and a plugin in
    ``plugins/`` that imports it; the host loads the plugin after itself, so the plugin's
    import is found by name: information.  netCDF4's shape: a plugin importing ``twdep.dll``,
    which the wheel ships only as delvewheel's mangled copy, cannot load wherever it is
    loaded from: the warning stays."""
    builder = pebuild._Builder(tmp_path / "build")
    host = builder.named("amd64", "TwHost.dll")
    plugin = builder.module("amd64", "plugin", dep=host).read_bytes()  # imports TwHost.dll
    contents = wheelbuild._WheelContents("twlib", "a library wheel with a plugin")
    contents.add_bytes("twlib/Qt/bin/TwHost.dll", host.read_bytes())
    contents.add_bytes("twlib/Qt/plugins/platforms/twplugin.dll", plugin)
    library = Inspector().inspect(contents.write(tmp_path, "py3-none-win_amd64"))
    [broken] = _findings(library, "broken-reference")
    assert broken[0] == "info" and "twlib/Qt/bin/TwHost.dll" in broken[1]
    assert broken[2] == "twlib/Qt/plugins/platforms/twplugin.dll"

    core = builder.module("amd64", "core").read_bytes()  # imports twdep-<hash>.dll
    plain = builder.module("amd64", "plain", dep=builder.named("amd64", "twdep.dll"))
    extra = {"twwin/plugins/twfilter.dll": plain.read_bytes()}  # imports twdep.dll
    wheel = pebuild._wheel(
        tmp_path, "mangled", core, builder.dep("amd64"), "win_amd64", extra=extra
    )
    [external] = _findings(Inspector().inspect(wheel), "external-library")
    assert external[0] == "warning" and "only under the mangled name" in external[1]


def test_debug_runtime_import_stays_a_warning(tmp_path: Path, pebuild: ModuleType) -> None:
    """blosc2's ``lib/tcc.dll`` (loaded by its JIT, imported by no module) needs the debug C
    runtime, which only Visual Studio installs: no Redistributable helps, and wherever the
    file is loaded from, it fails."""
    builder = pebuild._Builder(tmp_path / "build")
    debug = builder.named("amd64", "VCRUNTIME140D.dll")
    tcc = builder.module("amd64", "tcc", dep=debug).read_bytes()
    core = builder.module("amd64", "core").read_bytes()
    extra = {"twwin/lib/tcc.dll": tcc}
    wheel = pebuild._wheel(tmp_path, "debug", core, builder.dep("amd64"), "win_amd64", extra=extra)
    [found] = _findings(Inspector().inspect(wheel), "msvc-runtime-not-shipped")
    assert found[0] == "warning" and found[2] == "twwin/lib/tcc.dll"
    assert "Visual Studio" in found[1] and "Redistributable the import" not in found[1]
