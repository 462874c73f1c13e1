"""`truewheel diff` on builds that differ in debug info or compiler switches (gcc-built).

One extension (``csrc/twext_core.c``) compiled in one directory with different switches, so
the DWARF differs only where the switches do; the DW_AT_producer reader is checked against
``readelf --debug-dump=info``, and hostile DWARF gives one error line, never a traceback.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from conftest import check_document
from truewheel.cli import main
from truewheel.diff.elfdiff import explain_elf_difference
from truewheel.elf import ElfFile
from truewheel.elf.dwarf import read_producers
from truewheel.elf.source import BytesSource
from truewheel.errors import ElfError

VARIANTS = {
    "g": ("-g", "-O2"),
    "g0": ("-g0", "-O2"),
    "o3": ("-g", "-O3"),
    "o0": ("-g", "-O0"),
    "wrapv": ("-g", "-O2", "-fwrapv"),
    "dwarf4": ("-gdwarf-4", "-O2"),
    "dwarf64": ("-g", "-gdwarf64", "-O2"),
}


@pytest.fixture(scope="module")
def builds(wheelbuild: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each variant's extension, plus ``noabbrev`` (``g`` without .debug_abbrev) and
    ``extra`` (``g`` with one more section)."""
    root = tmp_path_factory.mktemp("dwarf-builds")
    tc = wheelbuild.toolchain(root)
    work = tc.workdir("twext")
    source = [wheelbuild.CSRC_DIR / "twext_core.c"]
    out = {
        key: tc.gcc(work / f"{key}{tc.ext_suffix}", source, kind="ext", opt=opt)
        for key, opt in VARIANTS.items()
    }
    out["noabbrev"] = work / f"noabbrev{tc.ext_suffix}"
    subprocess.run(
        ["objcopy", "--remove-section", ".debug_abbrev", str(out["g"]), str(out["noabbrev"])],
        check=True,
    )
    payload = work / "payload.bin"
    payload.write_bytes(b"twextra\0")
    out["extra"] = work / f"extra{tc.ext_suffix}"
    subprocess.run(
        ["objcopy", "--add-section", f".twextra={payload}", str(out["g"]), str(out["extra"])],
        check=True,
    )
    return out


def wheel_of(wheelbuild: ModuleType, so: Path, out: Path) -> Path:
    contents = wheelbuild._WheelContents("twext", "one extension, built with other switches")
    contents.add_elf(f"twext/_core{wheelbuild.ext_suffix()}", so)
    out.mkdir(parents=True)
    wheel: Path = contents.write(out, wheelbuild.wheel_tag())
    return wheel


def causes_of(
    wheelbuild: ModuleType, builds: dict[str, Path], a: str, b: str, tmp_path: Path
) -> list[str]:
    """The causes `diff --json` names for the extension, the document checked on the way."""
    wheel_a = wheel_of(wheelbuild, builds[a], tmp_path / f"A-{a}")
    wheel_b = wheel_of(wheelbuild, builds[b], tmp_path / f"B-{b}")
    with pytest.MonkeyPatch.context() as patch:
        out = tmp_path / "diff.json"
        with out.open("w") as sink:
            patch.setattr("sys.stdout", sink)
            assert main(["diff", "--json", str(wheel_a), str(wheel_b)]) == 1
    document = json.loads(out.read_text())
    check_document(document)
    [member] = [m for m in document["wheels"][0]["members"] if m["kind"] == "elf"]
    causes: list[str] = member["causes"]
    return causes


def readelf_producers(path: Path) -> list[str]:
    dump = subprocess.run(
        ["readelf", "--debug-dump=info", str(path)], capture_output=True, text=True, check=True
    ).stdout
    found = re.findall(r"DW_AT_producer\s*:\s*(?:\([^)]*\):\s*)?(.*)", dump)
    return list(dict.fromkeys(p.rstrip() for p in found))


