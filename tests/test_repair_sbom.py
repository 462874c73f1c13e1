"""Owner lookup against the real package database, licences, and the PEP 770 CycloneDX SBOM."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import venv
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from packageurl import PackageURL

from truewheel.cli import main
from truewheel.repair.copyright import debian_licence, dep5_to_spdx, strict_spdx
from truewheel.repair.model import (
    ExcludedLibrary,
    GraftedLibrary,
    OwnerPackage,
    ProvidedLibrary,
)
from truewheel.repair.owners import (
    OwnerLookup,
    candidate_paths,
    find_owner,
    read_os_release_id,
)
from truewheel.repair.sbom import build_sbom, licence_members

GMP = "/usr/lib/x86_64-linux-gnu/libgmp.so.10"
ZLIB = "/usr/lib/x86_64-linux-gnu/libz.so.1"  # dpkg records it as /lib/x86_64-linux-gnu/...

MPFR = "/usr/lib/x86_64-linux-gnu/libmpfr.so.6"  # a dependency of gcc; needs libgmp.so.10
GOMP = "/usr/lib/x86_64-linux-gnu/libgomp.so.1"

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
    zlib = _grafted(ZLIB, lookup, needed_by=("demo/_a.abi3.so", gmp.wheel_path))
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
        "licence_files": {"zlib1g": ["demo_pkg-1.2.3.dist-info/licenses/zlib1g/copyright"]},
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
        assert owner.source == "gmp"
        # the Files: * paragraph of libgmp10's DEP-5 copyright file says "GPL-2+ or LGPL-3+"
        assert owner.licence == "GPL-2.0-or-later OR LGPL-3.0-or-later"


@needs_dpkg
def test_owner_agrees_with_dpkg_query() -> None:
    """Names, versions, architectures and source packages as dpkg-query itself gives them."""
    paths = [p for p in (GMP, ZLIB, MPFR, GOMP) if os.path.exists(p)]
    lookup = OwnerLookup()
    lookup.prefetch(paths)
    for path in paths:
        real = os.path.realpath(path)
        listed = [
            subprocess.run(["dpkg-query", "-S", p], capture_output=True, text=True).stdout
            for p in (real, real.replace("/usr/lib/", "/lib/", 1))
        ]
        package = next(out for out in listed if out).split(": ", 1)[0]
        fmt = "${Package}|${Version}|${Architecture}|${source:Package}"
        fields = subprocess.run(
            ["dpkg-query", "-W", "-f", fmt, package], capture_output=True, text=True, check=True
        ).stdout.split("|")
        owner = lookup.find(path)
        assert owner is not None, path
        assert [owner.name, owner.version, owner.architecture, owner.source] == fields


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
        "         /usr/lib64/libz.so.1) echo 'zlib 0:1.2.11-40.el9 x86_64 "
        "zlib-1.2.11-40.el9.src.rpm Zlib' ;;\n"
        "         /usr/lib64/libold.so.1) echo 'old 1:2-3 x86_64 old-2-3.src.rpm "
        "zlib and Boost' ;;\n"
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
        source="zlib",
        licence="Zlib",  # Fedora-style SPDX License tag
    )
    assert owner.purl == "pkg:rpm/almalinux/zlib@0:1.2.11-40.el9?arch=x86_64"
    assert lookup.find("/usr/lib64/libother.so") is None
    old = lookup.find("/usr/lib64/libold.so.1")
    assert old is not None and old.source == "old"
    assert old.licence is None  # an older tag: "zlib" and "and" are not SPDX spellings


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
        assert lib.owner is not None
        assert comp["type"] == "library"
        # named and versioned as the package that installed it, as its purl says
        assert (comp["name"], comp["version"]) == (lib.owner.name, lib.owner.version)
        purl = PackageURL.from_string(comp["purl"])
        assert (purl.name, purl.version) == (comp["name"], comp["version"])
        assert comp["hashes"] == [{"alg": "SHA-256", "content": lib.sha256}]
        props = {p["name"]: p["value"] for p in comp["properties"]}
        assert props["truewheel:wheel_path"] == lib.wheel_path
        assert props["truewheel:original_path"] == lib.source_path
        assert props["truewheel:original_soname"] == lib.original_name
        assert props["truewheel:soname"] == lib.soname
        assert props["truewheel:source_package"] == lib.owner.source

    gmp, zlib = host_libs
    gmp_comp, zlib_comp = by_ref[gmp.wheel_path], by_ref[zlib.wheel_path]
    assert gmp_comp["name"] == "libgmp10"
    assert "%2B" in gmp_comp["purl"]  # '+' in "6.2.1+dfsg1" is percent-encoded, per purl spec
    props = {p["name"]: p["value"] for p in gmp_comp["properties"]}
    assert (props["truewheel:family_name"], props["truewheel:family_version"]) == (
        "GNU MP",
        "6.2.1",
    )
    assert gmp_comp["licenses"] == [
        {"expression": "GPL-2.0-or-later OR LGPL-3.0-or-later", "acknowledgement": "declared"}
    ]
    assert zlib_comp["name"] == "zlib1g"
    assert zlib.owner is not None
    if zlib.owner.licence is None:  # no SPDX expression: the copied file is named instead
        assert zlib_comp["licenses"] == [
            {
                "license": {
                    "name": "demo_pkg-1.2.3.dist-info/licenses/zlib1g/copyright",
                    "acknowledgement": "declared",
                }
            }
        ]
    else:
        assert zlib_comp["licenses"][0]["expression"] == zlib.owner.licence

    # the wheel -> its modules -> the libraries they need -> the libraries those need
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    modules = ["demo/_a.abi3.so", "demo/_b.cpython-311-x86_64-linux-gnu.so"]
    assert deps[root["bom-ref"]] == modules
    assert deps["demo/_a.abi3.so"] == [gmp.wheel_path, zlib.wheel_path]
    assert deps["demo/_b.cpython-311-x86_64-linux-gnu.so"] == [gmp.wheel_path]
    assert deps[gmp.wheel_path] == [zlib.wheel_path]
    assert deps[zlib.wheel_path] == []
    assert {by_ref[m]["type"] for m in modules} == {"file"}


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
    """A library no package owns is named by its SONAME; nothing is said of version or licence."""
    lib = host_libs[1]
    bare = dataclasses.replace(lib, owner=None, needed_by=())
    text = _sbom([bare])
    _validate(text)
    (comp,) = json.loads(text)["components"]
    assert comp["name"] == "libz.so.1"
    assert not {"purl", "version", "licenses"} & set(comp)
    assert "truewheel:source_package" not in {p["name"] for p in comp["properties"]}


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


# -- licences from Debian's machine-readable copyright files ---------------------------------


@pytest.mark.parametrize(
    ("debian", "spdx"),
    [
        ("GPL-2+ or LGPL-3+", "GPL-2.0-or-later OR LGPL-3.0-or-later"),
        ("GPL-2", "GPL-2.0-only"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("LGPL-2+", "LGPL-2.0-or-later"),
        ("AGPL-3+", "AGPL-3.0-or-later"),
        ("GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later"),
        ("Expat", "MIT"),
        ("BSD-3-clause", "BSD-3-Clause"),
        ("BSD-2-clause and Zlib", "BSD-2-Clause AND Zlib"),
        ("Apache-2.0", "Apache-2.0"),
        ("Apache-2", "Apache-2.0"),
        ("Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
        ("Perl and Zlib", "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND Zlib"),
        # "and" binds tighter than "or"; a comma lowers the precedence of what follows
        ("GPL-2+ or Expat and Zlib", "GPL-2.0-or-later OR MIT AND Zlib"),
        ("GPL-2+ or Expat, and Zlib", "(GPL-2.0-or-later OR MIT) AND Zlib"),
        ("GPL-3+ with Bison exception", "GPL-3.0-or-later WITH Bison-exception-2.2"),
        ("GPL-2+ with Autoconf exception", "GPL-2.0-or-later WITH Autoconf-exception-2.0"),
        ("GPL-2 with Linux-syscall-note exception", "GPL-2.0-only WITH Linux-syscall-note"),
        # not mappable: no SPDX id, no version, a package's own name, an unknown exception
        ("public-domain", None),
        ("GPL", None),
        ("GPL-1+ or Artistic", None),
        ("libpng", None),
        ("OpenLDAP-2.8", None),
        ("mit", None),
        ("Apache-2.0+", None),
        ("GPL-2+ with OpenSSL exception", None),
        ("GPL-2+ with Bison exception", None),
        ("BSD-3-clause or GPL-2+ with OpenSSL exception", None),
        ("", None),
    ],
)
def test_dep5_short_names_to_spdx(debian: str, spdx: str | None) -> None:
    assert dep5_to_spdx(debian) == spdx


DEP5 = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the Files: * paragraph is the package's licence; others cover parts of it
        (
            DEP5 + "Upstream-Name: q\n\nFiles: *\nCopyright: 2020 Q\nLicense: GPL-2+ or LGPL-3+\n"
            " The text,\n .\n over lines.\n\nFiles: demos/*\nCopyright: 2021 Q\n"
            "License: GPL-3+\n\nLicense: GPL-3+\n Text.\n",
            "GPL-2.0-or-later OR LGPL-3.0-or-later",
        ),
        # a paragraph that may hold the library's own sources says otherwise: Files: * is only
        # the rest (libkeyutils1: the tools GPL-2+, keyutils.* LGPL-2+; libidn2: *.c *.h)
        (
            DEP5 + "\nFiles: *\nLicense: GPL-2+\n\nFiles: keyutils.*\nLicense: LGPL-2+\n",
            None,
        ),
        (DEP5 + "\nFiles: *\nLicense: GPL-3+\n\nFiles: *.c *.h\nLicense: LGPL-3+\n", None),
        (DEP5 + "\nFiles: *\nLicense: GPL-2\n\nFiles: lib/ext2fs/*\nLicense: LGPL-2\n", None),
        # vendored build tools and the packaging do not count (libssl3's external/perl)
        (
            DEP5 + "\nFiles: *\nLicense: Apache-2.0\n\nFiles: external/perl/T-1.56/*\n"
            "License: GPL-1+\n\nFiles: debian/*\nLicense: GPL-2+\n",
            "Apache-2.0",
        ),
        # the header paragraph's License, where given, is the whole package's
        (
            DEP5 + "License: Expat and Zlib\n\nFiles: *\nCopyright: Q\nLicense: Expat\n",
            "MIT AND Zlib",
        ),
        # CRLF line ends; Files with several patterns; extra blank lines
        (
            DEP5.replace("\n", "\r\n") + "\r\n\r\n\r\nFiles: src/* *\r\nLicense: BSD-3-clause\r\n",
            "BSD-3-Clause",
        ),
        # the first (pre-1.0) URL
        ("Format: http://dep.debian.net/deps/dep5\n\nFiles: *\nLicense: ISC\n", "ISC"),
        # not machine-readable, no Files: *, not mappable, not UTF-8
        ("This is free software under the GPL.\n\nFiles: *\nLicense: GPL-2+\n", None),
        (DEP5 + "\nFiles: src/*\nLicense: GPL-2+\n", None),
        (DEP5 + "\nFiles: *\nLicense: other\n Text.\n", None),
        (DEP5 + "\nFiles: *\nLicense: Zlib \xff\n", None),
    ],
)
def test_debian_licence(tmp_path: Path, text: str, expected: str | None) -> None:
    copyright_file = tmp_path / "copyright"
    copyright_file.write_bytes(text.encode("latin-1" if "\xff" in text else "utf-8"))
    assert debian_licence(copyright_file) == expected
    assert debian_licence(tmp_path / "missing") is None


def test_debian_licence_on_every_host_copyright_file() -> None:
    """Every answer for the host's real files is a strict SPDX expression or None, and the
    files that declare the common licences outright are all understood."""
    files = sorted(Path("/usr/share/doc").glob("*/copyright"))
    if not files:
        pytest.skip("no Debian copyright files on this host")
    answers = {f: debian_licence(f) for f in files}
    assert all(a is None or strict_spdx(a) for a in answers.values())
    plain = {"GPL-2+": "GPL-2.0-or-later", "LGPL-2.1+": "LGPL-2.1-or-later", "Expat": "MIT"}
    checked = 0
    for path, answer in answers.items():
        text = path.read_text(errors="replace")
        star = re.search(
            r"^Files: \*\n(?:[A-Z][^\n]*\n(?: [^\n]*\n)*)*?License: (\S+)\n", text, re.M
        )
        if text.startswith("Format:") and star and star.group(1) in plain:
            if re.search(r"^License: ", text.split("\n\n", 1)[0], re.M):
                continue  # the header's License wins over Files: *
            # None where a paragraph for the library's own sources names another licence
            assert answer in (plain[star.group(1)], None), path
            checked += answer is not None
    assert checked > 0 or len(files) < 50


# -- what `truewheel repair` writes for real fixture wheels ------------------------------------

MPFR_SOURCE = """
#include <Python.h>
extern const char *mpfr_get_version(void);  /* libmpfr6 ships no header without -dev */
static PyObject *version(PyObject *self, PyObject *args) {
    return PyUnicode_FromString(mpfr_get_version());
}
static PyMethodDef methods[] = {{"version", version, METH_NOARGS, NULL}, {NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mp", NULL, -1, methods};
PyMODINIT_FUNC PyInit__mp(void) { return PyModule_Create(&module); }
"""


@pytest.fixture(scope="module")
def repaired_with_chain(
    fixture_wheels: dict[str, Path], wheelbuild: Any, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """twsys (grafts libgmp and libgomp) plus a module needing libmpfr, which needs libgmp."""
    import sysconfig

    from test_repair_hostile import write_variant

    if not (shutil.which("dpkg-query") and os.path.exists(GMP) and os.path.exists(MPFR)):
        pytest.skip("needs a Debian host with libgmp10 and libmpfr6")
    work = tmp_path_factory.mktemp("mpfr")
    (work / "mp.c").write_text(MPFR_SOURCE)
    module = work / f"_mp{wheelbuild.ext_suffix()}"
    include = sysconfig.get_paths()["include"]
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-O2",
            f"-I{include}",
            str(work / "mp.c"),
            MPFR,
            "-o",
            str(module),
        ],
        check=True,
    )
    source = write_variant(
        fixture_wheels["system_libs"],
        work / "in",
        lambda m: {**m, f"twsys/{module.name}": module.read_bytes()},
    )
    out = work / "out"
    assert main(["repair", "-w", str(out), str(source)]) == 0
    [wheel] = out.glob("*.whl")
    return wheel


def _dpkg(path: str) -> tuple[str, str]:
    """(package, version) of the package that installed ``path``, from dpkg-query itself."""
    real = os.path.realpath(path)
    for spelling in (real, real.replace("/usr/lib/", "/lib/", 1)):
        out = subprocess.run(["dpkg-query", "-S", spelling], capture_output=True, text=True)
        if out.returncode == 0:
            package = out.stdout.split(": ", 1)[0]
            version = subprocess.run(
                ["dpkg-query", "-W", "-f", "${Version}", package],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            return package.partition(":")[0], version
    raise AssertionError(f"dpkg does not know {path}")


def test_repaired_wheel_sbom(repaired_with_chain: Path) -> None:
    with zipfile.ZipFile(repaired_with_chain) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    text = members["twsys-1.0.dist-info/sboms/truewheel.cdx.json"].decode()
    _validate(text)
    doc = json.loads(text)
    by_ref = {c["bom-ref"]: c for c in doc["components"]}
    libs = {
        {p["name"]: p["value"] for p in c["properties"]}["truewheel:original_soname"]: c
        for c in doc["components"]
        if c["type"] == "library"
    }
    assert set(libs) == {"libgmp.so.10", "libgomp.so.1", "libmpfr.so.6"}
    for soname, host in (("libgmp.so.10", GMP), ("libgomp.so.1", GOMP), ("libmpfr.so.6", MPFR)):
        comp = libs[soname]
        assert (comp["name"], comp["version"]) == _dpkg(host)
        assert PackageURL.from_string(comp["purl"]).version == comp["version"]
        assert comp["bom-ref"] in members  # the component is the grafted file

    assert libs["libgmp.so.10"]["licenses"] == [
        {"expression": "GPL-2.0-or-later OR LGPL-3.0-or-later", "acknowledgement": "declared"}
    ]
    # libgomp1's and libmpfr6's copyright files are free text: the copied file is named
    for soname in ("libgomp.so.1", "libmpfr.so.6"):
        [licence] = libs[soname]["licenses"]
        name = licence["license"]["name"]
        package = libs[soname]["name"]
        assert name == f"twsys-1.0.dist-info/licenses/{package}/copyright"
        assert members[name] == Path(f"/usr/share/doc/{package}/copyright").read_bytes()

    ext = wheel_ext()
    core, mp = f"twsys/_core{ext}", f"twsys/_mp{ext}"
    assert by_ref[core]["type"] == by_ref[mp]["type"] == "file"
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    gmp, gomp, mpfr = (libs[s]["bom-ref"] for s in ("libgmp.so.10", "libgomp.so.1", "libmpfr.so.6"))
    assert deps[doc["metadata"]["component"]["bom-ref"]] == sorted([core, mp])
    assert deps[core] == sorted([gmp, gomp])
    assert deps[mp] == [mpfr]
    assert deps[mpfr] == [gmp]
    assert deps[gmp] == deps[gomp] == []


def wheel_ext() -> str:
    import sysconfig

    return str(sysconfig.get_config_var("EXT_SUFFIX"))


def test_repaired_wheel_license_files(repaired_with_chain: Path, tmp_path: Path) -> None:
    from packaging.metadata import Metadata

    with zipfile.ZipFile(repaired_with_chain) as archive:
        names = archive.namelist()
        metadata = archive.read("twsys-1.0.dist-info/METADATA").decode()
    copied = sorted(
        n.removeprefix("twsys-1.0.dist-info/licenses/")
        for n in names
        if n.startswith("twsys-1.0.dist-info/licenses/")
    )
    assert copied == ["libgmp10/copyright", "libgomp1/copyright", "libmpfr6/copyright"]
    parsed = Metadata.from_email(metadata, validate=True)
    assert parsed.metadata_version == "2.4"  # License-File is a 2.4 field
    assert parsed.license_files == copied
    assert metadata.startswith("Metadata-Version: 2.4\nName: twsys\nVersion: 1.0\n")

    # pip installs it and the installed distribution lists the files, which are there
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*pip, str(repaired_with_chain)], check=True)
    code = (
        "import importlib.metadata as m, pathlib\n"
        "d = m.distribution('twsys')\n"
        "files = d.metadata.get_all('License-File')\n"
        "base = pathlib.Path(d._path) / 'licenses'\n"
        "print(sorted(files), all((base / f).is_file() for f in files))\n"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{copied} True"


def test_license_file_needs_valid_2_4_metadata() -> None:
    """METADATA that would not be valid at 2.4 gets no License-File (and keeps its version)."""
    from truewheel.errors import MetadataError
    from truewheel.repair.rewrite import add_licence_files

    good = "Metadata-Version: 2.1\r\nName: q\r\nVersion: 1\r\n\r\nBody: not a field\r\n"
    assert add_licence_files(good, ["a/COPYING", "b/LICENSE"]) == (
        "Metadata-Version: 2.4\r\nName: q\r\nVersion: 1\r\n"
        "License-File: a/COPYING\r\nLicense-File: b/LICENSE\r\n\r\nBody: not a field\r\n"
    )
    listed = "Metadata-Version: 2.4\nName: q\nVersion: 1\nLicense-File: a/COPYING\n"
    assert add_licence_files(listed, ["a/COPYING"]) == listed
    newer = "Metadata-Version: 2.5\nName: q\nVersion: 1\n"
    assert add_licence_files(newer, ["a/COPYING"]) == newer + "License-File: a/COPYING\n"
    for bad in (
        "Metadata-Version: 2.1\nName: q\nVersion: not a version\n",
        "Metadata-Version: 2.1\nName: q\nVersion: 1\nRequires-Dist: !!\n",
    ):
        with pytest.raises(MetadataError, match=r"would not be valid as Metadata-Version 2\.4"):
            add_licence_files(bad, ["a/COPYING"])
