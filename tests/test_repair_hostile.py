"""Hostile input to ``repair`` (and ``normalize``): metadata edits, options, names, times.

Each case is a real fixture wheel changed in code (RECORD kept consistent, so only the
intended defect is present) and repaired through the real CLI.  A refusal is one line
naming the wheel (and member), exit 2, and nothing written; an accepted odd input gives a
wheel whose WHEEL, METADATA and file name agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from test_bad_input import Members, dist_info, read_members
from truewheel.analysis.inspector import Inspector
from truewheel.cli import main
from truewheel.repair.preload import BEGIN_MARKER, END_MARKER
from truewheel.wheel.metadata import Headers


def write_variant(
    good: Path, out_dir: Path, change: Callable[[Members], Members], name: str | None = None
) -> Path:
    """``good`` with ``change`` applied and RECORD rewritten to match."""
    members = change(read_members(good))
    record = f"{dist_info(members)}/RECORD"
    rows = [
        f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},"
        f"{len(d)}\n"
        for n, d in members.items()
        if n != record
    ]
    members[record] = "".join([*rows, f"{record},,\n"]).encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (name or good.name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if data[:4] == b"\x7fELF" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def replaced(suffix: str, data: bytes) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        name = next(n for n in members if n.endswith(suffix))
        return {**members, name: data}

    return change


def repair_ok(wheel: Path, out: Path, *options: str) -> Path:
    assert main(["repair", "-w", str(out), *options, str(wheel)]) == 0
    [repaired] = out.glob("*.whl")
    return repaired


def refused(capsys: pytest.CaptureFixture[str], out: Path, argv: list[str]) -> str:
    """Run ``argv``: exit 2, one line on stderr, no traceback, nothing in ``out``."""
    status = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2, err
    assert len(err) == 1 and err[0].startswith("truewheel: error: "), err
    assert not out.exists() or list(out.iterdir()) == []
    return err[0]


def wheel_tags(wheel: Path) -> list[str]:
    members = read_members(wheel)
    text = members[f"{dist_info(members)}/WHEEL"].decode()
    return Headers(text).all_unfolded("Tag")


def filename_tags(wheel: Path) -> list[str]:
    python, abi, platforms = wheel.name[: -len(".whl")].split("-")[-3:]
    return [f"{python}-{abi}-{p}" for p in platforms.split(".")]


@pytest.fixture()
def extension(fixture_wheels: dict[str, Path]) -> Path:
    return fixture_wheels["extension"]


# --------------------------------------------------------------------------------------------
# WHEEL tags


def test_ordinary_wheel_file_keeps_its_bytes_but_the_tags(extension: Path, tmp_path: Path) -> None:
    before = read_members(extension)["twext-1.0.dist-info/WHEEL"].decode()
    repaired = repair_ok(extension, tmp_path / "out")
    after = read_members(repaired)["twext-1.0.dist-info/WHEEL"].decode()
    new_tags = "".join(f"Tag: {t}\n" for t in filename_tags(repaired))
    assert after == before.replace("Tag: cp311-cp311-linux_x86_64\n", new_tags)


@pytest.mark.parametrize(
    ("wheel_file", "newline"),
    [
        ("Wheel-Version: 1.0\nRoot-Is-Purelib: false\ntag: cp311-cp311-linux_x86_64\n", "\n"),
        ("Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag:\n  cp311-cp311-linux_x86_64\n", "\n"),
        (
            "Wheel-Version: 1.0\r\nTAG: cp311-cp311-linux_x86_64\r\nRoot-Is-Purelib: false\r\n\r\n",
            "\r\n",
        ),
    ],
)
def test_tag_fields_in_any_case_folded_or_crlf_are_replaced(
    extension: Path, tmp_path: Path, wheel_file: str, newline: str
) -> None:
    odd = write_variant(extension, tmp_path / "in", replaced("/WHEEL", wheel_file.encode()))
    repaired = repair_ok(odd, tmp_path / "out")
    text = read_members(repaired)["twext-1.0.dist-info/WHEEL"].decode()
    assert wheel_tags(repaired) == filename_tags(repaired)
    assert "cp311-cp311-linux_x86_64" not in wheel_tags(repaired)
    lines = text.splitlines(keepends=True)
    assert all(line.endswith(newline) and line[0] not in " \t" for line in lines), text
    assert text.count("Root-Is-Purelib: false") == 1
    report = Inspector().inspect(repaired)
    assert "tag-inconsistent" not in {f.code for f in report.findings}


@pytest.mark.parametrize(
    "wheel_file",
    [
        "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: bogus\n",
        "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-\n linux_x86_64\n",
    ],
)
def test_malformed_tags_are_refused_before_anything_is_written(
    extension: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], wheel_file: str
) -> None:
    bad = write_variant(extension, tmp_path / "in", replaced("/WHEEL", wheel_file.encode()))
    out = tmp_path / "out"
    message = refused(capsys, out, ["repair", "-w", str(out), str(bad)])
    assert "twext-1.0.dist-info/WHEEL" in message


def test_a_tag_after_the_wheel_headers_is_not_a_tag(extension: Path, tmp_path: Path) -> None:
    """Installers read WHEEL's header block only; a ``Tag:`` after it is text, kept as is."""
    wheel_file = (
        "Wheel-Version: 1.0\nRoot-Is-Purelib: false\ntag: cp311-cp311-linux_x86_64\n\nTag: bogus\n"
    )
    odd = write_variant(extension, tmp_path / "in", replaced("/WHEEL", wheel_file.encode()))
    repaired = repair_ok(odd, tmp_path / "out")
    assert "bogus" not in repaired.name
    assert sorted(wheel_tags(repaired)) == sorted(filename_tags(repaired))
    members = read_members(repaired)
    assert members[f"{dist_info(members)}/WHEEL"].decode().endswith("\n\nTag: bogus\n")


