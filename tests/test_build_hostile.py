"""`truewheel build` on hostile sources: one line and exit 2, nothing escapes, limits hold.

Every sdist and directory here is crafted in code and built through the real CLI.
Builds that must succeed use a tiny in-tree PEP 517 backend with no build
requirements, so no index is needed and the build environment is created once.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from truewheel.cli import main
from truewheel.errors import InputError
from truewheel.reproducible.sdist import Sdist, UnpackLimits
from truewheel.reproducible.source import newest_member_time, prepare_source

BACKEND = """
import base64, hashlib, os, zipfile

def get_requires_for_build_wheel(config_settings=None):
    return REQUIRES

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {}
    for base, dirs, names in sorted(os.walk("demo")):
        for name in sorted(names):
            with open(os.path.join(base, name), "rb") as handle:
                files[os.path.join(base, name)] = handle.read()
    info = "demo-1.0.dist-info/"
    files[info + "METADATA"] = b"Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n"
    files[info + "WHEEL"] = (
        b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    )
    rows = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        rows.append(f"{name},sha256={digest.decode()},{len(data)}")
    rows.append(info + "RECORD,,")
    files[info + "RECORD"] = ("\\n".join(rows) + "\\n").encode()
    wheel = "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel
"""

PYPROJECT = b"""[build-system]
requires = []
build-backend = "demo_backend"
backend-path = ["_backend"]
"""


@pytest.fixture(scope="module", autouse=True)
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("hostile-root") / "truewheel-build"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRUEWHEEL_BUILD_ROOT", str(root))
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)
        yield root


def project(
    extra: dict[str, bytes] | None = None, requires_hook: list[str] | None = None
) -> dict[str, bytes]:
    """The files of a buildable project, as archive members or directory entries."""
    backend = BACKEND.replace("REQUIRES", repr(requires_hook or []))
    return {
        "pyproject.toml": PYPROJECT,
        "_backend/demo_backend.py": backend.encode(),
        "demo/__init__.py": b"VALUE = 1\n",
        **(extra or {}),
    }


def write_dir(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def tar_bytes(
    files: dict[str, bytes],
    *,
    top: str = "demo-1.0",
    fmt: int = tarfile.PAX_FORMAT,
    extra: Sequence[tuple[tarfile.TarInfo, bytes | None]] = (),
    mtime: float = 1700000000,
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            info.mtime = mtime
            tf.addfile(info, io.BytesIO(data))
        for odd, content in extra:
            if content is not None:
                odd.size = len(content)
            tf.addfile(odd, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def zip_bytes(files: dict[str, bytes], top: str = "demo-1.0") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(f"{top}/{name}", (2024, 10, 18, 15, 3, 18)), data)
    return buffer.getvalue()


def build(source: Path | str, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and stderr of ``truewheel build``; stderr must be empty or one line."""
    status = main(["build", str(source), "-w", str(out)])
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) <= 1, err
    assert "Traceback" not in err
    return status, err


