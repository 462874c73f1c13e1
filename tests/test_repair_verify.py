"""Repairs that are proven: the output loads, stale search paths go, every auditwheel flag works.

Every wheel here is built from C with gcc, repaired by ``truewheel repair`` and, where it
matters, installed by pip into a real venv and imported.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import dynamic, load_wheelbuild, run_python, venv_python
from truewheel.analysis.inspector import Inspector
from truewheel.cli import main

wb: ModuleType = load_wheelbuild()


def repair(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    status = main(["repair", "--json", *args])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def toolchain(root: Path) -> Any:
    import sysconfig

    paths = sysconfig.get_paths()
    include = tuple(dict.fromkeys([paths["include"], paths["platinclude"]]))
    return wb._Toolchain(root, include, wb.ext_suffix())


# -- 1. never exit 0 with a wheel that cannot load ----------------------------------------


def test_output_that_cannot_load_is_refused(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """twbroken needs libmissing (only on LD_LIBRARY_PATH: grafted) and libhidden (shipped
    where no search path reaches): the grafted wheel would still fail, so it is refused."""
    broken = fixture_wheels["broken_ref"]
    stubs = broken.parent / wb.BUILD_SUBDIR / "broken_ref" / "stubs"
    assert (stubs / "libmissing.so.1").is_file()
    monkeypatch.setenv("LD_LIBRARY_PATH", str(stubs))
    out = tmp_path / "out"
    status, doc, err = repair(capsys, "-w", str(out), str(broken))
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    core = f"twbroken/_core{wb.ext_suffix()}"
    assert f"{core} needs libhidden.so.1" in err and "twbroken/other/libhidden.so.1" in err
    assert broken.name in err and ".truewheel-" not in err, "the input is named, not a temp"
    assert not out.exists() or list(out.iterdir()) == [], "no output file, not even a temp"
    assert doc["wheels"] == []

    # What the refused output would have done: the input, even with libmissing on
    # LD_LIBRARY_PATH, fails to import on exactly that library.
    python, env = venv_python(tmp_path / "venv", broken)
    done = run_python(python, {**env, "LD_LIBRARY_PATH": str(stubs)}, "import twbroken._core")
    assert done.returncode != 0
    assert "libhidden.so.1: cannot open shared object file" in done.stderr


def test_excluded_library_is_allowed_by_the_check(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What the user leaves out on purpose is not a failure of the repair."""
    broken = fixture_wheels["broken_ref"]
    stubs = broken.parent / wb.BUILD_SUBDIR / "broken_ref" / "stubs"
    monkeypatch.setenv("LD_LIBRARY_PATH", str(stubs))
    args = ["-w", str(tmp_path), "--exclude", "libhidden.so.1", str(broken)]
    status, doc, err = repair(capsys, *args)
    assert status == 0, err
    assert [g["original_name"] for g in doc["wheels"][0]["grafted"]] == ["libmissing.so.1"]


def test_missing_libraries_are_all_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tc = toolchain(tmp_path / "build")
    work = tc.workdir("twmiss")
    libs = [tc.shared_lib(work, f"libtwgone{i}.so.1", "libfoo.c") for i in (1, 2, 3)]
    core = tc.ext(work, "_core", "twabs_core.c", link=libs)
    wheel = wb._WheelContents("twmiss", "needs three libraries found nowhere")
    wheel.add_elf(f"twmiss/_core{tc.ext_suffix}", core)
    path = wheel.write(tmp_path, wb.wheel_tag())
    status, _, err = repair(capsys, "-w", str(tmp_path / "out"), str(path))
    assert status == 2 and err.count("\n") == 1
    assert "3 needed libraries were not found" in err
    assert all(f"libtwgone{i}.so.1 (needed by twmiss/_core" in err for i in (1, 2, 3))


# -- 2. refusals list everything -----------------------------------------------------------


def test_plat_refusal_lists_every_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tc = toolchain(tmp_path / "build")
    lib = tc.gcc(tc.workdir("twnewsyms") / "libtwnewsyms.so", [wb.CSRC_DIR / "twnewsyms.c"])
    text = subprocess.run(
        ["readelf", "-V", "-W", str(lib)], capture_output=True, text=True, check=True
    ).stdout
    too_new = {
        word
        for word in text.split()
        if word.startswith("GLIBC_2.") and tuple(map(int, word[6:].split("."))) > (2, 5)
    }
    assert len(too_new) > 6, too_new  # more than the old refusal showed
    wheel = wb._WheelContents("twnewsyms", "needs many glibc versions")
    wheel.add_elf("twnewsyms/libtwnewsyms.so", lib)
    path = wheel.write(tmp_path, wb.wheel_tag())
    status, _, err = repair(
        capsys, "-w", str(tmp_path / "out"), "--plat", "manylinux_2_5_x86_64", str(path)
    )
    assert status == 2 and err.count("\n") == 1
    assert f"cannot meet manylinux_2_5_x86_64 ({len(too_new)} reasons)" in err
    assert all(f"{v} (libtwnewsyms.so)" in err for v in too_new)


