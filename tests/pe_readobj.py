"""llvm-readobj's view of a PE image, the second opinion the PE reader is checked against.

``llvm-readobj --file-headers --sections --coff-imports --coff-exports
--coff-debug-directory --coff-load-config`` prints nested blocks (``Name {`` ... ``}``,
``Name [`` ... ``]``) of ``Key: value`` lines; this turns the lines truewheel's reader
also answers into plain data.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

READOBJ = shutil.which("llvm-readobj")
_HEX = re.compile(r"\((0x[0-9A-Fa-f]+)\)")


@dataclass
class ReadObj:
    machine: int = 0
    timestamp: int = 0
    characteristics: int = 0
    magic: int = 0
    subsystem: int = 0
    dll_characteristics: int = 0
    sections: list[dict[str, str]] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    delay_imports: list[str] = field(default_factory=list)
    export_names: list[str] = field(default_factory=list)
    debug: list[dict[str, str]] = field(default_factory=list)
    dependent_load_flags: int | None = None


def _paren_hex(value: str) -> int:
    found = _HEX.search(value)
    assert found, value
    return int(found.group(1), 16)


def readobj(path: Path) -> ReadObj:
    assert READOBJ is not None
    flags = ["--file-headers", "--sections", "--coff-imports", "--coff-exports"]
    flags += ["--coff-debug-directory", "--coff-load-config"]
    text = subprocess.run(
        [READOBJ, *flags, str(path)], capture_output=True, text=True, check=True
    ).stdout
    out = ReadObj()
    stack: list[str] = []
    current: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line in ("}", "]"):
            block = stack.pop()
            if block == "Section":
                out.sections.append(current)
            elif block == "DebugEntry":
                out.debug.append(current)
            continue
        key, _, value = line.partition(": ")
        opens = line.endswith(("{", "[")) or re.search(r"\[ \(0x[0-9A-Fa-f]+\)$", line)
        if opens:
            name = line.split(" ")[0].rstrip(":")
            parent = stack[-1] if stack else ""
            if name == "Characteristics" and parent == "ImageFileHeader":
                out.characteristics = _paren_hex(line)
            elif name == "Characteristics" and parent == "ImageOptionalHeader":
                out.dll_characteristics = _paren_hex(line)
            elif name == "Characteristics" and parent == "Section":
                current["Characteristics"] = str(_paren_hex(line))
            if name in ("Section", "DebugEntry"):
                current = {}
            stack.append(name)
            continue
        parent = stack[-1] if stack else ""
        if parent == "ImageFileHeader" and key == "Machine":
            out.machine = _paren_hex(value)
        elif parent == "ImageFileHeader" and key == "TimeDateStamp":
            out.timestamp = _paren_hex(value)
        elif parent == "ImageOptionalHeader" and key == "Magic":
            out.magic = int(value, 16)
        elif parent == "ImageOptionalHeader" and key == "Subsystem":
            out.subsystem = _paren_hex(value)
        elif parent in ("Section", "DebugEntry", "PDBInfo"):
            current[key] = value
        elif parent == "Import" and key == "Name":
            out.imports.append(value)
        elif parent == "DelayImport" and key == "Name":
            out.delay_imports.append(value)
        elif parent == "Export" and key == "Name":
            out.export_names.append(value)
        elif parent == "Export" and line == "Name:":
            out.export_names.append("")
        elif parent == "LoadConfig" and key == "DependentLoadFlags":
            out.dependent_load_flags = int(value, 16)
    return out
