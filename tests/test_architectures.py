"""Every architecture the policies know, from files Debian's cross compilers build.

The architecture comes from the ELF header alone (machine, class, byte order, ARM's
float ABI in e_flags); inspect names it and the tag it allows, repair writes that tag
or refuses in one line.  Each case skips alone when its compiler is missing.  The
expected tags are auditwheel 6.8.2's for its own testsimple wheels of the same
architectures (its tests/bundled-wheels/glibc).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from truewheel.cli import main
from truewheel.elf.machine import abi_of, architecture

#: architecture -> the tag inspect computes and repair writes (None: no policy covers it).
EXPECTED = {
    "x86_64": "manylinux_2_5_x86_64",
    "i686": "manylinux_2_5_i686",
    "aarch64": "manylinux_2_17_aarch64",
    "armv7l": "manylinux_2_17_armv7l",
    "ppc64le": "manylinux_2_17_ppc64le",
    "s390x": "manylinux_2_17_s390x",
    "riscv64": "manylinux_2_31_riscv64",
    "ppc64": "manylinux_2_17_ppc64",
    "armv5l": None,
    "mips64": None,
    "x32": None,
    "aarch64_be": None,
}


@pytest.fixture()
def build(archbuild: ModuleType, wheelbuild: ModuleType, tmp_path: Path) -> Callable[..., Path]:
    """Build one architecture's wheel, or skip when its cross compiler is missing."""

    def make(arch: str, **kw: str) -> Path:
        wheel: Path | None = archbuild.build_arch_wheel(wheelbuild, tmp_path, arch, **kw)
        if wheel is None:
            pytest.skip(f"{archbuild.TARGETS[arch].compiler} is not installed")
        return wheel

    return make


