"""ld.so's search rules as the resolver applies them (facts given directly, per ld.so(8))."""

from __future__ import annotations

from truewheel.analysis.resolve import installed_path, resolve_dependencies
from truewheel.elf import ElfFile

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
