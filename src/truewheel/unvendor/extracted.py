"""The members an unvendor run reads whole: the copies and the files that bind to them.

They are written once to a private work directory as they inflate (memory stays one
chunk), their dynamic symbols read through a memory map when the ABI gate asks,
and the same files are what patchelf edits when the run writes wheels.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterable
from pathlib import Path

from truewheel.elf import ElfFile
from truewheel.elf.source import BytesSource
from truewheel.elf.versions import DynamicSymbols
from truewheel.errors import located
from truewheel.wheel import WheelArchive

__all__ = ["Extracted"]


class Extracted:
    def __init__(self, work: Path) -> None:
        self.work = work
        self._paths: dict[tuple[str, str], Path] = {}
        self._symbols: dict[tuple[str, str], DynamicSymbols] = {}

    def save(self, wheel: WheelArchive, members: Iterable[str]) -> None:
        for name in sorted(set(members)):
            if (wheel.path, name) in self._paths:
                continue
            member = wheel.zip.get(name)
            assert member is not None, name
            path = self.work / f"{len(self._paths)}.elf"
            with located(wheel.path, name):
                wheel.save(member, path)
            self._paths[(wheel.path, name)] = path

    def path(self, wheel: str, member: str) -> Path:
        return self._paths[(wheel, member)]

    def symbols(self, wheel: str, member: str) -> DynamicSymbols:
        key = (wheel, member)
        if key not in self._symbols:
            with located(wheel, member):
                self._symbols[key] = _read_symbols(self._paths[key])
        return self._symbols[key]


def _read_symbols(path: Path) -> DynamicSymbols:
    with path.open("rb") as fh:
        if fh.seek(0, 2) == 0:
            return ElfFile.dynamic_symbols(BytesSource(b""))
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            return ElfFile.dynamic_symbols(BytesSource(memoryview(mapped)))
        finally:
            try:
                mapped.close()
            except BufferError:  # an error's traceback still holds a view; GC closes it
                pass
