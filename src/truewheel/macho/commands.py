"""The load commands of one Mach-O slice, walked from the bytes that hold them.

The walk takes the ``sizeofcmds`` bytes after the mach header, already read and already
bounded, and never reads outside them: each command's ``cmdsize`` must be at least 8,
aligned (4 bytes in a 32-bit image, 8 in a 64-bit one, as ``loader.h`` requires and LLVM
checks) and end inside ``sizeofcmds``; each command must be as large as its fixed part
(plus its sections or tools); a string's offset must fall inside its command and the
string must end there; the file data a segment, a section or the code signature names must
lie inside the slice, so a truncated file is refused rather than read as a whole one.
Commands truewheel does not use are skipped by ``cmdsize``.
"""

from __future__ import annotations

import struct
from typing import Any

from truewheel.errors import MachOError
from truewheel.macho import _layout as L
from truewheel.macho.model import BuildVersion, DylibReference

__all__ = ["Commands", "dylib_version", "os_version"]

_ZEROFILL = frozenset({0x1, 0xC, 0x12})  # S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL


def os_version(packed: int) -> str:
    """``xxxx.yy.zz`` as otool prints a minimum OS or SDK: ``11.0``, ``10.13.4``."""
    major, minor, patch = packed >> 16, (packed >> 8) & 0xFF, packed & 0xFF
    return f"{major}.{minor}.{patch}" if patch else f"{major}.{minor}"


def dylib_version(packed: int) -> str:
    """``xxxx.yy.zz`` as otool prints a dylib's current or compatibility version."""
    return f"{packed >> 16}.{(packed >> 8) & 0xFF}.{packed & 0xFF}"