# -- 4. search paths that leave the wheel ---------------------------------------------------


@pytest.fixture(scope="module")
def stale_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """twstale: _core needs libtwfoo (found only through LD_LIBRARY_PATH, itself carrying a
    RUNPATH into its build tree) and has build-host entries in its RUNPATH; _plain needs no
    graft and has an RPATH of the build host only.  Returns (wheel, libtwfoo dir, build)."""
    root = tmp_path_factory.mktemp("stale")
    tc = toolchain(root / "build")
    work = tc.workdir("twstale")
    deps = tc.workdir("deps")
    foo = tc.gcc(
        deps / "libtwfoo.so.1",
        [wb.CSRC_DIR / "libfoo.c"],
        link=["-Wl,-soname,libtwfoo.so.1", "-Wl,--enable-new-dtags", f"-Wl,-rpath,{work}"],
    )
    runpath = f"{work}/lib:$ORIGIN/../../outside:$ORIGIN/sub"
    core = tc.ext(
        work,
        "_core",
        "twconsumer_core.c",
        link=[foo, "-Wl,--enable-new-dtags", f"-Wl,-rpath,{runpath}"],
    )
    plain = tc.gcc(
        work / f"_plain{tc.ext_suffix}",
        [wb.CSRC_DIR / "twabs_core.c"],
        kind="ext",
        cflags=["-DPyInit__core=PyInit__plain"],
        link=["-Wl,--disable-new-dtags", f"-Wl,-rpath,{work}/lib"],
    )
    wheel = wb._WheelContents("twstale", "build-host search paths left in the binaries")
    wheel.add_text("twstale/__init__.py", '"""Stale search path fixture."""\n')
    wheel.add_elf(f"twstale/_core{tc.ext_suffix}", core)
    wheel.add_elf(f"twstale/_plain{tc.ext_suffix}", plain)
    return wheel.write(root, wb.wheel_tag()), deps, work


@pytest.fixture
def stale(
    stale_wheel: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Path]:
    """The stale wheel, with its library's directory on LD_LIBRARY_PATH."""
    monkeypatch.setenv("LD_LIBRARY_PATH", str(stale_wheel[1]))
    return stale_wheel


