"""Turn the ELF facts of a wheel into policy requirements and a platform tag."""

from __future__ import annotations

from collections import Counter, defaultdict

from truewheel.analysis.report import NativeFile, PlatformReport
from truewheel.analysis.resolve import BUNDLED, EXTERNAL, SYSTEM
from truewheel.policy.manylinux import PolicySet, Requirement
from truewheel.wheel import WheelArchive

__all__ = ["architecture_of", "is_musl", "platform_report", "requirements"]


def architecture_of(native: list[NativeFile]) -> str:
    """The architecture most native files are built for (mismatches are findings)."""
    return Counter(f.elf.architecture for f in native).most_common(1)[0][0]


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
