"""Owner lookup against the real package database, and the PEP 770 CycloneDX SBOM."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from packageurl import PackageURL

from truewheel.errors import InputError
from truewheel.repair.model import (
    ExcludedLibrary,
    GraftedLibrary,
    OwnerPackage,
    ProvidedLibrary,
)
from truewheel.repair.owners import (
    DpkgDatabase,
    OwnerLookup,
    candidate_paths,
    find_owner,
    read_os_release_id,
)
from truewheel.repair.sbom import build_sbom, licence_members
from truewheel.repair.sidecar import ForkedSbomBuilder, InProcessSbomBuilder, SbomRequest

GMP = "/usr/lib/x86_64-linux-gnu/libgmp.so.10"
ZLIB = "/usr/lib/x86_64-linux-gnu/libz.so.1"  # dpkg records it as /lib/x86_64-linux-gnu/...

needs_dpkg = pytest.mark.skipif(
    shutil.which("dpkg-query") is None or not os.path.exists(GMP),
    reason="needs a Debian host with libgmp10",
)

WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def _grafted(path: str, lookup: OwnerLookup, **extra: Any) -> GraftedLibrary:
    real = os.path.realpath(path)
    data = Path(real).read_bytes()
    base = os.path.basename(real)
    return GraftedLibrary(
        original_name=os.path.basename(path),
        source_path=real,
        wheel_path=f"demo.libs/{base}",
        soname=f"{os.path.basename(path)}-mangled",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        owner=lookup.find(path),
        **extra,
    )


@pytest.fixture(scope="module")
def host_libs() -> list[GraftedLibrary]:
    if shutil.which("dpkg-query") is None or not os.path.exists(GMP):
        pytest.skip("needs a Debian host with libgmp10")
    lookup = OwnerLookup()
    gmp = _grafted(
        GMP,
        lookup,
        family="gmp",
        family_name="GNU MP",
        version="6.2.1",
        needed_by=("demo/_b.cpython-311-x86_64-linux-gnu.so", "demo/_a.abi3.so"),
    )
    zlib = _grafted(ZLIB, lookup, needed_by=("demo/_a.abi3.so",))
    return [gmp, zlib]


def _sbom(grafted: list[GraftedLibrary], **overrides: Any) -> str:
    kwargs: dict[str, Any] = {
        "wheel_name": "demo_pkg",
        "wheel_version": "1.2.3",
        "grafted": grafted,
        "excluded": [ExcludedLibrary("libfoo.so.1", "libfoo*", ("demo/_a.abi3.so",))],
        "provided": [
            ProvidedLibrary(
                "libbar.so.2",
                "scipy-openblas64>=0.3.28",
                "scipy-openblas64",
                "libbar*",
                ("demo/_a.abi3.so",),
            )
        ],
        "tool_version": "0.1.0",
        "timestamp": WHEN,
    }
    kwargs.update(overrides)
    return build_sbom(**kwargs)


def _validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)


# -- owners ------------------------------------------------------------------------------------


@needs_dpkg
def test_find_owner_real_gmp() -> None:
    real = os.path.realpath(GMP)
    for path in (GMP, real):
        owner = find_owner(path)
        assert owner is not None
        assert owner.manager == "deb"
        assert owner.name == "libgmp10"
        assert owner.version and owner.version[0].isdigit()
        assert owner.architecture == "amd64"
        assert owner.distro == read_os_release_id()
        assert owner.licence_files == ("/usr/share/doc/libgmp10/copyright",)
        assert owner.purl.startswith(f"pkg:deb/{owner.distro}/libgmp10@")


@needs_dpkg
def test_find_owner_usr_merge_spellings() -> None:
    lookup = OwnerLookup()
    owners = {
        lookup.find(p) for p in (ZLIB, "/lib/x86_64-linux-gnu/libz.so.1", os.path.realpath(ZLIB))
    }
    assert len(owners) == 1
    (owner,) = owners
    assert owner is not None
    assert owner.name == "zlib1g"  # the ":amd64" of "zlib1g:amd64" went to architecture
    assert owner.architecture == "amd64"


def test_candidate_paths_cover_both_spellings() -> None:
    assert candidate_paths("/usr/lib/x/libq.so.1")[:2] == [
        "/usr/lib/x/libq.so.1",
        "/lib/x/libq.so.1",
    ]
    assert "/usr/lib64/libq.so" in candidate_paths("/lib64/libq.so")
    assert candidate_paths("/opt/x/libq.so") == ["/opt/x/libq.so"]


@needs_dpkg
def test_find_owner_unowned_file_is_none(tmp_path: Path) -> None:
    orphan = tmp_path / "libnobody.so.1"
    orphan.write_bytes(b"\x7fELF")
    assert find_owner(str(orphan)) is None
    assert find_owner(str(tmp_path / "does-not-exist.so")) is None


@needs_dpkg
def test_lookup_caches_per_instance() -> None:
    lookup = OwnerLookup()
    first = lookup.find(GMP)
    assert first is not None
    assert lookup.find(GMP) is first
    assert OwnerLookup().find(GMP) == first


def test_missing_tools_give_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_owner("/usr/lib/x86_64-linux-gnu/libgmp.so.10") is None


def test_rpm_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An rpm host, simulated by a stand-in ``rpm`` on PATH (and no dpkg-query)."""
    licdir = tmp_path / "share-licenses"
    licdir.mkdir()
    (licdir / "LICENSE").write_text("zlib licence\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    rpm = bindir / "rpm"
    rpm.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  -qf) case "$4" in\n'
        "         /usr/lib64/libz.so.1) echo 'zlib 0:1.2.11-40.el9 x86_64' ;;\n"
        '         *) echo "file $4 is not owned by any package"; exit 1 ;;\n'
        "       esac ;;\n"
        f"  -qL) [ \"$2\" = zlib.x86_64 ] && echo '{licdir}/LICENSE' && echo '(none)' ;;\n"
        "  *) exit 2 ;;\n"
        "esac\n"
    )
    rpm.chmod(rpm.stat().st_mode | stat.S_IEXEC)
    os_release = tmp_path / "os-release"
    os_release.write_text('NAME="AlmaLinux"\nID="almalinux"\nVERSION_ID="9.4"\n')
    monkeypatch.setenv("PATH", str(bindir))

    lookup = OwnerLookup(os_release=str(os_release))
    owner = lookup.find("/lib64/libz.so.1")  # known to rpm only under its /usr spelling
    assert owner == OwnerPackage(
        manager="rpm",
        name="zlib",
        version="0:1.2.11-40.el9",
        architecture="x86_64",
        distro="almalinux",
        licence_files=(str(licdir / "LICENSE"),),
    )
    assert owner.purl == "pkg:rpm/almalinux/zlib@0:1.2.11-40.el9?arch=x86_64"
    assert lookup.find("/usr/lib64/libother.so") is None


