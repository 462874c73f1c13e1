"""The names of a library wheel: distribution, import package, version, SONAME.

The default distribution name is the library's stem (``libgmp``), the way
RAPIDS names its library wheels (``libcudf``); ``--name`` overrides it.  The
version is the library's own (6.3.0) when its bytes say so, else the version
suffix of its file name.  The shared copy keeps a SONAME with a repair tool's hash
in it (``libgmp-a6f47472.so.10.5.0``), which no system copy has; an unmangled one
gets the first eight hex digits of its sha256, as auditwheel mangles.
"""

from __future__ import annotations

import posixpath
import re

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from truewheel.errors import InputError
from truewheel.policy.libraries import LibraryName
from truewheel.unvendor.model import Copy

__all__ = [
    "check_distribution",
    "default_distribution",
    "import_package",
    "library_version",
    "pep440",
    "shared_soname",
    "wheel_filename",
]

_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_SONAME_RE = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,200}$")
_LETTER_RE = re.compile(r"^(\d+(?:\.\d+)*)([a-z])$")
_SUFFIX_VERSION_RE = re.compile(r"\.so\.(\d+(?:\.\d+)*)$")


def default_distribution(library: str) -> str:
    """``libgmp.so.10`` -> ``libgmp``; characters no project name may hold become ``-``."""
    stem = library.partition(".so")[0]
    return canonicalize_name(re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._") or "library")


def check_distribution(name: str) -> str:
    """A valid project name (PEP 508) of at most 100 characters, canonicalized; InputError
    otherwise (it becomes file and directory names)."""
    if len(name) > 100 or not _NAME_RE.match(name):
        raise InputError(f"--name {name[:80]!r} is not a valid project name")
    return canonicalize_name(name)


def import_package(distribution: str) -> str:
    """The top-level package of the library wheel: the name with ``-``/``.`` as ``_``."""
    package = re.sub(r"[-.]+", "_", distribution)
    return package if package.isidentifier() else f"_{package}"


def pep440(version: str | None) -> Version | None:
    """A library's version as PEP 440 reads it; a letter release (OpenSSL's ``1.1.1k``)
    becomes a post-release by the letter's place (``1.1.1.post11``), which keeps the order."""
    if version is None:
        return None
    letter = _LETTER_RE.match(version)
    if letter:
        version = f"{letter[1]}.post{ord(letter[2]) - ord('a') + 1}"
    try:
        return Version(version)
    except InvalidVersion:
        return None


def library_version(copy: Copy) -> str:
    """The library's version if known and valid, else its file name's, else ``0``."""
    for candidate in (copy.version, _suffix_version(copy.member)):
        parsed = pep440(candidate)
        if parsed is not None:
            return str(parsed)
    return "0"


def _suffix_version(member: str) -> str | None:
    found = _SUFFIX_VERSION_RE.search(LibraryName.parse(posixpath.basename(member)).unmangled)
    return found.group(1) if found else None


def shared_soname(copy: Copy) -> str:
    """The SONAME of the shared copy (see the module docstring).

    It becomes a file name, a DT_NEEDED entry and a string in generated Python, so
    anything beyond letters, digits and ``._+-`` is refused.
    """
    if copy.soname and LibraryName.parse(copy.soname).hash:
        soname = copy.soname
    else:
        name = LibraryName.parse(copy.soname or posixpath.basename(copy.member))
        soname = f"{name.stem}-{copy.sha256[:8]}{name.suffix}"
    if not _SONAME_RE.match(soname):
        raise InputError(
            f"unusable library name {soname[:80]!r} (only letters, digits and ._+- are kept)",
            path=copy.wheel,
            member=copy.member,
        )
    return soname


def dist_info_name(distribution: str, version: str) -> str:
    return f"{_escaped(distribution)}-{version}.dist-info"


def _escaped(distribution: str) -> str:
    """The name as wheel file names and .dist-info directories spell it (PEP 491)."""
    return re.sub(r"[-_.]+", "_", distribution)


def wheel_filename(distribution: str, version: str, platforms: list[str]) -> str:
    """``libgmp-6.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl``."""
    return f"{_escaped(distribution)}-{version}-py3-none-{'.'.join(platforms)}.whl"
