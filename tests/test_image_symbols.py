"""Versions behind exported symbols of Mach-O and PE files (macho/symbols.py, pe/symbols.py,
_literal.py): the stand-ins of csrc/twversion.c (machobuild.py, pebuild.py) read whole and
streamed, their symbol addresses cross-checked with llvm-nm and llvm-readobj; the function
shapes of other compilers and options; crafted variants (tables or pointers outside the
file, chained fixups, forwarders) give no answer and no error.  inspect --json on the
fixture wheels: test_inspect_foreign.py."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from conftest import _load_fixture_module
from truewheel.analysis.member import analyze_bytes, analyze_stream
from truewheel.elf.source import BytesSource
from truewheel.errors import MachOError, PEError
from truewheel.macho import read_macho
from truewheel.macho import symbols as macho_symbols
from truewheel.pe import symbols as pe_symbols
from truewheel.pe.headers import read_headers
from truewheel.policy.libraries import LibraryTable

NM = shutil.which("llvm-nm") or shutil.which("llvm-nm-14")
READOBJ = shutil.which("llvm-readobj") or shutil.which("llvm-readobj-14")
#: family -> (symbol, kind, version the stand-in exports)
LIBS = {
    "gmp": ("__gmp_version", "pointer", "6.3.0"),
    "mpfr": ("mpfr_get_version", "function", "4.2.1"),
    "flint": ("flint_version", "array", "3.1.2"),
}
MAC_CASES = ("versions", "versions_x86_64", "versions_universal2")
WIN_CASES = ("versions", "versions_win32", "versions_lld")
_LC_DYLD_INFO_ONLY = 0x80000022


@pytest.fixture(scope="module")
def libraries() -> LibraryTable:
    return LibraryTable.load()


def _libs(wheel: Path) -> dict[str, bytes]:
    """family -> bytes of the wheel's version stand-ins."""
    table = LibraryTable.load()
    with zipfile.ZipFile(wheel) as archive:
        found = {}
        for name in archive.namelist():
            family = table.family_of(name)
            if family is not None and family.id in LIBS:
                found[family.id] = archive.read(name)
    assert set(found) == set(LIBS), wheel
    return found


@pytest.fixture(scope="module")
def mac(macos_wheels: dict[str, Path]) -> dict[str, dict[str, bytes]]:
    return {case: _libs(macos_wheels[case]) for case in MAC_CASES}