def test_read_os_release_id(tmp_path: Path) -> None:
    f = tmp_path / "os-release"
    f.write_text("PRETTY_NAME='Debian GNU/Linux 12'\nID=debian\n")
    assert read_os_release_id(str(f)) == "debian"
    f.write_text("NAME=x\n")
    assert read_os_release_id(str(f)) is None
    assert read_os_release_id(str(tmp_path / "missing")) is None


# -- SBOM --------------------------------------------------------------------------------------


def test_sbom_is_valid_cyclonedx_1_6(host_libs: list[GraftedLibrary]) -> None:
    text = _sbom(host_libs)
    _validate(text)
    doc = json.loads(text)
    assert doc["bomFormat"] == "CycloneDX"
    assert doc["specVersion"] == "1.6"
    assert doc["serialNumber"].startswith("urn:uuid:")
    assert doc["metadata"]["timestamp"] == "2024-05-06T07:08:09+00:00"

    root = doc["metadata"]["component"]
    assert root["type"] == "library"
    assert (root["name"], root["version"]) == ("demo_pkg", "1.2.3")
    assert root["purl"] == "pkg:pypi/demo-pkg@1.2.3"
    assert {(p["name"], p["value"]) for p in root["properties"]} == {
        ("truewheel:excluded", "libfoo.so.1 (pattern libfoo*)"),
        ("truewheel:provided_by", "libbar.so.2 by scipy-openblas64>=0.3.28"),
    }
    (tool,) = doc["metadata"]["tools"]["components"]
    assert (tool["name"], tool["version"]) == ("truewheel", "0.1.0")

    by_ref = {c["bom-ref"]: c for c in doc["components"]}
    for lib in host_libs:
        comp = by_ref[lib.wheel_path]
        assert comp["type"] == "library"
        assert comp["hashes"] == [{"alg": "SHA-256", "content": lib.sha256}]
        assert lib.owner is not None
        assert comp["purl"] == PackageURL.from_string(lib.owner.purl).to_string()
        props = {p["name"]: p["value"] for p in comp["properties"]}
        assert props == {
            "truewheel:wheel_path": lib.wheel_path,
            "truewheel:original_path": lib.source_path,
            "truewheel:original_soname": lib.original_name,
            "truewheel:soname": lib.soname,
            "truewheel:needed_by": ",".join(sorted(lib.needed_by)),
        }

    gmp, zlib = host_libs
    gmp_comp, zlib_comp = by_ref[gmp.wheel_path], by_ref[zlib.wheel_path]
    assert (gmp_comp["name"], gmp_comp["version"]) == ("GNU MP", "6.2.1")
    assert gmp_comp["purl"].startswith("pkg:deb/debian/libgmp10@")
    assert "%2B" in gmp_comp["purl"]  # '+' in "6.2.1+dfsg1" is percent-encoded, per purl spec
    assert zlib_comp["name"] == "libz.so.1"
    assert "version" not in zlib_comp
    assert zlib_comp["purl"].startswith("pkg:deb/debian/zlib1g@")

    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps[root["bom-ref"]] == sorted(lib.wheel_path for lib in host_libs)


