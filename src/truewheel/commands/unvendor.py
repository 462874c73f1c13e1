"""``truewheel unvendor``: one shared copy of each library that several wheels vendor.

The pipeline: read each wheel's native files (the inspect engine, deep: sha256
and identity), find the copies the patterns select and who binds to them, save
those files once to a work directory, let the ABI gate choose one copy per
library or refuse, check that chained libraries go together, name the library
wheels; then (unless ``--plan``) write every library wheel and every consumer
into a staging directory, prove each loads, and only then move them into place.
A refused library writes nothing at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from packaging.utils import canonicalize_name

from truewheel._files import check_output_directory
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.platform import requirements
from truewheel.analysis.report import LoaderFacts
from truewheel.errors import InputError
from truewheel.policy.manylinux import PolicySet
from truewheel.unvendor.copies import find_copies, group_copies
from truewheel.unvendor.extracted import Extracted
from truewheel.unvendor.gate import consumer_label, decide
from truewheel.unvendor.model import (
    Copy,
    LibraryPlan,
    Output,
    Refusal,
    UnvendorError,
    WheelInput,
)
from truewheel.unvendor.names import (
    check_distribution,
    default_distribution,
    import_package,
    library_version,
    shared_soname,
)
from truewheel.wheel import WheelArchive

__all__ = ["UnvendorError", "UnvendorOptions", "UnvendorResult", "Unvendorer", "WheelInput"]


@dataclass(frozen=True)
class UnvendorOptions:
    patterns: tuple[str, ...] | None  # None: every identified third-party library (--plan)
    wheel_dir: Path | None = None  # None with plan_only
    name: str | None = None
    plan_only: bool = False
    # over a mirror (--catalog), each revision of a library is its own release of one
    # library wheel; in one run, two revisions sharing a name could not be installed together
    mirror: bool = False
    zip_level: int | None = None


@dataclass
class UnvendorResult:
    wheels: list[str]
    libraries: list[LibraryPlan]
    outputs: list[Output] = field(default_factory=list)
    plan_only: bool = False

    @property
    def refused(self) -> list[LibraryPlan]:
        return [p for p in self.libraries if p.refusal is not None]


@dataclass
class Unvendorer:
    inspector: Inspector = field(default_factory=Inspector)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def run(
        self, paths: Sequence[str | os.PathLike[str]], options: UnvendorOptions
    ) -> UnvendorResult:
        if not paths:
            raise InputError("no wheels given")
        resolved = [os.path.realpath(p) for p in paths]
        if len(set(resolved)) != len(resolved):
            twice = next(p for p in paths if resolved.count(os.path.realpath(p)) > 1)
            raise InputError("given twice", path=os.fspath(twice))
        if not options.plan_only:
            assert options.wheel_dir is not None
            check_output_directory(options.wheel_dir, option="-w")
        with tempfile.TemporaryDirectory(prefix="truewheel-unvendor-") as tmp:
            work = Path(tmp)
            extracted = Extracted(work)
            inputs = [self._read(p, options, extracted) for p in paths]
            plans = self._plan(inputs, extracted, options)
            result = UnvendorResult([i.path for i in inputs], plans, plan_only=options.plan_only)
            if options.plan_only:
                return result
            if not plans:
                raise InputError(
                    "no vendored library matches "
                    + " ".join(f"--lib {p!r}" for p in options.patterns or ())
                    + " in these wheels"
                )
            if result.refused:
                raise UnvendorError(_refusal_line(result.refused))
            from truewheel.unvendor.outputs import write_outputs

            assert options.wheel_dir is not None
            result.outputs = write_outputs(
                self.inspector,
                inputs,
                plans,
                extracted,
                work,
                options.wheel_dir,
                options.zip_level,
                self.environ,
            )
            return result

    # -- reading ---------------------------------------------------------------------------

    def _read(
        self, path: str | os.PathLike[str], options: UnvendorOptions, extracted: Extracted
    ) -> WheelInput:
        """One wheel's facts; a plan keeps only the copies' (a mirror holds thousands)."""
        with WheelArchive(path, self.inspector.limits) as wheel:
            facts = self.inspector.loader_facts(wheel, deep=True)
            compressed = {m.name: m.compressed_size for m in wheel.files}
            copies = find_copies(facts, options.patterns, compressed)
            wanted = {c.member for c in copies} | {u for c in copies for u in c.users}
            extracted.save(wheel, wanted)
            if options.plan_only:
                members = {c.member for c in copies}
                facts.native_files = [f for f in facts.native_files if f.path in members]
                compressed = {}
            top = {m.name.split("/", 1)[0].removesuffix(".py") for m in wheel.files}
            item = WheelInput(
                wheel.path, facts, wheel.dist_info, compressed, copies, frozenset(top)
            )
        return item

    # -- planning --------------------------------------------------------------------------

    def _plan(
        self, inputs: list[WheelInput], extracted: Extracted, options: UnvendorOptions
    ) -> list[LibraryPlan]:
        groups = group_copies((c for i in inputs for c in i.copies), mirror=options.mirror)
        facts = {i.path: i.facts for i in inputs}
        plans = [
            LibraryPlan(lib, rev, arch, libc or None, copies)
            for (lib, rev, arch, libc), copies in groups.items()
        ]
        for plan in plans:
            decide(plan, extracted.symbols, partial(self._platform_problem, plan=plan, facts=facts))
        _refuse_broken_chains(plans)
        self._name(plans, options, inputs)
        _refuse_two_versions(plans)
        _refuse_broken_chains(plans)
        return plans

    def _policies(self, libc: str | None) -> PolicySet:
        return self.inspector.musl if libc == self.inspector.musl.libc else self.inspector.glibc

    def _platform_problem(
        self, copy: Copy, plan: LibraryPlan, facts: dict[str, LoaderFacts]
    ) -> str | None:
        """Why the copy could not install wherever every consumer wheel installs, if so."""
        policies = self._policies(copy.libc)
        native = next(f for f in facts[copy.wheel].native_files if f.path == copy.member)
        needs = requirements([native], copy.architecture, graftable=True)
        for wheel in sorted({c.wheel for c in plan.copies}):
            platform = facts[wheel].platform
            for tag in platform.filename_platforms if platform else []:
                policy, arch = policies.policy_of_tag(tag)
                if policy is None or arch != copy.architecture:
                    continue
                violated = policies.violations(policy, arch, needs)
                if violated:
                    return f"it needs {violated[0].value}, but {Path(wheel).name} is tagged {tag}"
        return None

    def _name(
        self, plans: list[LibraryPlan], options: UnvendorOptions, inputs: list[WheelInput]
    ) -> None:
        """Distribution, version and SONAME of each library wheel; clashing names refused.

        A name an input wheel already has, as its distribution or as a top-level package,
        would replace that wheel's files or conflict with its pin.
        """
        libraries = {p.revision for p in plans}
        if options.name is not None and not options.name:
            raise InputError("--name is empty")
        if options.name is not None and len(libraries) > 1:
            raise InputError(
                f"--name names one library wheel, but the patterns select {len(libraries)}: "
                + ", ".join(sorted(libraries))
            )
        taken: dict[tuple[str, str, str | None], LibraryPlan] = {}
        for plan in plans:
            if plan.chosen is None:
                continue
            plan.distribution = (
                check_distribution(options.name)
                if options.name
                else default_distribution(plan.library)
            )
            if options.mirror and plan.chosen.version is None and not options.name:
                # each build of unknown version is its own library wheel over a mirror: a
                # name of its own, so two builds never publish one name and version
                plan.distribution += f"-{plan.chosen.sha256[:8]}"
            clash = next(
                (
                    i
                    for i in inputs
                    if canonicalize_name(i.facts.name) == plan.distribution
                    or import_package(plan.distribution) in i.top_level
                ),
                None,
            )
            if clash is not None:
                what = (
                    f"the library wheel {plan.distribution} would clash with "
                    f"{Path(clash.path).name}"
                )
                if options.name:
                    raise InputError(f"--name {options.name}: {what}")
                plan.refusal = Refusal(f"{what}; choose another name with --name")
                plan.chosen = None
                continue
            plan.version = library_version(plan.chosen)
            plan.soname = shared_soname(plan.chosen)
            key = (plan.distribution, plan.architecture, plan.libc)
            other = None if options.mirror else taken.get(key)
            if other is not None:
                for p in (plan, other):
                    p.refusal = Refusal(
                        f"{other.revision} and {plan.revision} would both be the library wheel "
                        f"{plan.distribution}, pinned at two versions its consumers could not "
                        "install together; unvendor them in separate runs with --name"
                    )
                    p.chosen = None
            taken[key] = plan


def _refuse_two_versions(plans: list[LibraryPlan]) -> None:
    """One consumer may require a library wheel at one version only (over a mirror, a wheel
    holding two builds of one library would otherwise need both: scipy's two libgfortran)."""
    for plan in plans:
        if plan.chosen is None:
            continue
        for other in plans:
            if (
                other is not plan
                and other.chosen is not None
                and other.distribution == plan.distribution
                and {c.wheel for c in other.copies} & {c.wheel for c in plan.copies}
                and len(other.copies) <= len(plan.copies)
            ):
                shared = sorted({c.wheel for c in other.copies} & {c.wheel for c in plan.copies})
                other.refusal = Refusal(
                    f"{Path(shared[0]).name} would require {other.distribution} at two versions "
                    f"({plan.revision} is shared instead)"
                )
                other.chosen = None


def _refuse_broken_chains(plans: list[LibraryPlan]) -> None:
    """A shared copy that needs another vendored file needs it shared too (MPFR, GMP).

    Repeated until nothing changes: refusing one library can break another's chain.
    """
    changed = True
    while changed:
        changed = False
        owner = {(c.wheel, c.member): p for p in plans if p.chosen is not None for c in p.copies}
        for plan in plans:
            chosen = plan.chosen
            if chosen is None:
                continue
            missing = [m for m in chosen.needs if (chosen.wheel, m) not in owner]
            if missing:
                plan.refusal = Refusal(
                    f"the copy to share, {consumer_label(chosen.wheel, chosen.member)}, needs "
                    + ", ".join(missing)
                    + ", which would stay vendored: unvendor that library too (another --lib)"
                )
                plan.chosen = None
                changed = True
                continue
            plan.requires = sorted({owner[(chosen.wheel, m)].library for m in chosen.needs})


def _refusal_line(refused: list[LibraryPlan]) -> str:
    parts = [f"{p.library}: {p.refusal.reason}" for p in refused if p.refusal]
    return "unvendor refused, nothing written: " + " | ".join(parts)
