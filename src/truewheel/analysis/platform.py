"""Turn the ELF facts of a wheel into policy requirements and a platform tag."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from truewheel.analysis.report import NativeFile, PlatformReport
from truewheel.analysis.resolve import BUNDLED, EXTERNAL, SYSTEM
from truewheel.analysis.symbols import symbol_needs
from truewheel.elf import ElfFile
from truewheel.policy.manylinux import PolicySet, Requirement
from truewheel.wheel import WheelArchive

__all__ = [
    "architecture_of",
    "is_musl",
    "load_problem",
    "platform_report",
    "requirements",
    "tagged_architecture",
]

_LINUX_TAG = re.compile(
    r"(?:linux|manylinux1|manylinux2010|manylinux2014|(?:many|musl)linux_[0-9]+_[0-9]+)"
    r"_(?P<arch>[a-z0-9_]+)"
)
# The word size (ElfFile.elf_class) and byte order of the programs of each tag architecture.
_ABI = {
    "x86_64": (64, True),
    "i686": (32, True),
    "aarch64": (64, True),
    "armv7l": (32, True),
    "ppc64le": (64, True),
    "ppc64": (64, False),
    "s390x": (64, False),
    "riscv64": (64, True),
    "loongarch64": (64, True),
}
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


def load_problem(elf: ElfFile, arch: str) -> str | None:
    """Why no process on ``arch`` can load (or run) ``elf``; None when one can.

    The loader refuses another machine, but also the right machine with the wrong ELF
    class (x32 on x86_64) or byte order, and anything that is not a program or a shared
    object.
    """
    if elf.type not in ("DYN", "EXEC"):
        return _UNLOADABLE.get(elf.type, f"an ELF file of unknown type ({elf.type})")
    if elf.architecture != arch:
        return f"built for {elf.architecture}"
    expected = _ABI.get(arch)
    if expected is None:
        return None
    bits, little = expected
    if elf.elf_class != bits:
        return f"{elf.elf_class}-bit, but {arch} runs {bits}-bit code"
    if elf.little_endian != little:
        order = "little" if elf.little_endian else "big"
        return f"{order}-endian, but {arch} is {'little' if little else 'big'}-endian"
    return None


def is_musl(native: list[NativeFile]) -> bool:
    return any(
        (f.elf.interpreter or "").rsplit("/", 1)[-1].startswith("ld-musl")
        or any(n.startswith("libc.musl") for n in f.elf.needed)
        for f in native
    )


def requirements(native: list[NativeFile], arch: str, *, graftable: bool) -> list[Requirement]:
    """What the content asks of the target system.

    With ``graftable`` true, external libraries are left out: a repair would
    bundle them, so they do not bound the tag a repaired wheel could carry.
    """
    needs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in native:
        bundled = {d.name for d in f.dependencies if d.status == BUNDLED}
        for need in f.elf.version_needs:
            if need.file in bundled:
                continue
            for version in need.versions:
                needs[("symbol-version", version)].add(f.path)
        for dep in f.dependencies:
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
    wheel: WheelArchive, native: list[NativeFile], glibc: PolicySet, musl: PolicySet
) -> PlatformReport | None:
    if not native:
        return None
    arch = architecture_of(native)
    policies = musl if is_musl(native) else glibc
    return PlatformReport(
        computed=policies.best(arch, requirements(native, arch, graftable=False)),
        repairable=policies.best(arch, requirements(native, arch, graftable=True)),
        filename_platforms=wheel.name.platforms,
        wheel_platforms=wheel.wheel_info.platforms,
        external_libraries=sorted(
            {d.name for f in native for d in f.dependencies if d.status == EXTERNAL}
        ),
    )
