"""The Mach-O reader against real files built by ld64.lld, cross-checked with LLVM's tools.

Every Mach-O member of the fixture wheels (tests/fixtures/machobuild.py) and a few images for
other platforms are read from bytes and from a stream's kept ranges, and compared with what
``llvm-objdump --macho --private-headers``, ``llvm-readobj`` and ``llvm-lipo -archs`` say.
Bad input is made from those files in code: truncations, load commands past the end, zero
or misaligned ``cmdsize``, fat headers lying about offsets, huge counts.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import random
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from truewheel.elf.source import BytesSource, RangeSet, SparseSource, Unavailable
from truewheel.errors import MachOError
from truewheel.macho import MachOFile, is_macho, read_macho, slice_ranges
from truewheel.macho import _layout as L

OBJDUMP = shutil.which("llvm-objdump") or shutil.which("llvm-objdump-14")
READOBJ = shutil.which("llvm-readobj") or shutil.which("llvm-readobj-14")
LIPO = shutil.which("llvm-lipo") or shutil.which("llvm-lipo-14")
needs_llvm = pytest.mark.skipif(
    not (OBJDUMP and READOBJ and LIPO), reason="llvm-objdump, llvm-readobj or llvm-lipo missing"
)
CASES = [
    "arm64",
    "x86_64_old_tag",
    "x86_64_versionmin",
    "universal2",
    "universal2_missing",
    "external",
    "broken",
    "loader_path",
    "unsigned_arm64",
    "build_path",
    "weak",
]
KINDS = {
    "LC_LOAD_DYLIB": "load",
    "LC_LOAD_WEAK_DYLIB": "weak",
    "LC_REEXPORT_DYLIB": "reexport",
    "LC_LAZY_LOAD_DYLIB": "lazy",
    "LC_LOAD_UPWARD_DYLIB": "upward",
}


def _read(data: bytes) -> MachOFile:
    return read_macho(BytesSource(data, error=MachOError))


def _members(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _binaries(wheel: Path) -> dict[str, bytes]:
    return {name: data for name, data in _members(wheel).items() if is_macho(data[:12])}


@pytest.fixture(scope="session")
def other_targets(
    machobuild: ModuleType, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, bytes]:
    built = machobuild.build_other_targets(tmp_path_factory.mktemp("macho-other"))
    if built is None:
        pytest.skip("clang or ld64.lld is missing")
    return {target: path.read_bytes() for target, path in built.items()}


# --------------------------------------------------------------------------------------------
# The second opinion: llvm-objdump's load commands, llvm-readobj's summary, llvm-lipo's archs

_FIELD = re.compile(r"^\s*(current version|compatibility version|time stamp|\w+)\s+(.*?)\s*$")


def _objdump(path: Path) -> list[dict[str, Any]]:
    """Per slice: header fields, load commands (key -> value) and sections."""
    assert OBJDUMP is not None
    argv = [OBJDUMP, "--macho", "--private-headers", "--arch=all", str(path)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    slices: list[dict[str, Any]] = []
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Mach header"):
            magic, _, _, _, filetype, ncmds, sizeofcmds, *_ = lines[i + 2].split()
            header = {"magic": magic, "filetype": filetype.lower(), "sizeofcmds": int(sizeofcmds)}
            slices.append({**header, "ncmds": int(ncmds), "commands": [], "sections": []})
        elif line.startswith("Load command"):
            slices[-1]["commands"].append({})
        elif line.strip() == "Section":
            slices[-1]["sections"].append({})
        elif (match := _FIELD.match(line)) and slices and slices[-1]["commands"]:
            key, value = match.groups()
            value = re.sub(r" \(offset \d+\)$", "", value)
            target = slices[-1]["sections"] if key in _SECTION_KEYS else slices[-1]["commands"]
            if target:
                target[-1].setdefault(key, value)
    return slices


_SECTION_KEYS = {"sectname", "offset", "type", "addr", "size", "align", "reloff", "nreloc"}


def _readobj(path: Path) -> list[tuple[str, set[str]]]:
    """Per slice: the version command summary and the needed libraries."""
    assert READOBJ is not None
    argv = [READOBJ, "--macho-version-min", "--needed-libs", str(path)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    result = []
    for block in out.split("File: ")[1:]:
        version = re.search(r"Cmd: (\S+).*?Version: (\S+)\s+SDK: (\S+)", block, re.S)
        needed = re.search(r"NeededLibraries \[\n(.*?)\]", block, re.S)
        libs = set(needed.group(1).split()) if needed else set()
        result.append((" ".join(version.groups()) if version else "", libs))
    return result


def _expected_facts(cmds: list[dict[str, str]], sections: list[dict[str, str]]) -> dict[str, Any]:
    dylibs, rpaths, versions = [], [], []
    install_name = uuid = signature = None
    for c in cmds:
        cmd = c.get("cmd", "")
        if cmd in KINDS:
            dylibs.append((c["name"], KINDS[cmd], c["current version"], c["compatibility version"]))
        elif cmd == "LC_ID_DYLIB":
            install_name = c["name"]
        elif cmd == "LC_RPATH":
            rpaths.append(c["path"])
        elif cmd == "LC_UUID":
            uuid = c["uuid"]
        elif cmd == "LC_CODE_SIGNATURE":
            signature = (int(c["dataoff"]), int(c["datasize"]))
        elif cmd == "LC_BUILD_VERSION":
            sdk = None if c["sdk"] == "n/a" else c["sdk"]
            versions.append((c["platform"].lower(), c["minos"], sdk, cmd))
        elif cmd.startswith("LC_VERSION_MIN_"):
            platform = {"MACOSX": "macos", "IPHONEOS": "ios"}.get(cmd[15:], cmd[15:].lower())
            sdk = None if c["sdk"] == "n/a" else c["sdk"]
            versions.append((platform, c["version"], sdk, cmd))
    offsets = [
        int(s["offset"])
        for s in sections
        if int(s["offset"]) and "ZEROFILL" not in s.get("type", "")
    ]
    return {
        "install_name": install_name,
        "dylibs": dylibs,
        "rpaths": rpaths,
        "build_versions": versions,
        "uuid": uuid,
        "code_signature": signature,
        "first_section_offset": min(offsets, default=None),
    }


def _check_against_llvm(path: Path, data: bytes) -> MachOFile:
    parsed = _read(data)
    assert LIPO is not None
    archs = subprocess.run([LIPO, "-archs", str(path)], capture_output=True, text=True, check=True)
    assert list(parsed.architectures) == archs.stdout.split()
    dumped = _objdump(path)
    summaries = _readobj(path)
    assert len(parsed.slices) == len(dumped) == len(summaries)
    for got, dump, (version, needed) in zip(parsed.slices, dumped, summaries, strict=True):
        facts = _expected_facts(dump["commands"], dump["sections"])
        assert got.install_name == facts["install_name"]
        dylibs = [(d.name, d.kind, d.current_version, d.compatibility_version) for d in got.dylibs]
        assert dylibs == facts["dylibs"]
        own = {got.install_name} if got.install_name else set()  # readobj lists LC_ID_DYLIB too
        assert {d.name for d in got.dylibs} | own == needed
        assert list(got.rpaths) == facts["rpaths"]
        versions = [(b.platform, b.minos, b.sdk, b.command) for b in got.build_versions]
        assert versions == facts["build_versions"]
        first = got.build_versions[0]
        assert version == f"{first.command} {first.minos} {first.sdk or 'n/a'}"
        assert got.uuid == facts["uuid"]
        assert got.code_signature == facts["code_signature"]
        assert got.first_section_offset == facts["first_section_offset"]
        assert got.filetype == dump["filetype"]
        assert got.load_commands_end == (32 if got.bits == 64 else 28) + dump["sizeofcmds"]
        assert got.bits == (64 if dump["magic"] == "MH_MAGIC_64" else 32)
        assert got.little_endian
    return parsed


# --------------------------------------------------------------------------------------------
# Real files


@needs_llvm
@pytest.mark.parametrize("case", CASES)
def test_fixture_binaries_match_llvm(
    macos_wheels: dict[str, Path], case: str, tmp_path: Path
) -> None:
    binaries = _binaries(macos_wheels[case])
    assert {n for n in _members(macos_wheels[case]) if n.endswith((".so", ".dylib"))} == set(
        binaries
    )
    for name, data in binaries.items():
        path = tmp_path / Path(name).name
        path.write_bytes(data)
        _check_against_llvm(path, data)


@needs_llvm
def test_other_targets_match_llvm(other_targets: dict[str, bytes], tmp_path: Path) -> None:
    """32-bit images (armv7, arm64_32) and platforms beyond macOS."""
    archs = {}
    for target, data in other_targets.items():
        path = tmp_path / f"{target}.dylib"
        path.write_bytes(data)
        parsed = _check_against_llvm(path, data)
        (only,) = parsed.slices
        archs[target] = (only.arch, only.bits, only.build_versions[0].platform)
        assert only.install_name == "/usr/lib/libSystem.B.dylib"
    assert archs == {
        "armv7-apple-ios9.0": ("armv7", 32, "ios"),
        "arm64_32-apple-watchos5.0": ("arm64_32", 32, "watchos"),
        "arm64-apple-tvos14.0": ("arm64", 64, "tvos"),
        "x86_64-apple-ios13.1-macabi": ("x86_64", 64, "maccatalyst"),
    }


def _core(wheels: dict[str, Path], case: str) -> MachOFile:
    return _read(_members(wheels[case])["twmac/_core.cpython-311-darwin.so"])


def test_the_recipes_facts(macos_wheels: dict[str, Path]) -> None:
    """What each case was built to carry (machobuild.py), independent of any other reader."""
    core = _core(macos_wheels, "arm64")
    (arm,) = core.slices
    assert (core.fat, arm.arch, arm.filetype) == (False, "arm64", "bundle")
    assert [(d.name, d.kind, d.current_version, d.compatibility_version) for d in arm.dylibs] == [
        ("@rpath/libtwdep.1.dylib", "load", "1.2.3", "1.0.0"),
        ("/usr/lib/libSystem.B.dylib", "load", "1311.100.3", "1.0.0"),
    ]
    assert arm.rpaths == ("@loader_path/.dylibs",)
    assert arm.code_signature is not None  # ld64.lld signs arm64 ad hoc by default
    assert arm.macos_minimum is not None and arm.macos_minimum.minos == "11.0"
    assert arm.load_commands_end <= (arm.first_section_offset or 0)
    dep = _read(_members(macos_wheels["arm64"])["twmac/.dylibs/libtwdep.1.dylib"]).slices[0]
    assert (dep.filetype, dep.install_name) == ("dylib", "@rpath/libtwdep.1.dylib")

    old = _core(macos_wheels, "x86_64_old_tag").slices[0]
    assert (old.arch, old.code_signature, old.build_versions[0].minos) == ("x86_64", None, "11.0")
    vmin = _core(macos_wheels, "x86_64_versionmin").slices[0].build_versions
    assert [(b.command, b.platform, b.minos, b.sdk) for b in vmin] == [
        ("LC_VERSION_MIN_MACOSX", "macos", "10.9", "10.9")
    ]
    fat = _core(macos_wheels, "universal2")
    assert fat.fat and set(fat.architectures) == {"arm64", "x86_64"}
    assert all(s.offset > 0 and s.size > 0 for s in fat.slices)
    assert _core(macos_wheels, "universal2_missing").architectures == ("arm64",)
    loader = _core(macos_wheels, "loader_path").slices[0]
    assert loader.rpaths == ()
    assert loader.dylibs[0].name == "@loader_path/../twmac.dylibs/libtwdep.1.dylib"
    assert _core(macos_wheels, "unsigned_arm64").slices[0].code_signature is None
    extra = {
        "external": ("/opt/homebrew/opt/gmp/lib/libgmp.10.dylib", "load", "15.1.0"),
        "broken": ("@rpath/libtwmissing.dylib", "load", "1.0.0"),
        "weak": ("@rpath/libtwweak.dylib", "weak", "1.0.0"),
    }
    for case, want in extra.items():
        dylibs = _core(macos_wheels, case).slices[0].dylibs
        assert [(d.name, d.kind, d.current_version) for d in dylibs if want[0] == d.name] == [want]


def test_build_path_strings(macos_wheels: dict[str, Path], machobuild: ModuleType) -> None:
    """-g leaves the build directory in the stabs (N_SO, N_OSO) and the define in __cstring."""
    data = _members(macos_wheels["build_path"])["twmac/_core.cpython-311-darwin.so"]
    build = str(machobuild.build_dir(macos_wheels["build_path"].parent.parent, "build_path"))
    assert f"{build}/src/twmac_core.c\0".encode() in data
    assert f"{build}/twmac_core.o\0".encode() in data
    assert machobuild.BUILD_ROOT.encode() + b"\0" in data


def test_wheels_are_valid(macos_wheels: dict[str, Path]) -> None:
    """Each wheel opens, its WHEEL tags match its file name, RECORD covers every file."""
    from truewheel.wheel.archive import WheelArchive

    for case, wheel in macos_wheels.items():
        members = _members(wheel)
        with WheelArchive(wheel) as archive:
            assert archive.problems == [] and archive.missing_files == [], case
            assert archive.wheel_info.tags == (wheel.name.removesuffix(".whl").split("-", 2)[2],)
            assert "twmac/__init__.py" in members
            record = {
                row.split(",")[0]: row.split(",")[1]
                for row in members[archive.record_name].decode().splitlines()
            }
            for name, data in members.items():
                if name != archive.record_name:
                    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                    assert record[name] == "sha256=" + digest.decode(), (case, name)


def test_is_macho(macos_wheels: dict[str, Path], tmp_path: Path) -> None:
    members = _members(macos_wheels["universal2"])
    assert not is_macho(members["twmac/__init__.py"][:12])
    assert not is_macho(members["twmac-1.0.dist-info/METADATA"][:12])
    assert not is_macho(b"\xca\xfe\xba")
    javac = shutil.which("javac")
    if javac is None:
        pytest.skip("javac is missing (the CAFEBABE class file check)")
    (tmp_path / "Twmac.java").write_text("public class Twmac {}\n")
    subprocess.run([javac, "-d", str(tmp_path), str(tmp_path / "Twmac.java")], check=True)
    java = (tmp_path / "Twmac.class").read_bytes()
    assert java[:4] == b"\xca\xfe\xba\xbe" and not is_macho(java[:12])
    with pytest.raises(MachOError):
        _read(java)


# --------------------------------------------------------------------------------------------
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
    macos_wheels: dict[str, Path], other_targets: dict[str, bytes]
) -> None:
    files = [data for wheel in macos_wheels.values() for data in _binaries(wheel).values()]
    for data in [*files, *other_targets.values()]:
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
# The other byte order: a real file re-packed field by field as big-endian (MH_CIGAM)


def _repack(raw: bytearray, fmt: str, at: int) -> None:
    struct.pack_into(">" + fmt, raw, at, *struct.unpack_from("<" + fmt, raw, at))


def _big_endian(data: bytes) -> bytes:
    """The same thin image with its header and load commands in big-endian order; commands
    the reader does not read get only ``cmd`` and ``cmdsize`` swapped."""
    raw = bytearray(data)
    bits = 64 if data[:4] == b"\xcf\xfa\xed\xfe" else 32
    ncmds = struct.unpack_from("<I", data, 16)[0]
    _repack(raw, L.MACH_HEADER, 0)
    at = L.MACH_HEADER_SIZE[bits]
    formats = {cmd: L.DYLIB_COMMAND for cmd in [*L.DYLIB_KINDS, L.LC_ID_DYLIB]}
    formats |= {cmd: L.VERSION_MIN_COMMAND for cmd in L.VERSION_MIN}
    formats |= {L.LC_RPATH: L.RPATH_COMMAND, L.LC_UUID: L.UUID_COMMAND}
    formats |= {L.LC_CODE_SIGNATURE: L.LINKEDIT_DATA_COMMAND}
    for _ in range(ncmds):
        cmd, cmdsize = struct.unpack_from("<II", data, at)
        if cmd == L.LC_BUILD_VERSION:
            ntools = struct.unpack_from("<I", data, at + 20)[0]
            _repack(raw, L.BUILD_VERSION_COMMAND + "II" * ntools, at)
        elif cmd in (L.LC_SEGMENT, L.LC_SEGMENT_64):
            seg = 32 if cmd == L.LC_SEGMENT else 64
            fixed = struct.calcsize(L.SEGMENT_COMMAND[seg])
            nsects = struct.unpack_from("<I", data, at + fixed - 8)[0]
            _repack(raw, L.SEGMENT_COMMAND[seg], at)
            for i in range(nsects):
                _repack(raw, L.SECTION[seg], at + fixed + i * L.SECTION_SIZE[seg])
        else:
            _repack(raw, formats.get(cmd, L.LOAD_COMMAND), at)
        at += cmdsize
    return bytes(raw)


def test_big_endian_images_read_alike(
    macos_wheels: dict[str, Path], other_targets: dict[str, bytes]
) -> None:
    thin = [d for w in macos_wheels.values() for d in _binaries(w).values() if not _read(d).fat]
    for data in [*thin[:6], *other_targets.values()]:
        swapped = _big_endian(data)
        assert swapped[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf") and is_macho(swapped)
        (little,) = _read(data).slices
        (big,) = _read(swapped).slices
        assert not big.little_endian
        assert big == dataclasses.replace(little, little_endian=False)


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
