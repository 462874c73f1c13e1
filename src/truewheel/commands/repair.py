"""``truewheel repair``: make a wheel self-contained for a manylinux/musllinux policy.

The pipeline: inspect the wheel (one pass over its bytes), choose the target
policy, plan grafts/exclusions/providers and every ELF edit, apply the edits
with patchelf, then write the new wheel with unchanged members' compressed
bytes copied as they are.  Nothing is written unless everything succeeded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from truewheel import __version__
from truewheel._atomic import atomic_output
from truewheel._files import check_not_input, open_regular, output_directory
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.libc import WheelLibc
from truewheel.analysis.platform import policies_for, requirements, unsupported_architecture
from truewheel.analysis.report import LoaderFacts
from truewheel.analysis.scan import verified_digests
from truewheel.errors import InputError, MetadataError, located
from truewheel.policy.manylinux import Policy, PolicySet, Requirement
from truewheel.repair.hostlibs import HostLibraries
from truewheel.repair.patchelf import apply_edits
from truewheel.repair.plan import Provider, RepairError, RepairPlan, check_lib_sdir, plan_repair
from truewheel.repair.rewrite import (
    add_licence_files,
    add_requirements,
    retag_filename,
    retag_wheel_file,
)
from truewheel.repair.sbom import SbomFiles, sbom_files
from truewheel.repair.verify import describe_unresolved, unresolved
from truewheel.wheel import WheelArchive
from truewheel.wheel.writer import (
    NewMember,
    RawMember,
    RecordSpec,
    wheel_order,
    write_wheel,
    zip_level,
)
from truewheel.wheel.ziptime import dos_datetime, source_date_epoch

__all__ = ["RepairOptions", "RepairResult", "Repairer"]


@dataclass(frozen=True)
class RepairOptions:
    wheel_dir: Path
    plat: str | None = None
    lib_sdir: str = ".libs"
    excludes: tuple[str, ...] = ()
    providers: tuple[Provider, ...] = ()
    strip: bool = False
    only_plat: bool = False
    update_tags: bool = True
    zip_level: int | None = None
    keep_rpath: bool = False
    isa_check: bool = True  # False: --disable-isa-ext-check
    allow_pure: bool = False  # --allow-pure-python-wheel
    inputs: tuple[str, ...] = ()  # every wheel of the run: no output may replace one

    def __post_init__(self) -> None:
        check_lib_sdir(self.lib_sdir)


@dataclass
class RepairResult:
    input: str
    output: str
    changed: bool
    platform_tags: list[str]
    plan: RepairPlan | None
    patched: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Repairer:
    inspector: Inspector = field(default_factory=Inspector)
    host: HostLibraries = field(default_factory=HostLibraries.for_repair)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def repair(self, path: str | os.PathLike[str], options: RepairOptions) -> RepairResult:
        with WheelArchive(path, self.inspector.limits) as wheel:
            report = self.inspector.loader_facts(wheel)
            _refuse_unloadable(report, wheel)
            _refuse_python_build(report, wheel)
            if report.platform is None:
                return self._pure(wheel, options)
            libc = report.platform.libc
            policies = self._policies(libc, options.plat, wheel.path)
            if uncovered := unsupported_architecture(report.native_files, policies):
                raise RepairError(uncovered[1], path=wheel.path, member=uncovered[0])
            arch = report.platform.computed.architecture
            policy, plan, best, needs = self._plan(report, policies, arch, options)
            tags = self._platform_tags(report, policy, best, arch, options, needs)
            check = partial(
                _check_loads,
                source=wheel.path,
                policy=policy,
                tag=policy.tag(arch),
                plan=plan,
                options=options,
            )
            if not plan.changes_anything and sorted(tags) == sorted(
                report.platform.filename_platforms
            ):
                check(report)
                return self._copy(wheel, options, tags, "already repaired: nothing to change")
            return self._write(wheel, report, plan, tags, options, check)

    # -- planning -----------------------------------------------------------------------

    def _plan(
        self, report: LoaderFacts, policies: PolicySet, arch: str, options: RepairOptions
    ) -> tuple[Policy, RepairPlan, Policy | None, list[Requirement]]:
        """The target policy, the plan for it, the most compatible policy it allows, and
        what the repaired content needs."""
        assert report.platform is not None
        requested = self._requested_policy(policies, arch, options.plat)
        content = _without_isa(
            requirements(report.native_files, arch, graftable=True), options.isa_check
        )
        repairable = policies.best(arch, content)
        policy = requested or repairable.policy
        if policy is None:
            raise RepairError(
                _cannot_meet(repairable.tag, repairable.constraints), path=report.path
            )
        for _ in range(len(policies.policies)):
            plan = plan_repair(
                report,
                policy,
                host=self.host,
                libraries=self.inspector.libraries,
                excludes=list(options.excludes),
                providers=list(options.providers),
                lib_sdir=options.lib_sdir,
                keep_rpath=options.keep_rpath,
            )
            grafts = _without_isa(_graft_requirements(plan, policy, arch), options.isa_check)
            needs = _merged(content + grafts)
            if requested is not None:
                violated = policies.violations(requested, arch, needs)
                if violated:
                    raise RepairError(
                        _cannot_meet(requested.tag(arch), [(r, None) for r in violated]),
                        path=report.path,
                    )
                return requested, plan, policies.best(arch, needs).policy, needs
            result = policies.best(arch, needs)
            if result.policy is None:
                raise RepairError(_cannot_meet(result.tag, result.constraints), path=report.path)
            if result.policy.name == policy.name:
                return policy, plan, policy, needs
            policy = result.policy
        raise RepairError("no stable target policy found", path=report.path)

    def _policies(self, libc: WheelLibc, plat: str | None, path: str) -> PolicySet:
        """manylinux or musllinux, as the content's libc says; ``--plat`` may only choose
        for content that names no libc (a static program runs with either)."""
        if libc.mixed:
            raise RepairError(libc.describe_conflict(), path=path)
        glibc, musl = self.inspector.glibc, self.inspector.musl
        if (plat is None or plat == "auto") and libc.undecided:
            raise RepairError(
                f"cannot tell whether {libc.undecided[0]} is built for glibc or musl: it "
                "needs no C library and its name does not say; pass --plat with a "
                "manylinux or musllinux tag",
                path=path,
            )
        if plat is None or plat == "auto":
            return policies_for(libc, glibc, musl)
        wanted = musl if plat.startswith("musllinux") else glibc
        if wanted.policy_of_tag(plat)[0] is None:
            raise InputError(f"--plat: unknown platform tag {plat!r}")
        if libc.libc is not None and wanted.libc != libc.libc:
            where, evidence = next(iter(sorted(libc.evidence.items())))
            raise RepairError(
                f"--plat {plat}: the content is built for {libc.libc} ({where}: "
                f"{evidence.reason}); such a wheel would install where it cannot load",
                path=path,
            )
        return wanted

    def _requested_policy(self, policies: PolicySet, arch: str, plat: str | None) -> Policy | None:
        if plat is None or plat == "auto":
            return None
        policy, plat_arch = policies.policy_of_tag(plat)
        if policy is None:
            raise InputError(f"--plat: unknown platform tag {plat!r}")
        if plat_arch != arch:
            raise InputError(f"--plat {plat} does not match the wheel's architecture {arch}")
        return policy

    def _platform_tags(
        self,
        report: LoaderFacts,
        policy: Policy,
        best: Policy | None,
        arch: str,
        options: RepairOptions,
        needs: list[Requirement],
    ) -> list[str]:
        """The target's tags, the more compatible ones the content meets (unless
        ``--only-plat``), and the wheel's own manylinux/musllinux tags that the repaired
        content still meets.

        auditwheel keeps every tag the wheel had but ``linux_*``; a tag the content no
        longer meets (too old for its symbol versions, the other libc) is dropped here.
        """
        assert report.platform is not None
        if not options.update_tags:
            return report.platform.filename_platforms
        tags = set(policy.tags(arch))
        if not options.only_plat and best is not None and best.libc_version < policy.libc_version:
            tags |= set(best.tags(arch))
        libc = report.platform.libc.libc
        for tag in report.platform.filename_platforms:
            family = self.inspector.musl if tag.startswith("musllinux_") else self.inspector.glibc
            if libc not in (None, family.libc):
                continue
            if family.meets(tag, arch, needs):
                tags.add(tag)
        return sorted(tags)

    # -- writing ------------------------------------------------------------------------

    def _pure(self, wheel: WheelArchive, options: RepairOptions) -> RepairResult:
        """A wheel without ELF files: copied only when its name says it is pure and the
        user allowed it (``--allow-pure-python-wheel``), as auditwheel does."""
        platforms = wheel.name.platforms
        if options.allow_pure and platforms == ["any"]:
            return self._copy(wheel, options, platforms, "pure Python wheel: copied")
        hint = (
            "; pass --allow-pure-python-wheel to copy it"
            if platforms == ["any"]
            else f", though its name says {'.'.join(platforms)}"
        )
        raise RepairError(f"no platform-specific binaries in the wheel{hint}", path=wheel.path)

    def _copy(
        self, wheel: WheelArchive, options: RepairOptions, tags: list[str], note: str
    ) -> RepairResult:
        target = output_directory(options.wheel_dir) / Path(wheel.path).name
        if Path(wheel.path).resolve() != target.resolve():
            check_not_input(target, [wheel.path, *options.inputs], option="-w")
            with os.fdopen(open_regular(wheel.path), "rb") as source, atomic_output(target) as out:
                shutil.copyfileobj(source, out, 1 << 20)
        return RepairResult(wheel.path, str(target), False, tags, None, note=note)

    def _write(
        self,
        wheel: WheelArchive,
        report: LoaderFacts,
        plan: RepairPlan,
        tags: list[str],
        options: RepairOptions,
        check: Callable[[LoaderFacts], None],
    ) -> RepairResult:
        sbom = (
            sbom_files(
                plan,
                dist_info=wheel.dist_info,
                wheel=(report.name, report.version),
                tool_version=__version__,
            )
            if plan.changes_anything
            else None
        )
        digests = verified_digests(wheel)
        dist_info = wheel.dist_info
        by_name = {m.name: m for m in wheel.files}
        originals: dict[str, Callable[[Path], None]] = {
            name: partial(wheel.save, by_name[name]) for name in plan.edits if name in by_name
        }
        originals.update(
            {name: partial(shutil.copyfile, host) for name, host in plan.graft_sources.items()}
        )
        native_paths = frozenset(f.path for f in report.native_files)
        strip = frozenset(originals) | native_paths if options.strip else frozenset()
        for name in sorted(strip - set(originals)):
            originals[name] = partial(wheel.save, by_name[name])
        out_dir = output_directory(options.wheel_dir)
        with tempfile.TemporaryDirectory(prefix="truewheel-patch-") as work:
            edited = apply_edits(originals, plan.edits, strip=strip, work=Path(work))
            new_files: dict[str, bytes | Path] = dict(edited)
            moved = _move_scripts(wheel, report, plan, new_files)
            notes: list[str] = []
            new_files.update(self._text_changes(wheel, plan, tags, sbom, notes))
            grafted = list(plan.grafted)
            if sbom is not None:
                new_files.update(sbom.files)
                grafted = list(sbom.grafted)
            stamp = self._timestamp(wheel)
            executable = {m.name for m in wheel.files if m.mode & 0o111} | set(plan.graft_sources)
            executable |= moved
            members: list[RawMember | NewMember] = []
            for m in wheel.files:
                if m.name == f"{dist_info}/RECORD" or m.name in new_files:
                    continue
                when = stamp if "SOURCE_DATE_EPOCH" in self.environ else m.dos_datetime
                members.append(RawMember(m, m.name, m.name in executable, when))
            for name, data in new_files.items():
                source = wheel.zip.get(name)
                when = (
                    source.dos_datetime
                    if source and "SOURCE_DATE_EPOCH" not in self.environ
                    else stamp
                )
                members.append(NewMember(name, data, name in executable, when))
            members.sort(key=lambda m: wheel_order(m.name, dist_info))
            filename = (
                retag_filename(Path(wheel.path).name, tags)
                if options.update_tags
                else Path(wheel.path).name
            )
            target = out_dir / filename
            check_not_input(target, [wheel.path, *options.inputs], option="-w")
            record = RecordSpec(f"{dist_info}/RECORD", stamp, digests)
            with tempfile.TemporaryDirectory(prefix=".truewheel-", dir=out_dir) as staging:
                staged = Path(staging) / filename
                write_wheel(
                    staged, members, wheel.zip, level=zip_level(options.zip_level), record=record
                )
                with WheelArchive(staged, self.inspector.limits) as output:
                    check(self.inspector.loader_facts(output))
                staged.replace(target)
        plan.grafted = grafted
        return RepairResult(
            wheel.path, str(target), True, tags, plan, sorted(plan.edits), note="; ".join(notes)
        )

    def _text_changes(
        self,
        wheel: WheelArchive,
        plan: RepairPlan,
        tags: list[str],
        sbom: SbomFiles | None,
        notes: list[str],
    ) -> dict[str, bytes]:
        wheel_file = f"{wheel.dist_info}/WHEEL"
        with located(wheel.path, wheel_file):
            changes = {wheel_file: retag_wheel_file(wheel.read_text("WHEEL"), tags).encode()}
        metadata = _metadata_changes(wheel, plan, sbom, notes)
        if metadata is not None:
            changes[wheel.metadata_name] = metadata.encode()
        if plan.provided:
            users = sorted(
                {u for p in plan.provided for u in p.needed_by if not u.startswith(plan.libs_dir)}
            )
            from truewheel.repair.preload import preload_source, preloaded_inits, target_packages

            inits = target_packages(users, [m.name for m in wheel.files])
            if not inits:
                raise RepairError(
                    "--provided-by needs a package __init__.py to preload from; "
                    "the extensions needing it are top-level modules",
                    path=wheel.path,
                )
            changes.update(preloaded_inits(wheel, inits, preload_source(plan.provided)))
        return changes

    def _timestamp(self, wheel: WheelArchive) -> tuple[int, int]:
        epoch = source_date_epoch(self.environ)
        if epoch is not None:
            return dos_datetime(epoch)
        return max((m.dos_datetime for m in wheel.files), default=dos_datetime(0))


def _move_scripts(
    wheel: WheelArchive, report: LoaderFacts, plan: RepairPlan, files: dict[str, bytes | Path]
) -> set[str]:
    """Each moved program under its new name and a launcher at its old one (repair.scripts).

    Returns the names to write executable: both, whatever the input's modes were.
    """
    from truewheel.repair.scripts import launcher

    names: set[str] = set()
    for move in plan.moved_scripts:
        if wheel.zip.get(move.program) is not None or move.program in files:
            raise RepairError(
                f"cannot move the program to {move.program}: the wheel already has that file",
                path=wheel.path,
                member=move.script,
            )
        files[move.program] = files.pop(move.script)
        purelib = report.wheel_info.root_is_purelib
        files[move.script] = launcher(move.program, root_is_purelib=purelib)
        names |= {move.program, move.script}
    return names


def _metadata_changes(
    wheel: WheelArchive, plan: RepairPlan, sbom: SbomFiles | None, notes: list[str]
) -> str | None:
    """METADATA with Requires-Dist for --provided-by and License-File for copied licences."""
    licence_files = list(sbom.licence_files) if sbom else []
    if not plan.provided and not licence_files:
        return None
    with located(wheel.path, wheel.metadata_name):
        metadata = wheel.read_text("METADATA")
        if plan.provided:
            metadata = add_requirements(metadata, sorted({p.requirement for p in plan.provided}))
    if licence_files:
        try:
            metadata = add_licence_files(metadata, licence_files)
        except MetadataError as exc:
            notes.append(f"licence files copied, no License-File added: {exc.message}")
    return metadata


def _refuse_unloadable(report: LoaderFacts, wheel: WheelArchive) -> None:
    """A native file no process of the wheel's platform can load: no repair makes it work."""
    from truewheel.analysis.findings import architecture_findings

    problems = architecture_findings(report.native_files, wheel.name.platforms)
    if len(problems) == 1:
        raise RepairError(problems[0].message, path=wheel.path, member=problems[0].file)
    if problems:
        listed = "; ".join(f"{p.file}: {p.message}" for p in problems)
        raise RepairError(f"{len(problems)} files cannot load: {listed}", path=wheel.path)


