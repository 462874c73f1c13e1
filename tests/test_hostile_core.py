"""Hostile input at the core: zip names and layout, zip bombs, crafted ELF, laundered RECORDs.

Each test crafts a variant of a real fixture wheel the way an attacker would and runs
the real CLI: one line naming the wheel (and member), exit 2, no output, input untouched.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from test_bad_input import Members, dist_info, run_cli, variant
from truewheel.cli import main
from truewheel.elf import ElfFile
from truewheel.errors import ElfError


@pytest.fixture()
def good(fixture_wheels: dict[str, Path]) -> Path:
    return fixture_wheels["internal_rpath"]


def _central_entries(data: bytes) -> list[tuple[int, bytes]]:
    """(position of the central entry, stored name) for every member."""
    out, pos = [], data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        out.append((pos, data[pos + 46 : pos + 46 + name_len]))
        pos = data.find(b"PK\x01\x02", pos + 46 + name_len)
    return out


def _rename(data: bytes, old: bytes, new: bytes, *, utf8_flag: bool) -> bytes:
    """Give a member another stored name (same length) in both headers, and set its flag."""
    assert len(old) == len(new)
    out = bytearray(data.replace(old, new))
    for pos, name in _central_entries(bytes(out)):
        if new in name:
            flags = struct.unpack_from("<H", out, pos + 8)[0]
            flags = flags | 0x800 if utf8_flag else flags & ~0x800
            struct.pack_into("<H", out, pos + 8, flags)
            local = struct.unpack_from("<I", out, pos + 42)[0]
            struct.pack_into("<H", out, local + 6, flags)
    return bytes(out)


def test_invalid_utf8_name_flagged_utf8(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = variant(good, tmp_path, lambda m: {**m, "twinner/abcd.txt": b"x"})
    bad.write_bytes(_rename(bad.read_bytes(), b"abcd", b"ab\xff\xfe", utf8_flag=True))
    assert "not valid UTF-8" in run_cli(bad, tmp_path, capsys)


def test_invalid_utf8_name_in_the_local_header_only(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by the zip fuzzer: the central name is fine, the local one is not UTF-8."""
    bad = variant(good, tmp_path, lambda m: {**m, "twinner/abcd.txt": b"x"})
    data = bytearray(bad.read_bytes())
    for pos, name in _central_entries(bytes(data)):
        if name == b"twinner/abcd.txt":
            local = struct.unpack_from("<I", data, pos + 42)[0]
            struct.pack_into("<H", data, local + 6, 0x800)
            data[local + 30 + 10 : local + 30 + 12] = b"\xff\xfe"
    bad.write_bytes(bytes(data))
    message = run_cli(bad, tmp_path, capsys)
    assert "local header name differs" in message and "abcd.txt" in message


