"""The facts of one Mach-O file (thin, or fat with one slice per architecture).

Plain data, filled by :mod:`truewheel.macho.reader` from the load commands of
each slice.  Offsets are kept (slice offset, load-command end, first section)
so that a later planner can decide whether an install name or an rpath fits in
the header padding, the way ``install_name_tool`` must.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BuildVersion", "DylibReference", "MachOFile", "MachOSlice"]


@dataclass(frozen=True, slots=True)
class DylibReference:
    """One dylib a slice loads (``LC_LOAD_DYLIB`` and its weak, re-export, lazy and upward
    variants), as written: ``@rpath/libgmp.10.dylib``, ``/usr/lib/libSystem.B.dylib``."""

    name: str
    kind: str  # "load", "weak", "reexport", "lazy" or "upward"
    current_version: str  # "1311.100.3", unpacked from xxxx.yy.zz
    compatibility_version: str


@dataclass(frozen=True, slots=True)
class BuildVersion:
    """The minimum OS and SDK a slice was built for (``LC_BUILD_VERSION``, or the older
    ``LC_VERSION_MIN_MACOSX`` / ``_IPHONEOS`` / ``_TVOS`` / ``_WATCHOS``)."""

    platform: str  # "macos", "ios", "maccatalyst", "tvos", "watchos", ... or "platform<N>"
    minos: str  # "11.0"
    sdk: str | None  # "14.2"; None when the command records 0 (n/a)
    command: str  # "LC_BUILD_VERSION" or "LC_VERSION_MIN_MACOSX", ...

    @property
    def minos_key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.minos.split("."))


@dataclass(frozen=True, slots=True)
class MachOSlice:
    """One architecture's image: its header and the load commands the loader reads."""

    offset: int  # of the slice in the file (0 for a thin file)
    size: int  # bytes of the slice
    cpu_type: int
    cpu_subtype: int  # without the capability bits (CPU_SUBTYPE_MASK)
    arch: str  # "arm64", "arm64e", "x86_64", "x86_64h", "i386", "ppc", "ppc64", "cpu<N>"
    bits: int  # 32 or 64
    little_endian: bool
    filetype: str  # "execute", "dylib", "bundle", "object", "dylinker", "dsym", "type<N>"
    flags: int
    install_name: str | None  # LC_ID_DYLIB
    dylibs: tuple[DylibReference, ...]
    rpaths: tuple[str, ...]  # LC_RPATH, in order
    build_versions: tuple[BuildVersion, ...]  # usually one; zippered images carry two
    uuid: str | None  # LC_UUID, canonical 8-4-4-4-12 upper-case hex
    code_signature: tuple[int, int] | None  # LC_CODE_SIGNATURE (dataoff, datasize), in-slice
    load_commands_end: int  # header + sizeofcmds, relative to the slice
    first_section_offset: int | None  # lowest non-zero section file offset (header padding end)

    @property
    def macos_minimum(self) -> BuildVersion | None:
        """The macOS build version, if the slice names one (``maccatalyst`` is not macOS)."""
        return next((b for b in self.build_versions if b.platform == "macos"), None)


@dataclass(frozen=True, slots=True)
class MachOFile:
    """A Mach-O file: one slice when thin, every slice of a fat (universal) file."""

    fat: bool
    slices: tuple[MachOSlice, ...]

    @property
    def architectures(self) -> tuple[str, ...]:
        return tuple(s.arch for s in self.slices)