def test_sbom_is_deterministic(host_libs: list[GraftedLibrary]) -> None:
    first = _sbom(host_libs)
    assert _sbom(host_libs) == first
    assert _sbom(list(reversed(host_libs))) == first
    # The same instant in another zone is the same SBOM.
    other_zone = WHEN.astimezone(timezone(timedelta(hours=5)))
    assert _sbom(host_libs, timestamp=other_zone) == first

    changed = _sbom(host_libs, wheel_version="1.2.4")
    assert json.loads(changed)["serialNumber"] != json.loads(first)["serialNumber"]


def test_sbom_without_timestamp_or_libraries(host_libs: list[GraftedLibrary]) -> None:
    text = _sbom(host_libs, timestamp=None)
    _validate(text)
    assert "timestamp" not in json.loads(text)["metadata"]
    assert _sbom(host_libs, timestamp=None) == text

    empty = _sbom([], excluded=[], provided=[], timestamp=None)
    _validate(empty)
    doc = json.loads(empty)
    assert doc.get("components", []) == []
    assert "properties" not in doc["metadata"]["component"]


def test_sbom_without_owner(host_libs: list[GraftedLibrary]) -> None:
    lib = host_libs[1]
    bare = dataclasses.replace(lib, owner=None, needed_by=())
    text = _sbom([bare])
    _validate(text)
    (comp,) = json.loads(text)["components"]
    assert "purl" not in comp
    assert "truewheel:needed_by" not in {p["name"] for p in comp["properties"]}


def test_cyclonedx_is_imported_lazily() -> None:
    code = "import sys, truewheel.repair.sbom; sys.exit('cyclonedx' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- licence files -----------------------------------------------------------------------------


def test_licence_members(host_libs: list[GraftedLibrary]) -> None:
    members = licence_members(host_libs + host_libs)  # duplicates collapse
    assert list(members) == sorted(members)
    assert (
        members["licenses/libgmp10/copyright"]
        == Path("/usr/share/doc/libgmp10/copyright").read_bytes()
    )
    assert "licenses/zlib1g/copyright" in members
    assert len(members) == 2
    assert licence_members([]) == {}


