"""Which C library (glibc or musl) a native file was built for, read from the file itself.

A wheel tagged for the wrong libc installs and then fails to load, so the tag must follow
the content, not the build host.  The evidence, strongest first:

* the program interpreter: ``ld-musl-<arch>.so.1`` is musl's; ``ld-linux*``, ``ld64.so.*``
  and ``ld.so.1`` are glibc's;
* DT_NEEDED: musl's ``libc.so`` is linked without a SONAME, so files linked against it need
  ``libc.so`` (upstream musl, Debian's musl-gcc) or Alpine's ``libc.musl-<carch>.so.1``;
  glibc's C library is ``libc.so.6`` and its other parts (``libm.so.6``,
  ``libpthread.so.0``, ...) keep their own names, which musl folds into ``libc.so``
  (musl's loader answers any ``lib{c,pthread,rt,m,dl,util,xnet}.*`` with itself, so
  ``libc.so`` never needs a file);
* symbol versions: musl has no symbol versioning, so a ``GLIBC_*`` version needed from
  anything but ``libgcc_s`` (whose own GLIBC_2.0 node is not glibc) means glibc;
* the extension-module suffix, only when the file says nothing: CPython 3.11 and later name
  extensions ``*-linux-musl*.so`` or ``*-linux-gnu*.so`` by the libc they run on (before
  3.11, CPython on musl also wrote ``-linux-gnu``, so that name alone proves nothing there).

A file with none of these (a static program, a library that needs no C library) runs
with either libc.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from truewheel.elf import ElfFile

__all__ = ["GLIBC", "MUSL", "LibcEvidence", "WheelLibc", "file_libc", "wheel_libc"]

GLIBC = "glibc"
MUSL = "musl"

_GLIBC_LIBRARIES = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "libanl.so.1",
        "libmvec.so.1",
        "libBrokenLocale.so.1",
    }
)
_EXTENSION = re.compile(r"\.(?:cpython-|pypy|abi3)[^/]*\.so$")
_MUSL_SUFFIX = re.compile(r"-linux-musl[a-z0-9]*\.so$")
_GNU_SUFFIX = re.compile(
    r"\.(?:cpython-3(?P<minor>[0-9]+)[a-z]*|abi3t?)-[a-z0-9_]+-linux-gnu[a-z0-9]*\.so$"
)


@dataclass(frozen=True, slots=True)
class LibcEvidence:
    """The libc a file was built for, and the fact that says so (for messages)."""

    libc: str
    reason: str


class _Native(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def elf(self) -> ElfFile: ...


def file_libc(path: str, elf: ElfFile) -> LibcEvidence | None:
    """The libc ``elf`` (member ``path`` of a wheel) needs; None when it needs none."""
    if elf.interpreter:
        loader = PurePosixPath(elf.interpreter).name
        if loader.startswith("ld-musl-"):
            return LibcEvidence(MUSL, f"program interpreter {loader}")
        if loader.startswith(("ld-linux", "ld64.so.")) or loader == "ld.so.1":
            return LibcEvidence(GLIBC, f"program interpreter {loader}")
    for name in elf.needed:
        if name == "libc.so" or name.startswith(("libc.musl-", "ld-musl-")):
            return LibcEvidence(MUSL, f"needs {name}")
        if name in _GLIBC_LIBRARIES or name.startswith("ld-linux"):
            return LibcEvidence(GLIBC, f"needs {name}")
    for need in elf.version_needs:
        if need.file.startswith("libgcc_s."):
            continue
        glibc = sorted(v for v in need.versions if v.startswith("GLIBC_"))
        if glibc:
            return LibcEvidence(GLIBC, f"needs symbol version {glibc[0]} from {need.file}")
    name = PurePosixPath(path).name
    if _MUSL_SUFFIX.search(name):
        return LibcEvidence(MUSL, "musl extension-module suffix")
    gnu = _GNU_SUFFIX.search(name)
    if gnu and (gnu["minor"] is None or int(gnu["minor"]) >= 11):
        return LibcEvidence(GLIBC, "glibc extension-module suffix (CPython 3.11 or later)")
    return None


@dataclass(frozen=True)
class WheelLibc:
    """The libc of a wheel's native files.

    ``libc`` is None when no file names one (every file runs with either libc).  When
    files disagree, ``libc`` is the one most files name and ``conflicts`` holds the files
    built for the other: no libc can load the whole wheel.  ``undecided`` lists extension
    modules that name no libc: they import symbols from the interpreter's libc without
    saying which (Alpine links ``--as-needed``, and CPython before 3.11 names musl
    extensions ``-linux-gnu``), so no tag is proven for them.
    """

    libc: str | None
    evidence: dict[str, LibcEvidence]
    conflicts: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()

    @property
    def mixed(self) -> bool:
        return bool(self.conflicts)

    def describe_conflict(self) -> str:
        other = self.evidence[self.conflicts[0]]
        first = next(p for p, e in self.evidence.items() if e.libc == self.libc)
        return (
            f"files built for both glibc and musl: {first} ({self.evidence[first].reason}), "
            f"{self.conflicts[0]} ({other.reason})"
        )


def wheel_libc(native: Sequence[_Native]) -> WheelLibc:
    """Each native file's libc and the one the wheel as a whole is built for."""
    evidence = {f.path: e for f in native if (e := file_libc(f.path, f.elf)) is not None}
    if not evidence:
        undecided = tuple(sorted(f.path for f in native if _EXTENSION.search(f.path)))
        return WheelLibc(None, {}, undecided=undecided)
    counts = Counter(e.libc for e in evidence.values())
    libc = max(sorted(counts), key=lambda name: counts[name])
    conflicts = tuple(sorted(p for p, e in evidence.items() if e.libc != libc))
    return WheelLibc(libc, evidence, conflicts)
