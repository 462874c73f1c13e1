"""The inspect engine: what is really inside a wheel, and will it work?

Open the wheel, scan every member once, resolve dependencies, compute the
platform tag, identify vendored libraries and judge the result.  It lives in
the core because ``inspect``, ``repair`` and the scan catalog all stand on it;
it returns a :class:`WheelReport` (a full inspect) or, for the repair planner and
the scan catalog, :class:`LoaderFacts` (native files and platform, no judgement),
and never renders.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from truewheel.analysis.identity import identify
from truewheel.analysis.images import image_files, image_platform, image_system
from truewheel.analysis.platform import platform_report
from truewheel.analysis.provided import provided_libraries
from truewheel.analysis.report import LoaderFacts, NativeFile, WheelReport
from truewheel.analysis.resolve import resolve_dependencies
from truewheel.analysis.sboms import declarations
from truewheel.analysis.scan import ScannedMember, scan_members
from truewheel.analysis.split import MISSING, CompanionWheel, RequirementLocator, attach_to_elf
from truewheel.policy.libraries import LibraryTable
from truewheel.policy.manylinux import PolicySet
from truewheel.policy.systems import MacSystem, WindowsSystem
from truewheel.wheel import Limits, WheelArchive

__all__ = ["Inspector"]

_Facts = TypeVar("_Facts", bound=LoaderFacts)


@dataclass
class Inspector:
    """Holds the loaded policy tables so several wheels share them."""

    glibc: PolicySet = field(default_factory=lambda: PolicySet.load("glibc"))
    musl: PolicySet = field(default_factory=lambda: PolicySet.load("musl"))
    libraries: LibraryTable = field(default_factory=LibraryTable.load)
    mac: MacSystem = field(default_factory=MacSystem.load)
    windows: WindowsSystem = field(default_factory=WindowsSystem.load)
    limits: Limits = field(default_factory=Limits)
    workers: int | None = None
    #: other wheels given with the ones inspected (analysis/split.py: split wheels)
    companions: Mapping[str, Sequence[CompanionWheel]] = field(default_factory=dict)

    def inspect(
        self,
        path: str | os.PathLike[str],
        *,
        on_start: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> WheelReport:
        with WheelArchive(path, self.limits) as wheel:
            return self.analyze(wheel, on_start=on_start, progress=progress)[0]

    def analyze(
        self,
        wheel: WheelArchive,
        *,
        on_start: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[WheelReport, list[ScannedMember]]:
        """Inspect an open wheel; also return the per-member scan (hashes) for rewriting."""
        if on_start:
            on_start(sum(m.compressed_size for m in wheel.files))
        scanned = scan_members(wheel, self.libraries, workers=self.workers, progress=progress)
        report = self._facts(WheelReport, wheel, scanned, deep=True)
        from truewheel.analysis.findings import collect_findings

        report.findings = collect_findings(
            wheel,
            scanned,
            report.native_files,
            report.platform,
            self.glibc,
            self.musl,
            report.provided,
        )
        if report.image_platform is not None:
            from truewheel.analysis.image_findings import image_findings

            report.findings = sorted(
                [
                    *report.findings,
                    *image_findings(
                        report.images, report.image_platform, self.mac, self.windows,
                        report.provided, [(t.interpreter, t.abi) for t in wheel.name.tags],
                    ),
                ],
                key=lambda f: (f.rank, f.code, f.file or "", f.message),
            )  # fmt: skip
        return report, scanned

    def loader_facts(self, wheel: WheelArchive, *, deep: bool = False) -> LoaderFacts:
        """The native files, their dependencies and the platform they allow; no judgement.

        ``deep=False`` is the repair planner's pass: only the start of each ELF member
        is inflated, as far as its dynamic facts reach, and nothing is hashed.
        ``deep=True`` is the scan catalog's: ELF members are read whole (sha256, build
        paths, version strings) and other members are not inflated at all.
        """
        scanned = scan_members(
            wheel, self.libraries, workers=self.workers, deep=deep, native_only=deep
        )
        return self._facts(LoaderFacts, wheel, scanned, deep=deep)

    def _facts(
        self, into: type[_Facts], wheel: WheelArchive, scanned: list[ScannedMember], *, deep: bool
    ) -> _Facts:
        elves = {m.name: m.elf for m in scanned if m.elf is not None}
        declared = declarations(wheel)
        system = self.glibc.whitelist | self.musl.whitelist
        dependencies = resolve_dependencies(elves, system)
        requires = wheel.metadata.requires_dist
        attach_to_elf(
            dependencies,
            elves,
            RequirementLocator.for_system(requires, self.companions, "linux", wheel.metadata.name),
        )
        native = [
            NativeFile(
                path=m.name,
                size=m.size,
                sha256=m.sha256,
                mode=m.mode,
                elf=m.elf,
                dependencies=dependencies[m.name],
                build_paths=m.build_paths,
                identity=identify(
                    m.name,
                    m.elf,
                    m.versions,
                    self.libraries,
                    wheel.metadata.name,
                    declared.components.get(m.name),
                ),
            )
            for m in scanned
            if m.elf is not None
        ]
        judged_as = image_system(wheel, scanned)
        images = image_files(
            wheel, scanned, judged_as, self.mac, self.windows, self.libraries, declared,
            self.companions,
        )  # fmt: skip
        provided = provided_libraries(
            requires, [*native, *images], self.libraries, declared.providers
        )
        for f in native:  # what a split wheel's requirements install (analysis/split.py)
            provided.update(
                (d.name, d.provider) for d in f.dependencies if d.provider and d.via != MISSING
            )
        return into(
            path=wheel.path,
            filename=wheel.name.filename,
            name=wheel.metadata.name,
            version=wheel.metadata.version,
            wheel_info=wheel.wheel_info,
            metadata=wheel.metadata,
            member_count=len(wheel.files),
            total_bytes=sum(m.file_size for m in wheel.files),
            compressed_bytes=sum(m.compressed_size for m in wheel.files),
            native_files=native,
            platform=platform_report(wheel, native, self.glibc, self.musl, provided),
            deep=deep,
            provided=provided,
            images=images,
            image_platform=image_platform(
                wheel, images, judged_as, self.mac, self.windows, provided
            ),
        )
