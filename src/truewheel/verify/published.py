"""What the published wheel says about how it was made, for a rebuild to do the same.

Three sources, each read from bytes, none trusted to run anything: the wheel's own
members (a repair's ``<dist>.libs/`` grafts, its SBOMs under ``.dist-info/sboms/``, the
platform tags of its file name, the ``.comment`` of every native file naming the compiler
that made it), and the buildinfo ``truewheel build`` writes beside a wheel
(``<wheel>.buildinfo.json``), taken only when it names this wheel's sha256.  From a
buildinfo a rebuild takes the source epoch and the compiler *flags* the user chose
(``CFLAGS`` and friends); a compiler *command* (``CC``) is reported, never run, since the
file is as untrusted as the wheel.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from packaging.tags import sys_tags

from truewheel._files import read_regular
from truewheel.analysis.member import analyze_stream
from truewheel.elf import ElfFile, is_elf
from truewheel.errors import InputError, TruewheelError
from truewheel.policy.libraries import LibraryName
from truewheel.repair.hostlibs import HostLibraries
from truewheel.reproducible.source import sha256_file
from truewheel.wheel import WheelArchive

__all__ = [
    "BUILDINFO_SUFFIX",
    "Published",
    "comments_of",
    "glibc_of_tag",
    "native_files",
    "original_name",
    "read_published",
    "target_tag",
]

BUILDINFO_SUFFIX = ".buildinfo.json"
_MAX_BUILDINFO = 1 << 20
# What a rebuild may take from a buildinfo: flags, which change what the compiler emits
# but run nothing.  CC, CXX, FC and LDSHARED name programs and are only reported.
_FLAGS = ("CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "FFLAGS")
_COMMANDS = ("CC", "CXX", "FC", "LDSHARED")
# WHEEL's Generator -> the distribution that wrote it, pinned for the rebuild so that the
# metadata the backend writes is the published wheel's (not every backend says its version).
_GENERATORS = {
    "setuptools": "setuptools",
    "bdist_wheel": "wheel",
    "hatchling": "hatchling",
    "flit": "flit_core",
    "poetry-core": "poetry-core",
    "maturin": "maturin",
    "scikit-build-core": "scikit-build-core",
    "meson": "meson-python",
}
_GENERATOR = re.compile(r"([A-Za-z0-9_.-]+) \(?([0-9][0-9A-Za-z.+!]*)\)?$")
_PIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*==[0-9][0-9A-Za-z.+!]*")
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


@dataclass
class Published:
    path: str
    sha256: str
    tags: tuple[str, ...]
    grafts: dict[str, ElfFile] = field(default_factory=dict)  # member -> its ELF facts
    sboms: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()
    buildinfo: str | None = None
    compiler: str | None = None  # the buildinfo's toolchain.compiler line
    applied: dict[str, str] = field(default_factory=dict)  # settings a rebuild takes
    pins: list[str] = field(default_factory=list)  # constraints for the build environment
    notes: list[str] = field(default_factory=list)

    @property
    def repaired(self) -> bool:
        """A repair tool's marks: grafts, a repair SBOM, or a manylinux/musllinux tag."""
        return bool(self.grafts or self.sboms or target_tag(self.tags))

    def unavailable(self, host: HostLibraries) -> list[str]:
        """The grafts' original SONAMEs this machine has no copy of (repair cannot graft them)."""
        missing = []
        for member, elf in sorted(self.grafts.items()):
            original = original_name(elf.soname or Path(member).name)
            if host.find(original, elf_class=elf.elf_class, machine=elf.machine) is None:
                missing.append(original)
        return missing


def read_published(path: str | os.PathLike[str]) -> Published:
    path = os.fspath(path)
    with WheelArchive(path) as wheel:
        _refuse_foreign(wheel)
        sboms = tuple(m.name for m in wheel.files if m.name.startswith(f"{wheel.dist_info}/sboms/"))
        natives = _native_files(wheel)
        grafts = {name: elf for name, elf in natives.items() if _in_libs_dir(name)}
        published = Published(
            path=path,
            sha256=sha256_file(Path(path)),
            tags=tuple(wheel.name.platforms),
            grafts=grafts,
            sboms=sboms,
            comments=comments_of(elf for name, elf in natives.items() if name not in grafts),
            pins=_generator_pin(wheel.wheel_info.generator),
        )
    _read_buildinfo(published)
    return published


def _refuse_foreign(wheel: WheelArchive) -> None:
    """A rebuild here makes a wheel for this interpreter and platform: one for another
    (a macOS wheel, an aarch64 or cp312 one) cannot line up, so it is refused in one line
    rather than compared into differences that mean nothing."""
    here = set(sys_tags())
    if not wheel.name.tags & here:
        shown = ".".join(sorted(str(t) for t in wheel.name.tags)[:3])
        raise InputError(
            f"--rebuild builds for this interpreter and platform; the wheel's tags ({shown}) "
            "are not among them",
            path=wheel.path,
        )