def refused(source: Path | str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Build, expect a one-line error and exit 2 and no wheel; return the error line."""
    out = tmp_path / "out"
    status, err = build(source, out, capsys)
    assert status == 2, err
    assert err.startswith("truewheel: error: ")
    assert not out.exists() or not list(out.glob("*.whl"))
    return err


def built(source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> zipfile.ZipFile:
    out = tmp_path / "out"
    status, err = build(source, out, capsys)
    assert status == 0, err
    [wheel] = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


def buildinfo(tmp_path: Path) -> dict[str, object]:
    [info] = (tmp_path / "out").glob("*.buildinfo.json")
    data: dict[str, object] = json.loads(info.read_text())
    return data


# -- 1. bad archives are one-line errors from the guarded opener -------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.zip", b"", "empty file"),
        ("empty.tar.gz", b"", "empty file"),
        ("corrupt.zip", b"PK\x03\x04" + bytes(200), "not a zip file"),
        ("garbage.tar.gz", b"\x1f\x8b" + b"garbage" * 40, "corrupt archive"),
        ("noise.tar.gz", bytes(range(7, 250)) * 3, "not an sdist archive"),
        ("noise.tar.bz2", b"BZh9" + b"x" * 300, "corrupt archive"),
        ("noise.tar.xz", b"\xfd7zXZ\x00" + b"x" * 300, "corrupt archive"),
    ],
)
def test_unreadable_archives_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, expected: str
) -> None:
    sdist = tmp_path / name
    sdist.write_bytes(content)
    err = refused(sdist, tmp_path, capsys)
    assert str(sdist) in err and expected in err
    with pytest.raises(InputError, match=expected):
        newest_member_time(sdist)  # the epoch goes through the same opener


def test_truncated_tar_gz_says_it_is_truncated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = gzip.compress(tar_bytes(project({"big": os.urandom(200_000)})))
    sdist = tmp_path / "cut-1.0.tar.gz"
    sdist.write_bytes(whole[: len(whole) // 2])
    assert "truncated archive" in refused(sdist, tmp_path, capsys)


@pytest.mark.parametrize("where", ["deflate", "crc"])
def test_damaged_gzip_data_is_a_corrupt_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """Bad deflate data mid-stream, or a trailer whose CRC does not match (ISA-L reads the
    gzip layer and raises its own error types)."""
    whole = bytearray(gzip.compress(tar_bytes(project({"big": b"abc" * 100_000}))))
    if where == "deflate":
        whole[len(whole) // 2 : len(whole) // 2 + 64] = bytes(64)
    else:
        whole[-8] ^= 0xFF
    sdist = tmp_path / f"{where}-1.0.tar.gz"
    sdist.write_bytes(bytes(whole))
    err = refused(sdist, tmp_path, capsys)
    assert str(sdist) in err and "corrupt archive" in err, err


def test_tar_cut_at_a_block_boundary_is_truncated_not_shorter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = project()
    members = sum(512 + -(-len(data) // 512) * 512 for data in files.values())
    sdist = tmp_path / "cut-1.0.tar"
    # Every header and all data, but no end-of-archive blocks: tarfile takes that for the end.
    sdist.write_bytes(tar_bytes(files, fmt=tarfile.USTAR_FORMAT)[:members])
    assert "truncated archive (unexpected end of data)" in refused(sdist, tmp_path, capsys)


def test_corrupt_header_in_the_middle_is_not_taken_for_the_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(tar_bytes(project(), fmt=tarfile.USTAR_FORMAT))
    data[512 * 2 + 10] ^= 0xFF  # the second header (after one file of one block)
    sdist = tmp_path / "mid-1.0.tar"
    sdist.write_bytes(bytes(data))
    assert "bad header checksum at byte 1024" in refused(sdist, tmp_path, capsys)


def test_a_fifo_source_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe-1.0.tar.gz"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "truewheel", "build", str(fifo), "-w", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"truewheel: error: {fifo}: not a regular file (a FIFO)"
    ]


# -- 2. empty, refused-only and project-less archives ------------------------------------------


def test_empty_archives_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "empty-1.0.tar.gz": gzip.compress(tar_bytes({})),
        "nothing-1.0.tar.gz": gzip.compress(b""),
        "empty-1.0.zip": zip_bytes({}),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert "empty archive (no members)" in refused(tmp_path / name, tmp_path, capsys)


def test_archive_of_absolute_paths_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist = tmp_path / "abs-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(tar_bytes(project(), top="/tmp/abs")))
    err = refused(sdist, tmp_path, capsys)
    assert "unsafe member refused (absolute path)" in err and "/tmp/abs/" in err


def test_trees_nested_too_deep_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,500 levels once built, and the tree left in the build root broke every later build
    (shutil.rmtree's RecursionError); sdists and source directories now stop at 100."""
    deep = "d/" * 150 + "x.txt"
    sdist = tmp_path / "deep-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(tar_bytes(project({deep: b"x"}))))
    assert "directories deep (limit 100)" in refused(sdist, tmp_path, capsys)
    source = write_dir(tmp_path / "deepdir", project({deep: b"x"}))
    assert "nested more than 100 directories deep" in refused(source, tmp_path, capsys)
    ok = write_dir(tmp_path / "fine", project())
    status, err = build(ok, tmp_path / "out-fine", capsys)
    assert status == 0, err


def test_archive_without_a_project_names_the_sdist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, content in {
        "docs-1.0.tar.gz": gzip.compress(tar_bytes({"README": b"hello"})),
        "docs-1.0.zip": zip_bytes({"README": b"hello"}),
    }.items():
        sdist = tmp_path / name
        sdist.write_bytes(content)
        err = refused(sdist, tmp_path, capsys)
        assert f"{sdist}: not a Python project (no pyproject.toml or setup.py" in err


# -- 3. unpacked size, ratio and member count ---------------------------------------------------


def zeros_deflate(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``mib`` MiB of zeros (about 1 KB a MiB), and its CRC-32.

    After a full flush the compressor starts afresh, so every MiB compresses to the same bytes.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = comp.compress(bytes(1 << 20)) + comp.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(bytes(1 << 20), crc)
    return block * mib + comp.flush(zlib.Z_FINISH), crc


def zip_with_member(stream: bytes, crc: int, size: int) -> bytes:
    """A zip sdist holding pyproject.toml and one deflated member declared as ``size`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("bomb-1.0/pyproject.toml", PYPROJECT)
    head = buffer.getvalue()
    cd_at = head.index(b"PK\x01\x02")
    local, central = head[:cd_at], head[cd_at : head.index(b"PK\x05\x06")]
    name = b"bomb-1.0/zeros.bin"
    offset = len(local)
    local += (
        b"PK\x03\x04"
        + (20).to_bytes(2, "little")
        + bytes(2)
        + (8).to_bytes(2, "little")
        + bytes(4)
        + crc.to_bytes(4, "little")
        + len(stream).to_bytes(4, "little")
        + size.to_bytes(4, "little")
        + len(name).to_bytes(2, "little")
        + bytes(2)
        + name
        + stream
    )
    central += (
        b"PK\x01\x02"
        + (20).to_bytes(2, "little") * 2
        + bytes(2)
        + (8).to_bytes(2, "little")
        + bytes(4)
        + crc.to_bytes(4, "little")
        + len(stream).to_bytes(4, "little")
        + size.to_bytes(4, "little")
        + len(name).to_bytes(2, "little")
        + bytes(8)
        + bytes(4)
        + offset.to_bytes(4, "little")
        + name
    )
    end = (
        b"PK\x05\x06"
        + bytes(4)
        + (2).to_bytes(2, "little") * 2
        + len(central).to_bytes(4, "little")
        + len(local).to_bytes(4, "little")
        + bytes(2)
    )
    return local + central + end


def peak(argv: list[str]) -> tuple[int, str, float, int]:
    """Exit status, stderr, seconds and peak RSS (KiB) of one truewheel run in a child."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.monotonic()\n"
        "d = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(d.returncode, time.monotonic() - t,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(d.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "truewheel", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    status, seconds, rss = done.stdout.split()
    return int(status), done.stderr.strip(), float(seconds), int(rss)


def test_zip_member_of_a_gibibyte_is_refused_before_it_is_written(
    tmp_path: Path, build_root: Path
) -> None:
    stream, crc = zeros_deflate(1024)
    sdist = tmp_path / "bomb-1.0.zip"
    sdist.write_bytes(zip_with_member(stream, crc, 1 << 30))
    assert sdist.stat().st_size < 1_100_000
    status, err, seconds, rss = peak(["build", str(sdist), "-w", str(tmp_path / "out")])
    assert status == 2 and len(err.splitlines()) == 1, err
    assert "zeros.bin: declared size 1073741824 exceeds the limit" in err
    assert seconds < 10 and rss < 150_000
    assert not (build_root / "src").exists()


def test_zip_member_inflating_past_its_declared_size_stops_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], build_root: Path
) -> None:
    stream, crc = zeros_deflate(64)
    sdist = tmp_path / "liar-1.0.zip"
    sdist.write_bytes(zip_with_member(stream, crc, 1000))
    started = time.monotonic()
    err = refused(sdist, tmp_path, capsys)
    assert "zeros.bin: inflates to more than its declared 1000 bytes" in err
    assert time.monotonic() - started < 5
    assert not (build_root / "src").exists()


