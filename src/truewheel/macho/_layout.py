"""Binary layouts and constants of Mach-O and universal (fat) files.

Sources: Apple's ``<mach-o/loader.h>``, ``<mach-o/fat.h>`` and ``<mach/machine.h>``
(cctools / xnu, as published in Apple's open-source releases); architecture names as
``lipo``, ``otool`` and LLVM's ``MachOObjectFile::getArchTypeForMachOCPUType`` print them.
Struct formats are given without a byte-order prefix: the reader adds ``<`` or ``>``.
"""

from __future__ import annotations

# mach_header / mach_header_64, as read little-endian from the first four bytes
MH_MAGIC, MH_CIGAM = 0xFEEDFACE, 0xCEFAEDFE
MH_MAGIC_64, MH_CIGAM_64 = 0xFEEDFACF, 0xCFFAEDFE
# fat_header, as read big-endian (fat headers are written big-endian)
FAT_MAGIC, FAT_CIGAM = 0xCAFEBABE, 0xBEBAFECA
FAT_MAGIC_64, FAT_CIGAM_64 = 0xCAFEBABF, 0xBFBAFECA

# magic, cputype, cpusubtype, filetype, ncmds, sizeofcmds, flags (+ reserved when 64-bit)
MACH_HEADER = "IiIIIII"
MACH_HEADER_SIZE = {32: 28, 64: 32}
FAT_HEADER = "II"  # magic, nfat_arch
FAT_ARCH = "iIIII"  # cputype, cpusubtype, offset, size, align
FAT_ARCH_64 = "iIQQII"  # cputype, cpusubtype, offset, size, align, reserved

LOAD_COMMAND = "II"  # cmd, cmdsize
DYLIB_COMMAND = "IIIIII"  # cmd, cmdsize, name offset, timestamp, current, compatibility
RPATH_COMMAND = "III"  # cmd, cmdsize, path offset
UUID_COMMAND = "II16s"
VERSION_MIN_COMMAND = "IIII"  # cmd, cmdsize, version, sdk
BUILD_VERSION_COMMAND = "IIIIII"  # cmd, cmdsize, platform, minos, sdk, ntools
BUILD_TOOL_SIZE = 8  # tool, version
LINKEDIT_DATA_COMMAND = "IIII"  # cmd, cmdsize, dataoff, datasize
# cmd, cmdsize, segname, vmaddr, vmsize, fileoff, filesize, maxprot, initprot, nsects, flags
SEGMENT_COMMAND = {32: "II16sIIIIiiII", 64: "II16sQQQQiiII"}
# sectname, segname, addr, size, offset, align, reloff, nreloc, flags (reserved fields follow)
SECTION = {32: "16s16sIIIIIII", 64: "16s16sQQIIIII"}
SECTION_SIZE = {32: 68, 64: 80}

LC_REQ_DYLD = 0x80000000
LC_SEGMENT = 0x1
LC_LOAD_DYLIB = 0xC
LC_ID_DYLIB = 0xD
LC_LOAD_WEAK_DYLIB = 0x18 | LC_REQ_DYLD
LC_SEGMENT_64 = 0x19
LC_UUID = 0x1B
LC_RPATH = 0x1C | LC_REQ_DYLD
LC_CODE_SIGNATURE = 0x1D
LC_REEXPORT_DYLIB = 0x1F | LC_REQ_DYLD
LC_LAZY_LOAD_DYLIB = 0x20
LC_LOAD_UPWARD_DYLIB = 0x23 | LC_REQ_DYLD
LC_VERSION_MIN_MACOSX = 0x24
LC_VERSION_MIN_IPHONEOS = 0x25
LC_VERSION_MIN_TVOS = 0x2F
LC_VERSION_MIN_WATCHOS = 0x30
LC_BUILD_VERSION = 0x32

