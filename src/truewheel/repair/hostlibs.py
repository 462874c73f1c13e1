"""Find the host file ld.so would load for a DT_NEEDED name, to graft it into a wheel.

The search follows ld.so(8) for a name without a slash:

1. the needing file's DT_RPATH, only when it has no DT_RUNPATH;
2. ``LD_LIBRARY_PATH`` (colon or semicolon separated);
3. the needing file's DT_RUNPATH;
4. the directories ldconfig(8) puts in ``/etc/ld.so.cache``: those listed in
   ``/etc/ld.so.conf`` and the files it ``include``s, in file order;
5. the default directories for the architecture: the Debian multiarch
   directories (``/lib/x86_64-linux-gnu``, ``/usr/lib/x86_64-linux-gnu``), then
   ``/lib64`` and ``/usr/lib64`` for 64-bit objects, then ``/lib`` and ``/usr/lib``.

A candidate is taken only if it is a regular file (after following symlinks)
whose ELF header has the class, machine and type of a loadable library for
the needing file; anything else is skipped and the search goes on, the way
ld.so passes over a 32-bit ``libz.so.1`` in ``/usr/lib32`` when a 64-bit
object needs ``libz.so.1``.  Only a candidate's ELF header is read (by the core
reader, :class:`~truewheel.elf.ElfHeader`), and only the directories above are
looked at.

Instead of reading ``/etc/ld.so.cache`` (which may be stale and whose format
is glibc-internal) the directories it was built from are searched in order.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from truewheel.elf import HEADER_SIZE, ElfHeader
from truewheel.errors import ElfError, InputError

__all__ = [
    "HostLibraries",
    "NeedingFile",
    "SearchDir",
    "default_library_dirs",
    "read_ld_so_conf",
    "split_ld_library_path",
]

# Where each directory of a search path came from (SearchDir.source).
RPATH, LD_LIBRARY_PATH, RUNPATH, LD_SO_CONF, DEFAULT = (
    "rpath",
    "LD_LIBRARY_PATH",
    "runpath",
    "ld.so.conf",
    "default",
)

# e_machine: ELF class and byte order = Debian multiarch tuples (most likely first).
_MULTIARCH_TABLE = """
3: 32le=i386-linux-gnu
8: 32be=mips-linux-gnu 32le=mipsel-linux-gnu 64be=mips64-linux-gnuabi64 64le=mips64el-linux-gnuabi64
20: 32be=powerpc-linux-gnu
21: 64be=powerpc64-linux-gnu 64le=powerpc64le-linux-gnu
22: 64be=s390x-linux-gnu
40: 32le=arm-linux-gnueabihf,arm-linux-gnueabi
43: 64be=sparc64-linux-gnu
62: 32le=x86_64-linux-gnux32 64le=x86_64-linux-gnu
183: 64be=aarch64_be-linux-gnu 64le=aarch64-linux-gnu
243: 64le=riscv64-linux-gnu
258: 64le=loongarch64-linux-gnu
"""


def _multiarch_table(text: str) -> dict[tuple[int, int, bool], tuple[str, ...]]:
    """(e_machine, class, little endian) -> tuples, from the table above."""
    table: dict[tuple[int, int, bool], tuple[str, ...]] = {}
    for line in text.strip().splitlines():
        machine, _, kinds = line.partition(":")
        for kind in kinds.split():
            abi, _, tuples = kind.partition("=")
            table[(int(machine), int(abi[:2]), abi[2:] == "le")] = tuple(tuples.split(","))
    return table


_MULTIARCH = _multiarch_table(_MULTIARCH_TABLE)

# glibc's own library directory where it is not plain lib64 (64-bit) or lib (32-bit).
_LIBDIR: dict[tuple[int, int], tuple[str, ...]] = {
    (62, 32): ("libx32",),  # x32
    (243, 64): ("lib64/lp64d", "lib64"),  # riscv64, hard-float double ABI
}

# A dynamic string token: $NAME or ${NAME}; NAME ends at the first non-identifier character.
_TOKEN = re.compile(r"\$(?:\{([A-Za-z0-9_]*)\}|([A-Za-z0-9_]+))")
_UNSUPPORTED_TOKENS = frozenset({"LIB", "PLATFORM"})
_MAX_INCLUDED_FILES = 1000
_GLOB_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True, slots=True)
class SearchDir:
    """One directory of a search path, as searched on this machine, and where it came from."""

    path: str
    source: str  # rpath | LD_LIBRARY_PATH | runpath | ld.so.conf | default


def default_library_dirs(
    elf_class: int, machine: int, little_endian: bool | None = None
) -> list[str]:
    """The default (trusted) directories for objects of one ELF class and machine.

    Debian multiarch directories come first (as Debian's ld.so searches them),
    then glibc's library directory for the class (``/lib64``, ``/usr/lib64`` for
    64-bit), then ``/lib`` and ``/usr/lib``.  With ``little_endian`` unknown the
    multiarch directories of both byte orders are listed.
    """
    _check_class(elf_class)
    orders = (True, False) if little_endian is None else (little_endian,)
    tuples = [t for order in orders for t in _MULTIARCH.get((machine, elf_class, order), ())]
    dirs = [f"{prefix}/{t}" for t in dict.fromkeys(tuples) for prefix in ("/lib", "/usr/lib")]
    libdirs = _LIBDIR.get((machine, elf_class), ("lib64",) if elf_class == 64 else ())
    dirs += [f"{prefix}/{d}" for d in libdirs for prefix in ("", "/usr")]
    dirs += ["/lib", "/usr/lib"]
    return list(dict.fromkeys(dirs))


def split_ld_library_path(value: str, cwd: str | None = None) -> list[str]:
    """The directories of an ``LD_LIBRARY_PATH`` value, made absolute.

    Entries are separated by colons or semicolons.  Empty entries, which ld.so
    takes as the current directory, are dropped: they are nearly always left by
    shell concatenation, and grafting whatever lies in the current directory
    would be a surprise.  Relative entries are taken relative to ``cwd``
    (default: the current directory), as ld.so would at this moment.
    """
    base = str(Path.cwd()) if cwd is None else cwd
    return [posixpath.join(base, p) for p in re.split(r"[:;]", value) if p]


def read_ld_so_conf(root: str = "/", conf: str = "/etc/ld.so.conf") -> list[str]:
    """The library directories ``conf`` lists, following its ``include`` lines, in file order.

    The format is ld.so.conf's: one directory per line, ``#`` starts a comment,
    ``include PATTERN...`` reads every file the glob patterns match (sorted; a
    relative pattern is relative to the directory of the file that includes it,
    so ``/etc`` for ``/etc/ld.so.conf``) and ``hwcap`` lines are ignored.
    Paths are read inside ``root`` but returned as written (absolute, without
    trailing slashes, first occurrence only).  A missing or unreadable file
    contributes nothing.
    """
    dirs: list[str] = []
    _parse_conf(_Root(root), _strip_slashes(conf), dirs, set())
    return list(dict.fromkeys(dirs))


class HostLibraries:
    """Where ld.so on this machine would find a library, for objects of a given ELF kind.

    ``ld_library_path`` are directories on this machine (relative ones are made
    absolute against the current directory, empty ones dropped).
    ``config_dirs`` (the ld.so.conf directories) and ``default_dirs`` are system
    directories, searched inside ``root``.  ``default_dirs=None`` means the
    standard directories for the class and machine being searched
    (:func:`default_library_dirs`).  Results are cached per instance, so one
    instance assumes the file system does not change under it.
    """

    def __init__(
        self,
        *,
        ld_library_path: Sequence[str],
        config_dirs: Sequence[str],
        default_dirs: Sequence[str] | None = None,
        root: str = "/",
    ) -> None:
        cwd = str(Path.cwd())
        self._ld_library_path = tuple(posixpath.join(cwd, p) for p in ld_library_path if p)
        self._config_dirs = tuple(config_dirs)
        self._default_dirs = None if default_dirs is None else tuple(default_dirs)
        self._root = _Root(root)
        self._cache: dict[tuple[str, int, int, bool | None, tuple[str, ...]], str | None] = {}

    @classmethod
    def from_system(
        cls, environ: Mapping[str, str] | None = None, root: str = "/"
    ) -> HostLibraries:
        """The search this machine's ld.so does: LD_LIBRARY_PATH, ld.so.conf, default dirs.

        ``environ`` defaults to ``os.environ``.  With a ``root`` other than ``/``,
        ``/etc/ld.so.conf`` and the system directories are read inside it;
        LD_LIBRARY_PATH still names directories of this machine.
        """
        env = os.environ if environ is None else environ
        return cls(
            ld_library_path=split_ld_library_path(env.get("LD_LIBRARY_PATH", "")),
            config_dirs=read_ld_so_conf(root),
            default_dirs=None,
            root=root,
        )

    @classmethod
    def for_repair(
        cls, ldpaths: str | None = None, environ: Mapping[str, str] | None = None
    ) -> HostLibraries:
        """Where a repair looks for libraries to graft, as auditwheel does.

        AUDITWHEEL_LD_LIBRARY_PATH comes first, then this machine's search; ``ldpaths``
        (``--ldpaths``) replaces LD_LIBRARY_PATH, ld.so.conf and the default directories.
        """
        env = os.environ if environ is None else environ
        first = split_ld_library_path(env.get("AUDITWHEEL_LD_LIBRARY_PATH", ""))
        if ldpaths is not None:
            return cls(
                ld_library_path=first, config_dirs=split_ld_library_path(ldpaths), default_dirs=()
            )
        system = cls.from_system(env)
        return cls(
            ld_library_path=(*first, *system.ld_library_path),
            config_dirs=system.config_dirs,
            default_dirs=None,
        )

    @property
    def ld_library_path(self) -> tuple[str, ...]:
        return self._ld_library_path

    @property
    def config_dirs(self) -> tuple[str, ...]:
        return self._config_dirs

    @property
    def default_dirs(self) -> tuple[str, ...] | None:
        return self._default_dirs

    @property
    def root(self) -> str:
        return self._root.path

    def search_path(
        self,
        *,
        elf_class: int,
        machine: int,
        rpath: Sequence[str] = (),
        runpath: Sequence[str] = (),
        origin: str | None = None,
        little_endian: bool | None = None,
    ) -> list[SearchDir]:
        """The directories :meth:`find` tries, in order, each once.

        ``$ORIGIN``/``${ORIGIN}`` in ``rpath`` and ``runpath`` expands to
        ``origin``; entries using it are skipped when ``origin`` is None, and so
        are entries using ``$LIB`` or ``$PLATFORM`` (their value depends on the
        ld.so build and the running CPU) and entries that are not absolute.
        """
        _check_class(elf_class)
        base = posixpath.abspath(origin) if origin is not None else None
        entries: list[tuple[str | None, str]] = []
        if not runpath:
            entries += [(_expand(p, base), RPATH) for p in rpath]
        entries += [(_expand(p, None), LD_LIBRARY_PATH) for p in self._ld_library_path]
        entries += [(_expand(p, base), RUNPATH) for p in runpath]
        entries += [(self._root.system(p), LD_SO_CONF) for p in self._config_dirs]
        defaults = self._default_dirs
        if defaults is None:
            defaults = tuple(default_library_dirs(elf_class, machine, little_endian))
        entries += [(self._root.system(p), DEFAULT) for p in defaults]
        result: dict[str, SearchDir] = {}
        for path, source in entries:
            if path is not None and path not in result:
                result[path] = SearchDir(path, source)
        return list(result.values())

    def find(
        self,
        name: str,
        *,
        elf_class: int,
        machine: int,
        rpath: Sequence[str] = (),
        runpath: Sequence[str] = (),
        origin: str | None = None,
        little_endian: bool | None = None,
    ) -> str | None:
        """The real path of the file ld.so would load for DT_NEEDED ``name``, or None.

        ``elf_class`` is 32 or 64 and ``machine`` the ``e_machine`` of the
        needing file (``ElfFile.elf_class`` and ``ElfFile.machine``);
        ``little_endian``, when given, must match too.  A ``name`` with a slash
        is a path, as for ld.so: an absolute one is checked as it stands, a
        relative one (relative to a future process's directory) gives None.
        """
        _check_class(elf_class)
        kind = _Kind(elf_class, machine, little_endian)
        if not name or "\0" in name:
            return None
        if "/" in name:
            return _loadable(name, kind) if name.startswith("/") else None
        dirs = tuple(
            d.path
            for d in self.search_path(
                elf_class=elf_class,
                machine=machine,
                rpath=rpath,
                runpath=runpath,
                origin=origin,
                little_endian=little_endian,
            )
        )
        key = (name, elf_class, machine, little_endian, dirs)
        if key not in self._cache:
            self._cache[key] = _first_loadable(name, dirs, kind)
        return self._cache[key]

    def find_for(
        self,
        name: str,
        needing: NeedingFile,
        origin: str | None = None,
        little_endian: bool | None = None,
    ) -> str | None:
        """:meth:`find` for DT_NEEDED ``name`` of ``needing`` (whose directory is ``origin``)."""
        return self.find(
            name,
            elf_class=needing.elf_class,
            machine=needing.machine,
            rpath=needing.rpath,
            runpath=needing.runpath,
            origin=origin,
            little_endian=little_endian,
        )


class NeedingFile(Protocol):
    """What a library search needs to know of the file that needs the library."""

    @property
    def elf_class(self) -> int: ...
    @property
    def machine(self) -> int: ...
    @property
    def rpath(self) -> Sequence[str]: ...
    @property
    def runpath(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class _Kind:
    """The ELF header fields a library must share with the file that needs it."""

    elf_class: int
    machine: int
    little_endian: bool | None

    def accepts(self, head: bytes) -> bool:
        try:
            header = ElfHeader.parse(head)
        except ElfError:
            return False
        return (
            header.elf_class == self.elf_class
            and header.ident_version == 1  # EV_CURRENT
            and self.little_endian in (None, header.little_endian)
            and header.type == "DYN"
            and header.machine == self.machine
        )


class _Root:
    """System paths read inside a root directory (``/`` for this machine itself)."""

    def __init__(self, path: str) -> None:
        self.path = path
        absolute = posixpath.abspath(path)
        self.prefix = "" if absolute in ("/", "//") else _strip_slashes(absolute)

    def system(self, path: str) -> str | None:
        """Where a system path is on this machine; None when it is not absolute."""
        if not path.startswith("/"):
            return None
        return self.prefix + "/" + posixpath.normpath(path).lstrip("/")


def _check_class(elf_class: int) -> None:
    if elf_class not in (32, 64):
        raise InputError(f"ELF class must be 32 or 64, not {elf_class!r}")


def _strip_slashes(path: str) -> str:
    stripped = path.rstrip("/")
    return stripped or "/"


def _expand(entry: str, origin: str | None) -> str | None:
    """An rpath or LD_LIBRARY_PATH entry with its dynamic string tokens expanded.

    None when it cannot be expanded here or is not an absolute path.
    """
    parts: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(entry):
        token = match.group(1) if match.group(1) is not None else match.group(2)
        if token in _UNSUPPORTED_TOKENS:
            return None
        if token != "ORIGIN":
            continue  # not a token ld.so knows: it stays as written
        if origin is None:
            return None
        parts += [entry[pos : match.start()], origin]
        pos = match.end()
    parts.append(entry[pos:])
    path = "".join(parts)
    return path if path.startswith("/") else None


def _first_loadable(name: str, dirs: Iterable[str], kind: _Kind) -> str | None:
    for directory in dirs:
        found = _loadable(posixpath.join(directory, name), kind)
        if found:
            return found
    return None


def _loadable(path: str, kind: _Kind) -> str | None:
    """The real path of ``path`` when it is a regular file holding a matching library."""
    real = posixpath.realpath(path)
    head = _read_regular(real, HEADER_SIZE)
    return real if head is not None and kind.accepts(head) else None


def _read_regular(path: str, limit: int = -1) -> bytes | None:
    """The first ``limit`` bytes (all with -1) of a regular file; None for anything else."""
    try:
        # O_NONBLOCK: a FIFO planted under a searched name must not hang the search.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def _parse_conf(root: _Root, conf: str, dirs: list[str], seen: set[str]) -> None:
    """Add the directories of one ld.so.conf file (a path inside root) to ``dirs``."""
    host_path = root.system(conf)
    if host_path is None or len(seen) >= _MAX_INCLUDED_FILES:
        return
    real = posixpath.realpath(host_path)
    if real in seen:
        return  # included again (or in a cycle): it adds no new directory
    seen.add(real)
    data = _read_regular(real)
    if data is None:
        return
    for raw_line in os.fsdecode(data).split("\n"):
        line = raw_line.split("#", 1)[0].strip()
        words = line.split(None, 1)
        if len(words) == 2 and words[0] == "include":
            for pattern in words[1].split():
                if not pattern.startswith("/"):
                    pattern = f"{posixpath.dirname(conf)}/{pattern}"
                for included in _glob(root, pattern):
                    _parse_conf(root, included, dirs, seen)
        elif len(words) == 2 and words[0].lower() == "hwcap":
            continue
        elif line.startswith("/"):
            dirs.append(_strip_slashes(posixpath.normpath(line)))


def _glob(root: _Root, pattern: str) -> list[str]:
    """The paths inside root an absolute glob pattern matches, sorted, as glob(3) finds them.

    ``*``, ``?`` and ``[...]`` match within one path component and never match a
    leading dot.  Paths are returned as seen inside root.
    """
    paths = ["/"]
    for part in posixpath.normpath(pattern).split("/"):
        if not part:
            continue
        if not _GLOB_MAGIC.search(part):
            paths = [posixpath.join(p, part) for p in paths]
            continue
        matched: list[str] = []
        for directory in paths:
            try:
                with os.scandir(root.system(directory) or directory) as entries:
                    names = [e.name for e in entries]
            except OSError:
                continue
            matched += [
                posixpath.join(directory, name)
                for name in names
                if fnmatch.fnmatchcase(name, part)
                and (part.startswith(".") or not name.startswith("."))
            ]
        paths = matched
    return sorted(paths)