def test_tar_gz_declaring_a_gibibyte_is_refused_at_its_header(
    tmp_path: Path, build_root: Path
) -> None:
    project_file = tarfile.TarInfo("bomb-1.0/pyproject.toml")
    project_file.size = len(PYPROJECT)
    header = tarfile.TarInfo("bomb-1.0/zeros.bin")
    header.size = 1 << 30
    head = project_file.tobuf(format=tarfile.USTAR_FORMAT) + PYPROJECT.ljust(512, b"\0")
    head += header.tobuf(format=tarfile.USTAR_FORMAT)
    body, _ = zeros_deflate(1024)
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    last = comp.compress(bytes(1024))
    crc = zlib.crc32(head)
    for _ in range(1024):
        crc = zlib.crc32(bytes(1 << 20), crc)
    crc = zlib.crc32(bytes(1024), crc)
    size = len(head) + (1 << 30) + 1024
    member = first + body[:-2] + last + comp.flush(zlib.Z_FINISH)
    gz = (
        b"\x1f\x8b\x08\x00" + bytes(4) + b"\x00\xff" + member
        + crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    )  # fmt: skip
    sdist = tmp_path / "bomb-1.0.tar.gz"
    sdist.write_bytes(gz)
    assert sdist.stat().st_size < 1_100_000
    status, err, seconds, rss = peak(["build", str(sdist), "-w", str(tmp_path / "out")])
    assert status == 2 and len(err.splitlines()) == 1, err
    assert "zeros.bin: unpacks to more than " in err and "decompression bomb" in err
    assert seconds < 10 and rss < 150_000
    assert not (build_root / "src").exists()


