"""Finding the host library ld.so would load, with real files (ld.so(8), ldconfig(8))."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import TypedDict

import pytest

from truewheel.elf import ElfFile
from truewheel.errors import TruewheelError
from truewheel.repair.hostlibs import (
    HostLibraries,
    SearchDir,
    default_library_dirs,
    read_ld_so_conf,
    split_ld_library_path,
)

SYSTEM_LIBZ = "/usr/lib/x86_64-linux-gnu/libz.so.1"


class Kind(TypedDict):
    elf_class: int
    machine: int


X86_64: Kind = {"elf_class": 64, "machine": 62}


@pytest.fixture(scope="module")
def libz() -> Path:
    """The real file behind the host's x86_64 libz.so.1."""
    if not os.path.exists(SYSTEM_LIBZ):
        pytest.skip(f"needs {SYSTEM_LIBZ} (Debian-style x86_64 host)")
    return Path(os.path.realpath(SYSTEM_LIBZ))


def copy_lib(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def patched(src: Path, dst: Path, offset: int, value: bytes) -> Path:
    data = bytearray(src.read_bytes())
    data[offset : offset + len(value)] = value
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(bytes(data))
    return dst


def only(ld_library_path: list[str]) -> HostLibraries:
    """A search limited to LD_LIBRARY_PATH (plus rpath/runpath given to find)."""
    return HostLibraries(ld_library_path=ld_library_path, config_dirs=[], default_dirs=[])


def real(path: Path) -> str:
    return os.path.realpath(path)


# --- the host as it is ---------------------------------------------------------------------


def test_from_system_finds_libz_and_returns_its_real_path(libz: Path) -> None:
    found = HostLibraries.from_system(environ={}).find("libz.so.1", **X86_64)
    assert found == str(libz)
    assert not os.path.islink(found)
    assert os.path.basename(found).startswith("libz.so.1.")  # libz.so.1.2.13 on Debian 12
    elf = ElfFile.parse(Path(found).read_bytes())
    assert (elf.elf_class, elf.machine, elf.soname) == (64, 62, "libz.so.1")


def test_from_system_reads_os_environ_by_default(
    libz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = copy_lib(libz, tmp_path / "libz.so.1")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    assert HostLibraries.from_system().find("libz.so.1", **X86_64) == real(copy)


def test_missing_library_gives_none(tmp_path: Path) -> None:
    hosts = HostLibraries.from_system(environ={"LD_LIBRARY_PATH": str(tmp_path)})
    assert hosts.find("libtruewheel-does-not-exist.so.7", **X86_64) is None
    assert only([str(tmp_path)]).find("libz.so.1", **X86_64) is None


# --- search order ---------------------------------------------------------------------------


def test_ld_library_path_comes_before_the_system_dirs(libz: Path, tmp_path: Path) -> None:
    copy = copy_lib(libz, tmp_path / "mine" / "libz.so.1")
    hosts = HostLibraries.from_system(environ={"LD_LIBRARY_PATH": f"/nonexistent:{copy.parent}"})
    assert hosts.find("libz.so.1", **X86_64) == real(copy)
    # the same file without the override comes from the system
    assert HostLibraries.from_system(environ={}).find("libz.so.1", **X86_64) == str(libz)


def test_rpath_beats_ld_library_path_but_runpath_does_not(libz: Path, tmp_path: Path) -> None:
    in_env = copy_lib(libz, tmp_path / "env" / "libz.so.1")
    in_elf = copy_lib(libz, tmp_path / "elf" / "libz.so.1")
    hosts = only([str(in_env.parent)])
    assert hosts.find("libz.so.1", **X86_64, rpath=[str(in_elf.parent)]) == real(in_elf)
    assert hosts.find("libz.so.1", **X86_64, runpath=[str(in_elf.parent)]) == real(in_env)
    # DT_RPATH is ignored altogether when DT_RUNPATH is present
    rpath_only = copy_lib(libz, tmp_path / "rpath-only" / "libz.so.1")
    got = only([]).find(
        "libz.so.1", **X86_64, rpath=[str(rpath_only.parent)], runpath=["/nonexistent"]
    )
    assert got is None
    # and without the environment, DT_RUNPATH is used
    assert only([]).find("libz.so.1", **X86_64, runpath=[str(in_elf.parent)]) == real(in_elf)


def test_system_dirs_come_after_runpath_and_conf_before_defaults(
    libz: Path, tmp_path: Path
) -> None:
    conf = copy_lib(libz, tmp_path / "root" / "conf" / "libz.so.1")
    default = copy_lib(libz, tmp_path / "root" / "usr" / "lib64" / "libz.so.1")
    runpath = copy_lib(libz, tmp_path / "runpath" / "libz.so.1")
    hosts = HostLibraries(ld_library_path=[], config_dirs=["/conf"], root=str(tmp_path / "root"))
    assert hosts.find("libz.so.1", **X86_64, runpath=[str(runpath.parent)]) == real(runpath)
    assert hosts.find("libz.so.1", **X86_64) == real(conf)
    conf.unlink()
    fresh = HostLibraries(ld_library_path=[], config_dirs=["/conf"], root=str(tmp_path / "root"))
    assert fresh.find("libz.so.1", **X86_64) == real(default)


def test_search_path_order_and_sources(tmp_path: Path) -> None:
    hosts = HostLibraries(
        ld_library_path=["/env"], config_dirs=["/conf", "/env"], default_dirs=["/lib64"]
    )
    got = hosts.search_path(**X86_64, rpath=["/rp"], origin=None)
    assert got == [
        SearchDir("/rp", "rpath"),
        SearchDir("/env", "LD_LIBRARY_PATH"),
        SearchDir("/conf", "ld.so.conf"),
        SearchDir("/lib64", "default"),
    ]
    got = hosts.search_path(**X86_64, rpath=["/rp"], runpath=["/run"])
    assert [d.source for d in got] == ["LD_LIBRARY_PATH", "runpath", "ld.so.conf", "default"]
    derived = HostLibraries(ld_library_path=[], config_dirs=[]).search_path(**X86_64)
    assert [d.path for d in derived] == default_library_dirs(64, 62)
    assert {d.source for d in derived} == {"default"}


def test_origin_expands_and_unknown_origin_is_skipped(libz: Path, tmp_path: Path) -> None:
    lib = copy_lib(libz, tmp_path / "pkg.libs" / "libz.so.1")
    origin = str(tmp_path / "pkg")
    hosts = only([])
    for entry in ("$ORIGIN/../pkg.libs", "${ORIGIN}/../pkg.libs"):
        assert hosts.find("libz.so.1", **X86_64, rpath=[entry], origin=origin) == real(lib)
        assert hosts.find("libz.so.1", **X86_64, runpath=[entry], origin=origin) == real(lib)
        assert hosts.find("libz.so.1", **X86_64, rpath=[entry]) is None
    # $LIB and $PLATFORM depend on the ld.so build and CPU: such entries are skipped
    dirs = hosts.search_path(**X86_64, rpath=["/x/$LIB", "/y/${PLATFORM}", "rel"], origin="/o")
    assert dirs == []
    # $ORIGINAL is not the $ORIGIN token: it stays literal
    dirs = hosts.search_path(**X86_64, rpath=["/opt/$ORIGINAL"], origin="/o")
    assert dirs == [SearchDir("/opt/$ORIGINAL", "rpath")]


# --- what counts as a match -----------------------------------------------------------------


def test_wrong_elf_class_is_skipped_like_ld_so(libz: Path, tmp_path: Path) -> None:
    wrong = patched(libz, tmp_path / "lib32" / "libz.so.1", 4, b"\x01")  # EI_CLASS = ELFCLASS32
    right = copy_lib(libz, tmp_path / "lib64" / "libz.so.1")
    hosts = only([str(wrong.parent), str(right.parent)])
    assert hosts.find("libz.so.1", **X86_64) == real(right)
    assert only([str(wrong.parent)]).find("libz.so.1", **X86_64) is None


def test_wrong_machine_byte_order_or_type_is_skipped(libz: Path, tmp_path: Path) -> None:
    arm = patched(libz, tmp_path / "arm" / "libz.so.1", 18, struct.pack("<H", 183))
    big = patched(libz, tmp_path / "big" / "libz.so.1", 5, b"\x02")  # ELFDATA2MSB
    exe = patched(libz, tmp_path / "exe" / "libz.so.1", 16, struct.pack("<H", 2))  # ET_EXEC
    right = copy_lib(libz, tmp_path / "right" / "libz.so.1")
    dirs = [str(p.parent) for p in (arm, big, exe, right)]
    assert only(dirs).find("libz.so.1", **X86_64) == real(right)
    assert only(dirs).find("libz.so.1", elf_class=64, machine=183) == real(arm)
    assert only(dirs[3:]).find("libz.so.1", **X86_64, little_endian=True) == real(right)
    assert only(dirs[3:]).find("libz.so.1", **X86_64, little_endian=False) is None


def test_real_32_bit_library_is_skipped_for_64_bit(libz: Path, tmp_path: Path) -> None:
    source = tmp_path / "z.c"
    source.write_text("int zlibVersion(void) { return 0; }\n")
    lib32 = tmp_path / "lib32" / "libz.so.1"
    lib32.parent.mkdir()
    build = ["gcc", "-m32", "-shared", "-nostdlib", "-o", str(lib32), str(source)]
    if shutil.which("gcc") is None or subprocess.run(build, capture_output=True).returncode:
        pytest.skip("gcc cannot build 32-bit objects here")
    right = copy_lib(libz, tmp_path / "lib" / "libz.so.1")
    hosts = only([str(lib32.parent), str(right.parent)])
    assert hosts.find("libz.so.1", **X86_64) == real(right)
    assert hosts.find("libz.so.1", elf_class=32, machine=3) == real(lib32)


def test_non_libraries_under_the_name_are_skipped(libz: Path, tmp_path: Path) -> None:
    (tmp_path / "script").mkdir()
    (tmp_path / "script" / "libz.so.1").write_text("/* GNU ld script */\nINPUT(libz.a)\n")
    (tmp_path / "dir" / "libz.so.1").mkdir(parents=True)
    (tmp_path / "dangling").mkdir()
    (tmp_path / "dangling" / "libz.so.1").symlink_to(tmp_path / "nowhere")
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "libz.so.1")
    (tmp_path / "short").mkdir()
    (tmp_path / "short" / "libz.so.1").write_bytes(libz.read_bytes()[:40])
    right = copy_lib(libz, tmp_path / "right" / "libz.so.1")
    names = ("script", "dir", "dangling", "fifo", "short", "right")
    hosts = only([str(tmp_path / n) for n in names])
    assert hosts.find("libz.so.1", **X86_64) == real(right)


def test_symlinks_are_resolved_to_the_real_file(libz: Path, tmp_path: Path) -> None:
    target = copy_lib(libz, tmp_path / "store" / "libz.so.1.2.3")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libz.so.1").symlink_to("../store/libz.so.1.2.3")
    (tmp_path / "lib" / "libz.so").symlink_to("libz.so.1")
    hosts = only([str(tmp_path / "lib")])
    assert hosts.find("libz.so.1", **X86_64) == real(target)
    assert hosts.find("libz.so", **X86_64) == real(target)


def test_names_with_a_slash_are_paths(libz: Path, tmp_path: Path) -> None:
    lib = copy_lib(libz, tmp_path / "libz.so.1")
    hosts = only([str(tmp_path)])
    assert hosts.find(str(lib), **X86_64) == real(lib)
    assert hosts.find("./libz.so.1", **X86_64) is None
    assert hosts.find("", **X86_64) is None
    assert hosts.find("libz\0.so.1", **X86_64) is None


def test_results_are_cached_per_instance(libz: Path, tmp_path: Path) -> None:
    lib = copy_lib(libz, tmp_path / "libz.so.1")
    hosts = only([str(tmp_path)])
    assert hosts.find("libz.so.1", **X86_64) == real(lib)
    lib.unlink()
    assert hosts.find("libz.so.1", **X86_64) == real(lib)  # cached
    assert hosts.find("libz.so.1", elf_class=32, machine=3) is None  # another kind: searched
    assert only([str(tmp_path)]).find("libz.so.1", **X86_64) is None


def test_bad_elf_class_is_a_truewheel_error() -> None:
    with pytest.raises(TruewheelError, match="32 or 64"):
        only([]).find("libz.so.1", elf_class=2, machine=62)


# --- ld.so.conf and default directories -----------------------------------------------------


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    write(
        root / "etc" / "ld.so.conf",
        "# system libraries\n"
        "/opt/first/lib   # trailing comment\n"
        "include ld.so.conf.d/*.conf\n"
        "hwcap 0 nosegneg\n"
        "\n"
        "  /opt/last/lib/  \n"
        "include\t/etc/extra/*.conf /etc/missing/*.conf\n"
        "include /etc/ld.so.conf\n",  # a cycle
    )
    write(root / "etc" / "ld.so.conf.d" / "b.conf", "/opt/b\n")
    write(root / "etc" / "ld.so.conf.d" / "a.conf", "/opt/a\ninclude nested/*.conf\n")
    write(root / "etc" / "ld.so.conf.d" / "nested" / "n.conf", "/opt/nested\n")
    write(root / "etc" / "ld.so.conf.d" / ".hidden.conf", "/opt/hidden\n")
    write(root / "etc" / "ld.so.conf.d" / "c.conf.disabled", "/opt/disabled\n")
    write(root / "etc" / "extra" / "x.conf", "/opt/extra\n/opt/a\nrelative/dir\n")
    return root


def test_ld_so_conf_includes_in_a_fake_root(tmp_path: Path) -> None:
    root = fake_root(tmp_path)
    expected = [
        "/opt/first/lib",
        "/opt/a",
        "/opt/nested",  # relative to the including file, /etc/ld.so.conf.d
        "/opt/b",
        "/opt/last/lib",
        "/opt/extra",
    ]
    assert read_ld_so_conf(str(root)) == expected
    hosts = HostLibraries.from_system(environ={}, root=str(root))
    assert list(hosts.config_dirs) == expected
    assert hosts.default_dirs is None
    assert read_ld_so_conf(str(tmp_path / "empty")) == []


def test_fake_root_search_skips_a_32_bit_library_listed_first(libz: Path, tmp_path: Path) -> None:
    root = fake_root(tmp_path)
    write(root / "etc" / "ld.so.conf.d" / "0-lib32.conf", "/usr/lib32\n")
    wrong = patched(libz, root / "usr" / "lib32" / "libz.so.1", 4, b"\x01")
    right = copy_lib(libz, root / "opt" / "b" / "libz.so.1")
    hosts = HostLibraries.from_system(environ={}, root=str(root))
    assert hosts.config_dirs[:2] == ("/opt/first/lib", "/usr/lib32")
    assert hosts.find("libz.so.1", **X86_64) == real(right)
    assert hosts.find("libz.so.1", elf_class=32, machine=62) == real(wrong)  # x32 would take it
    # default directories are read inside the root too, after the ld.so.conf ones
    default = copy_lib(libz, root / "usr" / "lib" / "x86_64-linux-gnu" / "libq.so.1")
    assert hosts.find("libq.so.1", **X86_64) == real(default)
    paths = hosts.search_path(**X86_64)
    assert paths[-1] == SearchDir(str(root / "usr" / "lib"), "default")


def test_default_dirs_follow_the_architecture() -> None:
    assert default_library_dirs(64, 62) == [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ]
    assert default_library_dirs(32, 3) == [
        "/lib/i386-linux-gnu",
        "/usr/lib/i386-linux-gnu",
        "/lib",
        "/usr/lib",
    ]
    assert default_library_dirs(64, 183)[:2] == [
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
    ]
    ppc = default_library_dirs(64, 21)
    assert ppc.index("/lib/powerpc64le-linux-gnu") < ppc.index("/lib/powerpc64-linux-gnu")
    assert "/lib/powerpc64-linux-gnu" not in default_library_dirs(64, 21, little_endian=True)
    assert default_library_dirs(64, 243)[2:4] == ["/lib64/lp64d", "/usr/lib64/lp64d"]
    assert default_library_dirs(64, 9999) == ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]


def test_split_ld_library_path() -> None:
    got = split_ld_library_path("/a::rel;/b;", cwd="/work")
    assert got == ["/a", "/work/rel", "/b"]
    assert split_ld_library_path("") == []


def test_repair_search_puts_auditwheel_ld_library_path_first(tmp_path: Path) -> None:
    """As auditwheel: AUDITWHEEL_LD_LIBRARY_PATH, then LD_LIBRARY_PATH; --ldpaths replaces the
    machine's own search but not AUDITWHEEL_LD_LIBRARY_PATH."""
    environ = {"AUDITWHEEL_LD_LIBRARY_PATH": "/opt/a:/opt/b", "LD_LIBRARY_PATH": "/opt/c"}
    host = HostLibraries.for_repair(environ=environ)
    assert host.ld_library_path == ("/opt/a", "/opt/b", "/opt/c")
    assert host.default_dirs is None
    host = HostLibraries.for_repair("/opt/d:/opt/e", environ=environ)
    assert host.ld_library_path == ("/opt/a", "/opt/b")
    assert host.config_dirs == ("/opt/d", "/opt/e")
    assert host.default_dirs == ()
    assert HostLibraries.for_repair(environ={}).ld_library_path == ()