def comments_of(elves: Iterable[ElfFile]) -> tuple[str, ...]:
    """The distinct ``.comment`` strings of some ELF files, in first-seen order."""
    seen: dict[str, None] = {}
    for elf in elves:
        for comment in elf.comment:
            seen.setdefault(comment.strip(), None)
    return tuple(seen)


def native_files(path: str | os.PathLike[str]) -> dict[str, ElfFile]:
    with WheelArchive(path) as wheel:
        return _native_files(wheel)


def _native_files(wheel: WheelArchive) -> dict[str, ElfFile]:
    found: dict[str, ElfFile] = {}
    for member in wheel.files:
        if member.file_size < 64 or not is_elf(wheel.zip.read_head(member, 4)):
            continue
        facts = analyze_stream(
            partial(wheel.stream, member),
            member.file_size,
            member.name,
            None,
            digests=(),
        )
        if facts.elf is not None:
            found[member.name] = facts.elf
    return found


def _in_libs_dir(name: str) -> bool:
    """auditwheel's and truewheel's layout: ``<dist>.libs/`` at the top of the wheel."""
    top, _, rest = name.partition("/")
    return bool(rest) and top.endswith(".libs")


def original_name(name: str) -> str:
    """``libffi-abc12345.so.8`` -> ``libffi.so.8``: the name before the repair mangled it."""
    parsed = LibraryName.parse(Path(name).name)
    return parsed.stem + parsed.suffix


def _generator_pin(generator: str | None) -> list[str]:
    found = _GENERATOR.match((generator or "").strip())
    if found is None or found[1] not in _GENERATORS:
        return []
    pins = [f"{_GENERATORS[found[1]]}=={found[2]}"]
    if found[1] == "bdist_wheel":
        # setuptools 70.1 took bdist_wheel over from wheel: only an older one still
        # hands the wheel to the version of wheel that Generator names.
        pins.append("setuptools<70.1")
    return pins


def target_tag(tags: tuple[str, ...] | list[str]) -> str | None:
    """The newest manylinux/musllinux tag: the one the repair was asked for (a repair adds
    the older tags the content also meets)."""
    best: tuple[tuple[int, int], str] | None = None
    for tag in tags:
        family, version = _policy_version(tag)
        if family is None:
            continue
        if best is None or version > best[0]:
            best = (version, tag)
    return None if best is None else best[1]


def glibc_of_tag(tag: str) -> str | None:
    """``manylinux2014_x86_64`` -> ``2.17``: the newest glibc a wheel of that tag may need."""
    family, (major, minor) = _policy_version(tag)
    return f"{major}.{minor}" if family == "manylinux" else None


def _policy_version(tag: str) -> tuple[str | None, tuple[int, int]]:
    for family in ("manylinux", "musllinux"):
        if not tag.startswith(family):
            continue
        head = tag.split("_")[0]
        if head in _LEGACY:
            return family, _LEGACY[head]
        parts = tag.split("_")
        if len(parts) >= 3 and parts[1].isdigit() and parts[2].isdigit():
            return family, (int(parts[1]), int(parts[2]))
    return None, (0, 0)


def _read_buildinfo(published: Published) -> None:
    """Take the buildinfo beside the wheel when it is this wheel's; otherwise say why not."""
    info_path = published.path + BUILDINFO_SUFFIX
    if not (os.path.lexists(info_path)):
        return
    try:
        document = json.loads(read_regular(info_path, _MAX_BUILDINFO))
    except (TruewheelError, OSError, ValueError, RecursionError) as exc:
        published.notes.append(f"{info_path} not used: not a readable buildinfo ({exc})")
        return
    wheel = document.get("wheel") if isinstance(document, dict) else None
    if not isinstance(wheel, dict) or wheel.get("sha256") != published.sha256:
        published.notes.append(f"{info_path} not used: it does not name this wheel's sha256")
        return
    published.buildinfo = info_path
    toolchain = document.get("toolchain")
    if isinstance(toolchain, dict) and isinstance(toolchain.get("compiler"), str):
        published.compiler = toolchain["compiler"]
    pins = document.get("build_requirements")
    if isinstance(pins, list):
        exact = [p for p in pins if isinstance(p, str) and _PIN.fullmatch(p)]
        named = {p.split("==")[0].lower() for p in exact}
        published.pins = exact + [
            p for p in published.pins if re.split("[<>=!~]", p)[0].lower() not in named
        ]
    epoch = document.get("source_date_epoch")
    if isinstance(epoch, int) and not isinstance(epoch, bool) and 0 <= epoch < 2**32:
        published.applied["SOURCE_DATE_EPOCH"] = str(epoch)
    environment = document.get("environment")
    if not isinstance(environment, dict):
        return
    for key in _FLAGS:
        value = environment.get(key)
        if isinstance(value, str) and "\0" not in value and len(value) < 4096:
            published.applied[key] = value
    for key in _COMMANDS:
        if isinstance(environment.get(key), str):
            published.notes.append(
                f"the published build chose {key}={environment[key]!r}; the rebuild uses "
                "this machine's default (a command from a file is never run)"
            )
