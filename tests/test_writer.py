"""The deterministic wheel writer: raw copies stay byte-identical, output is canonical."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from truewheel.wheel import ZipReader
from truewheel.wheel.writer import NewMember, RawMember, wheel_order, write_wheel, zip_level


def rewrite(source: Path, target: Path, changed: dict[str, bytes], level: int = 3) -> None:
    with ZipReader(source) as reader:
        dist_info = next(m.name.split("/")[0] for m in reader.members if ".dist-info/" in m.name)
        members: list[RawMember | NewMember] = [
            RawMember(m, m.name, bool(m.mode & 0o111), m.dos_datetime)
            for m in reader.members
            if m.name not in changed
        ]
        members += [NewMember(n, d, False, (0x21, 0)) for n, d in changed.items()]
        members.sort(key=lambda m: wheel_order(m.name, dist_info))
        write_wheel(target, members, reader, level=level)


def test_raw_members_are_copied_without_recompression(
    fixture_wheels: dict[str, Path], tmp_path: Path
) -> None:
    source = fixture_wheels["vendored_mangled"]
    target = tmp_path / source.name
    rewrite(source, target, {"twvend/NEW.txt": b"new member\n" * 100})
    with ZipReader(source) as before, ZipReader(target) as after:
        for member in before.members:
            copied = after.get(member.name)
            assert copied is not None
            assert b"".join(after.stream_raw(copied)) == b"".join(before.stream_raw(member))
            assert (copied.crc32, copied.method) == (member.crc32, member.method)
        new = after.get("twvend/NEW.txt")
        assert new is not None and after.read(new) == b"new member\n" * 100
        names = [m.name for m in after.members]
        assert names[-1].endswith(".dist-info/RECORD")
        assert all(
            ".dist-info/" in n
            for n in names[names.index(next(n for n in names if ".dist-info/" in n)) :]
        )
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        assert set(modes.values()) <= {0o644, 0o755}


def test_output_is_deterministic(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    source = fixture_wheels["system_libs"]
    for name in ("a.whl", "b.whl"):
        rewrite(source, tmp_path / name, {"twsys/extra.py": b"x = 1\n"})
    assert (tmp_path / "a.whl").read_bytes() == (tmp_path / "b.whl").read_bytes()


@pytest.mark.parametrize(("level", "expected"), [(None, 3), (0, -1), (1, 1), (6, 2), (9, 3)])
def test_zip_levels(level: int | None, expected: int) -> None:
    assert zip_level(level) == expected


def test_stored_members(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "stored.whl"
    rewrite(
        fixture_wheels["extension"], target, {"twext/data.bin": bytes(range(256)) * 8}, level=-1
    )
    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo("twext/data.bin")
        assert info.compress_type == zipfile.ZIP_STORED
        assert archive.read(info) == bytes(range(256)) * 8


def test_failed_write_leaves_nothing(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    with ZipReader(fixture_wheels["extension"]) as reader:
        member = reader.members[0]
        broken = RawMember(member, member.name, False, member.dos_datetime)
        with pytest.raises(ValueError):
            write_wheel(tmp_path / "x.whl", [broken], None)
    assert list(tmp_path.iterdir()) == []