DYLIB_KINDS = {
    LC_LOAD_DYLIB: "load",
    LC_LOAD_WEAK_DYLIB: "weak",
    LC_REEXPORT_DYLIB: "reexport",
    LC_LAZY_LOAD_DYLIB: "lazy",
    LC_LOAD_UPWARD_DYLIB: "upward",
}
VERSION_MIN = {
    LC_VERSION_MIN_MACOSX: ("macos", "LC_VERSION_MIN_MACOSX"),
    LC_VERSION_MIN_IPHONEOS: ("ios", "LC_VERSION_MIN_IPHONEOS"),
    LC_VERSION_MIN_TVOS: ("tvos", "LC_VERSION_MIN_TVOS"),
    LC_VERSION_MIN_WATCHOS: ("watchos", "LC_VERSION_MIN_WATCHOS"),
}
PLATFORMS = {
    1: "macos",
    2: "ios",
    3: "tvos",
    4: "watchos",
    5: "bridgeos",
    6: "maccatalyst",
    7: "iossimulator",
    8: "tvossimulator",
    9: "watchossimulator",
    10: "driverkit",
    11: "visionos",
    12: "visionossimulator",
}
FILETYPES = {
    1: "object",
    2: "execute",
    3: "fvmlib",
    4: "core",
    5: "preload",
    6: "dylib",
    7: "dylinker",
    8: "bundle",
    9: "dylib_stub",
    10: "dsym",
    11: "kext_bundle",
    12: "fileset",
}

CPU_ARCH_ABI64 = 0x01000000
CPU_ARCH_ABI64_32 = 0x02000000
CPU_SUBTYPE_MASK = 0xFF000000
CPU_TYPE_X86 = 7
CPU_TYPE_X86_64 = CPU_TYPE_X86 | CPU_ARCH_ABI64
CPU_TYPE_ARM = 12
CPU_TYPE_ARM64 = CPU_TYPE_ARM | CPU_ARCH_ABI64
CPU_TYPE_ARM64_32 = CPU_TYPE_ARM | CPU_ARCH_ABI64_32
CPU_TYPE_POWERPC = 18
CPU_TYPE_POWERPC64 = CPU_TYPE_POWERPC | CPU_ARCH_ABI64

#: (cputype, cpusubtype without capability bits) -> name; a type alone maps through None.
ARCH_NAMES: dict[tuple[int, int | None], str] = {
    (CPU_TYPE_X86, None): "i386",
    (CPU_TYPE_X86_64, 8): "x86_64h",
    (CPU_TYPE_X86_64, None): "x86_64",
    (CPU_TYPE_ARM64, 2): "arm64e",
    (CPU_TYPE_ARM64, None): "arm64",
    (CPU_TYPE_ARM64_32, None): "arm64_32",
    (CPU_TYPE_ARM, 5): "armv4t",
    (CPU_TYPE_ARM, 6): "armv6",
    (CPU_TYPE_ARM, 7): "armv5",
    (CPU_TYPE_ARM, 8): "xscale",
    (CPU_TYPE_ARM, 9): "armv7",
    (CPU_TYPE_ARM, 10): "armv7f",
    (CPU_TYPE_ARM, 11): "armv7s",
    (CPU_TYPE_ARM, 12): "armv7k",
    (CPU_TYPE_ARM, 13): "armv8",
    (CPU_TYPE_ARM, 14): "armv6m",
    (CPU_TYPE_ARM, 15): "armv7m",
    (CPU_TYPE_ARM, 16): "armv7em",
    (CPU_TYPE_ARM, None): "arm",
    (CPU_TYPE_POWERPC, 100): "ppc970",
    (CPU_TYPE_POWERPC, None): "ppc",
    (CPU_TYPE_POWERPC64, None): "ppc64",
}
#: CPU types a universal file's first architecture may name (file(1)'s test against Java).
KNOWN_CPU_TYPES = frozenset(cpu for cpu, _ in ARCH_NAMES) | {6, 11, 13, 14, 15}
