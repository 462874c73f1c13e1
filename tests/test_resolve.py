"""ld.so's search rules as the resolver applies them (facts given directly, per ld.so(8))."""

from __future__ import annotations

from truewheel.analysis.resolve import installed_path, resolve_dependencies, search_path_escape
from truewheel.elf import ElfFile
from truewheel.repair.plan import libpython_needed

SYSTEM = frozenset({"libc.so.6"})


def elf(*needed: str, rpath: str = "", runpath: str = "", soname: str | None = None) -> ElfFile:
    return ElfFile(
        elf_class=64,
        little_endian=True,
        machine=62,
        type="DYN",
        soname=soname,
        needed=list(needed),
        rpath=[p for p in rpath.split(":") if p],
        runpath=[p for p in runpath.split(":") if p],
    )


def statuses(files: dict[str, ElfFile]) -> dict[tuple[str, str], tuple[str, str | None]]:
    result = resolve_dependencies(files, SYSTEM)
    return {(n, d.name): (d.status, d.via) for n, deps in result.items() for d in deps}


def test_rpath_of_a_loader_is_inherited_without_runpath() -> None:
    files = {
        "pkg/ext.so": elf("liba.so.1", rpath="$ORIGIN/../pkg.libs"),
        "pkg.libs/liba.so.1": elf("libb.so.1", soname="liba.so.1"),
        "pkg.libs/libb.so.1": elf("libc.so.6", soname="libb.so.1"),
    }
    got = statuses(files)
    assert got[("pkg/ext.so", "liba.so.1")] == ("bundled", "rpath")
    assert got[("pkg.libs/liba.so.1", "libb.so.1")] == ("bundled", "inherited-rpath")
    assert got[("pkg.libs/libb.so.1", "libc.so.6")] == ("system", None)


def test_runpath_stops_inheritance() -> None:
    files = {
        "pkg/ext.so": elf("liba.so.1", runpath="$ORIGIN/../pkg.libs"),
        "pkg.libs/liba.so.1": elf("libb.so.1", soname="liba.so.1"),
        "pkg.libs/libb.so.1": elf(soname="libb.so.1"),
    }
    got = statuses(files)
    assert got[("pkg.libs/liba.so.1", "libb.so.1")][0] == "broken"


def test_soname_loaded_by_a_loader_is_reused() -> None:
    files = {
        "pkg/ext.so": elf("libb.so.1", "liba.so.1", runpath="$ORIGIN/../pkg.libs"),
        "pkg.libs/liba.so.1": elf("libb.so.1", soname="liba.so.1", runpath="$ORIGIN/nowhere"),
        "pkg.libs/libb.so.1": elf(soname="libb.so.1"),
    }
    assert statuses(files)[("pkg.libs/liba.so.1", "libb.so.1")] == ("bundled", "loaded")


def test_unknown_library_is_external_and_data_dirs_map_to_the_root() -> None:
    files = {"pkg-1.0.data/platlib/pkg/ext.so": elf("libfoo.so.3", "libc.so.6")}
    got = statuses(files)
    assert got[("pkg-1.0.data/platlib/pkg/ext.so", "libfoo.so.3")] == ("external", None)
    assert installed_path("pkg-1.0.data/platlib/pkg/ext.so") == "pkg/ext.so"
    assert installed_path("pkg-1.0.data/scripts/tool") == "<scripts>/tool"


def test_origin_of_a_script_reaches_only_the_scripts_directory() -> None:
    """pip installs .data/scripts/ into bin/: $ORIGIN/../pkg.libs from there is not the wheel's."""
    files = {
        "pkg-1.0.data/scripts/tool": elf(
            "liba.so.1", "libb.so.1", rpath="$ORIGIN/../pkg.libs:$ORIGIN"
        ),
        "pkg-1.0.data/scripts/libb.so.1": elf(soname="libb.so.1"),
        "pkg.libs/liba.so.1": elf(soname="liba.so.1"),
    }
    got = statuses(files)
    assert got[("pkg-1.0.data/scripts/tool", "liba.so.1")] == ("broken", None)
    assert got[("pkg-1.0.data/scripts/tool", "libb.so.1")] == ("bundled", "rpath")
    assert search_path_escape("$ORIGIN/../pkg.libs", "<scripts>") == "outside"
    assert search_path_escape("${ORIGIN}/sub", "<scripts>") is None
    assert search_path_escape("$ORIGIN/../pkg.libs", "pkg") is None


def test_libpython_is_dropped_from_what_the_interpreter_loads_only() -> None:
    extension = elf("libpython3.11.so.1.0", "libpython3.13t.so.1.0", "libc.so.6")
    program = elf("libpython3.11.so.1.0", "libc.so.6")
    program.interpreter = "/lib64/ld-linux-x86-64.so.2"
    assert libpython_needed(extension) == ["libpython3.11.so.1.0", "libpython3.13t.so.1.0"]
    assert libpython_needed(program) == []
    assert libpython_needed(elf("libpython3.so", "libpython3.11.soa1.0")) == []
