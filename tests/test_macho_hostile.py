"""Mach-O from a stream's kept ranges, and bad input made from the real fixture files.

A stream keeps only what :func:`slice_ranges` names (asked again while it says a slice
header is missing) and must give the facts the whole file gives.  Truncations, load
commands past the end, zero or misaligned ``cmdsize``, strings leaving their command, fat
headers lying about offsets and huge counts must give only :class:`MachOError`, through
bytes and through a stream.
"""

from __future__ import annotations

import random
import struct
import zipfile
from pathlib import Path

import pytest

from truewheel.elf.source import BytesSource, RangeSet, SparseSource, Unavailable
from truewheel.errors import MachOError
from truewheel.macho import MachOFile, is_macho, read_macho, slice_ranges
from truewheel.macho import _layout as L


def _read(data: bytes) -> MachOFile:
    return read_macho(BytesSource(data, error=MachOError))


def _members(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


# From a stream: only the ranges slice_ranges names are kept


def _sparse(data: bytes, ranges: list[tuple[int, int]]) -> SparseSource:
    source = SparseSource(len(data), RangeSet((o, o + s) for o, s in ranges), error=MachOError)
    for at in range(0, len(data), 4096):  # chunks in file order, as a deflate stream gives them
        source.feed(at, data[at : at + 4096])
    return source


def _streamed(data: bytes) -> tuple[MachOFile, int]:
    """What a caller does: keep the first bytes, ask slice_ranges, keep what it names (and
    what it says is missing), then read; returns the facts and the bytes kept."""
    wanted = [(0, min(len(data), 64))]
    for _ in range(8):
        try:
            ranges = slice_ranges(_sparse(data, wanted))
            break
        except Unavailable as missing:
            wanted.append((missing.offset, missing.size))
    source = _sparse(data, ranges)
    return read_macho(source), source.kept_bytes


def test_streamed_facts_equal_whole_file(
    macos_wheels: dict[str, Path], macho_other_targets: dict[str, bytes]
) -> None:
    files = [d for w in macos_wheels.values() for d in _members(w).values() if is_macho(d[:12])]
    for data in [*files, *macho_other_targets.values()]:
        whole = _read(data)
        streamed, kept = _streamed(data)
        assert streamed == whole
        assert kept == sum(s.load_commands_end for s in whole.slices) + (
            8 + 20 * len(whole.slices) if whole.fat else 0
        )
        assert kept < len(data) // 4


def test_sparse_source_missing_ranges_are_unavailable(macos_wheels: dict[str, Path]) -> None:
    fat = _members(macos_wheels["universal2"])["twmac/_core.cpython-311-darwin.so"]
    table = _sparse(fat, [(0, 48)])
    with pytest.raises(Unavailable) as missing:
        slice_ranges(table)  # the first slice's header was not kept
    assert missing.value.offset == _read(fat).slices[0].offset
    with pytest.raises(Unavailable):
        read_macho(_sparse(fat, [(0, 8)]))  # the architecture table was not kept
    thin = _members(macos_wheels["arm64"])["twmac/_core.cpython-311-darwin.so"]
    with pytest.raises(Unavailable):
        read_macho(_sparse(thin, [(0, 32)]))  # the load commands were not kept


# --------------------------------------------------------------------------------------------
# Bad input: only MachOError, through bytes and through a stream's kept ranges


def _refused(data: bytes) -> str:
    """The message both sources give; the stream keeps what slice_ranges can name."""
    with pytest.raises(MachOError) as whole:
        _read(data)
    with pytest.raises((MachOError, Unavailable)):
        _streamed(data)
    return str(whole.value)


@pytest.fixture(scope="module")
def thin_core(macos_wheels: dict[str, Path]) -> bytes:
    return _members(macos_wheels["arm64"])["twmac/_core.cpython-311-darwin.so"]


@pytest.fixture(scope="module")
def fat_core(macos_wheels: dict[str, Path]) -> bytes:
    return _members(macos_wheels["universal2"])["twmac/_core.cpython-311-darwin.so"]


def test_truncated_files_are_refused(thin_core: bytes, fat_core: bytes) -> None:
    for data in (thin_core, fat_core):
        ends = {s.offset + s.load_commands_end for s in _read(data).slices}
        cuts = {*range(0, 4096, 7), *range(0, len(data), 997), *ends, len(data) - 1}
        for cut in sorted(c for c in cuts if c < len(data)):
            _refused(data[:cut])


def _patched(data: bytes, at: int, fmt: str, *values: int) -> bytes:
    raw = bytearray(data)
    struct.pack_into(fmt, raw, at, *values)
    return bytes(raw)


def _first_command(data: bytes, wanted: int) -> int:
    """The offset of the first load command ``wanted`` in a thin little-endian image."""
    at = 32
    while True:
        cmd, cmdsize = struct.unpack_from("<II", data, at)
        if cmd == wanted:
            return at
        at += cmdsize


def test_bad_load_commands_are_refused(thin_core: bytes) -> None:
    data = thin_core
    sizeofcmds = struct.unpack_from("<I", data, 20)[0]
    rpath = _first_command(data, L.LC_RPATH)
    dylib = _first_command(data, L.LC_LOAD_DYLIB)
    bad = {  # the corruption -> (the file, what the message must say)
        "sizeofcmds past the end": (_patched(data, 20, "<I", len(data)), "sizeofcmds past"),
        "sizeofcmds huge": (_patched(data, 20, "<I", 0xFFFFFFFF), "sizeofcmds past"),
        "ncmds huge": (_patched(data, 16, "<I", 0xFFFFFFFF), "ncmds does not fit"),
        "a command too many": (_patched(data, 16, "<I", sizeofcmds // 8 + 1), "ncmds does"),
        "cmdsize 0": (_patched(data, 36, "<I", 0), "cmdsize is below 8"),
        "cmdsize misaligned": (_patched(data, rpath + 4, "<I", 36), "not a multiple of 8"),
        "cmdsize past the end": (_patched(data, rpath + 4, "<I", sizeofcmds), "past sizeofcmds"),
        "string offset past": (_patched(data, rpath + 8, "<I", 400), "string offset outside"),
        "string offset in header": (_patched(data, dylib + 8, "<I", 4), "string offset outside"),
        "string not terminated": (
            data[: rpath + 12] + b"A" * 28 + data[rpath + 40 :],
            "not terminated",
        ),
        "segment past the file": (_patched(data, 72, "<Q", len(data)), "past the end of the slice"),
        "nsects past the command": (_patched(data, 96, "<I", 1000), "sections past its end"),
        "second LC_UUID": (_patched(data, rpath, "<I", L.LC_UUID), "more than one LC_UUID"),
    }
    for name, (patched, says) in bad.items():
        assert says in _refused(patched), name


def test_lying_fat_headers_are_refused(fat_core: bytes) -> None:
    data = fat_core
    first, second = _read(data).slices
    bad = {
        "no architectures": (_patched(data, 4, ">I", 0), "architecture count"),
        "31 architectures": (_patched(data, 4, ">I", 31), "architecture count"),
        "a third entry of zeros": (_patched(data, 4, ">I", 3), "over the fat header"),
        "slice over the fat header": (_patched(data, 16, ">I", 0), "over the fat header"),
        "slice past the end": (_patched(data, 20, ">I", len(data)), "outside the file"),
        "slices overlap": (_patched(data, 36, ">I", first.offset + 8), "overlap"),
        "no mach header": (_patched(data, 36, ">I", second.offset - 4096), "no mach header"),
        "cputype disagrees": (_patched(data, 8, ">i", L.CPU_TYPE_ARM64), "disagree on the CPU"),
        "fat inside fat": (_patched(data, first.offset, ">I", L.FAT_MAGIC), "no mach header"),
    }
    for name, (patched, says) in bad.items():
        assert says in _refused(patched), name


def test_random_corruption_raises_only_macho_error(thin_core: bytes, fat_core: bytes) -> None:
    rng = random.Random(14)
    for data in (thin_core, fat_core):
        ends = max(s.offset + s.load_commands_end for s in _read(data).slices)
        for _ in range(1500):
            raw = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(ends)
                raw[at] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
            try:
                _read(bytes(raw))
            except MachOError:
                pass
            try:
                _streamed(bytes(raw))
            except (MachOError, Unavailable):
                pass