def test_total_and_member_count_limits(tmp_path: Path) -> None:
    files = {f"f{i}.txt": bytes(10_000) for i in range(20)}
    sdist = tmp_path / "many-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(tar_bytes(files)))
    small = UnpackLimits(max_ratio=1, ratio_floor=150_000)
    with Sdist(sdist, small) as archive, pytest.raises(InputError) as caught:
        for member in archive.members():
            b"".join(member.chunks())
    assert "unpacks to more than 150000 bytes" in str(caught.value)
    assert str(caught.value).startswith(f"{sdist}: demo-1.0/f15.txt: ")
    with Sdist(sdist, UnpackLimits(max_members=10)) as archive, pytest.raises(InputError) as count:
        for _ in archive.members():
            pass
    assert "more than 10 members" in str(count.value)


def test_huge_pax_header_is_refused_without_reading_it(tmp_path: Path) -> None:
    bloat = tarfile.TarInfo("././@PaxHeader")
    bloat.type = tarfile.XHDTYPE
    bloat.size = 1 << 30
    raw = bloat.tobuf(format=tarfile.USTAR_FORMAT) + bytes(4096)
    sdist = tmp_path / "pax-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(raw))
    with Sdist(sdist) as archive, pytest.raises(InputError, match="extended headers over 65536"):
        list(archive.members())


# -- 4. pyproject.toml ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        (b'build-system = "x"\n', "build-system must be a table"),
        (b"[build-system]\nrequires = 5\n", "build-system.requires must be a list of strings"),
        (b"[build-system]\nrequires = [5]\n", "build-system.requires must be a list of strings"),
        (b"[build-system]\nbuild-backend = 'x'\n", "has no requires"),
        (
            b"[build-system]\nrequires = []\nbuild-backend = 3\n",
            "build-backend must be a non-empty string",
        ),
        (
            b"[build-system]\nrequires = []\nbackend-path = 'x'\n",
            "backend-path must be a list of strings",
        ),
        (
            b"[build-system]\nrequires = []\nbuild-backend = 'b'\nbackend-path = ['../..']\n",
            "backend-path leaves the project",
        ),
        (b"[build-system\n", "invalid TOML"),
        (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "invalid TOML (nested too deeply)"),
        (b"# caf\xe9\n[build-system]\nrequires = []\n", "not UTF-8"),
    ],
)
def test_malformed_pyproject_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pyproject: bytes, expected: str
) -> None:
    source = write_dir(tmp_path / "proj", {**project(), "pyproject.toml": pyproject})
    err = refused(source, tmp_path, capsys)
    assert f"{source}: pyproject.toml: " in err and expected in err


def test_missing_backend_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = b"[build-system]\nrequires = []\nbuild-backend = 'nosuch.backend'\n"
    source = write_dir(tmp_path / "proj", {**project(), "pyproject.toml": pyproject})
    err = refused(source, tmp_path, capsys)
    assert "nosuch.backend failed" in err and "No module named 'nosuch'" in err