def test_cp437_name_without_the_flag_is_read(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """APPNOTE: without bit 11 a name is cp437; it must not be taken for an overlap."""

    def add(m: Members) -> Members:
        out = {**m, "twinner/caf\u00e9.txt": b"x"}
        record = f"{dist_info(m)}/RECORD"
        line = "twinner/caf\u00e9.txt,sha256=LQmaW9Ou7mkcxpbnyTr-i1tXyQ1lVsNKvsZY7E1ZJWE,1\n"
        out[record] = m[record] + line.encode()
        return out

    ok = variant(good, tmp_path, add)
    data = ok.read_bytes().replace("caf\u00e9".encode(), b"caf\x82\x82")  # é é in cp437
    ok.write_bytes(_rename(data, b"caf\x82\x82", b"caf\x82\x82", utf8_flag=False))
    assert main(["inspect", "--json", "--fail-on", "never", str(ok)]) == 0
    assert "caf\\u00e9\\u00e9.txt" in capsys.readouterr().out


def test_local_extra_field_swallowing_the_next_member(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A's local extra field runs over B's header, so A's data would be B's bytes."""
    ordered = variant(good, tmp_path, lambda m: m)
    data = bytearray(ordered.read_bytes())
    (a_pos, a_name), (b_pos, b_name) = _central_entries(bytes(data))[:2]
    a_local = struct.unpack_from("<I", data, a_pos + 42)[0]
    b_local = struct.unpack_from("<I", data, b_pos + 42)[0]
    b_extra = struct.unpack_from("<H", data, b_local + 28)[0]
    b_data = b_local + 30 + len(b_name) + b_extra
    struct.pack_into("<H", data, a_local + 28, b_data - (a_local + 30 + len(a_name)))
    for field in (16, 20, 24):  # CRC, compressed and uncompressed size: B's
        value = struct.unpack_from("<I", data, b_pos + field)[0]
        struct.pack_into("<I", data, a_pos + field, value)
        struct.pack_into("<I", data, a_local + field - 2, value)
    ordered.write_bytes(bytes(data))
    assert "overlaps another member" in run_cli(ordered, tmp_path, capsys)


def test_honest_zip_bomb_refused_before_inflating(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sizes that tell the truth but inflate 1000:1 to 80 MiB: refused from the directory."""
    bomb = variant(good, tmp_path, lambda m: {**m, "twinner/zeros.bin": bytes(80 << 20)})
    message = run_cli(bomb, tmp_path, capsys)
    assert "twinner/zeros.bin" in message and "zip bomb" in message


def test_many_small_bombs_refused_as_a_whole(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each member stays under the per-member floor; together they inflate 1000:1 to 1.5 GiB."""
    bad = tmp_path / good.name
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        block = zipfile.ZipFile(tmp_path / "block.zip", "w", zipfile.ZIP_DEFLATED)
        block.writestr("z", bytes(60 << 20))
        block.close()
    with zipfile.ZipFile(tmp_path / "block.zip") as block_zip:
        info = block_zip.infolist()[0]
        raw_at = info.header_offset + 30 + len(info.filename) + len(info.extra)
        raw = (tmp_path / "block.zip").read_bytes()[raw_at : raw_at + info.compress_size]
    data = bytearray(bad.read_bytes())
    cd_at = struct.unpack_from("<I", data, len(data) - 22 + 16)[0]
    head, directory = data[:cd_at], data[cd_at : len(data) - 22]
    count = struct.unpack_from("<H", data, len(data) - 22 + 10)[0]
    for i in range(26):
        name = f"twinner/z{i:02}.bin".encode()
        local_at = len(head)
        head += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            8,
            0,
            0x21,
            info.CRC,
            len(raw),
            60 << 20,
            len(name),
            0,
        )
        head += name + raw
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, info.CRC, len(raw),
            60 << 20, len(name), 0, 0, 0, 0, 0o644 << 16, local_at,
        )  # fmt: skip
        directory += name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count + 26, count + 26, len(directory),
                      len(head), 0)  # fmt: skip
    bad.write_bytes(bytes(head + directory + end))
    message = run_cli(bad, tmp_path, capsys)
    assert "zip bomb" in message


@pytest.mark.parametrize("command", ["normalize", "repair"])
@pytest.mark.parametrize("tamper", ["all-hashes", "elf-after-record"])
def test_rewrites_refuse_to_launder_record(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    tamper: str,
) -> None:
    source = fixture_wheels["system_libs" if command == "repair" else "internal_rpath"]

    def change(m: Members) -> Members:
        if tamper == "elf-after-record":
            name = next(n for n, d in m.items() if d[:4] == b"\x7fELF")
            return {**m, name: m[name][:-4] + b"EVIL"}
        record = f"{dist_info(m)}/RECORD"
        lines = m[record].decode().splitlines()
        wrong = [
            line.replace("sha256=", "sha256=A", 1) if "sha256=" in line else line for line in lines
        ]
        return {**m, record: ("\n".join(wrong) + "\n").encode()}

    bad = variant(source, tmp_path, change)
    before = hashlib.sha256(bad.read_bytes()).hexdigest()
    out = tmp_path / "out"
    assert main([command, "-w", str(out), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "do not match RECORD" in err[0], err
    assert "sha256 differs" in err[0]
    assert not list(out.glob("*")) if out.exists() else True
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == before


def test_crafted_gnu_property_note(tmp_path: Path) -> None:
    """A property whose data size runs past its note: an ElfError, never struct.error."""
    src = tmp_path / "v.c"
    src.write_text("int f(void) { return 1; }\n")
    lib = tmp_path / "libv.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-Wl,-z,x86-64-v2", str(src), "-o", str(lib)], check=True
    )
    data = bytearray(lib.read_bytes())
    at = data.find(struct.pack("<I", 0xC0008002))
    assert at > 0
    struct.pack_into("<I", data, at + 4, 0xFFFFFFF0)
    with pytest.raises(ElfError, match="GNU property"):
        ElfFile.parse(bytes(data))


def test_huge_declared_section_table(good: Path) -> None:
    with zipfile.ZipFile(good) as archive:
        name = next(n for n in archive.namelist() if n.endswith("libinner.so.1"))
        data = bytearray(archive.read(name))
    struct.pack_into("<HH", data, 0x3A, 0xFFFF, 0xFFFF)  # e_shentsize, e_shnum
    with pytest.raises(ElfError, match="section header"):
        ElfFile.parse(bytes(data))


def test_truncated_member_streams_to_a_clear_error(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = variant(good, tmp_path, lambda m: m)
    data = bytearray(bad.read_bytes())
    for pos, name in _central_entries(bytes(data)):
        if name.endswith(b"libinner.so.1"):
            csize = struct.unpack_from("<I", data, pos + 20)[0]
            local = struct.unpack_from("<I", data, pos + 42)[0]
            start = local + 30 + len(name) + struct.unpack_from("<H", data, local + 28)[0]
            data[start + csize // 2 : start + csize] = bytes(csize - csize // 2)  # zeros: garbage
    bad.write_bytes(bytes(data))
    message = run_cli(bad, tmp_path, capsys)
    assert "libinner.so.1" in message


def test_long_output_names_are_written(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file name near NAME_MAX still fits: temporary names never grow from the target's."""
    long_name = good.name.replace("twinner-", "twinner" + "x" * 210 + "-", 1)
    assert 240 < len(long_name) <= 255
    source = tmp_path / long_name
    source.write_bytes(good.read_bytes())
    out = tmp_path / "out"
    assert main(["normalize", "-w", str(out), str(source)]) == 0
    assert [p.name for p in out.iterdir()] == [long_name]
    report = tmp_path / ("r" * 250 + ".json")
    assert main(["inspect", "--json", "--fail-on", "never", "-o", str(report), str(source)]) == 0
    assert report.is_file()


@pytest.mark.parametrize(
    "alias", ["twinner/./__init__.py", "twinner//__init__.py", "./twinner/x.py"]
)
def test_path_aliases_are_refused(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], alias: str
) -> None:
    """pip installs ``pkg/./x.py`` over ``pkg/x.py``: a second copy no duplicate check saw."""
    bad = variant(good, tmp_path, lambda m: [*m.items(), (alias, b"import os\n")])
    message = run_cli(bad, tmp_path, capsys)
    assert "unsafe member name" in message and alias in message


@pytest.mark.parametrize("command", ["normalize", "repair"])
def test_an_output_never_replaces_another_input(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """The second input is where the first's output goes (repair: its earlier output)."""
    source = fixture_wheels["extension"]
    first = tmp_path / "a" / source.name
    first.parent.mkdir()
    first.write_bytes(source.read_bytes())
    assert main([command, "-w", str(tmp_path / "b"), str(first)]) == 0
    [second] = (tmp_path / "b").iterdir()
    capsys.readouterr()
    before = hashlib.sha256(second.read_bytes()).hexdigest()
    main([command, "-w", str(second.parent), str(first), str(second)])
    err = capsys.readouterr().err
    assert "refusing to overwrite an input with the output" in err
    assert hashlib.sha256(second.read_bytes()).hexdigest() == before


def test_output_onto_a_device_fifo_or_link_is_refused(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    for target, kind in ((fifo, "a FIFO"), (link, "a symbolic link")):
        status = main(["inspect", "--json", "-o", str(target), str(good)])
        assert status == 2
        assert f"-o: refusing to replace {kind}" in capsys.readouterr().err
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()
    assert not (tmp_path / "elsewhere.json").exists()


@pytest.mark.parametrize("command", ["normalize", "repair"])
def test_a_file_deleted_after_record_is_not_laundered(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    source = fixture_wheels["system_libs" if command == "repair" else "internal_rpath"]

    def delete(m: Members) -> Members:
        victim = next(n for n in m if n.endswith("__init__.py"))
        return {n: d for n, d in m.items() if n != victim}

    bad = variant(source, tmp_path, delete)
    out = tmp_path / "out"
    assert main([command, "-w", str(out), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "listed in RECORD but not in the wheel" in err and "__init__.py" in err
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize("how", ["truncated", "other-class", "core-dump"])
def test_repair_refuses_what_cannot_load(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    """Found in a user trial: repair passed such files through and even broadened the tag."""
    source = fixture_wheels["extension"]

    def spoil(m: Members) -> Members:
        name = next(n for n, d in m.items() if d[:4] == b"\x7fELF")
        data = bytearray(m[name])
        if how == "truncated":
            data = data[: len(data) // 2]
        elif how == "other-class":
            data[4] = 1  # ELFCLASS32 on a 64-bit file
        else:
            struct.pack_into("<H", data, 16, 4)  # ET_CORE
        return {**m, name: bytes(data)}

    bad = variant(source, tmp_path, spoil)
    rebuilt = _with_record(bad, tmp_path)
    out = tmp_path / "out"
    assert main(["repair", "-w", str(out), str(rebuilt)]) == 2
    assert "twext/" in capsys.readouterr().err
    assert not out.exists() or not list(out.iterdir())


def _with_record(wheel: Path, tmp_path: Path) -> Path:
    """The same wheel with a RECORD that matches its members (so only the ELF is wrong)."""
    import base64

    with zipfile.ZipFile(wheel) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    record = next(n for n in members if n.endswith(".dist-info/RECORD"))
    lines = [
        f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},"
        f"{len(d)}"
        for n, d in members.items()
        if n != record
    ]
    members[record] = ("\n".join([*lines, f"{record},,"]) + "\n").encode()
    out = tmp_path / "rec" / wheel.name
    out.parent.mkdir()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out


def test_two_dist_info_directories_are_refused(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pip refuses such a wheel; every command used to pick one and say nothing."""
    bad = variant(good, tmp_path, lambda m: {**m, "evil-1.0.dist-info/METADATA": b"Name: evil\n"})
    assert "several .dist-info directories" in run_cli(bad, tmp_path, capsys)
