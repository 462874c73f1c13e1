"""What reaches the terminal, and where output goes, when the input is hostile.

One error boundary (exit 0/1/2/3, tracebacks only with ``--debug``), untrusted
text escaped where it is rendered, rendering linear in the rows, outputs that
never land on an input, inputs that cannot hang, and a catalog that is never a
stranger's database.  Wheels are real zips with real ELF files built by gcc.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from truewheel.catalog.store import APPLICATION_ID
from truewheel.cli import main
from truewheel.cli._text import cell, printable

TAG = "cp311-cp311-linux_x86_64"


# -- building hostile wheels -------------------------------------------------------------


def _digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_wheel(
    directory: Path,
    dist: str,
    files: dict[str, bytes],
    *,
    name: str | None = None,
    unrecorded: dict[str, bytes] | None = None,
) -> Path:
    """A wheel whose RECORD lists ``files`` rightly; ``unrecorded`` members it leaves out."""
    dist_info = f"{dist}-1.0.dist-info"
    members = dict(files)
    members[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name or dist}\nVersion: 1.0\n".encode()
    )
    members[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: false\nTag: {TAG}\n".encode()
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for member, data in members.items():
        writer.writerow([member, _digest(data), len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    members[f"{dist_info}/RECORD"] = buffer.getvalue().encode()
    members.update(unrecorded or {})
    path = directory / f"{dist}-1.0-{TAG}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100755 if data[:4] == b"\x7fELF" else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def gcc(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["gcc", *map(str, args)], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def elf_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny library without SONAME, and links to it under hostile names.

    ``-l:NAME`` records NAME itself as DT_NEEDED when the library has no SONAME,
    so one gcc call makes an ELF needing any names we like.
    """
    root = tmp_path_factory.mktemp("elves")
    (root / "t.c").write_text("int tiny(void) { return 0; }\n")
    gcc("-shared", "-fPIC", "-o", "base.so", "t.c", cwd=root)
    (root / "m.c").write_text("int f(void) { return 1; }\n")
    return root


def needing(elf_dir: Path, output: str, names: list[str]) -> bytes:
    """An ELF whose DT_NEEDED entries are ``names`` (links to base.so)."""
    for name in names:
        link = elf_dir / name
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(elf_dir / "base.so")
    flags = [f"-l:{n}" for n in names]
    gcc("-shared", "-fPIC", "-o", output, "m.c", "-L.", "-Wl,--no-as-needed", *flags, cwd=elf_dir)
    return (elf_dir / output).read_bytes()


def plain_text_only(text: str) -> None:
    """Nothing a terminal would act on: only printable characters and line ends."""
    for line in text.splitlines():
        assert line.isprintable(), repr(line)
    assert "\r" not in text


