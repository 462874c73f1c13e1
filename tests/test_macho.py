"""The Mach-O reader against real files built by ld64.lld, cross-checked with LLVM's tools.

Every Mach-O member of the fixture wheels (tests/fixtures/machobuild.py) and a few images for
other platforms are read from bytes and compared with what
``llvm-objdump --macho --private-headers``, ``llvm-readobj`` and ``llvm-lipo -archs`` say;
the same images re-packed big-endian read alike.  Streams and bad input:
``test_macho_hostile.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from truewheel.elf.source import BytesSource
from truewheel.errors import MachOError
from truewheel.macho import MachOFile, is_macho, read_macho
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
def test_other_targets_match_llvm(macho_other_targets: dict[str, bytes], tmp_path: Path) -> None:
    """32-bit images (armv7, arm64_32) and platforms beyond macOS."""
    archs = {}
    for target, data in macho_other_targets.items():
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
    macos_wheels: dict[str, Path], macho_other_targets: dict[str, bytes]
) -> None:
    thin = [d for w in macos_wheels.values() for d in _binaries(w).values() if not _read(d).fat]
    for data in [*thin[:6], *macho_other_targets.values()]:
        swapped = _big_endian(data)
        assert swapped[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf") and is_macho(swapped)
        (little,) = _read(data).slices
        (big,) = _read(swapped).slices
        assert not big.little_endian
        assert big == dataclasses.replace(little, little_endian=False)