def test_licence_members_same_name_different_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "COPYING").write_bytes(b"one")
    (tmp_path / "b" / "COPYING").write_bytes(b"two")
    owner = OwnerPackage(
        "rpm",
        "libq",
        "0:1-1",
        "x86_64",
        "fedora",
        (str(tmp_path / "b" / "COPYING"), str(tmp_path / "a" / "COPYING")),
    )
    lib = GraftedLibrary("libq.so.1", "/x/libq.so.1", "q.libs/libq.so.1", "libq.so.1", "0" * 64, 1)
    lib = dataclasses.replace(lib, owner=owner)
    assert licence_members([lib]) == {
        "licenses/libq/COPYING": b"one",
        "licenses/libq/COPYING.2": b"two",
    }


# -- the SBOM builders: in process and in the forked helper ------------------------------------


def _request(host_libs: list[GraftedLibrary], **changes: Any) -> SbomRequest:
    fields: dict[str, Any] = {
        "dist_info": "demo-1.0.dist-info",
        "wheel_name": "demo",
        "wheel_version": "1.0",
        "grafted": tuple(replace(g, owner=None) for g in host_libs),
        "excluded": (),
        "provided": (),
        "tool_version": "0.0-test",
    }
    fields.update(changes)
    return SbomRequest(**fields)


def test_forked_builder_gives_the_same_bytes(host_libs: list[GraftedLibrary]) -> None:
    expected = InProcessSbomBuilder().submit(_request(host_libs))()
    forked = ForkedSbomBuilder.start()
    if forked is None:
        pytest.skip("fork is not safe here (threads running)")
    try:
        first = forked.submit(_request(host_libs))()
        second = forked.submit(_request(host_libs, wheel_version="2.0"))()
        forked.submit(_request(host_libs, wheel_version="3.0"))  # a repair that failed after
        fourth = forked.submit(_request(host_libs, wheel_version="4.0"))()
    finally:
        forked.close()
    assert fourth == InProcessSbomBuilder().submit(_request(host_libs, wheel_version="4.0"))()
    assert first == expected
    assert [g.owner for g in first.grafted] == [g.owner for g in host_libs]
    assert set(first.files) == set(expected.files) and len(first.files) >= 2
    assert second.files != first.files


def test_forked_builder_errors_and_death(host_libs: list[GraftedLibrary]) -> None:
    forked = ForkedSbomBuilder.start()
    if forked is None:
        pytest.skip("fork is not safe here (threads running)")
    try:
        twice = _request(host_libs, grafted=(host_libs[0], host_libs[0]))
        with pytest.raises(InputError, match="grafted twice"):
            forked.submit(twice)()
        os.kill(forked._pid, signal.SIGKILL)
        os.waitpid(forked._pid, 0)
        # the helper is gone: the same answer comes from this process instead
        result = forked.submit(_request(host_libs))()
        assert result == InProcessSbomBuilder().submit(_request(host_libs))()
    finally:
        forked.close()


@needs_dpkg
def test_dpkg_database_agrees_with_dpkg_query(tmp_path: Path) -> None:
    orphan = tmp_path / "libnobody.so.1"
    orphan.write_bytes(b"\x7fELF")
    paths = [GMP, ZLIB, os.path.realpath(ZLIB), "/lib/x86_64-linux-gnu/libc.so.6", str(orphan)]
    paths += [p for p in ("/usr/lib/x86_64-linux-gnu/libgomp.so.1",) if os.path.exists(p)]
    assert DpkgDatabase.open() is not None
    direct = OwnerLookup()
    direct.prefetch(paths)
    queried = OwnerLookup(dpkg_root=str(tmp_path / "no-dpkg-here"))
    queried.prefetch(paths)
    answers = [direct.find(p) for p in paths]
    assert answers == [queried.find(p) for p in paths]
    assert answers[4] is None  # the orphan
    assert sum(a is not None for a in answers) >= 4
