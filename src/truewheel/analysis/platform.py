"""Turn the ELF facts of a wheel into policy requirements and a platform tag."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection

from truewheel.analysis.libc import MUSL, WheelLibc, wheel_libc
from truewheel.analysis.report import NativeFile, PlatformReport
from truewheel.analysis.resolve import BUNDLED, EXTERNAL, SYSTEM
from truewheel.analysis.symbols import symbol_needs
from truewheel.elf import ElfFile
from truewheel.elf.machine import abi_named, runs_under
from truewheel.policy.manylinux import PolicySet, Requirement
from truewheel.wheel import WheelArchive

__all__ = [
    "architecture_of",
    "load_problem",
    "platform_report",
    "policies_for",
    "requirements",
    "tagged_architecture",
    "unsupported_architecture",
]

_LINUX_TAG = re.compile(
    r"(?:linux|manylinux1|manylinux2010|manylinux2014|(?:many|musl)linux_[0-9]+_[0-9]+)"
    r"_(?P<arch>[a-z0-9_]+)"
)
_UNLOADABLE = {
    "REL": "a relocatable object (ET_REL)",
    "CORE": "a core dump (ET_CORE)",
    "NONE": "an ELF file without a type (ET_NONE)",
}


def architecture_of(native: list[NativeFile]) -> str:
    """The architecture most native files are built for (mismatches are findings)."""
    return Counter(f.elf.architecture for f in native).most_common(1)[0][0]


def tagged_architecture(platforms: list[str]) -> str | None:
    """The one architecture a wheel's Linux platform tags name, if they name exactly one."""
    found = {m["arch"] for p in platforms if (m := _LINUX_TAG.fullmatch(p))}
    return found.pop() if len(found) == 1 else None


def load_problem(elf: ElfFile, arch: str, *, exact: bool = False) -> str | None:
    """Why no process on ``arch`` can load (or run) ``elf``; None when one can.

    The loader refuses another machine, but also the right machine with another ABI
    (x32 on x86_64, soft-float on hard-float ARM, the other byte order), and anything
    that is not a program or a shared object.  ``arch`` is a tag's architecture, or
    with ``exact`` an ABI the file must share (the one of the wheel's other files).
    """
    if elf.type not in ("DYN", "EXEC"):
        return _UNLOADABLE.get(elf.type, f"an ELF file of unknown type ({elf.type})")
    if elf.architecture == arch or (not exact and runs_under(elf.architecture, arch)):
        return None
    expected = abi_named(arch)
    if expected is not None and expected.machine == elf.machine:
        return f"{elf.abi_description}, but {arch} is {expected}"
    return f"built for {elf.architecture}"


def unsupported_architecture(
    native: list[NativeFile], policies: PolicySet
) -> tuple[str, str] | None:
    """A file of the wheel's architecture and why no policy of ``policies`` covers it;
    None when one does.

    Names the architecture, the header facts that make it so, and what a file must be
    to carry a covered tag of the same machine (hard-float EABI5 for armv7l, say).
    """
    arch = architecture_of(native)
    covered = policies.architectures
    if arch in covered:
        return None
    first = next(f for f in native if f.elf.architecture == arch)
    family = "manylinux" if policies.libc == "glibc" else "musllinux"
    why = f"{arch} ({first.elf.abi_description}): no {family} policy covers {arch}"
    near = [
        a for a in sorted(covered) if (abi := abi_named(a)) and abi.machine == first.elf.machine
    ]
    if near:
        why += "; " + ", ".join(f"{a} needs {abi_named(a)}" for a in near)
    return first.path, why


def policies_for(libc: WheelLibc, glibc: PolicySet, musl: PolicySet) -> PolicySet:
    """The policies a wheel's content is judged by: musllinux for musl files, else manylinux.

    Content that names no libc (static programs) is judged by manylinux, as it has
    always been; repair keeps a musllinux tag such content already carries.
    """
    return musl if libc.libc == MUSL else glibc


def requirements(
    native: list[NativeFile], arch: str, *, graftable: bool, provided: Collection[str] = ()
) -> list[Requirement]:
    """What the content asks of the target system.

    With ``graftable`` true, external libraries are left out: a repair would
    bundle them, so they do not bound the tag a repaired wheel could carry.
    ``provided`` libraries come with a required distribution (analysis/provided.py),
    not from the system, so they never bound the tag.
    """
    needs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in native:
        bundled = {d.name for d in f.dependencies if d.status == BUNDLED}
        for need in f.elf.version_needs:
            if need.file in bundled or need.file in provided:
                continue
            for version in need.versions:
                needs[("symbol-version", version)].add(f.path)
        for dep in f.dependencies:
            if dep.name in provided:
                continue
            if dep.status == SYSTEM or (dep.status == EXTERNAL and not graftable):
                needs[("library", dep.name)].add(f.path)
        if arch == "x86_64" and f.elf.x86_isa_level:
            needs[("isa", f.elf.x86_isa_level)].add(f.path)
        for kind_value in symbol_needs(f):
            needs[kind_value].add(f.path)
    return [
        Requirement(kind, value, tuple(sorted(files))) for (kind, value), files in needs.items()
    ]


def platform_report(
    wheel: WheelArchive,
    native: list[NativeFile],
    glibc: PolicySet,
    musl: PolicySet,
    provided: Collection[str] = (),
) -> PlatformReport | None:
    if not native:
        return None
    arch = architecture_of(native)
    libc = wheel_libc(native)
    policies = policies_for(libc, glibc, musl)
    return PlatformReport(
        computed=policies.best(
            arch, requirements(native, arch, graftable=False, provided=provided)
        ),
        repairable=policies.best(
            arch, requirements(native, arch, graftable=True, provided=provided)
        ),
        filename_platforms=wheel.name.platforms,
        wheel_platforms=wheel.wheel_info.platforms,
        external_libraries=sorted(
            {
                d.name
                for f in native
                for d in f.dependencies
                if d.status == EXTERNAL and d.name not in provided
            }
        ),
        libc=libc,
    )