def squash(text: str) -> str:
    """Text without spaces and table rules, so a name folded across lines still matches."""
    return re.sub(r"[\s│┃]", "", text)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("truewheel: error: ")
    assert "Traceback" not in err
    return lines[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the one place text is made safe --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain [/x] name.so", "plain [/x] name.so"),
        ("a\nb", "a\\nb"),
        ("a\r\tb", "a\\r\\tb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("\x9b2J", "\\x9b2J"),
        ("\x7f", "\\x7f"),
        ("ab\u202ecd", "ab\\u202ecd"),
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("lone\udcffsurrogate", "lone\\udcffsurrogate"),
        ("ünïcödé ok", "ünïcödé ok"),
    ],
)
def test_printable_shows_controls_as_escapes(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert printable(shown) == shown  # escaping twice changes nothing


def test_cell_never_parses_markup() -> None:
    assert cell("lib[/bold]x.so").plain == "lib[/bold]x.so"
    assert cell("[red]x[/red]").spans == []


# -- one error boundary -------------------------------------------------------------------


def test_help_documents_exit_status_and_debug(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "3 internal error" in out and "2 bad input or usage" in out and "--debug" in out


def test_internal_error_is_one_line_naming_the_input(
    fixture_wheels: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from truewheel.analysis.inspector import Inspector

    def broken(self: Inspector, wheel: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(Inspector, "inspect", broken)
    wheel = fixture_wheels["extension"]
    status, out, err = run(capsys, "inspect", str(wheel))
    assert status == 3 and out == ""
    line = one_error(err)
    assert str(wheel) in line and "internal error, please report" in line
    assert "ZeroDivisionError: a bug" in line and "--debug" in line

    status, _, err = run(capsys, "--debug", "inspect", str(wheel))
    assert status == 3
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError: a bug" in err
    assert err.rstrip().splitlines()[-1].startswith("truewheel: error: ")


def test_internal_error_outside_a_wheel_and_interrupts(
    fixture_wheels: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import truewheel.cli._inspect as glue

    def broken(paths: tuple[str, ...]) -> None:
        raise RuntimeError("\x1b[2Jboom\nforged")

    monkeypatch.setattr(glue, "expand_paths", broken)
    status, _, err = run(capsys, "inspect", str(fixture_wheels["extension"]))
    assert status == 3
    assert "internal error, please report (RuntimeError: \\x1b[2Jboom\\nforged" in one_error(err)

    def interrupted(paths: tuple[str, ...]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(glue, "expand_paths", interrupted)
    status, _, err = run(capsys, "inspect", "x.whl")
    assert status == 2 and "truewheel: aborted" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["inspect", "repair", "normalize"])
def test_per_wheel_errors_are_reported_and_the_loop_goes_on(
    command: str,
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / f"bad-1.0-{TAG}.whl"
    bad.write_bytes(b"not a zip")
    good = fixture_wheels["extension"]
    args = [command, str(bad), str(good)]
    if command != "inspect":
        args += ["-w", str(tmp_path / "out")]
    status, out, err = run(capsys, *args)
    assert status == 2
    assert str(bad) in one_error(err)
    assert good.name in out
    if command != "inspect":
        assert (tmp_path / "out").is_dir() and list((tmp_path / "out").glob("twext-*.whl"))


# -- terminal safety -----------------------------------------------------------------------

HOSTILE_NAMES = [
    "p/[/oops].so",
    "p/x\ntruewheel: ok: forged.so",
    "p/\x1b[31mred.so",
    "p/\u202eos.evil",
    "p/\x9b2Jc1.so",
    "p/a\u2028b.so",
    "p/bell\x07.so",
]


@pytest.fixture(scope="module")
def hostile_wheel(elf_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = (elf_dir / "base.so").read_bytes()
    files = {name: base for name in HOSTILE_NAMES}  # not in RECORD: each is also a finding
    return make_wheel(tmp_path_factory.mktemp("hostile"), "hostile", {}, unrecorded=files)


def test_member_names_are_escaped_in_the_report(
    hostile_wheel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "inspect", "--files", "--fail-on", "never", str(hostile_wheel))
    assert status == 0, err
    plain_text_only(out)
    assert not any(line.startswith("truewheel: ok") for line in out.splitlines())
    for name in HOSTILE_NAMES:
        assert squash(printable(name)) in squash(out), name


def test_json_keeps_names_exact(hostile_wheel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "inspect", "--json", "--fail-on", "never", str(hostile_wheel))
    assert status == 0
    assert out.isascii() and "\x1b" not in out
    paths = {f["path"] for w in json.loads(out)["wheels"] for f in w["native_files"]}
    assert paths == set(HOSTILE_NAMES)


def test_markup_in_metadata_is_shown_not_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = make_wheel(tmp_path, "meta", {"meta/__init__.py": b""}, name="[/x]")
    status, out, err = run(capsys, "inspect", "--verbose", str(wheel))
    assert status == 1 and err == ""  # the name mismatch is an error finding, not a crash
    assert "[/x]" in out


def test_dt_needed_is_escaped_and_status_column_kept(
    elf_dir: Path,
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = ["lib[/bold]x.so", "lib\x1b[2Jx.so", "lib[red]y.so"]
    data = needing(elf_dir, "libneeds.so", names)
    wheel = make_wheel(tmp_path, "needs", {"needs/libneeds.so": data})
    status, out, err = run(capsys, "inspect", "--files", "--fail-on", "never", str(wheel))
    assert status == 0, err
    plain_text_only(out)
    for name in names:
        assert printable(name) in out
    assert out.count("[external]") == 3

    _, out, _ = run(capsys, "inspect", "--files", str(fixture_wheels["system_libs"]))
    assert out.count("[system]") == 3 and out.count("[external]") == 2


def test_error_lines_are_one_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "../\x1b[2Jevil\ntruewheel: ok: fine"
    with zipfile.ZipFile(tmp_path / f"evil-1.0-{TAG}.whl", "w") as archive:
        archive.writestr(name, b"x")
    status, out, err = run(capsys, "inspect", str(tmp_path / f"evil-1.0-{TAG}.whl"))
    assert status == 2 and out == ""
    line = one_error(err)
    assert printable(name) in line


def test_plain_outputs_are_escaped(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "w\x1b[2J\nforged"
    wheel = fixture_wheels["extension"]
    for command in ("normalize", "repair"):
        status, out, err = run(capsys, command, "-w", str(out_dir), str(wheel))
        assert status == 0, err
        plain_text_only(out)
        assert printable(str(out_dir)) in out


def test_diff_output_is_escaped(
    elf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = (elf_dir / "base.so").read_bytes()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    name = "d/\x1b[31mx\n.txt"
    a = make_wheel(tmp_path / "a", "d", {"d/l.so": base}, unrecorded={name: b"one\x1b[2J\n"})
    b_members = {name: "two\u202e\n".encode(), "d/only\rb": b""}
    b = make_wheel(tmp_path / "b", "d", {"d/l.so": base}, unrecorded=b_members)
    status, out, err = run(capsys, "diff", "--verbose", str(a), str(b))
    assert status == 1, err
    plain_text_only(out)
    assert "d/\\x1b[31mx\\n.txt" in out and "\\x1b[2J" in out and "\\u202e" in out
    assert "only in B: d/only\\rb" in out


def test_scan_text_and_errors_are_escaped(
    elf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "index"
    base = (elf_dir / "base.so").read_bytes()
    for dist in ("one", "two"):
        (root / dist).mkdir(parents=True)
        make_wheel(root / dist, dist, {f"{dist}/lib\x1b[1mdup\n.so": base})
    bad = root / "bad\x1b[2J\nforged-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    catalog = str(tmp_path / "c.sqlite")
    status, out, err = run(
        capsys, "scan", "-j", "1", "--no-progress", "--catalog", catalog, str(root)
    )
    assert status == 2
    plain_text_only(out)
    assert "lib\\x1b[1mdup\\n.so" in out
    assert "bad\\x1b[2J\\nforged" in one_error(err)

    status, out, _ = run(capsys, "scan", "--json", "--no-progress", "--catalog", catalog, str(root))
    assert status == 2 and "\x1b" not in out
    paths = [c["path"] for g in json.loads(out)["duplicates"] for c in g["copies"]]
    assert "one/lib\x1b[1mdup\n.so" in paths


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as a person's would."""

    def isatty(self) -> bool:
        return True


def test_scan_csv_for_a_person_is_escaped(
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "index"
    root.mkdir()
    (root / "bad[red]\x1b[2J.whl").write_bytes(b"not a zip")  # the progress bar shows names
    good = root / fixture_wheels["extension"].name
    good.write_bytes(fixture_wheels["extension"].read_bytes())
    out, err = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    status = main(["scan", "--csv", "-j1", "--catalog", str(tmp_path / "c.sqlite"), str(root)])
    assert status == 2, err.getvalue()
    assert "\x1b" not in out.getvalue()
    assert "bad[red]\\x1b[2J.whl" in out.getvalue()
    assert err.getvalue().count("truewheel: error: ") == 1 and "Traceback" not in err.getvalue()


# -- rendering is linear ------------------------------------------------------------------


def test_thousands_of_dt_needed_render_quickly(
    elf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2,000 DT_NEEDED entries once took 18-41 s and 1.4 GB to render (markup spans)."""
    names = [f"libdep{i:04}.so" for i in range(2000)]
    wheel = make_wheel(tmp_path, "many", {"many/libmany.so": needing(elf_dir, "libmany.so", names)})
    status, out, _ = run(capsys, "inspect", "--files", "--fail-on", "never", str(wheel))
    assert status == 0
    assert out.count("[external]") == 12 and "(+1989 more)" in out  # and libc.so.6
    assert "libdep0000.so" in out and "libdep1999.so" not in out

    status, out, _ = run(capsys, "inspect", "--verbose", "--fail-on", "never", str(wheel))
    assert status == 0
    assert all(name in out for name in names)


# -- output locations ---------------------------------------------------------------------


def test_inspect_output_into_a_new_directory(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "new" / "deeper" / "report.json"
    status, _, err = run(
        capsys, "inspect", "--json", "-o", str(report), str(fixture_wheels["extension"])
    )
    assert status == 0, err
    assert json.loads(report.read_text())["wheels"]


@pytest.mark.parametrize("command", ["inspect", "scan"])
def test_output_below_a_file_or_unwritable(
    command: str,
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    extra = ["--catalog", str(tmp_path / "c.sqlite")] if command == "scan" else []
    wheel = str(fixture_wheels["extension"])
    status, out, err = run(capsys, command, *extra, "-o", str(blocker / "r.txt"), wheel)
    assert status == 2 and out == ""
    assert "-o: not a directory" in one_error(err)
    if os.geteuid() == 0:
        unwritable = Path("/sys/truewheel-test/r.txt")  # root may write anywhere but here
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        unwritable = locked / "r.txt"
    status, out, err = run(capsys, command, *extra, "-o", str(unwritable), wheel)
    assert status == 2 and out == ""
    assert "-o: " in one_error(err)
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("command", ["repair", "normalize", "build", "unvendor"])
def test_wheel_dir_below_a_file(
    command: str,
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Refused while the arguments are read: nothing built, nothing created."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    wheel = str(fixture_wheels["extension"])
    extra = ["--lib", "lib*"] if command == "unvendor" else []
    status, out, err = run(capsys, command, *extra, "-w", str(blocker / "out" / "deeper"), wheel)
    assert status == 2 and out == ""
    assert f"-w: not a directory: {blocker}" in one_error(err)
    status, _, err = run(capsys, command, *extra, "-w", str(blocker), wheel)
    assert status == 2 and "Traceback" not in err
    assert sorted(tmp_path.iterdir()) == [blocker] and blocker.read_text() == "x"


@pytest.mark.parametrize("command", ["inspect", "scan"])
def test_output_never_replaces_an_input(
    command: str,
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wheel = tmp_path / fixture_wheels["extension"].name
    wheel.write_bytes(fixture_wheels["extension"].read_bytes())
    link = tmp_path / wheel.name.replace("twext-", "twlink-")  # a valid name: read, not failed
    link.symlink_to(wheel)
    before = sha(wheel)
    extra = ["--catalog", str(tmp_path / "c.sqlite")] if command == "scan" else []
    for output, source in ((wheel, wheel), (link, wheel), (wheel, tmp_path)):
        status, out, err = run(capsys, command, *extra, "-o", str(output), str(source))
        assert status == 2 and out == ""
        assert "refusing to overwrite an input" in one_error(err)
        assert sha(wheel) == before and link.is_symlink()


def test_scan_output_never_replaces_the_catalog(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "c.sqlite"
    wheel = str(fixture_wheels["extension"])
    status, _, err = run(capsys, "scan", "--catalog", str(catalog), "-o", str(catalog), wheel)
    assert status == 2 and "refusing to overwrite the catalog" in one_error(err)
    assert not catalog.exists()
    assert run(capsys, "scan", "--no-progress", "--catalog", str(catalog), wheel)[0] == 0
    before = sha(catalog)
    status, _, err = run(capsys, "scan", "--catalog", str(catalog), "-o", str(catalog), wheel)
    assert status == 2 and "refusing to overwrite the catalog" in one_error(err)
    assert sha(catalog) == before


# -- inputs that could hang ---------------------------------------------------------------


@pytest.fixture()
def no_hang() -> Iterator[None]:
    """Turn a hang into a failure: after 20 s the blocked call raises."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("hung")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("no_hang")
def test_a_fifo_is_refused_by_every_command(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / f"fifo-1.0-{TAG}.whl"
    os.mkfifo(fifo)
    good = str(fixture_wheels["extension"])
    out_dir = str(tmp_path / "out")
    for args in (
        ["inspect", str(fifo)],
        ["repair", "-w", out_dir, str(fifo)],
        ["normalize", "-w", out_dir, str(fifo)],
        ["normalize", "--check", str(fifo)],
        ["diff", str(fifo), good],
        ["diff", good, str(fifo)],
        ["unvendor", "--lib", "lib*", "-w", out_dir, str(fifo)],
        ["unvendor", "--plan", str(fifo)],
    ):
        status, _, err = run(capsys, *args)
        assert status == 2, args
        assert "not a regular file (a FIFO)" in one_error(err), args
    status, _, err = run(capsys, "scan", "--catalog", str(tmp_path / "c.sqlite"), str(fifo))
    assert status == 2 and "not a regular file or a directory" in one_error(err)
    status, _, err = run(capsys, "scan", "--catalog", str(fifo), good)
    assert status == 2 and "not a regular file" in one_error(err)


@pytest.mark.usefixtures("no_hang")
def test_a_fifo_in_a_directory_is_reported_and_skipped(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "dir"
    root.mkdir()
    os.mkfifo(root / f"fifo-1.0-{TAG}.whl")
    good = root / fixture_wheels["extension"].name
    good.write_bytes(fixture_wheels["extension"].read_bytes())
    status, out, err = run(capsys, "inspect", str(root))
    assert status == 2 and good.name in out and "a FIFO" in one_error(err)
    catalog = str(tmp_path / "c.sqlite")
    status, out, err = run(capsys, "scan", "--json", "-j", "1", "--catalog", catalog, str(root))
    assert status == 2 and "a FIFO" in one_error(err)
    assert json.loads(out)["run"]["scanned"] == 2


@pytest.mark.usefixtures("no_hang")
def test_fifos_in_an_installed_environment(
    elf_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site-packages"
    info = site / "foo-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "foo").mkdir()
    (site / "foo" / "libfoo.so").write_bytes((elf_dir / "base.so").read_bytes())
    os.mkfifo(site / "foo" / "pipe")
    os.mkfifo(info / "WHEEL")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n")
    (info / "RECORD").write_text("foo/libfoo.so,,\nfoo/pipe,,\nfoo-1.0.dist-info/RECORD,,\n")
    catalog = str(tmp_path / "c.sqlite")
    status, _, err = run(
        capsys, "scan", "-j", "1", "--no-progress", "--catalog", catalog, str(site)
    )
    assert status == 2
    assert "foo/pipe: not a regular file (a FIFO)" in one_error(err)

    (info / "RECORD").unlink()
    os.mkfifo(info / "RECORD")
    status, _, err = run(
        capsys, "scan", "-j", "1", "--no-progress", "--catalog", catalog, str(site)
    )
    assert status == 2 and "RECORD: not a regular file (a FIFO)" in one_error(err)


def test_dev_stdin_as_a_pipe_does_not_hang(fixture_wheels: dict[str, Path], tmp_path: Path) -> None:
    """The writer keeps the pipe open: a blocking open or read would wait forever."""
    commands = [
        ["inspect", "/dev/stdin"],
        ["diff", "/dev/stdin", str(fixture_wheels["extension"])],
        ["scan", "--catalog", str(tmp_path / "c.sqlite"), "/dev/stdin"],
    ]
    for args in commands:
        process = subprocess.Popen(
            [sys.executable, "-m", "truewheel", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            status = process.wait(timeout=60)
            err = process.stderr.read() if process.stderr else ""
        finally:
            process.kill()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream:
                    stream.close()
        assert status == 2, args
        one_error(err)


# -- diff opens both as wheels -------------------------------------------------------------


def test_diff_of_non_wheels_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passwd = tmp_path / f"passwd-1.0-{TAG}.whl"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    status, out, err = run(capsys, "diff", str(passwd), str(passwd))
    assert status == 2 and out == "" and "zip" in one_error(err)
    status, _, err = run(capsys, "diff", "/etc/passwd", "/etc/passwd")
    assert status == 2 and "identical" not in err
    one_error(err)


def test_diff_identical_copies_and_missing_files(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = fixture_wheels["extension"]
    copy = tmp_path / wheel.name
    copy.write_bytes(wheel.read_bytes())
    status, out, _ = run(capsys, "diff", str(wheel), str(copy))
    assert status == 0 and out.splitlines()[-1] == "identical"
    status, _, err = run(capsys, "diff", str(wheel), str(tmp_path / "missing.whl"))
    assert status == 2
    one_error(err)
    assert "No such file" in err  # said to be missing, not to have a bad name
    status, _, err = run(capsys, "diff", str(wheel), str(tmp_path / "nonexistent"))
    assert status == 2 and "No such file" in err


# -- Dask addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("garbage://x", "unknown address scheme"),
        ("tcp://localhost:notaport", "not a host:port address"),
        ("tcp://localhost:99999", "port 99999 out of range"),
        ("localhost", "missing port"),
    ],
)
def test_bad_dask_addresses_are_one_line(
    address: str,
    says: str,
    fixture_wheels: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("distributed")
    catalog = str(tmp_path / "c.sqlite")
    wheel = str(fixture_wheels["extension"])
    status, out, err = run(capsys, "scan", "--catalog", catalog, "--dask", address, wheel)
    assert status == 2 and out == ""
    line = one_error(err)
    assert address in line and says in line
    assert not Path(catalog).exists(), "refused before any work"


# -- the catalog is never a stranger's database ------------------------------------------


def scan_with(catalog: Path, wheel: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status, _, err = run(capsys, "scan", "--no-progress", "--catalog", str(catalog), str(wheel))
    return status, err


def test_unrelated_sqlite_database_is_refused_untouched(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "important.db"
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE accounts (name TEXT)")
        db.execute("INSERT INTO accounts VALUES ('alice')")
    db.close()
    before = sha(db_path)
    status, err = scan_with(db_path, fixture_wheels["extension"], capsys)
    assert status == 2 and "not a truewheel catalog (holds accounts)" in one_error(err)
    assert sha(db_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["important.db"]

    with sqlite3.connect(db_path) as db:  # even with truewheel's table names in it
        db.execute("DROP TABLE accounts")
        db.execute("CREATE TABLE units (x)")
        db.execute("PRAGMA application_id = 1234")
    db.close()
    before = sha(db_path)
    status, err = scan_with(db_path, fixture_wheels["extension"], capsys)
    assert status == 2 and "application_id 0x4d2" in one_error(err)
    assert sha(db_path) == before


def test_non_sqlite_file_is_refused_untouched(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = fixture_wheels["extension"]
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n" * 100)
    status, err = scan_with(notes, wheel, capsys)
    assert status == 2 and "not an SQLite database" in one_error(err)
    assert notes.read_text() == "my notes\n" * 100


def test_new_empty_and_older_catalogs_are_accepted(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = fixture_wheels["extension"]
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    new = tmp_path / "sub" / "new.sqlite"
    for catalog in (empty, new):
        assert scan_with(catalog, wheel, capsys)[0] == 0
        with sqlite3.connect(catalog) as db:
            assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        db.close()

    with sqlite3.connect(new) as db:  # as a truewheel from before the id left it
        db.execute("PRAGMA application_id = 0")
        units = db.execute("SELECT count(*) FROM units").fetchone()[0]
    db.close()
    status, out, _ = run(capsys, "scan", "--json", "--catalog", str(new), str(wheel))
    assert status == 0 and json.loads(out)["run"]["skipped"] == units == 1
    with sqlite3.connect(new) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        db.execute("PRAGMA application_id = 0")
        db.execute("PRAGMA user_version = 1")  # and of an older schema: rebuilt
    db.close()
    status, out, _ = run(capsys, "scan", "--json", "--catalog", str(new), str(wheel))
    assert status == 0 and json.loads(out)["run"]["scanned"] == 1


def test_scan_of_odd_directories_is_one_line(
    fixture_wheels: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name that is not UTF-8 and a tree thousands of levels deep: exit 2, not a bug (3)."""
    catalog = str(tmp_path / "c.sqlite")
    odd = tmp_path / "odd"
    odd.mkdir()
    wheel = fixture_wheels["extension"]
    (odd / os.fsdecode(b"\xff\xfe-1.0-py3-none-any.whl")).write_bytes(wheel.read_bytes())
    status, _, err = run(capsys, "scan", "--no-progress", "--catalog", catalog, str(odd))
    assert status == 2 and "not valid UTF-8" in one_error(err) and "\\udcff" in err
    deep = tmp_path / "deep"
    level = deep
    for _ in range(150):
        level = level / "d"
    level.mkdir(parents=True)
    status, _, err = run(capsys, "scan", "--no-progress", "--catalog", catalog, str(deep))
    assert status == 2 and "directories deep" in one_error(err)
