"""The one exception hierarchy truewheel raises on purpose.

Every error names the file (and, where it applies, the member inside a wheel)
so the CLI can print a single line a user can act on.  Errors about bad input
also subclass :class:`ValueError`, following pypa/packaging and pypa/installer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "BinaryError",
    "ElfError",
    "InputError",
    "MachOError",
    "MetadataError",
    "PEError",
    "PolicyError",
    "TruewheelError",
    "WheelArchiveError",
    "located",
]


class TruewheelError(Exception):
    """Root of every error truewheel raises deliberately."""

    def __init__(self, message: str, *, path: str | None = None, member: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.member = member

    def located(self, *, path: str | None = None, member: str | None = None) -> TruewheelError:
        """Fill in the location if a lower layer did not know it."""
        if self.path is None:
            self.path = path
        if self.member is None:
            self.member = member
        return self

    def __str__(self) -> str:
        where = [p for p in (self.path, self.member) if p]
        return ": ".join([*where, self.message])


class InputError(TruewheelError, ValueError):
    """The input is malformed or unsafe; the user must fix or replace it."""


class WheelArchiveError(InputError):
    """The zip container of a wheel is unreadable, unsafe or inconsistent."""


class MetadataError(InputError):
    """WHEEL, METADATA, RECORD or the file name violate the wheel spec."""


class BinaryError(InputError):
    """A native binary (ELF, Mach-O or PE) is truncated or malformed."""

    #: how the format is named in a message ("truncated Mach-O (...)")
    format_name = "binary"


class ElfError(BinaryError):
    """An ELF file is truncated or malformed."""

    format_name = "ELF"


class MachOError(BinaryError):
    """A Mach-O file (thin or fat) is truncated or malformed."""

    format_name = "Mach-O"


class PEError(BinaryError):
    """A PE/COFF file (DLL, .pyd, .exe) is truncated or malformed."""

    format_name = "PE"


class PolicyError(TruewheelError):
    """The bundled policy data is unusable (a packaging bug, not user input)."""


@contextmanager
def located(path: str, member: str) -> Iterator[None]:
    """Name the wheel and member in an error raised by a lower layer that knew neither."""
    try:
        yield
    except TruewheelError as exc:
        raise exc.located(path=path, member=member) from None