def test_retagged_file_name_too_long_is_one_line(
    extension: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build = "1" + "b" * 210
    name = f"twext-1.0-{build}-cp311-cp311-linux_x86_64.whl"
    long_name = write_variant(extension, tmp_path / "in", lambda m: m, name=name)
    out = tmp_path / "out"
    message = refused(capsys, out, ["repair", "-w", str(out), str(long_name)])
    assert "longer than 255 bytes" in message


# --------------------------------------------------------------------------------------------
# --provided-by: METADATA, __init__.py and the option itself


@pytest.fixture(scope="module")
def consumer(providerbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels: dict[str, Path] = providerbuild.build_provider_wheels(
        tmp_path_factory.mktemp("hostile-provider")
    )
    return wheels["consumer"]


PROVIDED = ["--provided-by", "twfoo:libfoo*"]
INIT = "twconsumer/__init__.py"
METADATA = "twconsumer-1.0.dist-info/METADATA"


def test_crlf_metadata_gets_requires_dist_in_its_header_block(
    consumer: Path, tmp_path: Path
) -> None:
    body = "Description line one.\r\n\r\nRequires-Dist: not-a-header\r\n"
    text = (
        "Metadata-Version: 2.1\r\nName: twconsumer\r\nVersion: 1.0\r\nSummary: folded\r\n"
        f" summary\r\n\r\n{body}"
    )
    odd = write_variant(consumer, tmp_path / "in", replaced("/METADATA", text.encode()))
    repaired = repair_ok(odd, tmp_path / "out", *PROVIDED)
    after = read_members(repaired)[METADATA].decode()
    head, _, rest = after.partition("\r\n\r\n")
    assert rest == body, "the description is untouched"
    assert head.endswith("summary\r\nRequires-Dist: twfoo")
    assert "\n" not in after.replace("\r\n", "")


def test_existing_requirement_in_lowercase_is_not_added_twice(
    consumer: Path, tmp_path: Path
) -> None:
    text = "Metadata-Version: 2.1\nName: twconsumer\nVersion: 1.0\nrequires-dist: TwFoo>=0.1\n"
    odd = write_variant(consumer, tmp_path / "in", replaced("/METADATA", text.encode()))
    repaired = repair_ok(odd, tmp_path / "out", *PROVIDED)
    assert read_members(repaired)[METADATA].decode() == text


@pytest.mark.parametrize(
    ("member", "data", "expected"),
    [
        (
            "/METADATA",
            b"Metadata-Version: 2.1\nName: twconsumer\nVersion: 1.0\nRequires-Dist: ((((\n",
            "invalid Requires-Dist '((((' (Expected package name",
        ),
        (INIT, b'"""Doc."""\nname = "caf\xe9"\n', "not valid utf-8 (byte 0xe9"),
        (INIT, b"# coding: no-such-codec\nx = 1\n", "unknown encoding: no-such-codec"),
        (
            INIT,
            f"{BEGIN_MARKER}\n{BEGIN_MARKER}\nx = 1\n{END_MARKER}\n".encode(),
            "2 begin and 1 end markers",
        ),
        (
            INIT,
            f"{BEGIN_MARKER}\n{END_MARKER}\n{BEGIN_MARKER}\n{END_MARKER}\n".encode(),
            "2 begin and 2 end markers",
        ),
    ],
)
def test_unusable_metadata_or_init_is_one_line(
    consumer: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    member: str,
    data: bytes,
    expected: str,
) -> None:
    bad = write_variant(consumer, tmp_path / "in", replaced(member, data))
    out = tmp_path / "out"
    message = refused(capsys, out, ["repair", "-w", str(out), *PROVIDED, str(bad)])
    assert expected in message
    assert (METADATA if member == "/METADATA" else INIT) in message


def test_init_in_a_declared_encoding_keeps_it(consumer: Path, tmp_path: Path) -> None:
    init = '# -*- coding: latin-1 -*-\n"""Caf\xe9."""\nfrom twconsumer._core import answer\n'
    odd = write_variant(consumer, tmp_path / "in", replaced(INIT, init.encode("latin-1")))
    repaired = repair_ok(odd, tmp_path / "out", *PROVIDED)
    data = read_members(repaired)[INIT]
    text = data.decode("latin-1")
    assert text.startswith('# -*- coding: latin-1 -*-\n"""Caf\xe9."""\n\n' + BEGIN_MARKER)
    assert text.endswith(f"{END_MARKER}\n\nfrom twconsumer._core import answer\n")
    compile(data, INIT, "exec")


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("no-colon-here", "DIST[SPEC]:PATTERN"),
        ("twfoo:", "DIST[SPEC]:PATTERN"),
        ("((((:libfoo*", "invalid requirement '(((('"),
        ("twfoo>=:libfoo*", "invalid requirement"),
        ("twfoo:lib/foo*", "PATTERN must be a library file name"),
        ("twfoo:libfoo\x1b*", "PATTERN must be a library file name"),
        ("twfoo; os_name == 'a\x1b[2J':libfoo*", "control characters in requirement"),
    ],
)
def test_invalid_provided_by_options(
    consumer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, expected: str
) -> None:
    out = tmp_path / "out"
    message = refused(
        capsys, out, ["repair", "-w", str(out), "--provided-by", option, str(consumer)]
    )
    assert expected in message


