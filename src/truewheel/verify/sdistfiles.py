"""The sdist side of ``verify``: its PKG-INFO, and a digest of every file, in one pass.

The sdist is read through :class:`~truewheel.reproducible.sdist.Sdist` (regular file,
names that stay inside, bounded unpacking), never extracted.  A tarball can only be read
in order, so what the comparison will need is decided as each member passes: every
file is hashed, and a file is kept whole only when it may be a wheel member's source
(its path ends with a wheel path), is small, and differs from that member (a diff will
be shown).  What is kept is capped in total, so memory stays bounded whatever the input.

``package_dir`` (:mod:`.packagedirs`) can rename a package directory, so a file whose name
is a wheel member's basename but whose path is not a wheel path may be a source too; and a
template (``x.py.in``, :mod:`.templates`) is the source of a rendered member.  Which of them
matter is only known once ``setup.py``, ``setup.cfg`` and ``pyproject.toml`` have gone by (a
tarball has no order), so such files are held in a budget of their own and pruned to the
ones a mapping names when the pass ends.  A template whose output would sit at a wheel path
is known as it passes, and kept in the main budget.  The ``.py`` of a ``.pyc`` member
is kept too (:mod:`.bytecode` compiles it again).  Build files (``meson.build``,
f2py signatures: :mod:`.buildfiles`) are parsed as they pass and only their names kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from truewheel.elf import is_elf
from truewheel.errors import InputError
from truewheel.macho import is_macho
from truewheel.pe import is_pe
from truewheel.reproducible.sdist import Sdist
from truewheel.verify.buildfiles import BuildFiles, is_build_file
from truewheel.verify.bytecode import source_of
from truewheel.verify.packagedirs import CONFIG_FILES, MAX_CONFIG, PackageDirs, read_package_dirs
from truewheel.verify.rust import RustCrates, is_manifest
from truewheel.verify.scripts import MAX_SCRIPT, BuildScripts, is_build_script, percent_templates
from truewheel.verify.templates import untemplated

__all__ = [
    "MAX_KEPT_BYTES",
    "MAX_PKG_INFO",
    "MAX_RENAMED_BYTES",
    "MAX_TEXT",
    "MAX_WRITTEN_BYTES",
    "SdistFiles",
    "read_sdist",
]

#: A file larger than this is never shown as a diff (its digest is still compared).
MAX_TEXT = 256 << 10
#: All kept texts together; past this, further differences are listed without a diff.
MAX_KEPT_BYTES = 32 << 20
#: Texts held until ``package_dir`` is known (files named like a wheel member elsewhere).
MAX_RENAMED_BYTES = 8 << 20
#: ``%(name)s`` templates found in scripts (``verify/scripts.py``), all together.
MAX_WRITTEN_BYTES = 4 << 20
#: PKG-INFO holds the long description; 16 MiB is far above any real one.
MAX_PKG_INFO = 16 << 20


@dataclass
class SdistFiles:
    """Every regular file of the sdist by its path below the top directory."""

    path: str
    top: str  # the top directory ("name-version"), or "" when there is none
    pkg_info: str
    digests: dict[str, str] = field(default_factory=dict)  # path -> sha256 hex
    sizes: dict[str, int] = field(default_factory=dict)
    kept: dict[str, bytes] = field(default_factory=dict)  # small differing candidates
    links: list[str] = field(default_factory=list)  # symbolic links (not followed)
    package_dirs: PackageDirs = field(default_factory=PackageDirs)
    build: BuildFiles = field(default_factory=BuildFiles)
    #: dotted names quoted in the top directory's setup.py/setup.cfg/pyproject.toml: an
    #: ``Extension("psycopg2._psycopg", ...)`` names the module it builds
    configured: frozenset[str] = frozenset()
    scripts: BuildScripts = field(default_factory=BuildScripts)  # the top's *.py files
    rust: RustCrates = field(default_factory=RustCrates)  # extension names crates declare
    #: native files (ELF, Mach-O, PE) in the sdist itself: built, not source (xmlsec 1.3.16)
    binaries: list[str] = field(default_factory=list)
    #: dotted module -> the script handing it to cffi (``ffi.set_source("pkg._mod", ...)``)
    cffi: dict[str, str] = field(default_factory=dict)
    #: wheel module -> (script, ``%(name)s`` literal) of each script that writes it from one
    written: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return Path(self.path).name

    @cached_property
    def by_basename(self) -> dict[str, list[str]]:
        """Paths by their last component: a wheel path or a source name is looked up here."""
        out: dict[str, list[str]] = {}
        for path in self.digests:
            out.setdefault(path.rsplit("/", 1)[-1], []).append(path)
        return out

    @cached_property
    def by_stem(self) -> dict[str, list[str]]:
        """Paths by their last component up to its first dot (``_speedups`` of ``_speedups.c``)."""
        out: dict[str, list[str]] = {}
        for path in self.digests:
            out.setdefault(path.rsplit("/", 1)[-1].split(".", 1)[0], []).append(path)
        return out


def read_sdist(path: str, wheel_paths: dict[str, str]) -> SdistFiles:
    """Read the sdist once; ``wheel_paths`` maps a wheel member's path as it would appear
    in a source tree to its sha256, to know what to keep for a diff."""
    members: dict[tuple[str, ...], str] = {}  # full parts -> digest (hard links resolve)
    sizes: dict[tuple[str, ...], int] = {}
    texts: dict[tuple[str, ...], bytes] = {}
    pkg_infos: dict[str, bytes] = {}
    links: list[tuple[str, ...]] = []
    configs: dict[tuple[str, ...], bytes] = {}
    renamed: dict[tuple[str, ...], bytes] = {}  # named like a member, elsewhere
    basenames: dict[str, set[str]] = {}
    for tree_path, digest in wheel_paths.items():
        basenames.setdefault(tree_path.rsplit("/", 1)[-1], set()).add(digest)
    compiled = {found[0] for p in wheel_paths if (found := source_of(p)) is not None}
    kept_total = renamed_total = 0
    build = BuildFiles()
    scripts: dict[str, BuildScripts] = {}  # by top directory (known only at the end)
    modules = {p for p in wheel_paths if p.endswith(".py")}
    written: list[tuple[tuple[str, ...], str, str]] = []
    written_total = 0
    cffi: dict[str, tuple[str, ...]] = {}
    rust = RustCrates()
    binaries: list[tuple[str, ...]] = []  # compiled files the sdist itself ships
    with Sdist(path) as sdist:
        for member in sdist.members():
            if member.kind == "hardlink":
                target = tuple(p for p in member.link.split("/") if p not in ("", "."))
                if target in members:
                    members[member.parts] = members[target]
                    sizes[member.parts] = sizes[target]
                continue
            if member.kind == "symlink":
                links.append(member.parts)
                continue
            if member.kind != "file":
                continue
            wanted = _wanted(member.parts, wheel_paths, member.size)
            bytecode_source = _wanted(member.parts, compiled, member.size)
            name = member.parts[-1]
            template = member.size <= MAX_TEXT and _template_of("/".join(member.parts), wheel_paths)
            elsewhere = (
                not wanted
                and not template
                and member.size <= MAX_TEXT
                and (name in basenames or untemplated(name) in basenames)
            )
            is_build = is_build_file(member.parts, member.size)
            is_script = is_build_script(member.parts, member.size) and (
                member.parts[0] in scripts or len(scripts) < _MAX_TOPS
            )
            is_python = member.parts[-1].endswith(".py") and member.size <= MAX_SCRIPT
            is_rust = is_manifest(member.parts, member.size)
            is_pkg_info = len(member.parts) == 2 and member.parts[1] == "PKG-INFO"
            is_config = (
                len(member.parts) == 2
                and member.parts[1] in CONFIG_FILES
                and member.size <= MAX_CONFIG
            )
            if is_pkg_info and member.size > MAX_PKG_INFO:
                raise InputError(
                    f"PKG-INFO is {member.size} bytes (limit {MAX_PKG_INFO})",
                    path=path,
                    member=member.name,
                )
            hasher = hashlib.sha256()
            held: list[bytes] | None = (
                []
                if wanted
                or bytecode_source
                or template
                or elsewhere
                or is_pkg_info
                or is_config
                or is_build
                or is_script
                or is_python
                or is_rust
                else None
            )
            first = True
            for chunk in member.chunks():
                if first and len(binaries) < _MAX_BINARIES and _is_binary(chunk):
                    binaries.append(member.parts)
                first = False
                hasher.update(chunk)
                if held is not None:
                    held.append(chunk)
            digest = hasher.hexdigest()
            members[member.parts] = digest
            sizes[member.parts] = member.size
            if held is None:
                continue
            data = b"".join(held)
            if is_pkg_info:
                pkg_infos[member.parts[0]] = data
            if is_config:
                configs[member.parts] = data
            if is_build:
                build.add("/".join(member.parts), data)
            if is_rust:
                rust.add("/".join(member.parts), data, top=len(member.parts) == 2)
            if is_script:
                scripts.setdefault(member.parts[0], BuildScripts()).add(member.parts[1], data)
            if is_python and b"set_source" in data and len(cffi) < _MAX_DOTTED:
                for dotted in _CFFI_SOURCE.findall(data)[:64]:
                    cffi.setdefault(dotted.decode(), member.parts)
            for module, literal in percent_templates(data, modules) if is_python else ():
                if written_total + len(literal) <= MAX_WRITTEN_BYTES:
                    written.append((member.parts, module, literal))
                    written_total += len(literal)
            kept_elsewhere = elsewhere and digest not in basenames.get(name, ())
            if kept_elsewhere and renamed_total + len(data) <= MAX_RENAMED_BYTES:
                renamed[member.parts] = data
                renamed_total += len(data)
            # a wheel member at one of its suffixes has other bytes (a diff will be shown)
            differs = any(
                p in wheel_paths and wheel_paths[p] != digest for p in _suffixes(member.parts)
            )
            needed = (wanted and differs) or bytecode_source or template
            if needed and kept_total + len(data) <= MAX_KEPT_BYTES:
                texts[member.parts] = data
                kept_total += len(data)
    top = _top(path, pkg_infos)
    try:
        pkg_info = pkg_infos[top].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            "PKG-INFO is not valid UTF-8", path=path, member=f"{top}/PKG-INFO"
        ) from exc

    def below(parts: tuple[str, ...]) -> str:
        inside = parts[1:] if parts[0] == top and len(parts) > 1 else parts
        return "/".join(inside)

    top_configs = {parts[1]: data for parts, data in configs.items() if parts[0] == top}
    files = SdistFiles(
        path=path,
        top=top,
        pkg_info=pkg_info,
        package_dirs=read_package_dirs(top_configs),
        build=build.below(top),
        scripts=scripts.get(top, BuildScripts()),
        rust=rust.below(top),
        configured=frozenset(
            name
            for data in top_configs.values()
            for name in _DOTTED.findall(data.decode("utf-8", "replace"))[:_MAX_DOTTED]
        ),
    )
    for parts, digest in members.items():
        files.digests[below(parts)] = digest
        files.sizes[below(parts)] = sizes[parts]
    files.kept = {below(parts): data for parts, data in texts.items()}
    mapped = {p for tree_path in wheel_paths for _, p in files.package_dirs.sources(tree_path)}
    files.kept.update(
        (below(parts), data) for parts, data in renamed.items() if below(parts) in mapped
    )
    files.cffi = {dotted: below(parts) for dotted, parts in cffi.items()}
    for parts, module, literal in written:
        files.written.setdefault(module, []).append((below(parts), literal))
    files.links = [below(parts) for parts in links]
    files.binaries = [below(parts) for parts in binaries]
    return files


_DOTTED = re.compile(r"""["']([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)["']""")
_MAX_DOTTED = 4096
_CFFI_SOURCE = re.compile(
    rb"""\.set_source\(\s*["']([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)["']"""
)
_MAX_BINARIES = 256
_MAX_TOPS = 64  # top directories whose scripts are read (an sdist has one)


def _is_binary(head: bytes) -> bool:
    return is_elf(head[:4]) or is_macho(head[:64]) or is_pe(head[:4096])


def _suffixes(parts: tuple[str, ...]) -> list[str]:
    """Every path this file could stand for: itself and each tail of it."""
    return ["/".join(parts[i:]) for i in range(len(parts))]


def _template_of(path: str, wheel_paths: Collection[str]) -> bool:
    """A template (``x.py.in``) whose output would sit at a wheel path (``x.py``)."""
    output = untemplated(path)
    if output is None:
        return False
    parts = output.split("/")
    return any(p in wheel_paths for p in _suffixes(tuple(parts)))


def _wanted(parts: tuple[str, ...], wheel_paths: Collection[str], size: int) -> bool:
    return size <= MAX_TEXT and any(p in wheel_paths for p in _suffixes(parts))


def _top(path: str, pkg_infos: dict[str, bytes]) -> str:
    """The top directory holding PKG-INFO; the one named like the file when there are several."""
    if not pkg_infos:
        raise InputError("no PKG-INFO in the top directory (not an sdist?)", path=path)
    if len(pkg_infos) == 1:
        return next(iter(pkg_infos))
    stem = Path(path).name
    named = [top for top in pkg_infos if stem.startswith(top + ".")]
    if len(named) != 1:
        shown = ", ".join(sorted(pkg_infos))
        raise InputError(f"several top directories with a PKG-INFO: {shown}", path=path)
    return named[0]
