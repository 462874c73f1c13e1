"""inspect of macOS and Windows wheels: real Mach-O files (clang + ld64.lld) and PE files
(mingw-w64), wrapped in wheels by tests/fixtures/machobuild.py and pebuild.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from conftest import _load_fixture_module, check_document
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.report import WheelReport


@pytest.fixture(scope="module")
def mac_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    module: ModuleType = _load_fixture_module("machobuild")
    wheels = module.build_macos_wheels(tmp_path_factory.mktemp("macos-wheels"))
    if wheels is None:
        pytest.skip("clang, ld64.lld or llvm-lipo missing")
    return dict(wheels)


@pytest.fixture(scope="module")
def win_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    module: ModuleType = _load_fixture_module("pebuild")
    wheels = module.build_windows_wheels(tmp_path_factory.mktemp("windows-wheels"))
    if wheels is None:
        pytest.skip("mingw-w64 missing")
    return dict(wheels)


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector()


def codes(report: WheelReport) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in report.findings:
        out.setdefault(f.code, []).append(f.file or "")
    return out


def dep(report: WheelReport, path: str, name: str) -> tuple[str, str | None, str | None]:
    image = next(f for f in report.images if f.path == path)
    found = next(d for d in image.dependencies if d.name == name)
    return found.status, found.path, found.via


CORE = "twmac/_core.cpython-311-darwin.so"
DEP = "twmac/.dylibs/libtwdep.1.dylib"
PYD = "twwin/_core.cp311-win_amd64.pyd"


def test_macos_arm64_resolves_rpath_and_passes(
    mac_wheels: dict[str, Path], inspector: Inspector
) -> None:
    report = inspector.inspect(mac_wheels["arm64"])
    platform = report.image_platform
    assert platform is not None and platform.system == "macos"
    assert platform.computed_tag == "macosx_11_0_arm64"
    assert {f.path for f in report.images} == {CORE, DEP}
    assert dep(report, CORE, "@rpath/libtwdep.1.dylib") == ("bundled", DEP, "rpath")
    assert dep(report, CORE, "/usr/lib/libSystem.B.dylib")[0] == "system"
    assert report.findings == []
    assert report.native_files == []  # ELF only; Mach-O is in images


def test_loader_path_reference(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(mac_wheels["loader_path"])
    image = next(f for f in report.images if f.path == CORE)
    bundled = [d for d in image.dependencies if d.status == "bundled"]
    assert [d.via for d in bundled] == ["loader_path"]
    assert not [f for f in report.findings if f.severity != "info"]


def test_tag_older_than_the_slices(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(mac_wheels["x86_64_old_tag"])
    assert report.image_platform is not None
    assert report.image_platform.computed_tag == "macosx_11_0_x86_64"
    too_old = [f for f in report.findings if f.code == "tag-too-old"]
    assert too_old and all(f.severity == "error" for f in too_old)
    assert "needs macOS 11.0" in too_old[0].message


def test_version_min_command_allows_its_tag(
    mac_wheels: dict[str, Path], inspector: Inspector
) -> None:
    report = inspector.inspect(mac_wheels["x86_64_versionmin"])
    assert report.image_platform is not None
    assert report.image_platform.computed_tag == "macosx_10_9_x86_64"
    assert "tag-too-old" not in codes(report)


def test_universal2(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(mac_wheels["universal2"])
    assert report.image_platform is not None
    assert report.image_platform.architectures == ["universal2"]
    assert all(set(f.architectures) == {"arm64", "x86_64"} for f in report.images)
    assert report.image_platform.computed_tag == "macosx_10_9_universal2"
    assert [(f.severity, f.code) for f in report.findings] == [("info", "tag-conservative")]


def test_universal2_missing_a_slice(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(mac_wheels["universal2_missing"])
    assert codes(report)["architecture-missing"] == [CORE]
    assert report.image_platform is not None
    assert report.image_platform.computed_tag == "macosx_11_0_arm64"


def test_absolute_install_name_is_external(
    mac_wheels: dict[str, Path], inspector: Inspector
) -> None:
    report = inspector.inspect(mac_wheels["external"])
    name = "/opt/homebrew/opt/gmp/lib/libgmp.10.dylib"
    assert dep(report, CORE, name)[0] == "external"
    assert codes(report)["external-library"] == [CORE]
    assert report.image_platform is not None
    assert report.image_platform.external_libraries == [name]


def test_unreached_rpath_reference(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    """Every run path stays in the wheel and none reaches it: dyld cannot find it."""
    report = inspector.inspect(mac_wheels["broken"])
    assert dep(report, CORE, "@rpath/libtwmissing.dylib") == ("broken", None, "unreached")
    assert codes(report)["broken-reference"] == [CORE]
    assert [f.severity for f in report.findings] == ["error"]


def test_weak_reference_missing_is_info(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(mac_wheels["weak"])
    assert [f.severity for f in report.findings] == ["info"]
    assert report.findings[0].code == "weak-library-missing"


def test_relative_rpath(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    """dyld takes a relative LC_RPATH from the working directory: a warning where the
    file loads through @rpath/, an info in the dylib that loads nothing that way."""
    report = inspector.inspect(mac_wheels["relative_rpath"])
    found = sorted((f.severity, f.file) for f in report.findings if f.code == "relative-rpath")
    assert found == [("info", DEP), ("warning", CORE)]
    assert not [f for f in report.findings if f.severity == "error"]


def test_unsigned_arm64(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(mac_wheels["unsigned_arm64"])
    assert sorted(codes(report)["code-signature-missing"]) == [DEP, CORE]


def test_build_path(mac_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(mac_wheels["build_path"])
    roots = [f.message for f in report.findings if f.code == "build-path"]
    assert any("/Users/runner/work" in m for m in roots), roots


def test_windows_delvewheel_layout(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(win_wheels["amd64"])
    platform = report.image_platform
    assert platform is not None and platform.system == "windows"
    assert platform.computed_tag == "win_amd64"
    image = next(f for f in report.images if f.path == PYD)
    statuses = {d.name.lower(): (d.status, d.via) for d in image.dependencies}
    mangled = [n for n in statuses if n.startswith("twdep-")]
    assert len(mangled) == 1 and statuses[mangled[0]] == ("bundled", "package-loader")
    assert statuses["kernel32.dll"] == ("system", None) or statuses["kernel32.dll"][0] == "system"
    assert statuses["python311.dll"] == ("system", "interpreter")
    assert statuses["vcruntime140.dll"] == ("system", "interpreter")
    assert report.findings == []


def test_windows_load_order_file(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(win_wheels["load_order"])
    image = next(f for f in report.images if f.path == PYD)
    assert all(d.status in ("bundled", "system") for d in image.dependencies)
    assert report.findings == []


def test_windows_win32(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(win_wheels["win32"])
    assert report.image_platform is not None
    assert report.image_platform.computed_tag == "win32"
    assert report.findings == []


def test_windows_wrong_machine(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(win_wheels["wrong_machine"])
    assert len(codes(report)["architecture-mismatch"]) == len(report.images)
    assert report.image_platform is not None
    assert report.image_platform.computed_tag == "win_amd64"


def test_windows_missing_dll(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(win_wheels["missing_dll"])
    assert codes(report)["external-library"] == [PYD]
    assert report.image_platform is not None
    assert report.image_platform.external_libraries == ["libgmp-10.dll"]


def test_windows_msvc_runtime(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    report = inspector.inspect(win_wheels["msvc_runtime"])
    found = [f for f in report.findings if f.code == "msvc-runtime-not-shipped"]
    assert [f.file for f in found] == [PYD]
    assert "msvcp140.dll" in found[0].message.lower()


def test_windows_delay_load_and_pdb(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    delay = inspector.inspect(win_wheels["delay"])
    vias = {d.via for f in delay.images for d in f.dependencies}
    assert "delay-load" in vias
    assert not [f for f in delay.findings if f.severity != "info"]
    pdb = inspector.inspect(win_wheels["pdb"])
    assert [f.message for f in pdb.findings if f.code == "build-path"]
    missing = inspector.inspect(win_wheels["delay_missing"])
    found = [(f.severity, f.code, f.file) for f in missing.findings if "delay" in f.code]
    assert found == [("info", "delay-load-missing", PYD)]
    assert "twdep-" in next(f.message for f in missing.findings if f.code == "delay-load-missing")


def test_windows_python_dll_against_tags(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    """The module imports python311.dll: right for cp311-cp311, wrong for an abi3 wheel
    (3.12 has no python311.dll) and for a cp312 wheel."""
    assert not codes(inspector.inspect(win_wheels["amd64"])).get("python-dll-mismatch")
    abi3 = inspector.inspect(win_wheels["abi3_versioned"])
    found = [f for f in abi3.findings if f.code == "python-dll-mismatch"]
    assert [(f.severity, f.file) for f in found] == [("error", "twwin/_core.pyd")]
    assert "python311.dll" in found[0].message and "python3.dll" in found[0].message
    other = inspector.inspect(win_wheels["other_python"])
    found = [f for f in other.findings if f.code == "python-dll-mismatch"]
    assert [(f.severity, f.file) for f in found] == [("error", PYD)]
    assert "cp312-cp312" in found[0].message


def test_windows_build_paths_in_strings(win_wheels: dict[str, Path], inspector: Inspector) -> None:
    """``__FILE__`` under pip's temp dir is a warning, a CI checkout (doubled backslashes
    of a stringified macro) is info; a forward-slash path keeps its drive letter and its
    slashes; OpenSSL's run-time ``C:\\Program Files``, a URL, a Qt resource URL
    (``qrc:/qt-project.org/...``: no drive c) and text with escaped newlines are not build
    paths."""
    report = inspector.inspect(win_wheels["strings"])
    found = sorted((f.severity, f.message) for f in report.findings if f.code == "build-path")
    temp = "C:\\Users\\runneradmin\\AppData\\Local\\Temp"
    assert found == [
        ("info", "embeds build path C:\\actions-runner\\_work\\twwin in .rdata"),
        (
            "warning",
            "embeds build path C:/Users/runneradmin/AppData/Local/Temp/build-env-ab12cd34 in "
            ".rdata (differs on every build)",
        ),
        ("warning", f"embeds build path {temp}\\tmp453k4de2 in .rdata (differs on every build)"),
    ]


def test_cli_json_for_both(
    mac_wheels: dict[str, Path], win_wheels: dict[str, Path], tmp_path: Path
) -> None:
    for wheel, code in ((mac_wheels["arm64"], 0), (win_wheels["missing_dll"], 1)):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "truewheel",
                "inspect",
                "--fail-on",
                "warning",
                "--json",
                str(wheel),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == code, run.stderr
        document = json.loads(run.stdout)
        check_document(document)
        body = document["wheels"][0]
        assert body["image_platform"]["system"] in ("macos", "windows")
        assert body["summary"]["images"] == len(body["images"]) == 2


def test_linux_wheel_with_a_stray_dll_is_not_judged(
    win_wheels: dict[str, Path], wheelbuild: ModuleType, tmp_path: Path, inspector: Inspector
) -> None:
    """A PE file in a pure wheel (setuptools' launchers) is listed, never judged."""
    import zipfile

    source = win_wheels["missing_dll"]
    with zipfile.ZipFile(source) as z:
        dll = z.read(PYD)
    contents = wheelbuild._WheelContents("twpure", "a pure wheel with a launcher")
    contents.add_text("twpure/__init__.py", "")
    contents.add_bytes("twpure/cli-64.exe", dll, 0o755)
    wheel = contents.write(tmp_path, "py3-none-any", root_is_purelib=True)
    report = inspector.inspect(wheel)
    assert [f.path for f in report.images] == ["twpure/cli-64.exe"]
    assert report.image_platform is None
    assert report.images[0].dependencies == []
    assert report.findings == []


def _lfanew_past_the_end(data: bytes) -> bytes:
    return data[:0x3C] + (0x7FFFFFF0).to_bytes(4, "little") + data[0x40:]


def _fat_count_65535(data: bytes) -> bytes:
    """A universal header claiming 65535 slices: past is_macho's bound, so told from a Java
    class only by the file's name."""
    return b"\xca\xfe\xba\xbe" + (0xFFFF).to_bytes(4, "big") + data[8:]


@pytest.mark.parametrize(
    ("case", "corrupt"),
    [
        ("mac", lambda data: data[: len(data) // 3]),
        ("win", lambda data: data[: len(data) // 3]),
        ("win", _lfanew_past_the_end),
        ("win", lambda data: data[: 0x80 + 2]),  # cut inside the PE signature
        ("mac", _fat_count_65535),
    ],
)
def test_truncated_binary_is_one_line_exit_2(
    case: str,
    corrupt: Callable[[bytes], bytes],
    mac_wheels: dict[str, Path],
    win_wheels: dict[str, Path],
    wheelbuild: ModuleType,
    tmp_path: Path,
) -> None:
    """A binary cut short or with headers that lie fails the run in one line, even when
    the headers cannot prove the format any more: the name and first bytes claim it."""
    import zipfile

    source, member, tag = {
        "mac": (mac_wheels["arm64"], CORE, "cp311-cp311-macosx_11_0_arm64"),
        "win": (win_wheels["amd64"], PYD, "cp311-cp311-win_amd64"),
    }[case]
    with zipfile.ZipFile(source) as z:
        data = z.read(member)
    contents = wheelbuild._WheelContents("twbad", "a truncated binary")
    contents.add_text("twbad/__init__.py", "")
    name = f"twbad/{member.split('/', 1)[1]}"
    contents.add_bytes(name, corrupt(data), 0o755)
    wheel = contents.write(tmp_path, tag)
    run = subprocess.run(
        [sys.executable, "-m", "truewheel", "inspect", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in run.stderr
    assert ("Mach-O" if case == "mac" else "PE") in lines[0]


def test_scan_catalogs_mach_o_and_pe_files(
    mac_wheels: dict[str, Path], win_wheels: dict[str, Path], tmp_path: Path
) -> None:
    """The catalog holds Mach-O and PE files beside ELF ones, with their format and kind."""
    import shutil
    import sqlite3

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for wheel in (mac_wheels["arm64"], win_wheels["amd64"]):
        shutil.copy(wheel, corpus)
    db = tmp_path / "catalog.sqlite"
    run = subprocess.run(
        [sys.executable, "-m", "truewheel", "scan", "--catalog", str(db), "--json", str(corpus)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    check_document(document)
    assert document["summary"]["native_files"] == 4
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT path, format, kind, architecture FROM native_files ORDER BY path"
        ).fetchall()
    assert [(p.split("/")[-1].split("-")[0], f, k, a) for p, f, k, a in rows] == [
        ("libtwdep.1.dylib", "macho", "library", "arm64"),
        ("_core.cpython", "macho", "extension", "arm64"),
        ("twdep", "pe", "library", "amd64"),
        ("_core.cp311", "pe", "extension", "amd64"),
    ]


def test_system_dll_shipped_in_the_wheel(
    win_wheels: dict[str, Path], wheelbuild: ModuleType, tmp_path: Path, inspector: Inspector
) -> None:
    """A copy of a Windows DLL (combase.dll) in a wheel is never the one the loader uses."""
    import zipfile

    with zipfile.ZipFile(win_wheels["amd64"]) as z:
        dll = z.read(next(n for n in z.namelist() if n.startswith("twwin.libs/twdep-")))
        pyd = z.read(PYD)
    contents = wheelbuild._WheelContents("twwin", "a wheel shipping combase.dll")
    contents.add_text("twwin/__init__.py", "")
    contents.add_bytes(PYD, pyd, 0o755)
    contents.add_bytes("twwin/combase.dll", dll, 0o755)
    report = inspector.inspect(contents.write(tmp_path, "cp311-cp311-win_amd64"))
    assert codes(report)["vendored-system-library"] == ["twwin/combase.dll"]


@pytest.mark.parametrize(
    ("system", "case"),
    [
        ("mac", "versions"),
        ("mac", "versions_x86_64"),
        ("mac", "versions_universal2"),
        ("win", "versions"),
        ("win", "versions_win32"),
        ("win", "versions_lld"),
    ],
)
def test_versions_behind_exported_symbols(
    mac_wheels: dict[str, Path], win_wheels: dict[str, Path], system: str, case: str
) -> None:
    """GMP's pointer, FLINT's array and MPFR's function (csrc/twversion.c) read from the
    Mach-O (thin arm64 padded past the first MiB, x86_64, universal2) and PE (mingw x86-64
    padded, i686, lld-link) stand-ins, as ``inspect --json`` reports them."""
    wheels = mac_wheels if system == "mac" else win_wheels
    if case not in wheels:
        pytest.skip("clang, lld-link or llvm-dlltool missing")
    run = subprocess.run(
        [sys.executable, "-m", "truewheel", "inspect", "--json", str(wheels[case])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    document = json.loads(run.stdout)
    check_document(document)
    found = {
        image["path"].rsplit("/", 1)[-1]: (
            image["identity"]["version"],
            image["identity"]["evidence"],
        )
        for image in document["wheels"][0]["images"]
        if image["identity"]
    }
    if system == "mac":
        names = ["libgmp.10.dylib", "libmpfr.6.dylib", "libflint.19.dylib"]
    else:
        names = ["libgmp-10.dll", "libmpfr-6.dll", "libflint-19.dll"]
    assert found == {
        names[0]: ("6.3.0", "__gmp_version = '6.3.0'"),
        names[1]: ("4.2.1", "mpfr_get_version = '4.2.1'"),
        names[2]: ("3.1.2", "flint_version = '3.1.2'"),
    }


def test_windows_system32_dlls_outside_the_core(
    win_wheels: dict[str, Path], inspector: Inspector
) -> None:
    """usp10.dll and aclui.dll (pygame's SDL2_ttf, pywin32) are in System32 of every
    Windows from 7 SP1 on: imported, they are the system's, with no finding."""
    report = inspector.inspect(win_wheels["system_dlls"])
    image = next(f for f in report.images if f.path == PYD)
    statuses = {d.name.lower(): d.status for d in image.dependencies}
    assert statuses["usp10.dll"] == statuses["aclui.dll"] == "system"
    assert report.findings == []
    assert report.image_platform is not None
    assert report.image_platform.external_libraries == []


def test_windows_import_of_a_mangled_name(
    win_wheels: dict[str, Path], inspector: Inspector
) -> None:
    """The module imports twdep.dll; the wheel ships twdep-<hash>.dll (delvewheel's name),
    which no import of twdep.dll finds: still a warning, now saying why."""
    report = inspector.inspect(win_wheels["mangled_only"])
    found = [f for f in report.findings if f.code == "external-library"]
    assert [(f.severity, f.file) for f in found] == [("warning", PYD)]
    mangled = next(f.path for f in report.images if f.path.startswith("twwin.libs/twdep-"))
    assert found[0].message == (
        "needs twdep.dll, which the user's Windows must provide: the wheel ships it only under "
        f"the mangled name {mangled}, which the import does not name"
    )
    plain = inspector.inspect(win_wheels["missing_dll"])
    message = next(f.message for f in plain.findings if f.code == "external-library")
    assert message == "needs libgmp-10.dll, which the user's Windows must provide"


PW_MODULE = "twpw/twpwcore.cp311-win_amd64.pyd"


def test_windows_pth_bootstrap_adds_the_dll_folder(
    win_wheels: dict[str, Path], inspector: Inspector
) -> None:
    """pywin32's shape: twpw.pth imports twpw_bootstrap (found in twpw\\lib, which the same
    .pth adds to sys.path), which adds twpw_system32 with os.add_dll_directory."""
    report = inspector.inspect(win_wheels["pth_loader"])
    assert dep(report, PW_MODULE, "twpwtypes311.dll") == (
        "bundled",
        "twpw_system32/twpwtypes311.dll",
        "package-loader",
    )
    assert report.findings == []


@pytest.mark.parametrize("case", ["pth_no_import", "pth_other_folder"])
def test_windows_pth_without_the_bootstrap_is_broken(
    case: str, win_wheels: dict[str, Path], inspector: Inspector
) -> None:
    """Without the .pth's import line, or with a bootstrap adding another folder, nothing
    reaches twpw_system32: the error stays."""
    report = inspector.inspect(win_wheels[case])
    assert dep(report, PW_MODULE, "twpwtypes311.dll")[0] == "broken"
    assert codes(report)["broken-reference"] == [PW_MODULE]


def test_windows_foreign_copies_nothing_imports(
    win_wheels: dict[str, Path], inspector: Inspector
) -> None:
    """x86 DLLs beside an amd64 wheel's modules that no import loads (sounddevice's
    portaudio-binaries, picked by ctypes): info, and not counted in the tag."""
    report = inspector.inspect(win_wheels["foreign_unused"])
    found = sorted((f.severity, f.file) for f in report.findings if "architecture" in f.code)
    assert found == [
        ("info", "twwin/_data/x86/libgmp-10.dll"),
        ("info", "twwin/_data/x86/twdep.dll"),
    ]
    assert {f.code for f in report.findings if "architecture" in f.code} == {
        "foreign-architecture-file"
    }
    assert not [f for f in report.findings if f.severity != "info"]
    assert report.image_platform is not None
    assert report.image_platform.computed_tag == "win_amd64"
    assert report.image_platform.architectures == ["amd64"]


def test_windows_wheel_with_no_file_of_its_machine(
    win_wheels: dict[str, Path], wheelbuild: ModuleType, tmp_path: Path, inspector: Inspector
) -> None:
    """x86 DLLs alone in a win_amd64 wheel (a ctypes package built for the wrong machine)
    are no per-architecture choice: each is an error, as before."""
    import zipfile

    with zipfile.ZipFile(win_wheels["foreign_unused"]) as z:
        x86 = {n: z.read(n) for n in z.namelist() if n.startswith("twwin/_data/x86/")}
    contents = wheelbuild._WheelContents("twwin", "x86 DLLs only")
    contents.add_text("twwin/__init__.py", "")
    for name, data in x86.items():
        contents.add_bytes(name, data)
    report = inspector.inspect(contents.write(tmp_path, "py3-none-win_amd64"))
    assert sorted(codes(report)["architecture-mismatch"]) == sorted(x86)
    assert "foreign-architecture-file" not in codes(report)


@pytest.mark.parametrize(
    ("case", "path"),
    [
        ("foreign_imported", "twwin.libs/twdep-"),  # the amd64 module imports the x86 DLL
        ("foreign_module", "twwin/_x86.cp311-win32.pyd"),  # an x86 extension module
    ],
)
def test_windows_foreign_files_that_load_are_errors(
    case: str, path: str, win_wheels: dict[str, Path], inspector: Inspector
) -> None:
    report = inspector.inspect(win_wheels[case])
    found = [f for f in report.findings if f.code == "architecture-mismatch"]
    assert [(f.severity, (f.file or "")[: len(path)]) for f in found] == [("error", path)]
    assert "foreign-architecture-file" not in codes(report)
    assert report.image_platform is not None
    assert report.image_platform.computed_tag == "win_amd64"  # the module's machine


def test_cli_counts_native_files_in_words(win_wheels: dict[str, Path]) -> None:
    """``1 PE file``, ``2 PE files``: the summary's nouns agree with their numbers."""
    for case, expected in (("delay_missing", "1 PE file,"), ("amd64", "2 PE files,")):
        if case not in win_wheels:
            continue
        run = subprocess.run(
            [sys.executable, "-m", "truewheel", "inspect", str(win_wheels[case])],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert expected in run.stdout, run.stdout
        assert "1 PE files" not in run.stdout