def _refuse_python_build(report: LoaderFacts, wheel: WheelArchive) -> None:
    """A file tied to an fpectl or narrow-unicode CPython: no manylinux tag can hold."""
    from truewheel.analysis.symbols import python_build_findings

    problems = python_build_findings(report.native_files)
    if problems:
        more = f" (and {len(problems) - 1} more files)" if len(problems) > 1 else ""
        raise RepairError(problems[0].message + more, path=wheel.path, member=problems[0].file)


def _check_loads(
    report: LoaderFacts,
    *,
    source: str,
    policy: Policy,
    tag: str,
    plan: RepairPlan,
    options: RepairOptions,
) -> None:
    """Refuse an output in which some DT_NEEDED entry would not resolve (see repair.verify).

    The refusal names the input wheel: the output it judged is never published.
    """
    left_out = [
        *options.excludes,
        *(p.pattern for p in options.providers),
        *(e.name for e in plan.excluded),
        *(p.name for p in plan.provided),
    ]
    problems = unresolved(report, policy, left_out=left_out)
    if problems:
        raise RepairError(describe_unresolved(problems, tag), path=source)


def _merged(needs: list[Requirement]) -> list[Requirement]:
    """One requirement per kind and value, naming every file that has it."""
    files: dict[tuple[str, str], set[str]] = {}
    for need in needs:
        files.setdefault((need.kind, need.value), set()).update(need.files)
    return [Requirement(kind, value, tuple(sorted(f))) for (kind, value), f in files.items()]


