"""Binary layouts and constants of PE/COFF images.

Source: Microsoft's "PE Format" page (learn.microsoft.com, windows/win32/debug/pe-format):
MS-DOS stub and signature, COFF file header, optional header (PE32 and PE32+) and its data
directories, section table, the import, delay-load import, export and debug directories,
the load configuration structure; and the CodeView record layouts (RSDS, NB10) that the
debug directory's type-2 entry points to.  All PE structures are little-endian.
"""

from __future__ import annotations

import struct

MZ = b"MZ"
PE_SIGNATURE = b"PE\0\0"
E_LFANEW_AT = 0x3C  # offset of e_lfanew in the MS-DOS header
DOS_HEADER_SIZE = 0x40

PE32_MAGIC, PE32_PLUS_MAGIC = 0x10B, 0x20B

#: Machine, NumberOfSections, TimeDateStamp, PointerToSymbolTable, NumberOfSymbols,
#: SizeOfOptionalHeader, Characteristics.
COFF = struct.Struct("<HHIIIHH")

#: A COFF symbol table entry; the string table after the symbols starts with its own size.
#: Images from mingw's ld keep both after the last section unless stripped.
COFF_SYMBOL_SIZE = 18

#: Where fields sit in the optional header, PE32 / PE32+ (offsets from its start).
OPT_SIZE_OF_HEADERS = 60
OPT_SUBSYSTEM = 68
OPT_DLL_CHARACTERISTICS = 70
OPT_IMAGE_BASE = {PE32_MAGIC: (28, "<I"), PE32_PLUS_MAGIC: (24, "<Q")}
OPT_NUMBER_OF_RVA = {PE32_MAGIC: 92, PE32_PLUS_MAGIC: 108}

#: Name (8 bytes), VirtualSize, VirtualAddress, SizeOfRawData, PointerToRawData,
#: PointerToRelocations, PointerToLinenumbers, NumberOfRelocations, NumberOfLinenumbers,
#: Characteristics.
SECTION = struct.Struct("<8sIIIIIIHHI")

# Data directory indices.
DIR_EXPORT = 0
DIR_IMPORT = 1
DIR_SECURITY = 4  # the certificate table: a file offset, not an RVA
DIR_DEBUG = 6
DIR_LOAD_CONFIG = 10
DIR_DELAY_IMPORT = 13
DIRECTORY_COUNT = 16
DIRECTORY = struct.Struct("<II")

#: OriginalFirstThunk, TimeDateStamp, ForwarderChain, Name, FirstThunk.
IMPORT_DESCRIPTOR = struct.Struct("<IIIII")
#: Attributes, DllNameRVA, ModuleHandleRVA, ImportAddressTableRVA, ImportNameTableRVA,
#: BoundImportAddressTableRVA, UnloadInformationTableRVA, TimeDateStamp.
DELAY_DESCRIPTOR = struct.Struct("<IIIIIIII")
DELAY_ATTRIBUTE_RVA = 1  # clear in Visual C++ 6 images: the fields are then VAs
#: Characteristics, TimeDateStamp, MajorVersion, MinorVersion, Name, OrdinalBase,
#: AddressTableEntries, NumberOfNamePointers, ExportAddressTableRVA, NamePointerRVA,
#: OrdinalTableRVA.
EXPORT_DIRECTORY = struct.Struct("<IIHHIIIIIII")
#: Characteristics, TimeDateStamp, MajorVersion, MinorVersion, Type, SizeOfData,
#: AddressOfRawData, PointerToRawData.
DEBUG_ENTRY = struct.Struct("<IIHHIIII")

#: Where DependentLoadFlags (a WORD) sits in IMAGE_LOAD_CONFIG_DIRECTORY32 / 64.
LOAD_CONFIG_DEPENDENT_LOAD_FLAGS = {PE32_MAGIC: 54, PE32_PLUS_MAGIC: 78}

#: WIN_CERTIFICATE: dwLength, wRevision, wCertificateType.
WIN_CERTIFICATE = struct.Struct("<IHH")

IMAGE_FILE_DLL = 0x2000

MACHINES = {
    0x014C: "x86",
    0x8664: "amd64",
    0xAA64: "arm64",
    0x01C0: "arm",  # ARM little endian (Windows CE)
    0x01C4: "arm",  # ARMNT: Thumb-2, what Windows on ARM32 runs
    0xA641: "arm64ec",
}

DEBUG_TYPES = {
    0: "unknown",
    1: "coff",
    2: "codeview",
    3: "fpo",
    4: "misc",
    5: "exception",
    6: "fixup",
    7: "omap_to_src",
    8: "omap_from_src",
    9: "borland",
    10: "reserved10",
    11: "clsid",
    12: "vc_feature",
    13: "pogo",
    14: "iltcg",
    15: "mpx",
    16: "repro",
    20: "exdllcharacteristics",
}
DEBUG_CODEVIEW = 2

CV_RSDS = b"RSDS"  # signature, GUID (16 bytes), age (u32), UTF-8 path, NUL
CV_NB10 = b"NB10"  # signature, offset (u32), timestamp signature (u32), age (u32), path, NUL
CV_RSDS_HEADER = struct.Struct("<4sIHH8sI")
CV_NB10_HEADER = struct.Struct("<4sIII")

# The Rich header (undocumented by Microsoft, described by its many readers): a run of
# DWORDs between the DOS stub and the PE header, XORed with a key that follows "Rich".
RICH_MARKER = b"Rich"
RICH_START = 0x536E6144  # "DanS" as a little-endian DWORD, before XOR