@pytest.fixture(scope="module")
def win(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    pebuild: ModuleType = _load_fixture_module("pebuild")
    wheels = pebuild.build_windows_wheels(tmp_path_factory.mktemp("win-versions"))
    if wheels is None:
        pytest.skip("mingw-w64 is not installed")
    return {case: _libs(wheels[case]) for case in WIN_CASES if case in wheels}


def _macho_string(data: bytes, symbol: str, kind: str) -> str | None:
    source = BytesSource(data, error=MachOError)
    return macho_symbols.exported_string(read_macho(source), source, symbol, kind)


def _pe_string(data: bytes, symbol: str, kind: str) -> str | None:
    return pe_symbols.exported_string(BytesSource(data, error=PEError), symbol, kind)


def _streamed(data: bytes, name: str, libraries: LibraryTable) -> tuple[list[str], int]:
    """Versions and passes of inspect's analysis, the file arriving in 64 KiB chunks."""
    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    facts = analyze_stream(lambda: iter(chunks), len(data), name, libraries)
    return [v.version for v in facts.versions], facts.passes


# --------------------------------------------------------------------------------------------
# The stand-ins, whole and streamed


@pytest.mark.parametrize("case", MAC_CASES)
def test_macho_stand_ins(
    mac: dict[str, dict[str, bytes]], libraries: LibraryTable, case: str
) -> None:
    """Whole: each kind reads its version.  Streamed: the tables and data sections are kept
    on the first pass; only code past the first MiB (the padded arm64 mpfr_get_version)
    costs one more."""
    names = {"gmp": "libgmp.10.dylib", "mpfr": "libmpfr.6.dylib", "flint": "libflint.19.dylib"}
    for family, (symbol, kind, version) in LIBS.items():
        data = mac[case][family]
        assert _macho_string(data, symbol, kind) == version
        passes = 2 if case == "versions" and family == "mpfr" else 1
        assert len(data) > 2 << 20 or case != "versions"
        assert _streamed(data, f"x/.dylibs/{names[family]}", libraries) == ([version], passes)


@pytest.mark.parametrize("case", WIN_CASES)
def test_pe_stand_ins(win: dict[str, dict[str, bytes]], libraries: LibraryTable, case: str) -> None:
    if case not in win:
        pytest.skip("clang, lld-link or llvm-dlltool missing")
    names = {"gmp": "libgmp-10.dll", "mpfr": "libmpfr-6.dll", "flint": "libflint-19.dll"}
    for family, (symbol, kind, version) in LIBS.items():
        data = win[case][family]
        assert _pe_string(data, symbol, kind) == version
        assert _streamed(data, f"x.libs/{names[family]}", libraries) == ([version], 1)


def test_a_kind_that_does_not_fit_gives_nothing(
    mac: dict[str, dict[str, bytes]], win: dict[str, dict[str, bytes]]
) -> None:
    """The array read as a function, the function as a pointer, a symbol not exported."""
    flint, mpfr = mac["versions_x86_64"]["flint"], mac["versions_x86_64"]["mpfr"]
    assert _macho_string(flint, "flint_version", "function") is None
    assert _macho_string(mpfr, "mpfr_get_version", "pointer") is None
    assert _macho_string(mpfr, "mpfr_get_versio", "function") is None
    assert _pe_string(win["versions"]["mpfr"], "mpfr_get_version", "pointer") is None
    assert _pe_string(win["versions"]["mpfr"], "mpfr_get_versions", "function") is None


# --------------------------------------------------------------------------------------------
# Addresses, as LLVM's tools see them


@pytest.mark.skipif(NM is None, reason="llvm-nm missing")
def test_macho_addresses_match_llvm_nm(mac: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    assert NM is not None
    for case, libs in mac.items():
        for family, (symbol, _, _) in LIBS.items():
            data = libs[family]
            path = tmp_path / f"{case}-{family}.dylib"
            path.write_bytes(data)
            source = BytesSource(data, error=MachOError)
            for s in read_macho(source).slices:
                listing = subprocess.run(
                    [NM, f"--arch={s.arch}", "-g", str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                found = re.search(rf"^([0-9a-f]+) [A-Z] _{symbol}$", listing, re.MULTILINE)
                assert found, listing
                image = macho_symbols._image(source, s)
                assert image is not None
                address = macho_symbols._address(image, source, b"_" + symbol.encode())
                assert address == int(found.group(1), 16), (case, family, s.arch)


@pytest.mark.skipif(READOBJ is None, reason="llvm-readobj missing")
def test_pe_export_rvas_match_llvm_readobj(
    win: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    assert READOBJ is not None
    for case, libs in win.items():
        for family, (symbol, _, _) in LIBS.items():
            path = tmp_path / f"{case}-{family}.dll"
            path.write_bytes(libs[family])
            listing = subprocess.run(
                [READOBJ, "--coff-exports", str(path)], capture_output=True, text=True, check=True
            ).stdout
            found = re.search(rf"Name: {symbol}\n\s*RVA: (0x[0-9A-Fa-f]+)", listing)
            assert found, listing
            source = BytesSource(libs[family], error=PEError)
            hdr = read_headers(source)
            directory = pe_symbols._export_directory(source, hdr)
            assert directory is not None
            rva = pe_symbols._export_rva(source, hdr, directory, symbol.encode())
            assert rva == int(found.group(1), 16), (case, family)


# --------------------------------------------------------------------------------------------
# Function shapes of other compilers and options


def _built(cmd: list[str], out: Path) -> bytes:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def test_function_shapes_with_frames(machobuild: ModuleType, tmp_path: Path) -> None:
    """-O0 keeps the frame: ``push %rbp; mov %rsp,%rbp; lea; pop %rbp; ret`` (x86-64 Mach-O
    and mingw), ``push %ebp; mov %esp,%ebp; mov $VA,%eax; pop %ebp; ret`` (i686 mingw)."""
    source = str(machobuild.CSRC / "twversion.c")
    tools = machobuild.find_tools(tmp_path / "bin")
    if tools is not None:
        out = tmp_path / "libmpfr.6.dylib"
        cmd = [tools.clang, "-target", "x86_64-apple-macos11", "-fuse-ld=lld", "-nostdlib"]
        cmd += ["-O0", "-dynamiclib", "-DTW_MPFR", source, "-o", str(out)]
        subprocess.run(cmd, env=tools.env, check=True, capture_output=True)
        data = out.read_bytes()
        assert b"\x55\x48\x89\xe5\x48\x8d\x05" in data
        assert _macho_string(data, "mpfr_get_version", "function") == "4.2.1"
    for gcc, frame in (
        ("x86_64-w64-mingw32-gcc", b"\x55\x48\x89\xe5"),
        ("i686-w64-mingw32-gcc", b"\x55\x89\xe5"),
    ):
        if shutil.which(gcc) is None:
            continue
        out = tmp_path / f"{gcc}-libmpfr-6.dll"
        entry = "DllMain" if gcc.startswith("x86_64") else "_DllMain@12"
        cmd = [gcc, "-O0", "-shared", "-nostdlib", f"-Wl,--entry,{entry}", "-DTW_MPFR"]
        data = _built([*cmd, source, "-o", str(out)], out)
        assert frame in data
        assert _pe_string(data, "mpfr_get_version", "function") == "4.2.1"


@pytest.mark.parametrize("target", ["x86_64", "aarch64"])
def test_elf_kinds_x86_64_and_aarch64(machobuild: ModuleType, target: str, tmp_path: Path) -> None:
    """The ELF reader shares the function shapes: gcc's ``lea; ret`` on x86-64; on aarch64
    lld relaxes ``adrp x0; add x0`` into ``nop; adr x0`` (as Apple's linker does)."""
    from truewheel.elf import ElfFile
    from truewheel.elf.symbols import exported_string

    if target == "x86_64":
        compiler = ["gcc"] if shutil.which("gcc") else None
    else:
        compiler = ["clang", "-target", "aarch64-linux-gnu", "-fuse-ld=lld"]
        compiler = compiler if shutil.which("clang") and shutil.which("ld.lld") else None
    if compiler is None:
        pytest.skip(f"no compiler and linker for {target}")
    for family, (symbol, kind, version) in LIBS.items():
        out = tmp_path / f"lib{family}-{target}.so"
        cmd = [*compiler, "-O2", "-fPIC", "-shared", "-nostdlib", f"-DTW_{family.upper()}"]
        data = _built([*cmd, str(machobuild.CSRC / "twversion.c"), "-o", str(out)], out)
        elf = ElfFile.parse(data)
        assert elf.architecture == target
        assert exported_string(elf, BytesSource(data), symbol, kind) == version, family
        if family == "mpfr" and target == "aarch64":
            adr_x0 = rb"[\x00\x20\x40\x60\x80\xa0\xc0\xe0]..[\x10\x30\x50\x70]"
            assert re.search(rb"\x1f\x20\x03\xd5" + adr_x0 + rb"\xc0\x03\x5f\xd6", data, re.DOTALL)


def test_pe_arm64_lld_link(machobuild: ModuleType, tmp_path: Path) -> None:
    """win_arm64 DLLs (clang ``aarch64-pc-windows-msvc``, lld-link): ``adrp``/``add`` over
    RVAs, the pointer an 8-byte VA."""
    if not (shutil.which("clang") and shutil.which("lld-link")):
        pytest.skip("clang or lld-link missing")
    for family, (symbol, kind, version) in LIBS.items():
        obj, dll = tmp_path / f"{family}.obj", tmp_path / f"lib{family}.dll"
        cmd = ["clang", "--target=aarch64-pc-windows-msvc", "-O2", f"-DTW_{family.upper()}"]
        _built([*cmd, "-c", str(machobuild.CSRC / "twversion.c"), "-o", str(obj)], obj)
        link = ["lld-link", "/dll", "/entry:DllMain", "/nodefaultlib", "/machine:arm64"]
        data = _built([*link, f"/out:{dll}", str(obj)], dll)
        assert struct.unpack_from("<H", data, struct.unpack_from("<I", data, 0x3C)[0] + 4) == (
            0xAA64,
        )
        assert _pe_string(data, symbol, kind) == version, family


_ADR_SOURCE = """
    .text
    .globl _mpfr_get_version
    .p2align 2
_mpfr_get_version:
    adr x0, Lversion
    nop
    ret
Lversion:
    .asciz "4.2.1"
"""


def test_arm64_adr_nop_as_apples_linker_rewrites_it(machobuild: ModuleType, tmp_path: Path) -> None:
    """ld64 turns ``adrp x0; add x0`` into ``adr x0; nop`` when the literal is near (its
    linker optimisation hints); lld does not, so the shape is assembled here (the literal
    in the same section: Mach-O has no relocation for ``adr`` across sections)."""
    tools = machobuild.find_tools(tmp_path / "bin")
    if tools is None:
        pytest.skip("clang or ld64.lld missing")
    asm, out = tmp_path / "adr.s", tmp_path / "libmpfr.6.dylib"
    asm.write_text(_ADR_SOURCE)
    cmd = [tools.clang, "-target", "arm64-apple-macos11", "-fuse-ld=lld", "-nostdlib"]
    cmd += ["-dynamiclib", str(asm), "-o", str(out)]
    subprocess.run(cmd, env=tools.env, check=True, capture_output=True)
    data = out.read_bytes()
    assert struct.pack("<I", 0xD503201F) in data  # the nop after adr
    assert _macho_string(data, "mpfr_get_version", "function") == "4.2.1"


# --------------------------------------------------------------------------------------------
# Crafted Mach-O files


def _load_commands(data: bytes | bytearray) -> list[tuple[int, int, int]]:
    """(offset, cmd, cmdsize) of each load command of a thin 64-bit little-endian file."""
    ncmds = struct.unpack_from("<I", data, 16)[0]
    found, at = [], 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, at)
        found.append((at, cmd, size))
        at += size
    return found


def _command(data: bytes | bytearray, wanted: int) -> int:
    return next(at for at, cmd, _ in _load_commands(data) if cmd == wanted)


def _segments(data: bytes) -> list[tuple[bytes, int, int]]:
    """(name, vmaddr, fileoff) of each LC_SEGMENT_64, in order."""
    return [
        (name.rstrip(b"\0"), vmaddr, fileoff)
        for at, cmd, _ in _load_commands(data)
        if cmd == 0x19
        for name, vmaddr, _, fileoff in [struct.unpack_from("<16sQQQ", data, at + 8)]
    ]


def _gmp_slot(data: bytes) -> tuple[int, int, int]:
    """(file offset of __gmp_version's slot, index of its segment, the address it holds)."""
    source = BytesSource(data, error=MachOError)
    image = macho_symbols._image(source, read_macho(source).slices[0])
    assert image is not None
    address = macho_symbols._address(image, source, b"___gmp_version")
    assert address is not None
    located = image.locate(address)
    assert located is not None
    return located[0], located[2], struct.unpack_from("<Q", data, located[0])[0]


def _no_answer(data: bytes, family: str, name: str, libraries: LibraryTable) -> None:
    symbol, kind, _ = LIBS[family]
    assert _macho_string(data, symbol, kind) is None
    assert analyze_bytes(data, name, libraries).versions == []
    assert _streamed(data, name, libraries) == ([], 1)


def test_macho_tables_pointing_past_the_end(
    mac: dict[str, dict[str, bytes]], libraries: LibraryTable
) -> None:
    gmp = mac["versions_x86_64"]["gmp"]
    info = _command(gmp, _LC_DYLD_INFO_ONLY)
    export_off, export_size = struct.unpack_from("<II", gmp, info + 40)
    for offset, size in ((len(gmp) + 16, export_size), (export_off, 1 << 30)):
        crafted = bytearray(gmp)
        struct.pack_into("<II", crafted, info + 40, offset, size)
        _no_answer(bytes(crafted), "gmp", "x/libgmp.10.dylib", libraries)
    garbage = bytearray(gmp)
    garbage[export_off : export_off + export_size] = b"\xff" * export_size
    _no_answer(bytes(garbage), "gmp", "x/libgmp.10.dylib", libraries)
    loop = bytearray(gmp)  # a root whose one edge "_" leads back to the root
    loop[export_off : export_off + 5] = b"\x00\x01_\x00\x00"
    _no_answer(bytes(loop), "gmp", "x/libgmp.10.dylib", libraries)


def test_macho_symbol_table_without_an_export_trie(
    mac: dict[str, dict[str, bytes]], libraries: LibraryTable
) -> None:
    """No export trie: the external symbols of LC_SYMTAB answer; their string table past
    the end of the file gives nothing."""
    flint = bytearray(mac["versions_x86_64"]["flint"])
    info = _command(flint, _LC_DYLD_INFO_ONLY)
    struct.pack_into("<II", flint, info + 40, 0, 0)
    assert _macho_string(bytes(flint), "flint_version", "array") == "3.1.2"
    assert _streamed(bytes(flint), "x/libflint.19.dylib", libraries) == (["3.1.2"], 1)
    symtab = _command(flint, 0x2)
    struct.pack_into("<I", flint, symtab + 16, len(flint) + 64)  # stroff
    _no_answer(bytes(flint), "flint", "x/libflint.19.dylib", libraries)


def test_macho_pointer_outside_every_segment(
    mac: dict[str, dict[str, bytes]], libraries: LibraryTable
) -> None:
    for case in ("versions_x86_64", "versions_universal2"):
        gmp = bytearray(mac[case]["gmp"])
        source = BytesSource(bytes(gmp), error=MachOError)
        for s in read_macho(source).slices:
            image = macho_symbols._image(source, s)
            assert image is not None
            address = macho_symbols._address(image, source, b"___gmp_version")
            located = image.locate(address or 0)
            assert located is not None
            struct.pack_into("<Q", gmp, located[0], 0xDEADBEEF000)
        _no_answer(bytes(gmp), "gmp", "x/libgmp.10.dylib", libraries)


def _with_chained_fixups(data: bytes, pointer_format: int, slot_value: int) -> bytes:
    """``data`` (a thin x86-64 dylib linked with LC_DYLD_INFO_ONLY) as ld64 links for macOS
    12 and later: LC_DYLD_CHAINED_FIXUPS (its table appended to the file: a fixups header,
    the starts of each segment, the GMP slot's segment naming ``pointer_format``) and
    LC_DYLD_EXPORTS_TRIE in place of LC_DYLD_INFO_ONLY, the slot rewritten to
    ``slot_value``.  Layouts from Apple's mach-o/fixup-chains.h and loader.h."""
    out = bytearray(data)
    slot, segment, _ = _gmp_slot(data)
    info = _command(data, _LC_DYLD_INFO_ONLY)
    export_off, export_size = struct.unpack_from("<II", data, info + 40)
    segments = _segments(data)
    blob_at = (len(out) + 7) & ~7
    starts = 32  # after the 28-byte dyld_chained_fixups_header, aligned
    in_segment = starts + 4 + 4 * len(segments)
    in_segment += -in_segment % 8
    offsets = [in_segment - starts if i == segment else 0 for i in range(len(segments))]
    _, vmaddr, fileoff = segments[segment]
    page_start = (slot - fileoff) % 0x1000
    blob = struct.pack("<7I", 0, starts, in_segment + 24, in_segment + 24, 0, 1, 0)
    blob += b"\0" * (starts - len(blob))
    blob += struct.pack(f"<I{len(segments)}I", len(segments), *offsets)
    blob += b"\0" * (in_segment - len(blob))
    blob += struct.pack("<IHHQIHH", 24, 0x1000, pointer_format, vmaddr, 0, 1, page_start)
    out[len(out) :] = b"\0" * (blob_at - len(out)) + blob
    commands = struct.pack("<4I", 0x80000034, 16, blob_at, len(blob))
    commands += struct.pack("<4I", 0x80000033, 16, export_off, export_size)
    commands += struct.pack("<IIQ", 0x2A, 16, 0)  # LC_SOURCE_VERSION fills the rest
    out[info : info + 48] = commands
    struct.pack_into("<I", out, 16, struct.unpack_from("<I", out, 16)[0] + 2)
    struct.pack_into("<Q", out, slot, slot_value)
    return bytes(out)


def test_macho_chained_fixup_pointers(
    mac: dict[str, dict[str, bytes]], libraries: LibraryTable
) -> None:
    """A rebase holds the target in its low 36 bits (an address under DYLD_CHAINED_PTR_64,
    an offset from the image base under _64_OFFSET; the base of a dylib is 0) and the
    distance to the next fixup above them; a bind (bit 63) or an arm64e pointer is not read."""
    gmp = mac["versions_x86_64"]["gmp"]
    _, _, target = _gmp_slot(gmp)
    rebase = target | 3 << 51  # next = 3 (stride 4: 12 bytes on)
    for pointer_format, value, expected in (
        (6, rebase, "6.3.0"),
        (2, rebase, "6.3.0"),
        (6, rebase | 1 << 63, None),  # a bind
        (1, rebase, None),  # DYLD_CHAINED_PTR_ARM64E
    ):
        crafted = _with_chained_fixups(gmp, pointer_format, value)
        source = BytesSource(crafted, error=MachOError)
        assert read_macho(source).slices[0].arch == "x86_64"
        assert _macho_string(crafted, "__gmp_version", "pointer") == expected, pointer_format
        found = _streamed(crafted, "x/libgmp.10.dylib", libraries)
        assert found == ([expected] if expected else [], 1)
    unchained = bytearray(gmp)  # the same slot read as a plain address points nowhere
    struct.pack_into("<Q", unchained, _gmp_slot(gmp)[0], rebase)
    assert _macho_string(bytes(unchained), "__gmp_version", "pointer") is None


# --------------------------------------------------------------------------------------------
# Crafted PE files


def _export_fields(data: bytes) -> tuple[int, int, int]:
    """(file offset of the export directory, its RVA, its size)."""
    source = BytesSource(data, error=PEError)
    hdr = read_headers(source)
    rva, size = hdr.directory(0)
    span = hdr.span(rva)
    assert span is not None
    return span[0], rva, size


def _pe_no_answer(data: bytes, family: str, name: str, libraries: LibraryTable) -> None:
    symbol, kind, _ = LIBS[family]
    assert _pe_string(data, symbol, kind) is None
    assert analyze_bytes(data, name, libraries).versions == []


def _patched(data: bytes, edit: Callable[[bytearray], None]) -> bytes:
    out = bytearray(data)
    edit(out)
    return bytes(out)


@pytest.mark.parametrize("case", ["versions_win32", "versions_lld"])
def test_pe_crafted_exports(
    win: dict[str, dict[str, bytes]], libraries: LibraryTable, case: str
) -> None:
    if case not in win:
        pytest.skip("clang, lld-link or llvm-dlltool missing")
    gmp = win[case]["gmp"]
    directory, directory_rva, directory_size = _export_fields(gmp)
    source = BytesSource(gmp, error=PEError)
    hdr = read_headers(source)
    fields = pe_symbols._export_directory(source, hdr)
    assert fields is not None
    rva = pe_symbols._export_rva(source, hdr, fields, b"__gmp_version")
    assert rva is not None
    span = hdr.span(rva)
    assert span is not None
    width = 8 if case == "versions_lld" else 4
    name = "x.libs/libgmp-10.dll"
    crafted = (
        # NumberOfNamePointers and AddressTableEntries far beyond the file
        lambda b: struct.pack_into("<II", b, directory + 20, 0xFFFFFFFF, 0xFFFFFFFF),
        # the name pointer table outside every section
        lambda b: struct.pack_into("<I", b, directory + 32, 0x7FFFFFF0),
        # an ordinal past AddressTableEntries
        lambda b: struct.pack_into("<I", b, directory + 20, 0),
        # the slot's VA outside the image
        lambda b: b.__setitem__(slice(span[0], span[0] + width), b"\xff" * width),
    )
    for edit in crafted:
        _pe_no_answer(_patched(gmp, edit), "gmp", name, libraries)
    # a forwarder: the export's RVA inside the export directory ("OTHER.dll!name")
    table = hdr.span(fields[8])
    assert table is not None
    ordinal = next(
        i for i in range(fields[6]) if struct.unpack_from("<I", gmp, table[0] + 4 * i)[0] == rva
    )
    forwarded = _patched(
        gmp, lambda b: struct.pack_into("<I", b, table[0] + 4 * ordinal, directory_rva + 40)
    )
    assert directory_size > 40
    _pe_no_answer(forwarded, "gmp", name, libraries)
