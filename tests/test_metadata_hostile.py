"""Hostile RECORD, WHEEL and METADATA, and native files the tagged platform cannot load.

Every variant is a real fixture wheel changed in code, with a RECORD that matches its
members (so only the intended defect is present), run through the real CLI: bad input is
one line naming the wheel and member and exit 2, never a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_bad_input import Members, dist_info, read_members
from truewheel.cli import main
from truewheel.errors import MetadataError
from truewheel.wheel import CoreMetadata, WheelInfo, parse_record
from truewheel.wheel.metadata import Headers
from truewheel.wheel.record import installed_record_paths


def with_record(members: Members) -> Members:
    """``members`` with a RECORD that lists every other member correctly."""
    record = f"{dist_info(members)}/RECORD"
    rows = []
    for name, data in members.items():
        if name != record:
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            rows.append(f"{name},sha256={digest.decode()},{len(data)}\n")
    return {**members, record: "".join([*rows, f"{record},,\n"]).encode()}


def write_wheel(path: Path, members: Members) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o755 << 16 if data[:4] == b"\x7fELF" else 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def variant(
    good: Path, out: Path, change: Callable[[Members], Members], *, record: bool = True
) -> Path:
    members = change(read_members(good))
    return write_wheel(out / good.name, with_record(members) if record else members)


def replace(members: Members, suffix: str, data: bytes) -> Members:
    name = next(n for n in members if n.endswith(suffix))
    return {**members, name: data}


def inspect_fails(wheel: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``inspect --json -o``: exit 2, one line, no output, the input untouched."""
    before = hashlib.sha256(wheel.read_bytes()).hexdigest()
    out = wheel.parent / "report" / "r.json"
    status = main(["inspect", "--json", "-o", str(out), str(wheel)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2, err
    assert len(err) == 1, err
    assert err[0].startswith("truewheel: error: ") and wheel.name in err[0]
    assert not out.exists()
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == before
    return err[0]


def inspect_json(wheel: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = main(["inspect", "--json", str(wheel)])
    captured = capsys.readouterr()
    assert captured.err == ""
    doc: dict[str, Any] = json.loads(captured.out)
    [report] = doc["wheels"]
    return status, report


@pytest.fixture()
def good(fixture_wheels: dict[str, Path]) -> Path:
    return fixture_wheels["extension"]


# --------------------------------------------------------------------------------------------
# RECORD

_BIG = "x" * (200 << 10)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (f"twext/{_BIG}.py,,\n", "field larger than field limit"),
        ("twext/__init__.py,sha256=abc,\u00b2\n", "malformed size '²'"),
        ("twext/__init__.py,sha256=abc,\uff11\uff12\n", "malformed size"),
        ("twext/__init__.py,sha256=abc," + "9" * 5000 + "\n", "malformed size"),
        ("twext/a\x00b.py,,\n", "NUL byte in path"),
        ('"twext/__init__.py"x,,\n', "',' expected after '\"'"),
        ("/etc/passwd,,\n", "unsafe path (absolute path)"),
        ("twext/../../evil.py,,\n", "unsafe path ('..' component)"),
        (",sha256=abc,1\n", "empty path"),
        ("twext/__init__.py,md5=abc,1\n", "hash algorithm 'md5' is not allowed"),
    ],
)
def test_malformed_record_rows(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, expected: str
) -> None:
    def corrupt(members: Members) -> Members:
        record = f"{dist_info(members)}/RECORD"
        return {**members, record: members[record] + row.encode()}

    bad = variant(good, tmp_path, lambda m: corrupt(with_record(m)), record=False)
    message = inspect_fails(bad, capsys)
    assert ".dist-info/RECORD" in message and expected in message
    assert len(message) < 400, "an offending value is quoted, not copied whole"


def test_every_malformed_row_is_one_problem_and_good_rows_survive() -> None:
    text = (
        "a.py,sha256=AAAA,1\n"
        f"{_BIG},,\n"
        "b.py,sha256=BBBB,\u00b2\n"
        "c.py,,,\n"
        '"d.py"junk,,\n'
        "e.py,sha256=EEEE,5\r\n"
        "\n"
        "f\u2028g.py,,\n"
    )
    entries, problems = parse_record(text)
    assert sorted(entries) == ["a.py", "e.py", "f\u2028g.py"]
    assert entries["e.py"].size == 5
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 5"]
    assert all("\n" not in p and len(p) < 200 for p in problems)


def test_installed_record_rules() -> None:
    text = "pkg/x.so,md5=abc,3\n../../../bin/tool,,\npkg/,,\nbad,sha256=x,\u00b2\n"
    paths, problems = installed_record_paths(text)
    assert paths == ["pkg/x.so", "../../../bin/tool"]  # md5 is allowed in an installation
    assert problems == ["line 4: malformed size '²'"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab,"=\n\r\x00/.\u00b2 sha256:5'), max_size=80))
def test_record_parsing_never_raises(text: str) -> None:
    _, problems = parse_record(text)
    assert all("\n" not in p for p in problems)
    installed_record_paths(text)


# --------------------------------------------------------------------------------------------
# WHEEL and METADATA

_WHEEL = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_WHEEL + "Tag: bogus\n", "malformed Tag"),
        (_WHEEL + "Tag: cp311-linux_x86_64\n", "malformed Tag"),
        (_WHEEL + "Tag: cp311-cp311-linux-x86_64\n", "malformed Tag"),
        (_WHEEL + "Tag:\n", "malformed Tag"),
        (_WHEEL + "Tag: cp311--linux_x86_64\n", "malformed Tag"),
        (_WHEEL + "Tag: cp311-cp311-\n linux_x86_64\n", "malformed Tag"),
        ("Wheel-Version:\nRoot-Is-Purelib: false\n", "missing Wheel-Version"),
        ("Wheel-Version: 1.0\x00\nRoot-Is-Purelib: false\n", "malformed Wheel-Version"),
        ("Wheel-Version: \u0661.0\nRoot-Is-Purelib: false\n", "malformed Wheel-Version"),
        ("Wheel-Version: 2.0\nRoot-Is-Purelib: false\n", "unsupported Wheel-Version"),
        ("Wheel-Version: 1.0\nRoot-Is-Purelib:\n\tmaybe\n", "Root-Is-Purelib must be"),
    ],
)
def test_malformed_wheel_file(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    bad = variant(good, tmp_path, lambda m: replace(m, ".dist-info/WHEEL", content.encode()))
    message = inspect_fails(bad, capsys)
    assert ".dist-info/WHEEL" in message and expected in message


@pytest.mark.parametrize("body", ["\nTag: bogus\n", "not a header\nTag: bogus\n", "\nBuild: 2\r\n"])
def test_text_after_the_wheel_headers_is_ignored_and_reported(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str
) -> None:
    """Installers read WHEEL's header block only (google_re2 1.0-2 has ``Build: 2`` after it):
    what follows is neither a tag nor a refusal, but a finding."""
    content = _WHEEL + "Tag: cp311-cp311-linux_x86_64\n" + body
    odd = variant(good, tmp_path, lambda m: replace(m, ".dist-info/WHEEL", content.encode()))
    assert main(["inspect", "--json", "--fail-on", "never", str(odd)]) == 0
    [report] = json.loads(capsys.readouterr().out)["wheels"]
    assert report["wheel"]["tags"] == ["cp311-cp311-linux_x86_64"]
    [finding] = [f for f in report["findings"] if f["code"] == "wheel-file-body"]
    assert finding["severity"] == "info" and finding["file"].endswith(".dist-info/WHEEL")
    assert body.strip().splitlines()[0] in finding["message"]


@pytest.mark.parametrize(
    ("header", "said"),
    [("Root-Is_Purelib: false\n", "misspelled 'root-is_purelib'"), ("", "absent")],
)
def test_missing_root_is_purelib_is_false_as_for_pip(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, said: str
) -> None:
    """pip and installer read a missing Root-Is-Purelib as false (PyQt5 5.15.0's macOS wheel
    misspells it): a warning, not a refusal."""
    content = f"Wheel-Version: 1.0\nGenerator: test\n{header}Tag: cp311-cp311-linux_x86_64\n"
    odd = variant(good, tmp_path, lambda m: replace(m, ".dist-info/WHEEL", content.encode()))
    assert main(["inspect", "--json", "--fail-on", "error", str(odd)]) == 0
    [report] = json.loads(capsys.readouterr().out)["wheels"]
    assert report["wheel"]["root_is_purelib"] is False
    [finding] = [f for f in report["findings"] if f["code"] == "wheel-file-field"]
    assert finding["severity"] == "warning" and said in finding["message"]


def test_record_listing_itself_with_backslashes(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PyQt5-Qt5 5.15.2's Windows wheel: RECORD's own line as a Windows path."""

    def backslashed(members: Members) -> Members:
        record = with_record(members)
        name = f"{dist_info(record)}/RECORD"
        text = record[name].decode().replace(f"{name},,", name.replace("/", "\\") + ",,")
        return {**record, name: text.encode()}

    odd = variant(good, tmp_path, backslashed, record=False)
    assert main(["inspect", "--json", "--fail-on", "error", str(odd)]) == 0
    [report] = json.loads(capsys.readouterr().out)["wheels"]
    found = {f["code"]: f for f in report["findings"]}
    assert "record-missing-file" not in found
    assert found["record-path-separator"]["severity"] == "info"
    assert "\\RECORD" in found["record-path-separator"]["file"]


@pytest.mark.parametrize("member", ["WHEEL", "METADATA", "RECORD"])
def test_non_utf8_dist_info_files(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], member: str
) -> None:
    def latin1(members: Members) -> Members:
        name = f"{dist_info(members)}/{member}"
        return {**members, name: members[name] + "# caf\u00e9\n".encode("latin-1")}

    record = member != "RECORD"
    bad = variant(good, tmp_path, latin1, record=record)
    if not record:
        bad = variant(good, tmp_path, lambda m: latin1(with_record(m)), record=False)
    message = inspect_fails(bad, capsys)
    assert f".dist-info/{member}" in message and "not valid UTF-8" in message


@pytest.mark.parametrize(
    "content",
    [
        "Wheel-Version: 1.0\r\nRoot-Is-Purelib: false\r\ntag: cp311-cp311-linux_x86_64\r\n\r\n",
        "wheel-version: 1.0\nroot-is-purelib: FALSE\nTAG:\n cp311-cp311-linux_x86_64\n",
    ],
)
def test_wheel_file_in_any_case_with_folding_and_crlf(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    ok = variant(good, tmp_path, lambda m: replace(m, ".dist-info/WHEEL", content.encode()))
    _, report = inspect_json(ok, capsys)
    assert report["wheel"]["tags"] == ["cp311-cp311-linux_x86_64"]
    assert "tag-inconsistent" not in {f["code"] for f in report["findings"]}


def test_metadata_with_invalid_requirement_and_crlf_is_inspected(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Metadata-Version: 2.1\r\nName: twext\r\nVersion: 1.0\r\nRequires-Dist: ((((\r\n\r\nx"
    ok = variant(good, tmp_path, lambda m: replace(m, ".dist-info/METADATA", text.encode()))
    _, report = inspect_json(ok, capsys)
    assert report["name"] == "twext" and report["version"] == "1.0"


def test_header_values_are_unfolded_and_lines_end_only_at_cr_lf() -> None:
    headers = Headers("Name: a\u2028b\nSummary: one\n  two\n\nName: body\n")
    assert headers.unfolded("name") == "a\u2028b"
    assert headers.unfolded("SUMMARY") == "one  two"
    assert headers.get_all("Name") == ["a\u2028b"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("TagWhel-Vrsion:Rt1.0 \t\n\r\x00a_b\u00b2"), max_size=80))
def test_header_parsing_raises_only_metadata_errors(text: str) -> None:
    for parse in (WheelInfo.parse, CoreMetadata.parse):
        try:
            parse(text, path="x.whl", member="m")
        except MetadataError as exc:
            assert "\n" not in str(exc)


# --------------------------------------------------------------------------------------------
# installed RECORDs (scan)


def test_scan_of_hostile_installed_records(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    tool = read_members(fixture_wheels["executable"])["twexe/bin/twtool"]
    prefix = tmp_path / "env"
    site = prefix / "lib" / "python3.11" / "site-packages"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "twtool").write_bytes(tool)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "libsecret.so").write_bytes(tool)

    def dist(name: str, record: bytes) -> None:
        info = site / f"{name}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "RECORD").write_bytes(record)

    pkg = site / "good"
    pkg.mkdir(parents=True)
    (pkg / "libx.so").write_bytes(tool)
    dist(
        "good",
        b"good/libx.so,,\n../../../bin/twtool,,\n"
        b"../../../../outside/libsecret.so,,\n" + str(outside / "libsecret.so").encode() + b",,\n",
    )
    dist("big", b"x" * (200 << 10) + b",,\n")
    dist("digits", "good/libx.so,sha256=abc,\u00b2\n".encode())
    dist("nul", b"good/lib\x00x.so,,\n")
    dist("latin", b"good/caf\xe9.so,,\n")
    fifo = site / "fifo-1.0.dist-info"
    fifo.mkdir()
    (fifo / "METADATA").write_text("Metadata-Version: 2.1\nName: fifo\nVersion: 1.0\n")
    os.mkfifo(fifo / "RECORD")
    dist("fifometa", b"")
    (site / "fifometa-1.0.dist-info" / "METADATA").unlink()
    os.mkfifo(site / "fifometa-1.0.dist-info" / "METADATA")
    os.mkfifo(site / "good-1.0.dist-info" / "WHEEL")  # tags are optional: just none

    catalog = tmp_path / "c.sqlite"
    argv = ["scan", "--json", "--no-progress", "--catalog", str(catalog), str(prefix)]
    done = subprocess.run(
        [sys.executable, "-m", "truewheel", *argv], capture_output=True, text=True, timeout=120
    )
    doc = json.loads(done.stdout)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    failures = {Path(f["path"]).name: f["error"] for f in doc["failures"]}
    assert set(failures) == {
        f"{n}-1.0.dist-info" for n in ("big", "digits", "nul", "latin", "fifo", "fifometa")
    }
    assert "METADATA: not a regular file (a FIFO)" in failures["fifometa-1.0.dist-info"]
    assert "field larger than field limit" in failures["big-1.0.dist-info"]
    assert "malformed size '²'" in failures["digits-1.0.dist-info"]
    assert "NUL byte in path" in failures["nul-1.0.dist-info"]
    assert "not valid UTF-8" in failures["latin-1.0.dist-info"]
    assert "FIFO" in failures["fifo-1.0.dist-info"]
    assert all("\n" not in e for e in failures.values())
    paths = {c["path"] for group in doc["duplicates"] for c in group["copies"]}
    assert paths == {"good/libx.so", "../../../bin/twtool"}, "nothing outside the prefix is read"


# --------------------------------------------------------------------------------------------
# native files the tagged platform cannot load

_SOURCE = "int answer(void) { return 42; }\n"


def _compile(tmp_path: Path, *args: str) -> bytes:
    source = tmp_path / "answer.c"
    source.write_text(_SOURCE)
    out = tmp_path / "answer.out"
    done = subprocess.run(["gcc", *args, "-o", str(out), str(source)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"gcc {' '.join(args)} does not work here: {done.stderr[-200:]!r}")
    return out.read_bytes()


def _i686_shared_object(tmp_path: Path, _: bytes) -> bytes:
    obj = _compile(tmp_path, "-m32", "-fPIC", "-c")
    (tmp_path / "answer.o").write_bytes(obj)
    ld = shutil.which("ld")
    done = subprocess.run(
        [ld or "ld", "-m", "elf_i386", "-shared", "-o", str(tmp_path / "x.so"), "answer.o"],
        capture_output=True,
        cwd=tmp_path,
    )
    if done.returncode != 0:
        pytest.skip("ld cannot link i386 objects here")
    return (tmp_path / "x.so").read_bytes()


def _header_only(little: bool, wide: bool, machine: int) -> bytes:
    """An ELF header of a shared object with no segments: enough for the loader to judge it."""
    order = "<" if little else ">"
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if little else 2, 1]) + bytes(9)
    if wide:
        return ident + struct.pack(
            order + "HHIQQQIHHHHHH", 3, machine, 1, 0, 0, 0, 0, 64, 56, 0, 64, 0, 0
        )
    return ident + struct.pack(
        order + "HHIIIIIHHHHHH", 3, machine, 1, 0, 0, 0, 0, 52, 32, 0, 40, 0, 0
    )


def _retyped(data: bytes, e_type: int) -> bytes:
    return data[:16] + struct.pack("<H", e_type) + data[18:]


def _remachined(data: bytes, machine: int) -> bytes:
    return data[:18] + struct.pack("<H", machine) + data[20:]


@pytest.mark.parametrize(
    ("make", "code", "expected"),
    [
        (
            _i686_shared_object,
            "architecture-mismatch",
            "built for i686; the wheel is tagged for x86_64",
        ),
        (
            lambda t, so: _remachined(so, 183),
            "architecture-mismatch",
            "built for aarch64; the wheel is tagged for x86_64",
        ),
        (
            lambda t, so: _header_only(False, True, 62),
            "architecture-mismatch",
            "x86-64 64-bit big-endian, but x86_64 is x86-64 64-bit little-endian",
        ),
        (
            lambda t, so: _header_only(True, False, 62),
            "architecture-mismatch",
            "x86-64 32-bit little-endian, but x86_64 is x86-64 64-bit little-endian",
        ),
        (lambda t, so: _retyped(so, 4), "not-loadable", "a core dump (ET_CORE)"),
        (
            lambda t, so: _compile(t, "-fPIC", "-c"),
            "not-loadable",
            "a relocatable object (ET_REL)",
        ),
    ],
)
def test_only_native_file_cannot_load_on_the_tagged_platform(
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path, bytes], bytes],
    code: str,
    expected: str,
) -> None:
    def swap(members: Members) -> Members:
        name = next(n for n in members if n.endswith(".so"))
        return {**members, name: make(tmp_path, members[name])}

    bad = variant(good, tmp_path / "w", swap)
    status, report = inspect_json(bad, capsys)
    assert status == 1
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["code"], f["file"]) for f in errors] == [
        (code, "twext/_core.cpython-311-x86_64-linux-gnu.so")
    ]
    assert expected in errors[0]["message"]


def test_programs_and_object_files_beside_a_good_library_are_fine(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_c = tmp_path / "main.c"
    main_c.write_text("int main(void) { return 0; }\n")
    built = {}
    for flag in ("-no-pie", "-pie"):
        out = tmp_path / f"prog{flag}"
        subprocess.run(["gcc", flag, "-fPIE", "-o", str(out), str(main_c)], check=True)
        built[flag] = out.read_bytes()
    assert struct.unpack_from("<H", built["-no-pie"], 16) == (2,), "ET_EXEC"
    obj = _compile(tmp_path, "-fPIC", "-c")

    def add(members: Members) -> Members:
        return {
            **members,
            "twext-1.0.data/scripts/tool": built["-no-pie"],
            "twext/bin/pie-tool": built["-pie"],
            "twext/include/answer.o": obj,
        }

    ok = variant(good, tmp_path / "w", add)
    status, report = inspect_json(ok, capsys)
    assert status == 0, report["findings"]
    assert not [f for f in report["findings"] if f["severity"] == "error"]


def test_fixture_wheels_have_no_loadability_errors(
    fixture_wheels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    for wheel in fixture_wheels.values():
        main(["inspect", "--json", str(wheel)])
        [report] = json.loads(capsys.readouterr().out)["wheels"]
        codes = {f["code"] for f in report["findings"]}
        assert not codes & {"architecture-mismatch", "not-loadable"}, (wheel.name, codes)


def test_unicode_digits_in_a_symbol_version_are_not_numbers(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def patch(members: Members) -> Members:
        data = members["twexe/bin/twtool"]
        assert b"GLIBC_2.34" in data
        return {**members, "twexe/bin/twtool": data.replace(b"GLIBC_2.34", "GLIBC_2.³".encode())}

    odd = variant(fixture_wheels["executable"], tmp_path, patch)
    status, report = inspect_json(odd, capsys)
    assert status == 0
    [tool] = report["native_files"]
    assert tool["max_versions"] == {"GLIBC": "2.2.5"}
    assert main(["repair", "-w", str(tmp_path / "out"), str(odd)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GLIBC_2.³" in err[0]


def test_a_field_folded_over_many_lines_is_read_in_linear_time(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folded = "Metadata-Version: 2.1\nName: twext\nVersion: 1.0\nLicense: MIT\n" + (
        " a line of licence text, folded into the License field\n" * 400_000
    )
    odd = variant(good, tmp_path, lambda m: replace(m, ".dist-info/METADATA", folded.encode()))
    started = time.monotonic()
    status, report = inspect_json(odd, capsys)
    assert status == 0 and report["name"] == "twext"
    assert time.monotonic() - started < 30, "quadratic unfolding takes minutes here"