# -- 5. build requirements reach pip only as PEP 508, after -- --------------------------------


def test_option_in_build_requires_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "installed-here"
    pyproject = f'[build-system]\nrequires = ["--target={target}", "setuptools"]\n'.encode()
    source = write_dir(tmp_path / "proj", {**project(), "pyproject.toml": pyproject})
    err = refused(source, tmp_path, capsys)
    assert "build-system.requires: not a PEP 508 requirement" in err and "--target=" in err
    assert not target.exists()


@pytest.mark.parametrize(
    ("requires", "expected"),
    [
        (repr(["setuptools"] * 300), "300 requirements"),
        (repr(["a" * 2000]), "a requirement of 2000 characters"),
    ],
)
def test_build_requirements_are_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], requires: str, expected: str
) -> None:
    """200,000 of them overflowed pip's argument list (internal error); 60,000 ran minutes."""
    pyproject = f"[build-system]\nrequires = {requires}\n".replace("'", '"').encode()
    source = write_dir(tmp_path / "proj", {**project(), "pyproject.toml": pyproject})
    assert expected in refused(source, tmp_path, capsys)


def test_option_from_the_backend_hook_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "installed-here"
    source = write_dir(tmp_path / "proj", project(requires_hook=[f"--target={target}"]))
    err = refused(source, tmp_path, capsys)
    assert "get_requires_for_build_wheel: not a PEP 508 requirement" in err
    assert not target.exists()


# -- 6. links out of a source directory, and special files ------------------------------------


@pytest.mark.parametrize(
    ("link", "points_to", "expected"),
    [
        ("leak.txt", "/etc/passwd", "absolute link to /etc/passwd"),
        ("demo/leak.txt", "../../../../../../etc/passwd", "leaves the tree"),
        ("demo/outside", "../..", "leaves the tree"),
    ],
)
def test_directory_with_a_link_out_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str, points_to: str, expected: str
) -> None:
    source = write_dir(tmp_path / "proj", project())
    (source / link).symlink_to(points_to)
    err = refused(source, tmp_path, capsys)
    assert f"{source}: {link}: unsafe file refused (" in err and expected in err


def test_directory_with_special_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_dir(tmp_path / "proj", project())
    os.mkfifo(source / "demo" / "pipe")
    assert "demo/pipe: unsafe file refused (a FIFO)" in refused(source, tmp_path, capsys)
    (source / "demo" / "pipe").unlink()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(source / "demo" / "sock"))
        assert "demo/sock: unsafe file refused (a socket)" in refused(source, tmp_path, capsys)


def test_links_inside_the_tree_still_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = project({"demo/data.txt": b"payload\n", "demo/sub/other.txt": b"other\n"})
    source = write_dir(tmp_path / "proj", files)
    (source / "demo" / "alias.txt").symlink_to("data.txt")
    (source / "demo" / "sub" / "up.txt").symlink_to("../data.txt")
    (source / "demo" / "linked").symlink_to("sub")
    venv = source / ".venv"  # skipped, as .git and build/ are: its links are absolute
    write_dir(venv, {"pyvenv.cfg": b"home = /usr/bin\n"})
    (venv / "python").symlink_to(sys.executable)
    with built(source, tmp_path, capsys) as wheel:
        assert wheel.read("demo/alias.txt") == b"payload\n"
        assert wheel.read("demo/sub/up.txt") == b"payload\n"


def test_link_chain_in_an_sdist_cannot_climb_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    up = tarfile.TarInfo("demo-1.0/b")
    up.type, up.linkname = tarfile.SYMTYPE, ".."
    climb = tarfile.TarInfo("demo-1.0/a")
    climb.type, climb.linkname = tarfile.SYMTYPE, "b/.."  # lexically demo-1.0; really above it
    sdist = tmp_path / "chain-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(tar_bytes(project(), extra=[(up, None), (climb, None)])))
    assert "leaves the tree" in refused(sdist, tmp_path, capsys)