def test_stale_search_paths_are_removed(
    stale: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel, _, work = stale
    ext = wb.ext_suffix()
    assert main(["repair", "-w", str(tmp_path / "text"), str(wheel)]) == 0
    said = capsys.readouterr().out
    assert f"removed search path {work}/lib from twstale/_plain{ext}" in said
    assert "--keep-rpath keeps it" in said

    status, doc, err = repair(capsys, "-w", str(tmp_path), str(wheel))
    assert status == 0, err
    [result] = doc["wheels"]
    [graft] = result["grafted"]
    removed = result["removed_search_paths"]
    assert removed == {
        f"twstale/_core{ext}": [f"{work}/lib", "$ORIGIN/../../outside"],
        f"twstale/_plain{ext}": [f"{work}/lib"],
        graft["wheel_path"]: [str(work)],
    }
    out = Path(result["output"])
    # the kept entry stays inside the wheel; _core needs the graft and gets DT_RPATH as
    # auditwheel writes it; _plain loses its only entry; the graft keeps none of its host's
    assert dynamic(out, f"twstale/_core{ext}", "RPATH") == "$ORIGIN/sub:$ORIGIN/../twstale.libs"
    assert dynamic(out, f"twstale/_plain{ext}", "RPATH") is None
    assert dynamic(out, f"twstale/_plain{ext}", "RUNPATH") is None
    assert dynamic(out, graft["wheel_path"], "RUNPATH") is None
    assert dynamic(out, graft["wheel_path"], "RPATH") is None
    report = Inspector().inspect(out)
    codes = {f.code for f in report.findings}
    assert not codes & {"absolute-rpath", "rpath-outside-wheel", "relative-rpath"}, codes

    python, env = venv_python(tmp_path / "venv", out)
    code = "import twstale._core as c, twstale._plain as p; print(c.answer(), p.ping())"
    done = run_python(python, env, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["42", "pong"]


def test_runpath_kind_is_kept_when_only_cleaning(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """twabs needs no graft: its RUNPATH loses the build-host entry and stays a RUNPATH."""
    status, doc, err = repair(capsys, "-w", str(tmp_path), str(fixture_wheels["absolute_rpath"]))
    assert status == 0, err
    out = Path(doc["wheels"][0]["output"])
    member = f"twabs/_core{wb.ext_suffix()}"
    assert dynamic(out, member, "RUNPATH") == "$ORIGIN"
    assert dynamic(out, member, "RPATH") is None
    assert not [f for f in Inspector().inspect(out).findings if "rpath" in f.code]


def test_keep_rpath_keeps_them(
    stale: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel, _, work = stale
    status, doc, err = repair(capsys, "-w", str(tmp_path), "--keep-rpath", str(wheel))
    assert status == 0, err
    [result] = doc["wheels"]
    ext = wb.ext_suffix()
    out = Path(result["output"])
    assert dynamic(out, f"twstale/_plain{ext}", "RPATH") == f"{work}/lib"
    kept = f"{work}/lib:$ORIGIN/../../outside:$ORIGIN/sub:$ORIGIN/../twstale.libs"
    assert dynamic(out, f"twstale/_core{ext}", "RPATH") == kept
    [graft] = result["grafted"]
    assert list(result["removed_search_paths"]) == [graft["wheel_path"]]


# -- 3. auditwheel's flags ----------------------------------------------------------------


def test_ldpaths_replaces_the_search(
    stale_wheel: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wheel, deps, _ = stale_wheel
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    monkeypatch.delenv("AUDITWHEEL_LD_LIBRARY_PATH", raising=False)
    status, doc, err = repair(capsys, "-w", str(tmp_path), "--ldpaths", str(deps), str(wheel))
    assert status == 0, err
    [graft] = doc["wheels"][0]["grafted"]
    assert graft["source_path"] == str(deps / "libtwfoo.so.1")
    # LD_LIBRARY_PATH is replaced too, as in auditwheel
    monkeypatch.setenv("LD_LIBRARY_PATH", str(deps))
    status, _, err = repair(
        capsys, "-w", str(tmp_path / "b"), "--ldpaths", "/nonexistent", str(wheel)
    )
    assert status == 2 and "libtwfoo.so.1 (needed by twstale/_core" in err
    # AUDITWHEEL_LD_LIBRARY_PATH is still searched
    monkeypatch.setenv("AUDITWHEEL_LD_LIBRARY_PATH", str(deps))
    status, _, err = repair(
        capsys, "-w", str(tmp_path / "c"), "--ldpaths", "/nonexistent", str(wheel)
    )
    assert status == 0, err


def test_disable_isa_ext_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tc = toolchain(tmp_path / "build")
    work = tc.workdir("twisa")
    core = tc.ext(work, "_core", "twabs_core.c", cflags=["-march=x86-64-v3", "-Wl,-z,x86-64-v3"])
    wheel = wb._WheelContents("twisa", "needs x86-64-v3")
    wheel.add_elf(f"twisa/_core{tc.ext_suffix}", core)
    path = wheel.write(tmp_path, wb.wheel_tag())
    status, _, err = repair(capsys, "-w", str(tmp_path / "a"), str(path))
    assert status == 2 and "x86-64-v3" in err
    status, doc, err = repair(
        capsys, "-w", str(tmp_path / "b"), "--disable-isa-ext-check", str(path)
    )
    assert status == 0, err
    assert "manylinux_2_5_x86_64" in doc["wheels"][0]["platform_tags"]


def test_allow_pure_python_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = wb._WheelContents("twpure", "no native code")
    wheel.add_text("twpure/__init__.py", '"""Pure."""\n')
    path = wheel.write(tmp_path, "py3-none-any")
    status, _, err = repair(capsys, "-w", str(tmp_path / "a"), str(path))
    assert status == 2 and "--allow-pure-python-wheel" in err and err.count("\n") == 1
    out = tmp_path / "b"
    status, _, err = repair(capsys, "-w", str(out), "--allow-pure-python-wheel", str(path))
    assert status == 0, err
    assert (out / path.name).read_bytes() == path.read_bytes()


def test_patcher(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = str(fixture_wheels["extension"])
    status, _, err = repair(capsys, "-w", str(tmp_path), "--patcher", "lief-patchelf", source)
    assert status == 2 and err.count("\n") == 1 and "patchelf only" in err
    assert list(tmp_path.iterdir()) == []
    status, _, err = repair(capsys, "-w", str(tmp_path), "--patcher", "patchelf", source)
    assert status == 0, err


def test_only_plat_keeps_the_legacy_alias(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """auditwheel 6.8.2 names it ...-manylinux2014_x86_64.manylinux_2_17_x86_64.whl."""
    args = ["--plat", "manylinux_2_17_x86_64", "--only-plat", str(fixture_wheels["extension"])]
    status, doc, err = repair(capsys, "-w", str(tmp_path), *args)
    assert status == 0, err
    name = Path(doc["wheels"][0]["output"]).name
    assert name.endswith("-manylinux2014_x86_64.manylinux_2_17_x86_64.whl")