class Commands:
    """What the load commands of one slice say, filled by :meth:`walk`."""

    def __init__(self, data: bytes, bits: int, order: str, slice_size: int) -> None:
        self.data = data
        self.bits = bits
        self.order = order
        self.slice_size = slice_size
        self.install_name: str | None = None
        self.dylibs: list[DylibReference] = []
        self.rpaths: list[str] = []
        self.build_versions: list[BuildVersion] = []
        self.uuid: str | None = None
        self.code_signature: tuple[int, int] | None = None
        self.first_section_offset: int | None = None

    def walk(self, ncmds: int) -> None:
        align = 4 if self.bits == 32 else 8
        position = 0
        for index in range(ncmds):
            if position + 8 > len(self.data):
                raise MachOError(f"malformed Mach-O (load command {index} past sizeofcmds)")
            cmd, cmdsize = struct.unpack_from(self.order + L.LOAD_COMMAND, self.data, position)
            problem = (
                "is below 8"
                if cmdsize < 8
                else f"is not a multiple of {align}"
                if cmdsize % align
                else f"runs past sizeofcmds {len(self.data)}"
                if position + cmdsize > len(self.data)
                else None
            )
            if problem:
                raise MachOError(
                    f"malformed Mach-O (load command {index} cmdsize {problem}): {cmdsize}"
                )
            self._command(index, cmd, self.data[position : position + cmdsize])
            position += cmdsize

    def _command(self, index: int, cmd: int, body: bytes) -> None:
        what = f"load command {index} ({cmd:#x})"
        if cmd in L.DYLIB_KINDS or cmd == L.LC_ID_DYLIB:
            _, _, name_at, _, current, compat = self._fields(L.DYLIB_COMMAND, body, what)
            name = self._string(body, name_at, L.DYLIB_COMMAND, what)
            if cmd == L.LC_ID_DYLIB:
                self._once(self.install_name, "LC_ID_DYLIB")
                self.install_name = name
            else:
                kind = L.DYLIB_KINDS[cmd]
                ref = DylibReference(name, kind, dylib_version(current), dylib_version(compat))
                self.dylibs.append(ref)
        elif cmd == L.LC_RPATH:
            _, _, path_at = self._fields(L.RPATH_COMMAND, body, what)
            self.rpaths.append(self._string(body, path_at, L.RPATH_COMMAND, what))
        elif cmd == L.LC_UUID:
            raw = self._fields(L.UUID_COMMAND, body, what)[2].hex().upper()
            self._once(self.uuid, "LC_UUID")
            self.uuid = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        elif cmd == L.LC_CODE_SIGNATURE:
            _, _, dataoff, datasize = self._fields(L.LINKEDIT_DATA_COMMAND, body, what)
            self._inside(dataoff, datasize, what)
            self._once(self.code_signature, "LC_CODE_SIGNATURE")
            self.code_signature = (dataoff, datasize)
        elif cmd == L.LC_BUILD_VERSION:
            _, _, platform, minos, sdk, ntools = self._fields(L.BUILD_VERSION_COMMAND, body, what)
            if struct.calcsize(L.BUILD_VERSION_COMMAND) + ntools * L.BUILD_TOOL_SIZE > len(body):
                raise MachOError(f"malformed Mach-O ({what} lists {ntools} tools past its end)")
            name = L.PLATFORMS.get(platform, f"platform{platform}")
            self._build_version(name, minos, sdk, "LC_BUILD_VERSION")
        elif cmd in L.VERSION_MIN:
            _, _, version, sdk = self._fields(L.VERSION_MIN_COMMAND, body, what)
            platform_name, command = L.VERSION_MIN[cmd]
            self._build_version(platform_name, version, sdk, command)
        elif cmd in (L.LC_SEGMENT, L.LC_SEGMENT_64):
            self._segment(cmd, body, what)

    def _build_version(self, platform: str, minos: int, sdk: int, command: str) -> None:
        sdk_text = os_version(sdk) if sdk else None
        self.build_versions.append(BuildVersion(platform, os_version(minos), sdk_text, command))

    def _segment(self, cmd: int, body: bytes, what: str) -> None:
        bits = 32 if cmd == L.LC_SEGMENT else 64
        fmt = L.SEGMENT_COMMAND[bits]
        fields = self._fields(fmt, body, what)
        self._inside(fields[5], fields[6], what)  # fileoff, filesize
        nsects = fields[9]
        fixed = struct.calcsize(self.order + fmt)
        section_size = L.SECTION_SIZE[bits]
        if fixed + nsects * section_size > len(body):
            raise MachOError(f"malformed Mach-O ({what} lists {nsects} sections past its end)")
        section = struct.Struct(self.order + L.SECTION[bits])
        for i in range(nsects):
            _, _, _, size, offset, _, _, _, flags = section.unpack_from(
                body, fixed + i * section_size
            )
            if not offset or flags & 0xFF in _ZEROFILL:
                continue
            self._inside(offset, size, f"{what} section {i}")
            if self.first_section_offset is None or offset < self.first_section_offset:
                self.first_section_offset = offset

    def _fields(self, fmt: str, body: bytes, what: str) -> tuple[Any, ...]:
        layout = struct.Struct(self.order + fmt)
        if len(body) < layout.size:
            raise MachOError(
                f"malformed Mach-O ({what} cmdsize {len(body)} is below its {layout.size} bytes)"
            )
        return layout.unpack_from(body)

    def _string(self, body: bytes, offset: int, fmt: str, what: str) -> str:
        """An ``lc_str``: NUL-terminated, after the command's fixed part, inside the command."""
        if not struct.calcsize(self.order + fmt) <= offset < len(body):
            raise MachOError(
                f"malformed Mach-O ({what} string offset outside the command): {offset}"
            )
        end = body.find(b"\0", offset)
        if end < 0:
            raise MachOError(f"malformed Mach-O ({what} string is not terminated in the command)")
        return body[offset:end].decode("utf-8", "surrogateescape")

    def _inside(self, offset: int, size: int, what: str) -> None:
        """File data a command points to must lie inside the slice (as dyld and LLVM require)."""
        if offset + size > self.slice_size:
            raise MachOError(
                f"malformed Mach-O ({what} data past the end of the slice): offset {offset} "
                f"size {size} in {self.slice_size} bytes"
            )

    @staticmethod
    def _once(current: object, name: str) -> None:
        if current is not None:
            raise MachOError(f"malformed Mach-O (more than one {name})")