def test_member_written_through_a_link_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tarfile.TarInfo("demo-1.0/demo/sub")
    link.type, link.linkname = tarfile.SYMTYPE, "."
    through = tarfile.TarInfo("demo-1.0/demo/sub/x.py")
    sdist = tmp_path / "through-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(tar_bytes(project(), extra=[(link, None), (through, b"")])))
    assert "demo-1.0/demo/sub is a link or a file" in refused(sdist, tmp_path, capsys)


def test_build_root_inside_the_source_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_dir(tmp_path / "proj", project())
    monkeypatch.setenv("TRUEWHEEL_BUILD_ROOT", str(source / ".root"))
    assert "build root is inside the source directory" in refused(source, tmp_path, capsys)


# -- 7. SOURCE_DATE_EPOCH -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["7258118400", "1e20", "-5", "12abc", "9" * 5000])
def test_out_of_range_source_date_epoch_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    source = write_dir(tmp_path / "proj", project())
    assert "SOURCE_DATE_EPOCH" in refused(source, tmp_path, capsys)


def test_zip_sdist_builds_and_an_epoch_before_1980_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    sdist = tmp_path / "demo-1.0.zip"
    sdist.write_bytes(zip_bytes(project()))
    with built(sdist, tmp_path, capsys) as wheel:
        assert wheel.read("demo/__init__.py") == b"VALUE = 1\n"
        assert {i.date_time for i in wheel.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert buildinfo(tmp_path)["source_date_epoch"] == 0


def test_tar_sdist_builds_ignoring_unusable_member_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Times past 2107, beyond any float, negative or NaN do not stop or skew the build."""
    extra: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for name, when in (("y2200", 7258118400), ("huge", 10**400), ("neg", -86400)):
        odd = tarfile.TarInfo(f"demo-1.0/demo/{name}.txt")
        odd.mtime = when
        extra.append((odd, b""))
    nan = tarfile.TarInfo("demo-1.0/demo/nan.txt")
    nan.pax_headers = {"mtime": "nan"}
    extra.append((nan, b""))
    hard = tarfile.TarInfo("demo-1.0/demo/same.txt")
    hard.type, hard.linkname = tarfile.LNKTYPE, "demo-1.0/demo/__init__.py"
    extra.append((hard, None))
    long = "demo/" + "d" * 120 + "/deep.txt"
    sdist = tmp_path / "demo-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(tar_bytes(project({long: b"deep\n"}), extra=extra)))
    with built(sdist, tmp_path, capsys) as wheel:
        assert wheel.read(long) == b"deep\n"
        assert wheel.read("demo/same.txt") == b"VALUE = 1\n"
        assert wheel.getinfo(long).date_time == (2023, 11, 14, 22, 13, 20)
    info = buildinfo(tmp_path)
    assert info["source_date_epoch"] == 1700000000
    assert info["source"] == {
        "name": sdist.name,
        "sha256": hashlib.sha256(sdist.read_bytes()).hexdigest(),
    }


# -- 8. a requirement SOURCE -------------------------------------------------------------------


@pytest.mark.parametrize("source", ["--index-url=http:", "pyyaml ==", "a;b"])
def test_requirement_source_must_be_pep_508(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    status = main(["build", "-w", str(tmp_path / "out"), "--", source])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert f"{source}: not a file, a directory or a requirement" in err


# -- siblings: other compressions, a .zip that is a tarball, links and devices in tars --------


@pytest.mark.parametrize(
    ("name", "fmt", "pack"),
    [
        ("demo-1.0.tar.bz2", tarfile.PAX_FORMAT, bz2.compress),
        ("demo-1.0.tar.xz", tarfile.PAX_FORMAT, lzma.compress),
        ("demo-1.0.tar", tarfile.PAX_FORMAT, bytes),
        ("demo-1.0.tar", tarfile.GNU_FORMAT, bytes),  # long names as GNU 'L' headers
        ("demo-1.0.tar", tarfile.USTAR_FORMAT, bytes),  # long names split into prefix/name
        ("demo-1.0.zip", tarfile.PAX_FORMAT, gzip.compress),  # a tarball named .zip
    ],
)
def test_every_tar_flavour_unpacks(
    tmp_path: Path, name: str, fmt: int, pack: Callable[[bytes], bytes]
) -> None:
    long = "demo/" + "d" * 90 + "/" + "e" * 60 + ".txt"
    hard = tarfile.TarInfo("demo-1.0/demo/same.txt")
    hard.type, hard.linkname = tarfile.LNKTYPE, "demo-1.0/demo/__init__.py"
    link = tarfile.TarInfo("demo-1.0/demo/alias.txt")
    link.type, link.linkname = tarfile.SYMTYPE, "__init__.py"
    raw = tar_bytes(project({long: b"deep\n"}), fmt=fmt, extra=[(hard, None), (link, None)])
    sdist = tmp_path / name
    sdist.write_bytes(pack(raw))
    tree = prepare_source(sdist, tmp_path / "root" / "src")
    assert (tree.project / long).read_bytes() == b"deep\n"
    assert (tree.project / "demo" / "same.txt").stat().st_nlink == 2
    assert (tree.project / "demo" / "alias.txt").read_bytes() == b"VALUE = 1\n"
    assert tree.newest == 1700000000
    assert tree.sha256 == hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == ["src"]


def test_tar_conventions_read_as_tarfile_reads_them(tmp_path: Path) -> None:
    """Found comparing with CPython's test archive: sizes on directories, Solaris pax headers."""
    sized_dir = tarfile.TarInfo("demo-1.0/data")
    sized_dir.type, sized_dir.size = tarfile.DIRTYPE, 255  # no data follows, as tarfile reads it
    records = b"28 path=demo-1.0/data/s.txt\n"
    solaris = tarfile.TarInfo("demo-1.0/PaxHeader")
    solaris.type, solaris.size = b"X", len(records)
    named = tarfile.TarInfo("demo-1.0/placeholder")
    named.size = 3
    old_dir = tarfile.TarInfo("demo-1.0/v7dir/")
    old_dir.type = tarfile.AREGTYPE  # pre-POSIX: a directory is a name with a slash
    files = project()
    end = sum(512 + -(-len(data) // 512) * 512 for data in files.values())
    raw = tar_bytes(files, fmt=tarfile.USTAR_FORMAT)[:end]  # without end-of-archive blocks
    for header, data in ((sized_dir, b""), (solaris, records), (named, b"abc"), (old_dir, b"")):
        raw += header.tobuf(format=tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)
    sdist = tmp_path / "conv-1.0.tar"
    sdist.write_bytes(raw + bytes(1024))
    tree = prepare_source(sdist, tmp_path / "root" / "src")
    assert (tree.project / "data" / "s.txt").read_bytes() == b"abc"
    assert (tree.project / "v7dir").is_dir()


@pytest.mark.parametrize(
    ("kind", "linkname", "expected"),
    [
        (tarfile.CHRTYPE, "", "unsafe member refused (a character device)"),
        (tarfile.BLKTYPE, "", "unsafe member refused (a block device)"),
        (tarfile.FIFOTYPE, "", "unsafe member refused (a FIFO)"),
        (tarfile.LNKTYPE, "/etc/passwd", "hard link to /etc/passwd: absolute path"),
        (tarfile.LNKTYPE, "demo-1.0/missing", "hard link to demo-1.0/missing, not an earlier"),
        (tarfile.LNKTYPE, "../../x", "hard link to ../../x: '..' component"),
        (tarfile.SYMTYPE, "../../x", "link to ../../x leaves the tree"),
        (tarfile.GNUTYPE_SPARSE, "", "a GNU sparse file"),
        (b"V", "", "unsupported member type ('V')"),
    ],
)
def test_special_and_linked_tar_members_are_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: bytes,
    linkname: str,
    expected: str,
) -> None:
    odd = tarfile.TarInfo("demo-1.0/demo/odd")
    odd.type, odd.linkname = kind, linkname
    raw = tar_bytes(project(), fmt=tarfile.GNU_FORMAT, extra=[(odd, None)])
    sdist = tmp_path / "odd-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(raw))
    err = refused(sdist, tmp_path, capsys)
    assert "demo/odd: " in err and expected in err


def test_tar_duplicate_member_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    again = tarfile.TarInfo("demo-1.0/demo/__init__.py")
    sdist = tmp_path / "dup-1.0.tar.gz"
    sdist.write_bytes(gzip.compress(tar_bytes(project(), extra=[(again, b"")])))
    assert "duplicate name" in refused(sdist, tmp_path, capsys)