def debug_sections(path: Path) -> list[str]:
    headers = subprocess.run(
        ["readelf", "-SW", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return sorted(set(re.findall(r"\]\s+(\.debug_\w+)", headers)))


@pytest.mark.parametrize("key", ["g", "o3", "o0", "wrapv", "dwarf4", "dwarf64", "g0"])
def test_producers_match_readelf(builds: dict[str, Path], key: str) -> None:
    data = builds[key].read_bytes()
    found = read_producers(ElfFile.parse(data), BytesSource(data))
    assert list(found.names) == readelf_producers(builds[key])
    assert found.skipped == 0 and not found.truncated and not found.missing
    if key != "g0":
        [producer] = found.names
        assert producer.startswith("GNU C") and all(s in producer for s in VARIANTS[key][1:])


def test_debug_info_on_one_side(
    wheelbuild: ModuleType, builds: dict[str, Path], tmp_path: Path
) -> None:
    sections = ", ".join(debug_sections(builds["g"]))
    assert causes_of(wheelbuild, builds, "g", "g0", tmp_path / "ab") == [
        f"debug info present in A only ({sections})"
    ]
    assert causes_of(wheelbuild, builds, "g0", "g", tmp_path / "ba") == [
        f"debug info present in B only ({sections})"
    ]


def test_abbreviations_removed_on_one_side(
    wheelbuild: ModuleType, builds: dict[str, Path], tmp_path: Path
) -> None:
    """.debug_info without .debug_abbrev: its producers cannot be read, and nothing is guessed."""
    assert causes_of(wheelbuild, builds, "g", "noabbrev", tmp_path / "ab") == [
        "sections only in A: .debug_abbrev"
    ]
    assert causes_of(wheelbuild, builds, "noabbrev", "g", tmp_path / "ba") == [
        "sections only in B: .debug_abbrev"
    ]


def test_any_section_on_one_side(
    wheelbuild: ModuleType,
    builds: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert causes_of(wheelbuild, builds, "g", "extra", tmp_path / "json") == [
        "sections only in B: .twextra"
    ]
    a = wheel_of(wheelbuild, builds["g"], tmp_path / "A")
    b = wheel_of(wheelbuild, builds["extra"], tmp_path / "B")
    assert main(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert ": sections only in B: .twextra" in out
    assert ".shstrtab differs (follows from the sections present)" in out


@pytest.mark.parametrize(
    ("a", "b", "cause"),
    [
        ("g", "o3", "compiler switches differ (DW_AT_producer): -O2 -> -O3"),
        ("o3", "o0", "compiler switches differ (DW_AT_producer): -O3 -> -O0"),
        ("g", "wrapv", "compiler switches differ (DW_AT_producer): only in B: -fwrapv"),
    ],
)
def test_switches_named(
    wheelbuild: ModuleType, builds: dict[str, Path], tmp_path: Path, a: str, b: str, cause: str
) -> None:
    assert causes_of(wheelbuild, builds, a, b, tmp_path) == [cause]


def test_switches_read_from_a_stream_in_small_chunks(builds: dict[str, Path]) -> None:
    """The unit walk and the passes for abbreviations and strings, as a member streams past."""

    def stream(path: Path) -> tuple[object, int]:
        data = path.read_bytes()
        return (lambda: (data[i : i + 97] for i in range(0, len(data), 97))), len(data)

    (a, size_a), (b, size_b) = stream(builds["o3"]), stream(builds["o0"])
    found = explain_elf_difference(a, size_a, b, size_b)  # type: ignore[arg-type]
    assert found.causes == ["compiler switches differ (DW_AT_producer): -O3 -> -O0"]


def _unit_at(data: bytes) -> int:
    elf = ElfFile.parse(data)
    return elf.sections[".debug_info"].offset


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (0, 0xFFFFFFF5, "reserved unit length"),
        (0, 0x7FFFFFF0, "runs past .debug_info"),
        (8, 0x7FFFFFF0, "abbreviation offset 2147483632 past .debug_abbrev"),
    ],
)
def test_hostile_dwarf_is_an_input_error(
    wheelbuild: ModuleType,
    builds: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    offset: int,
    value: int,
    message: str,
) -> None:
    """A unit length or abbreviation offset past its section: ElfError, and diff says so."""
    data = bytearray(builds["g"].read_bytes())
    struct.pack_into("<I", data, _unit_at(bytes(data)) + offset, value)
    with pytest.raises(ElfError, match=re.escape(message)):
        read_producers(ElfFile.parse(bytes(data)), BytesSource(bytes(data)))
    hostile = tmp_path / f"hostile{wheelbuild.ext_suffix()}"
    hostile.write_bytes(bytes(data))
    a = wheel_of(wheelbuild, builds["g"], tmp_path / "A")
    b = wheel_of(wheelbuild, hostile, tmp_path / "B")
    assert main(["diff", str(a), str(b)]) == 1
    captured = capsys.readouterr()
    assert "ELF could not be compared: malformed DWARF (" in captured.out
    assert "Traceback" not in captured.out + captured.err
