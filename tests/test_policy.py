"""Policy data sanity and platform-tag computation against facts from the PEPs."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from truewheel.analysis.inspector import Inspector
from truewheel.policy.manylinux import PolicySet, Requirement


@pytest.fixture(scope="module")
def glibc() -> PolicySet:
    return PolicySet.load("glibc")


def sym(version: str) -> Requirement:
    return Requirement("symbol-version", version, ("x.so",))


def test_legacy_aliases(glibc: PolicySet) -> None:
    assert glibc.get("manylinux1") is glibc.get("manylinux_2_5")
    assert glibc.get("manylinux2010") is glibc.get("manylinux_2_12")
    assert glibc.get("manylinux2014") is glibc.get("manylinux_2_17")
    policy, arch = glibc.policy_of_tag("manylinux2014_x86_64")
    assert policy is not None and policy.name == "manylinux_2_17" and arch == "x86_64"
    assert glibc.policy_of_tag("linux_x86_64") == (None, None)


def test_policies_cover_pep600_tags_up_to_2_39(glibc: PolicySet) -> None:
    names = {p.name for p in glibc.policies}
    for needed in (
        "manylinux_2_5",
        "manylinux_2_17",
        "manylinux_2_28",
        "manylinux_2_34",
        "manylinux_2_39",
    ):
        assert needed in names
    assert PolicySet.load("musl").get("musllinux_1_2") is not None


def test_glibc_versions_only_grow(glibc: PolicySet) -> None:
    previous: dict[str, frozenset[str]] = {}
    for policy in glibc.policies:
        for arch, spaces in policy.symbol_versions.items():
            assert previous.get(arch, frozenset()) <= spaces["GLIBC"], (policy.name, arch)
            previous[arch] = spaces["GLIBC"]
            assert "libc.so.6" in policy.libraries


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        (["GLIBC_2.2.5"], "manylinux_2_5_x86_64"),
        (["GLIBC_2.14", "GLIBC_2.2.5"], "manylinux_2_17_x86_64"),
        (["GLIBC_2.28"], "manylinux_2_28_x86_64"),
        (["GLIBCXX_3.4.19", "CXXABI_1.3.7"], "manylinux_2_17_x86_64"),
        (["GLIBCXX_3.4.21"], "manylinux_2_24_x86_64"),
        (["GLIBCXX_3.4.25"], "manylinux_2_27_x86_64"),
        (["GLIBC_2.34", "GLIBCXX_3.4.29"], "manylinux_2_34_x86_64"),
        (["GLIBC_PRIVATE"], "linux_x86_64"),
        (["GLIBC_2.99"], "linux_x86_64"),
        (["OPENSSL_3.0.0"], "manylinux_2_5_x86_64"),
    ],
)
def test_best_tag_from_symbol_versions(
    glibc: PolicySet, versions: list[str], expected: str
) -> None:
    result = glibc.best("x86_64", [sym(v) for v in versions])
    assert result.tag == expected


def test_constraints_name_the_binding_requirement(glibc: PolicySet) -> None:
    result = glibc.best("x86_64", [sym("GLIBC_2.14"), sym("GLIBC_2.28"), sym("GLIBC_2.3")])
    assert result.tag == "manylinux_2_28_x86_64"
    first, first_allowed = result.constraints[0]
    assert first.value == "GLIBC_2.28" and first_allowed == "manylinux_2_28"


def test_libraries_and_isa_constrain(glibc: PolicySet) -> None:
    libgomp = Requirement("library", "libgomp.so.1", ("x.so",))
    assert glibc.best("x86_64", [libgomp]).tag == "linux_x86_64"
    libz = Requirement("library", "libz.so.1", ("x.so",))
    assert glibc.best("x86_64", [libz]).tag == "manylinux_2_5_x86_64"
    isa = Requirement("isa", "x86-64-v3", ("x.so",))
    assert glibc.best("x86_64", [isa]).tag == "linux_x86_64"
    assert glibc.best("aarch64", [sym("GLIBC_2.17")]).tag == "manylinux_2_17_aarch64"
    assert glibc.best("aarch64", [sym("GLIBC_2.17")]).tags == [
        "manylinux_2_17_aarch64",
        "manylinux2014_aarch64",
    ]


def retag(wheel: Path, out_dir: Path, filename_tag: str, wheel_tag: str) -> Path:
    """Copy a wheel under another platform tag in its file name and WHEEL file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel.name.replace("linux_x86_64", filename_tag)
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".dist-info/WHEEL"):
                data = data.replace(b"linux_x86_64", wheel_tag.encode())
            if info.filename.endswith(".dist-info/RECORD"):
                continue
            dst.writestr(info, data)
        record = next(i for i in src.infolist() if i.filename.endswith(".dist-info/RECORD"))
        dst.writestr(record, _record_for(dst, record.filename))
    return target


def _record_for(archive: zipfile.ZipFile, record_name: str) -> bytes:
    lines = []
    for info in archive.infolist():
        data = archive.read(info.filename)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{info.filename},sha256={digest},{len(data)}")
    lines.append(f"{record_name},,")
    return ("\n".join(lines) + "\n").encode()


def test_claimed_tag_too_old_is_an_error(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    # twtool is linked on this machine (glibc 2.36) and needs GLIBC_2.34
    wheel = retag(
        fixture_wheels["executable"], tmp_path, "manylinux_2_17_x86_64", "manylinux_2_17_x86_64"
    )
    report = Inspector().inspect(wheel)
    [finding] = [f for f in report.findings if f.code == "tag-too-old"]
    assert finding.severity == "error"
    assert "claims manylinux_2_17 but content needs manylinux_2_34_x86_64" in finding.message
    assert "GLIBC_2.34" in finding.message


def test_filename_and_wheel_tags_disagree(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    wheel = retag(fixture_wheels["extension"], tmp_path, "manylinux_2_17_x86_64", "linux_x86_64")
    report = Inspector().inspect(wheel)
    assert "tag-inconsistent" in {f.code for f in report.findings}
    assert "tag-too-old" not in {f.code for f in report.findings}
