"""The text members of a library wheel: its loader module, METADATA and WHEEL.

The loader follows the pattern library wheels settled on (RAPIDS' ``libcudf``,
torch's preloading of ``nvidia-*``): ``load()`` loads the library by absolute
path with ``RTLD_GLOBAL``, after the library wheels it needs, so that an
extension module whose DT_NEEDED names its SONAME finds it already loaded;
``library_path()`` says where it is for anyone who wants to load it otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LibraryWheel", "loader_source", "metadata_text", "wheel_text"]


@dataclass(frozen=True, slots=True)
class LibraryWheel:
    """What a library wheel holds, by name; the bytes come from the unvendor pipeline."""

    distribution: str
    package: str
    version: str
    soname: str
    summary: str
    requires: tuple[tuple[str, str, str], ...]  # (distribution, version, package), load order
    licence_files: tuple[str, ...]  # relative to .dist-info/licenses/
    platforms: tuple[str, ...]

    @property
    def library_member(self) -> str:
        return f"{self.package}/lib/{self.soname}"

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


_LOADER = '''\
"""{summary}

Written by truewheel unvendor.  ``load()`` loads the library by absolute path (once, after
the library wheels it needs), so that extension modules whose DT_NEEDED names
{soname} find it already loaded; ``library_path()`` says where it is.
"""

import ctypes as _ctypes
import os as _os

SONAME = {soname!r}
_REQUIRES = {requires!r}
_handle = None


def library_path():
    """The absolute path of the shared library in this package."""
    return _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "lib", SONAME)


def load():
    """Load the library (and those it needs) with RTLD_GLOBAL; return its handle."""
    global _handle
    if _handle is None:
        for package in _REQUIRES:
            __import__(package).load()
        _handle = _ctypes.CDLL(library_path(), mode=_ctypes.RTLD_GLOBAL)
    return _handle
'''


def loader_source(wheel: LibraryWheel) -> str:
    return _LOADER.format(
        summary=wheel.summary,
        soname=wheel.soname,
        requires=tuple(package for _, _, package in wheel.requires),
    )


def metadata_text(wheel: LibraryWheel) -> str:
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {wheel.distribution}",
        f"Version: {wheel.version}",
        f"Summary: {wheel.summary}",
        *(f"License-File: {f}" for f in wheel.licence_files),
        *(f"Requires-Dist: {d}=={v}" for d, v, _ in wheel.requires),
    ]
    return "\n".join(lines) + "\n"


def wheel_text(generator: str, platforms: Sequence[str]) -> str:
    lines = [
        "Wheel-Version: 1.0",
        f"Generator: {generator}",
        "Root-Is-Purelib: false",
        *(f"Tag: py3-none-{p}" for p in platforms),
    ]
    return "\n".join(lines) + "\n"
