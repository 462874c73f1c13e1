"""Bad input: one line naming the wheel and member, exit status 2, no traceback, no output."""

from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from truewheel.cli import main

Members = dict[str, bytes]


def read_members(wheel: Path) -> Members:
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_wheel(path: Path, members: Members | list[tuple[str, bytes]]) -> Path:
    items = list(members.items()) if isinstance(members, dict) else members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names; we want them
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in items:
                info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
    return path


@pytest.fixture()
def good(fixture_wheels: dict[str, Path]) -> Path:
    return fixture_wheels["internal_rpath"]


def variant(
    good: Path, tmp_path: Path, change: Callable[[Members], Members | list[tuple[str, bytes]]]
) -> Path:
    return write_wheel(tmp_path / good.name, change(read_members(good)))


def dist_info(members: Members) -> str:
    return next(n.split("/")[0] for n in members if n.split("/")[0].endswith(".dist-info"))


def elf_member(members: Members) -> str:
    return next(
        n for n, d in members.items() if d[:4] == b"\x7fELF" and n.endswith("libinner.so.1")
    )


def run_cli(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    before = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir(exist_ok=True)
    status = main(["inspect", "--json", "-o", str(out), str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert not out.exists(), "a failed run must not leave output"
    assert list(out.parent.iterdir()) == [], "no temporary files left behind"
    if before is not None:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "input modified"
    assert len(err) == 1, err
    assert err[0].startswith("truewheel: error: ")
    return err[0]


def test_not_a_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "demo-1.0-py3-none-any.whl"
    bad.write_text("hello, I am not a zip")
    assert "not a zip file" in run_cli(bad, tmp_path, capsys)


def test_truncated_zip(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / good.name
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    message = run_cli(bad, tmp_path, capsys)
    assert good.name in message and "zip" in message


def test_truncated_in_central_directory(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = good.read_bytes()
    bad = tmp_path / good.name
    bad.write_bytes(data[:-40])
    assert good.name in run_cli(bad, tmp_path, capsys)


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "twinner/../../evil", "C:/evil"])
def test_unsafe_member_names(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    bad = variant(good, tmp_path, lambda m: {**m, name: b"x"})
    message = run_cli(bad, tmp_path, capsys)
    assert "unsafe member name" in message and name in message


def test_duplicate_member_names(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = variant(good, tmp_path, lambda m: [*m.items(), ("twinner/__init__.py", b"evil")])
    message = run_cli(bad, tmp_path, capsys)
    assert "duplicate member name" in message and "twinner/__init__.py" in message


def _patch_central_sizes(data: bytes, name: bytes, usize: int) -> bytes:
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_len] == name:
            return data[: pos + 24] + struct.pack("<I", usize) + data[pos + 28 :]
        pos = data.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{name!r} not found")


def test_zip_bomb_size_lie(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = b"\0" * (4 * 2**20)
    bad = variant(good, tmp_path, lambda m: {**m, "twinner/bomb.bin": bomb})
    bad.write_bytes(_patch_central_sizes(bad.read_bytes(), b"twinner/bomb.bin", 10_000))
    message = run_cli(bad, tmp_path, capsys)
    assert "twinner/bomb.bin" in message and "zip bomb" in message


def test_zip_bomb_impossible_ratio(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = variant(good, tmp_path, lambda m: {**m, "twinner/bomb.bin": b"abc"})
    bad.write_bytes(_patch_central_sizes(bad.read_bytes(), b"twinner/bomb.bin", 2**31))
    message = run_cli(bad, tmp_path, capsys)
    assert "twinner/bomb.bin" in message and "zip bomb" in message


def test_overlapping_members(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(variant(good, tmp_path, lambda m: m).read_bytes())
    first = data.find(b"PK\x01\x02")
    second = data.find(b"PK\x01\x02", first + 4)
    offset = struct.unpack_from("<I", data, first + 42)[0]
    struct.pack_into("<I", data, second + 42, offset)  # two entries share one local header
    bad = tmp_path / good.name
    bad.write_bytes(bytes(data))
    assert "overlaps" in run_cli(bad, tmp_path, capsys)


@pytest.mark.parametrize("missing", ["WHEEL", "METADATA", "RECORD"])
def test_missing_dist_info_file(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    bad = variant(
        good,
        tmp_path,
        lambda m: {k: v for k, v in m.items() if not k.endswith(f".dist-info/{missing}")},
    )
    message = run_cli(bad, tmp_path, capsys)
    assert f"missing {missing}" in message and f".dist-info/{missing}" in message


@pytest.mark.parametrize(
    ("member", "content", "expected"),
    [
        ("WHEEL", b"Generator: x\n", "missing Wheel-Version"),
        ("WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: maybe\n", "Root-Is-Purelib"),
        ("WHEEL", b"\xff\xfe\x00garbage", "not valid UTF-8"),
        ("METADATA", b"Summary: no name\n", "missing required field(s): Name, Version"),
        ("RECORD", b"a,b\nc,d,e,f\n", "expected 3 fields"),
    ],
)
def test_garbled_dist_info_file(
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    member: str,
    content: bytes,
    expected: str,
) -> None:
    def garble(m: Members) -> Members:
        return {k: (content if k == f"{dist_info(m)}/{member}" else v) for k, v in m.items()}

    message = run_cli(variant(good, tmp_path, garble), tmp_path, capsys)
    assert expected in message and f".dist-info/{member}" in message


def test_invalid_wheel_filename(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "not-a-wheel-name.whl"
    bad.write_bytes(good.read_bytes())
    assert "invalid wheel file name" in run_cli(bad, tmp_path, capsys)


def test_truncated_elf(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def truncate(m: Members) -> Members:
        name = elf_member(m)
        return {**m, name: m[name][:200]}

    message = run_cli(variant(good, tmp_path, truncate), tmp_path, capsys)
    assert "libinner.so.1" in message and "truncated ELF" in message


def test_malformed_elf_header(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def corrupt(m: Members) -> Members:
        name = elf_member(m)
        data = bytearray(m[name])
        struct.pack_into("<Q", data, 0x20, 2**40)  # e_phoff far past the end
        return {**m, name: bytes(data)}

    message = run_cli(variant(good, tmp_path, corrupt), tmp_path, capsys)
    assert "libinner.so.1" in message and "ELF" in message


def test_missing_file_and_empty_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in run_cli(tmp_path / "nope-1.0-py3-none-any.whl", tmp_path, capsys)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .whl files" in run_cli(empty, tmp_path, capsys)


def test_record_mismatches_are_all_reported(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def tamper(m: Members) -> Members:
        return {
            k: (v + b"\n# changed" if k.endswith(".py") or k.endswith("libinner.so.1") else v)
            for k, v in m.items()
        }

    bad = variant(good, tmp_path, tamper)
    assert main(["inspect", "--fail-on", "never", "--verbose", str(bad)]) == 0
    out = capsys.readouterr().out
    assert out.count("record-mismatch") >= 2


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect"]) == 2
    assert main(["inspect", "--fail-on", "bogus", "x.whl"]) == 2


def test_no_traceback_from_the_real_command(good: Path, tmp_path: Path) -> None:
    bad = tmp_path / good.name
    bad.write_bytes(good.read_bytes()[:1000])
    result = subprocess.run(
        [sys.executable, "-m", "truewheel", "inspect", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and good.name in result.stderr