def _without_isa(needs: list[Requirement], isa_check: bool) -> list[Requirement]:
    """``--disable-isa-ext-check``: an x86-64 level above baseline no longer bounds the tag."""
    return needs if isa_check else [r for r in needs if r.kind != "isa"]


def _graft_requirements(plan: RepairPlan, policy: Policy, arch: str) -> list[Requirement]:
    grafted_names = {g.original_name for g in plan.grafted}
    out: list[Requirement] = []
    for path, elf in plan.graft_elves.items():
        for need in elf.version_needs:
            if need.file in grafted_names:
                continue
            out += [Requirement("symbol-version", v, (path,)) for v in need.versions]
        out += [Requirement("library", n, (path,)) for n in elf.needed if n in policy.libraries]
        if arch == "x86_64" and elf.x86_isa_level:
            out.append(Requirement("isa", elf.x86_isa_level, (path,)))
    return out


def _cannot_meet(tag: str, constraints: list[tuple[Requirement, str | None]]) -> str:
    """Every reason, each with the files that need it (two named, the rest counted)."""
    reasons = "; ".join(f"{r.value} ({_some_files(r.files)})" for r, _ in constraints)
    count = f" ({len(constraints)} reasons)" if len(constraints) > 1 else ""
    if tag.startswith("linux_"):  # no policy at all: name none
        return f"the content meets no manylinux or musllinux policy{count}: {reasons}"
    return f"the content cannot meet {tag}{count}: {reasons}"


def _some_files(files: tuple[str, ...]) -> str:
    names = ", ".join(Path(f).name for f in files[:2])
    return f"{names} and {len(files) - 2} more" if len(files) > 2 else names