# --------------------------------------------------------------------------------------------
# names the repair writes


@pytest.mark.parametrize(
    "suffix",
    ["/../../x", "../x", "a/b", "", "..", ".libs\n", "x" * 65, "\\x", "l\x00ibs", ".l ibs"],
)
def test_lib_sdir_must_be_a_plain_suffix(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    out = tmp_path / "out"
    argv = ["repair", "-w", str(out), "-L", suffix, str(fixture_wheels["system_libs"])]
    assert "--lib-sdir must be" in refused(capsys, out, argv)


@pytest.mark.parametrize("suffix", [".dist-info", ".data", ".DIST-INFO"])
def test_lib_sdir_cannot_make_a_second_dist_info(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """``-L .dist-info`` wrote ``<dist>.dist-info/libgomp...``: a wheel pip refuses."""
    out = tmp_path / "out"
    argv = ["repair", "-w", str(out), "-L", suffix, str(fixture_wheels["system_libs"])]
    assert "must not name a .dist-info or .data directory" in refused(capsys, out, argv)


def test_lib_sdir_underscore_and_second_line_of_defence(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wheel = fixture_wheels["system_libs"]
    repaired = repair_ok(wheel, tmp_path / "ok", "-L", "_libs")
    grafted = [n for n in read_members(repaired) if n.startswith("twsys_libs/")]
    assert len(grafted) == 2

    # Even if the option check were gone, the writer-side guard refuses the names.
    monkeypatch.setattr("truewheel.repair.plan.check_lib_sdir", lambda value: value)
    monkeypatch.setattr("truewheel.commands.repair.check_lib_sdir", lambda value: value)
    out = tmp_path / "out"
    message = refused(capsys, out, ["repair", "-w", str(out), "-L", "/../../x", str(wheel)])
    assert "refusing to write an unsafe member name ('..' component)" in message
    assert "twsys/../../x/" in message


def test_elf_member_with_a_name_over_255_bytes(
    fixture_wheels: dict[str, Path], tmp_path: Path
) -> None:
    long_name = "twsys/_" + "c" * 300 + ".cpython-311-x86_64-linux-gnu.so"

    def rename(members: Members) -> Members:
        core = next(n for n in members if n.startswith("twsys/_core"))
        renamed = {long_name if n == core else n: d for n, d in members.items()}
        return renamed

    odd = write_variant(fixture_wheels["system_libs"], tmp_path / "in", rename)
    repaired = repair_ok(odd, tmp_path / "out")
    report = Inspector().inspect(repaired)
    [core] = [f for f in report.native_files if f.path == long_name]
    grafted = {n.split("-")[0] for n in core.elf.needed if "-" in n}
    assert grafted == {"libgmp", "libgomp"}
    assert not {"libgmp.so.10", "libgomp.so.1"} & set(core.elf.needed)
    assert not {f.code for f in report.findings} & {"external-library", "record-mismatch"}


# --------------------------------------------------------------------------------------------
# SOURCE_DATE_EPOCH: one rule for build, repair and normalize (truewheel.wheel.ziptime)

_LAST = (2107, 12, 31, 23, 59, 58)
_FIRST = (1980, 1, 1, 0, 0, 0)


def _dates(wheel: Path) -> set[tuple[int, ...]]:
    with zipfile.ZipFile(wheel) as archive:
        return {info.date_time for info in archive.infolist()}


def _run(command: str, wheel: Path, out: Path) -> list[str]:
    return [command, "-w", str(out), str(wheel)]


@pytest.mark.parametrize("command", ["repair", "normalize"])
@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        ("4354819198", _LAST),  # 2107-12-31T23:59:58Z: the last time a zip holds
        ("4354819199", _LAST),  # the last second of 2107, written as :58
        ("0", _FIRST),  # before 1980: kept for compilers, written as zip's first time
        ("00000", _FIRST),
        ("1700000000", (2023, 11, 14, 22, 13, 20)),
    ],
)
def test_source_date_epoch_in_the_wheel(
    extension: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    epoch: str,
    expected: tuple[int, ...],
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    out = tmp_path / "out"
    assert main(_run(command, extension, out)) == 0
    [written] = out.glob("*.whl")
    assert _dates(written) == {expected}


@pytest.mark.parametrize("command", ["repair", "normalize"])
@pytest.mark.parametrize(
    ("epoch", "why"),
    [
        *((v, "is not a non-negative integer") for v in ["1e20", "1.5", "", " 5", "0x10"]),
        *((v, "is not a non-negative integer") for v in ["\u0665", "1_000", "now", "-86400"]),
        ("-" + "9" * 5000, "is not a non-negative integer"),
        ("4354819200", "is after 2107-12-31, the last date a zip can hold"),  # 2108-01-01
        ("7258118400", "is after 2107-12-31, the last date a zip can hold"),  # 2200-01-01
        ("1" + "0" * 30, "is after 2107-12-31, the last date a zip can hold"),
        ("9" * 5000, "is after 2107-12-31, the last date a zip can hold"),
    ],
)
def test_source_date_epoch_that_no_zip_can_hold_is_refused(
    extension: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    epoch: str,
    why: str,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    out = tmp_path / "out"
    message = refused(capsys, out, _run(command, extension, out))
    assert f"SOURCE_DATE_EPOCH {why}: {epoch[:40]!r}" in message


def test_repair_json_output_stays_valid_for_odd_metadata(
    extension: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel_file = "Wheel-Version: 1.0\r\nRoot-Is-Purelib: false\r\ntag: cp311-cp311-linux_x86_64\r\n"
    odd = write_variant(extension, tmp_path / "in", replaced("/WHEEL", wheel_file.encode()))
    assert main(["repair", "--json", "-w", str(tmp_path / "out"), str(odd)]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    [result] = doc["wheels"]
    assert re.fullmatch(r"twext-1\.0-cp311-cp311-manylinux\S+\.whl", Path(result["output"]).name)
