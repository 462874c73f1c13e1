"""The smallest crafted form of every failure the fuzzers found (fuzz/README.md lists them).

Nothing binary is committed: ``run.py`` writes these into ``fuzz/.cache/regressions/`` and
loads them before fuzzing, so a failure that comes back stops the run at once, and
``tests/test_fuzz_reproducers.py`` runs each through its harness in the ordinary test suite.
``python fuzz/reproducers.py DIR`` writes them into DIR.
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

_SETUP = ("p-1.0/setup.py", b"from setuptools import setup\nsetup()\n")
_LOCAL, _CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
#: Offsets of (version needed, flags, method, name) in a local and a central header.
_FIELDS = {_LOCAL: (4, 6, 8, 30), _CENTRAL: (6, 8, 10, 46)}

Patch = Callable[[bytearray, int, tuple[int, int, int, int]], None]


def _zip(name: str, data: bytes, method: int = zipfile.ZIP_STORED) -> bytearray:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
        info.compress_type = method
        archive.writestr(info, data)
    return bytearray(out.getvalue())


def _patched(raw: bytearray, patch: Patch) -> bytes:
    """The same change to the local and the central header of the only member."""
    for signature, fields in _FIELDS.items():
        patch(raw, raw.index(signature), fields)
    return bytes(raw)


def _local_only(raw: bytearray, patch: Patch) -> bytes:
    """The change to the local header alone: the central directory stays well formed."""
    patch(raw, raw.index(_LOCAL), _FIELDS[_LOCAL])
    return bytes(raw)


def _set_flag(bit: int) -> Patch:
    def patch(raw: bytearray, at: int, fields: tuple[int, int, int, int]) -> None:
        (flags,) = struct.unpack_from("<H", raw, at + fields[1])
        struct.pack_into("<H", raw, at + fields[1], flags | bit)

    return patch


def _set_field(index: int, value: int) -> Patch:
    def patch(raw: bytearray, at: int, fields: tuple[int, int, int, int]) -> None:
        struct.pack_into("<H", raw, at + fields[index], value)

    return patch


def _bad_utf8_name(position: int) -> Patch:
    """UTF-8 flag set, and one byte of the name that cannot start a UTF-8 sequence."""

    def patch(raw: bytearray, at: int, fields: tuple[int, int, int, int]) -> None:
        _set_flag(0x800)(raw, at, fields)
        raw[at + fields[3] + position] = 0xFF

    return patch


def _corrupt_data(method: int, skip: int) -> bytes:
    raw = _zip(*_SETUP, method=method)
    start = raw.index(_LOCAL) + 30 + len(_SETUP[0]) + skip
    raw[start : start + 11] = b"\xff" * 11
    return bytes(raw)


def _short_gnu_property_elf() -> bytes:
    """ELF64 with a PT_NOTE whose x86 ISA property announces 4 data bytes it does not carry."""
    phoff, phnum = 64, 2
    note_at = phoff + phnum * 56
    desc = struct.pack("<II", 0xC0008002, 4)  # GNU_PROPERTY_X86_ISA_1_NEEDED, pr_datasz 4
    note = struct.pack("<III", 4, len(desc), 5) + b"GNU\0" + desc  # NT_GNU_PROPERTY_TYPE_0
    total = note_at + len(note)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, 0, 0, 64, 56, phnum, 0, 0, 0)
    phdr = struct.Struct("<IIQQQQQQ")
    load = phdr.pack(1, 5, 0, 0, 0, total, total, 0x1000)
    pt_note = phdr.pack(4, 4, note_at, note_at, note_at, len(note), len(note), 8)
    return header + load + pt_note + note


def _pe_descriptors_past_the_directory() -> bytes:
    """PE32+ whose import directory declares one descriptor (Size 20) where 40 follow, each
    naming ``a.dll``: read one descriptor per miss, a stream needed a pass per descriptor."""
    count, section_at, rva = 40, 0x200, 0x1000
    name_rva = rva + (count + 1) * 20
    table = struct.pack("<IIIII", 0, 0, 0, name_rva, 0) * count + bytes(20) + b"a.dll\0"
    raw = table + bytes(-len(table) % 0x200)
    dos = b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x2022)
    optional = bytearray(240)
    struct.pack_into("<H", optional, 0, 0x20B)  # PE32+
    struct.pack_into("<I", optional, 60, section_at)  # SizeOfHeaders
    struct.pack_into("<I", optional, 108, 16)  # NumberOfRvaAndSizes
    struct.pack_into("<II", optional, 120, rva, 20)  # the import directory
    section = struct.pack(
        "<8sIIIIIIHHI", b".idata", len(raw), rva, len(raw), section_at, 0, 0, 0, 0, 0xC0000040
    )
    headers = dos + coff + bytes(optional) + section
    return headers + bytes(section_at - len(headers)) + raw


def _tar_gz(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(out.getvalue(), mtime=0)


def _member(name: str, data: bytes = b"", **attributes: object) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attributes.items():
        setattr(info, key, value)
    return info, data


def _corrupt_gzip_stream() -> bytes:
    """A tar.gz that opens, then fails to inflate at its second member (a flipped byte)."""
    data = bytearray(
        _tar_gz(_member("p-1.0/a.txt", b"a" * 20000), _member("p-1.0/b.txt", b"b" * 20000))
    )
    data[85] = 0xFF
    return bytes(data)


def _macho_two_faults() -> bytes:
    """A universal file whose first slice has a command running past sizeofcmds and whose
    second slice is all zeros: read from bytes and from a stream's ranges, it must fail with
    the same error (slice_ranges checked every header first, read_macho did not)."""
    fat = struct.pack(">II", 0xCAFEBABE, 2)
    fat += struct.pack(">iIIII", 0x01000007, 3, 4096, 4096, 12)  # x86_64
    fat += struct.pack(">iIIII", 0x0100000C, 0, 8192, 4096, 14)  # arm64
    # mach_header_64: magic, cputype, cpusubtype, MH_BUNDLE, ncmds 1, sizeofcmds 8, flags
    thin = struct.pack("<IiIIIIII", 0xFEEDFACF, 0x01000007, 3, 8, 1, 8, 0, 0)
    thin += struct.pack("<II", 0x19, 4096)  # LC_SEGMENT_64 with a cmdsize past sizeofcmds
    return fat.ljust(4096, b"\0") + thin.ljust(4096, b"\0") + bytes(4096)


def reproducers() -> dict[str, bytes]:
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    hard_link = _member("p-1.0/link.py", type=tarfile.LNKTYPE, linkname="p-1.0/missing.py")
    return {
        "zip/empty.zip": empty.getvalue(),
        "zip/utf8-flag-invalid-name.zip": _patched(
            _zip("fuzz/X.py", b"x = 1\n"), _bad_utf8_name(5)
        ),
        "zip/utf8-flag-invalid-local-name.zip": _local_only(
            _zip("fuzz/X.py", b"x = 1\n"), _bad_utf8_name(5)
        ),
        "elf/gnu-property-short.so": _short_gnu_property_elf(),
        "macho/two-faults.so": _macho_two_faults(),
        "pe/descriptors-past-the-directory.dll": _pe_descriptors_past_the_directory(),
        "metadata/record-superscript-size": "pkg/a.py,,\u00b2\n".encode(),
        "sdist/encrypted.zip": _patched(_zip(*_SETUP), _set_flag(0x1)),
        "sdist/unknown-method.zip": _patched(_zip(*_SETUP), _set_field(2, 99)),
        "sdist/version-too-new.zip": _patched(_zip(*_SETUP), _set_field(0, 118)),
        "sdist/utf8-flag-invalid-name.zip": _patched(_zip("p-1.0/X.py", b"1\n"), _bad_utf8_name(6)),
        "sdist/corrupt-deflate.zip": _corrupt_data(zipfile.ZIP_DEFLATED, 0),
        "sdist/corrupt-lzma.zip": _corrupt_data(zipfile.ZIP_LZMA, 9),
        "sdist/hardlink-to-missing.tar.gz": _tar_gz(_member(*_SETUP), hard_link),
        "sdist/pax-path-nul.tar.gz": _tar_gz(
            _member("p-1.0/a.py", b"x\n", pax_headers={"path": "p-1.0/a\0b.py"})
        ),
        "sdist/pax-length-overflow.tar.gz": _tar_gz(
            _member(*_SETUP),
            _member("p-1.0/x", b"99999999999999999999 path=x\n", type=tarfile.XHDTYPE),
        ),
        "sdist/corrupt-gzip-stream.tar.gz": _corrupt_gzip_stream(),
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: reproducers.py DIR")
    for name, data in reproducers().items():
        path = Path(sys.argv[1], name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