def _inspect(wheel: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = main(["inspect", "--json", str(wheel)])
    [report] = json.loads(capsys.readouterr().out)["wheels"]
    return status, report


def _errors(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (f["code"], f["file"], f["message"]) for f in report["findings"] if f["severity"] == "error"
    ]


@pytest.mark.parametrize("arch", sorted(EXPECTED))
def test_inspect_names_the_architecture_and_its_tag(
    arch: str, build: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = build(arch)
    status, report = _inspect(wheel, capsys)
    [native] = report["native_files"]
    assert native["architecture"] == arch
    assert report["platform"]["architecture"] == arch
    errors = _errors(report)
    if EXPECTED[arch] is None:
        assert status == 1
        assert report["platform"]["computed_tag"] == f"linux_{arch}"
        [(code, file, message)] = errors
        assert (code, file) == ("architecture-unsupported", native["path"])
        assert message.startswith(f"{arch} (") and f"no manylinux policy covers {arch}" in message
    else:
        assert report["platform"]["computed_tag"] == EXPECTED[arch]
        assert (status, errors) == (0, [])


@pytest.mark.parametrize("arch", sorted(EXPECTED))
def test_repair_tags_or_refuses(
    arch: str, build: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = build(arch)
    out = tmp_path / "out"
    status = main(["repair", "-w", str(out), str(wheel)])
    captured = capsys.readouterr()
    if EXPECTED[arch] is None:
        assert status == 2
        assert captured.err.count("\n") == 1, captured.err
        assert f"no manylinux policy covers {arch}" in captured.err
        assert not out.exists() or not list(out.iterdir())
        return
    assert status == 0, captured.err
    [repaired] = out.iterdir()
    assert EXPECTED[arch] in repaired.name.split("-")[-1].removesuffix(".whl").split(".")


def test_soft_float_arm_is_armv5l_by_its_flags(archbuild: ModuleType, tmp_path: Path) -> None:
    """readelf agrees on the flags that make the two ARM ABIs."""
    soft = archbuild.compile_module(archbuild.TARGETS["armv5l"], tmp_path / "soft")
    hard = archbuild.compile_module(archbuild.TARGETS["armv7l"], tmp_path / "hard")
    if soft is None or hard is None:
        pytest.skip("the ARM cross compilers are not installed")
    for path, words in ((soft, "soft-float ABI"), (hard, "hard-float ABI")):
        header = subprocess.run(["readelf", "-h", str(path)], capture_output=True, text=True)
        assert words in header.stdout
    assert architecture(40, 32, True, 0x5000200) == "armv5l"
    assert architecture(40, 32, True, 0x5000400) == "armv7l"


def test_header_values_without_a_cross_compiler() -> None:
    """LoongArch has no Debian cross compiler here: its psABI values, checked directly."""
    assert (
        architecture(258, 64, True, 0x43) == "loongarch64"
    )  # EF_LOONGARCH_ABI_DOUBLE_FLOAT|OBJABI_V1
    assert architecture(8, 32, False, 0) == "mips"
    assert architecture(40, 32, True, 0x4000002) == "armv5l"  # EABI4: never hard-float
    assert abi_of(62, 64, False, 0) is None
    assert architecture(62, 64, False, 0) == "machine-62-64bit-be"


def test_wheel_named_for_another_architecture_is_refused(
    build: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """aarch64 code in a wheel named x86_64: auditwheel refuses it ("Invalid binary wheel")."""
    wheel = build("aarch64", tag_arch="x86_64")
    status, report = _inspect(wheel, capsys)
    [native] = report["native_files"]
    assert status == 1
    assert _errors(report) == [
        (
            "architecture-mismatch",
            native["path"],
            "built for aarch64; the wheel is tagged for x86_64",
        )
    ]
    out = tmp_path / "out"
    assert main(["repair", "-w", str(out), str(wheel)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert native["path"] in err and "aarch64" in err and "x86_64" in err
    assert not out.exists() or not list(out.iterdir())


def test_soft_float_arm_named_armv7l_is_not_tagged_armv7l(
    build: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CPU name armv7l says nothing of the float ABI; the armv7l policies do."""
    wheel = build("armv5l", tag_arch="armv7l")
    status, report = _inspect(wheel, capsys)
    [(code, _, message)] = _errors(report)
    assert (status, code) == (1, "architecture-unsupported")
    assert "soft-float EABI, e_flags 0x5000200" in message
    assert "armv7l needs ARM 32-bit little-endian, hard-float EABI5" in message
    assert main(["repair", "-w", str(tmp_path / "out"), str(wheel)]) == 2
    assert "no manylinux policy covers armv5l" in capsys.readouterr().err


def test_hard_float_arm_may_be_named_for_an_older_cpu(
    build: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Like auditwheel's musllinux armv6l wheel: hard-float EABI5 in a linux_armv6l wheel.

    Repair writes the armv7l tags only: whether the code runs on an ARMv6 CPU is in
    ``.ARM.attributes``, which truewheel does not read (auditwheel keeps linux_armv6l).
    """
    wheel = build("armv7l", tag_arch="armv6l")
    status, report = _inspect(wheel, capsys)
    assert (status, _errors(report)) == (0, [])
    assert report["platform"]["computed_tag"] == "manylinux_2_17_armv7l"
    assert main(["repair", "-w", str(tmp_path / "out"), str(wheel)]) == 0
    [repaired] = (tmp_path / "out").iterdir()
    assert repaired.name.endswith("-manylinux2014_armv7l.manylinux_2_17_armv7l.whl")


def test_mixed_float_abis_cannot_load_together(
    build: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """glibc's ld.so on armhf refuses an EABI5 file flagged soft-float, and the reverse."""
    wheel = build("armv7l", also="armv5l")
    status, report = _inspect(wheel, capsys)
    [(code, file, message)] = _errors(report)
    assert (status, code) == (1, "architecture-mismatch")
    assert file.startswith("twarch_armv7l_and_armv5l/extra/")
    assert message == (
        "ARM 32-bit little-endian, soft-float EABI, e_flags 0x5000200, but armv7l is "
        "ARM 32-bit little-endian, hard-float EABI5; the wheel is tagged for armv7l"
    )
