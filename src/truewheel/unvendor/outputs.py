"""Write the library wheels and the rewritten consumers, prove they load, publish them.

Everything is written into one staging directory beside the targets; each output
is read back by the inspect engine and every DT_NEEDED must resolve inside it, be
a system library its policy allows, or be a library wheel's SONAME.  Only when all
outputs pass are they renamed into place, so a failure leaves no new wheel behind.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from truewheel import __version__
from truewheel._files import check_not_input, output_directory
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.platform import requirements
from truewheel.analysis.scan import verified_digests
from truewheel.errors import located
from truewheel.repair.model import ProvidedLibrary
from truewheel.repair.patchelf import apply_edits
from truewheel.repair.plan import ElfEdit
from truewheel.repair.preload import inject_preload_bytes, preload_source, target_packages
from truewheel.repair.rewrite import add_requirements
from truewheel.repair.sbom import SBOM_NAME
from truewheel.repair.verify import describe_unresolved, unresolved
from truewheel.unvendor.consumer import ConsumerPlan, plan_consumer
from truewheel.unvendor.extracted import Extracted
from truewheel.unvendor.library import LibraryWheel, loader_source, metadata_text, wheel_text
from truewheel.unvendor.model import LibraryPlan
from truewheel.unvendor.names import dist_info_name, import_package, wheel_filename
from truewheel.unvendor.sbom import consumer_sbom, library_sbom
from truewheel.wheel import WheelArchive
from truewheel.wheel.archive import MAX_TEXT_BYTES
from truewheel.wheel.writer import (
    NewMember,
    RawMember,
    RecordSpec,
    wheel_order,
    write_wheel,
    zip_level,
)
from truewheel.wheel.ziptime import dos_datetime, source_date_epoch

if TYPE_CHECKING:
    from truewheel.commands.unvendor import Output, UnvendorOptions, WheelInput

__all__ = ["write_outputs"]


def write_outputs(
    inspector: Inspector,
    inputs: list[WheelInput],
    plans: list[LibraryPlan],
    extracted: Extracted,
    work: Path,
    options: UnvendorOptions,
    environ: Mapping[str, str],
) -> list[Output]:
    assert options.wheel_dir is not None
    existed = options.wheel_dir.is_dir()
    out_dir = output_directory(options.wheel_dir)
    passing = [p for p in plans if p.chosen is not None]
    order = _load_order(passing)
    wheels = _library_wheels(inspector, inputs, passing, order)
    epoch = source_date_epoch(dict(environ))
    level = zip_level(options.zip_level)
    staging = Path(tempfile.mkdtemp(prefix=".truewheel-", dir=out_dir))
    try:
        outputs = [
            _write_library(inspector, inputs, p, wheels, extracted, work, staging, epoch, level)
            for p in passing
        ]
        by_library = {p.library: p for p in passing}
        for item in inputs:
            removed = {
                c.member: wheels[c.library]
                for c in item.copies
                if c.library in by_library and c in by_library[c.library].copies
            }
            if removed:
                plan = plan_consumer(
                    item.facts, removed, {w.distribution: order[lib] for lib, w in wheels.items()}
                )
                outputs.append(
                    _write_consumer(
                        inspector, item, plan, passing, extracted, work, staging, epoch, level
                    )
                )
        inputs_paths = [i.path for i in inputs]
        for output in outputs:
            target = out_dir / Path(output.output).name
            check_not_input(target, inputs_paths, option="-w")
        for output in outputs:
            target = out_dir / Path(output.output).name
            Path(output.output).replace(target)
            output.output = str(target)
        return outputs
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not existed and not any(out_dir.iterdir()):
            out_dir.rmdir()  # a failed run leaves no directory it made


def _load_order(plans: list[LibraryPlan]) -> dict[str, int]:
    """library -> rank: 0 needs no other library wheel, n after those of rank < n."""
    by_library = {p.library: p for p in plans}
    rank: dict[str, int] = {}

    def visit(library: str, depth: int) -> int:
        if library not in rank:
            if depth > len(plans):
                raise AssertionError("cycle among library wheels")
            needs = [visit(r, depth + 1) for r in by_library[library].requires]
            rank[library] = 1 + max(needs) if needs else 0
        return rank[library]

    for p in plans:
        visit(p.library, 0)
    return rank


def _library_wheels(
    inspector: Inspector,
    inputs: list[WheelInput],
    plans: list[LibraryPlan],
    order: Mapping[str, int],
) -> dict[str, LibraryWheel]:
    facts = {i.path: i.facts for i in inputs}
    wheels: dict[str, LibraryWheel] = {}
    for plan in sorted(plans, key=lambda p: order[p.library]):
        chosen = plan.chosen
        assert chosen is not None and plan.distribution and plan.version and plan.soname
        native = next(f for f in facts[chosen.wheel].native_files if f.path == chosen.member)
        policies = inspector.musl if chosen.libc == inspector.musl.libc else inspector.glibc
        tags = policies.best(
            chosen.architecture, requirements([native], chosen.architecture, graftable=True)
        ).tags
        requires = tuple(
            (wheels[r].distribution, wheels[r].version, wheels[r].package)
            for r in sorted(plan.requires, key=lambda r: (order[r], r))
        )
        what = chosen.family_name or plan.library
        version = f" {chosen.version}" if chosen.version else ""
        wheels[plan.library] = LibraryWheel(
            distribution=plan.distribution,
            package=import_package(plan.distribution),
            version=plan.version,
            soname=plan.soname,
            summary=_printable(
                f"{what}{version} ({plan.library}), one copy shared by the wheels that vendored it"
            ),
            requires=requires,
            licence_files=tuple(_licences(inputs, plan)),
            platforms=tuple(tags),
        )
    return wheels


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() and ch not in '"\\' else "?" for ch in text)


def _licence_members(inputs: list[WheelInput], plan: LibraryPlan) -> dict[str, tuple[str, str]]:
    """Licence files the wheels carry for this library: relative name -> (wheel, member).

    A file under ``.dist-info/licenses/`` counts when a directory on its path is named
    for the library (``gmp``, ``gmp-6.3.0``, ``libgmp10``), as python-flint and
    truewheel repair lay them out; the chosen copy's wheel is looked at first.
    """
    chosen = plan.chosen
    assert chosen is not None
    stem = plan.library.partition(".so")[0].lower()
    names = {stem, stem.removeprefix("lib")} | ({chosen.family.lower()} if chosen.family else set())
    found: dict[str, tuple[str, str]] = {}
    for item in sorted(inputs, key=lambda i: i.path != chosen.wheel):
        prefix = f"{item.dist_info}/licenses/"
        for member in sorted(item.compressed):
            if not member.startswith(prefix):
                continue
            parts = member[len(prefix) :].split("/")
            named = [i for i, d in enumerate(parts[:-1]) if _named_for(d.lower(), names)]
            if named:
                found.setdefault("/".join(parts[named[0] :]), (item.path, member))
        if found:
            break
    return found


def _named_for(directory: str, names: set[str]) -> bool:
    """``gmp``, ``gmp-6.3.0`` or a Debian package's ``libgmp10`` (truewheel repair's layout)."""
    for name in names:
        rest = directory.removeprefix(name)
        if rest != directory and (not rest or rest.startswith("-") or rest.isdigit()):
            return True
    return False


def _licences(inputs: list[WheelInput], plan: LibraryPlan) -> list[str]:
    return sorted(_licence_members(inputs, plan))


def _write_library(
    inspector: Inspector,
    inputs: list[WheelInput],
    plan: LibraryPlan,
    wheels: Mapping[str, LibraryWheel],
    extracted: Extracted,
    work: Path,
    staging: Path,
    epoch: int | None,
    level: int,
) -> Output:
    from truewheel.commands.unvendor import Output

    chosen = plan.chosen
    assert chosen is not None
    wheel = wheels[plan.library]
    facts = next(i.facts for i in inputs if i.path == chosen.wheel)
    native = next(f for f in facts.native_files if f.path == chosen.member)
    edit = ElfEdit(set_soname=wheel.soname if wheel.soname != chosen.soname else None)
    owners = {(c.wheel, c.member): wheels[c.library] for i in inputs for c in i.copies}
    for needed, member in chosen.needed_names.items():
        edit.replace(needed, owners[(chosen.wheel, member)].soname, chosen.member)
    if native.elf.rpath or native.elf.runpath:
        edit.set_rpath = []
    source = extracted.path(chosen.wheel, chosen.member)
    patched = apply_edits(
        {wheel.library_member: partial(shutil.copyfile, source)},
        {wheel.library_member: edit},
        work=_fresh(work, "library"),
    )
    stamp = dos_datetime(epoch) if epoch is not None else _member_time(chosen.wheel, chosen.member)
    dist_info = dist_info_name(wheel.distribution, wheel.version)
    files: dict[str, bytes | Path] = {
        f"{wheel.package}/__init__.py": loader_source(wheel).encode(),
        wheel.library_member: patched[wheel.library_member],
        f"{dist_info}/METADATA": metadata_text(wheel).encode(),
        f"{dist_info}/WHEEL": wheel_text(f"truewheel {__version__}", wheel.platforms).encode(),
        f"{dist_info}/{SBOM_NAME}": library_sbom(
            wheel, plan, _chain(wheel, wheels), __version__
        ).encode(),
    }
    for relative, (path, member) in _licence_members(inputs, plan).items():
        with WheelArchive(path, inspector.limits) as source_wheel:
            zm = source_wheel.zip.get(member)
            assert zm is not None
            with located(path, member):
                files[f"{dist_info}/licenses/{relative}"] = source_wheel.read(
                    zm, limit=MAX_TEXT_BYTES
                )
    members = [
        NewMember(name, data, name == wheel.library_member, stamp) for name, data in files.items()
    ]
    members.sort(key=lambda m: wheel_order(m.name, dist_info))
    staged = staging / wheel_filename(wheel.distribution, wheel.version, list(wheel.platforms))
    write_wheel(
        staged, members, None, level=level, record=RecordSpec(f"{dist_info}/RECORD", stamp, {})
    )
    required = {d for d, _, _ in wheel.requires}
    _prove_loads(
        inspector,
        staged,
        [w.soname for w in wheels.values() if w.distribution in required],
        chosen.wheel,
    )
    note = (
        ""
        if wheel.licence_files
        else f"no licence file for {plan.library} found in the input wheels"
    )
    return Output("library", None, str(staged), wheel.distribution, wheel.version, note=note)


def _chain(wheel: LibraryWheel, wheels: Mapping[str, LibraryWheel]) -> list[ProvidedLibrary]:
    """The library wheels ``wheel``'s library needs, as its SBOM declares them."""
    required = {d for d, _, _ in wheel.requires}
    return [
        ProvidedLibrary(w.soname, w.requirement, w.distribution, w.soname, (wheel.library_member,))
        for w in wheels.values()
        if w.distribution in required
    ]


def _fresh(work: Path, name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work))


def _member_time(path: str, member: str) -> tuple[int, int]:
    with WheelArchive(path) as wheel:
        zm = wheel.zip.get(member)
        assert zm is not None
        return zm.dos_datetime


def _write_consumer(
    inspector: Inspector,
    item: WheelInput,
    plan: ConsumerPlan,
    passing: list[LibraryPlan],
    extracted: Extracted,
    work: Path,
    staging: Path,
    epoch: int | None,
    level: int,
) -> Output:
    from truewheel.commands.unvendor import Output, UnvendorError

    with WheelArchive(item.path, inspector.limits) as wheel:
        digests = verified_digests(wheel)
        patched = apply_edits(
            {m: partial(shutil.copyfile, extracted.path(item.path, m)) for m in plan.edits},
            plan.edits,
            work=_fresh(work, "consumer"),
        )
        new_files: dict[str, bytes | Path] = dict(patched)
        names = [m.name for m in wheel.files]
        users = [u for u in plan.users if not u.split("/", 1)[0].endswith(".libs")]
        inits = target_packages(users, names)
        if users and not inits:
            raise UnvendorError(
                "the files needing the shared library are not inside a package with an "
                "__init__.py to preload it from: " + ", ".join(users[:3]),
                path=item.path,
            )
        block = preload_source(plan.provided)
        for init in inits:
            member = wheel.zip.get(init)
            with located(item.path, init):
                init_bytes = wheel.read(member, limit=MAX_TEXT_BYTES) if member else b""
                new_files[init] = inject_preload_bytes(init_bytes, block)
        with located(item.path, wheel.metadata_name):
            metadata = add_requirements(wheel.read_text("METADATA"), plan.requirements)
        new_files[wheel.metadata_name] = metadata.encode()
        sbom_name = f"{wheel.dist_info}/{SBOM_NAME}"
        existing = wheel.zip.get(sbom_name)
        with located(item.path, sbom_name):
            existing_text = (
                wheel.read(existing, limit=MAX_TEXT_BYTES).decode() if existing else None
            )
            new_files[sbom_name] = consumer_sbom(
                existing_text,
                wheel=(wheel.metadata.name, wheel.metadata.version),
                removed=plan.removed,
                plans={p.distribution: p for p in passing if p.distribution},
                provided=plan.provided,
                tool_version=__version__,
            ).encode()
        stamp = (
            dos_datetime(epoch) if epoch is not None else max(m.dos_datetime for m in wheel.files)
        )
        executable = {m.name for m in wheel.files if m.mode & 0o111}
        members: list[RawMember | NewMember] = []
        for m in wheel.files:
            if m.name == wheel.record_name or m.name in new_files or m.name in plan.removed:
                continue
            members.append(
                RawMember(
                    m, m.name, m.name in executable, m.dos_datetime if epoch is None else stamp
                )
            )
        for name, data in new_files.items():
            source = wheel.zip.get(name)
            when = source.dos_datetime if source is not None and epoch is None else stamp
            members.append(NewMember(name, data, name in executable, when))
        members.sort(key=lambda m: wheel_order(m.name, wheel.dist_info))
        staged = staging / Path(item.path).name
        write_wheel(
            staged,
            members,
            wheel.zip,
            level=level,
            record=RecordSpec(wheel.record_name, stamp, digests),
        )
    _prove_loads(
        inspector,
        staged,
        [w.soname for w in plan.removed.values()] + [p.name for p in plan.provided],
        item.path,
    )
    return Output(
        "consumer",
        item.path,
        str(staged),
        item.facts.name,
        item.facts.version,
        removed=sorted(plan.removed),
        patched=sorted(plan.edits),
        requirements=plan.requirements,
    )


def _prove_loads(inspector: Inspector, staged: Path, shared: list[str], source: str) -> None:
    """Refuse an output in which some DT_NEEDED would not resolve (repair.verify)."""
    from truewheel.commands.unvendor import UnvendorError

    with WheelArchive(staged, inspector.limits) as wheel:
        facts = inspector.loader_facts(wheel)
    if facts.platform is None:
        return
    libc = facts.platform.libc.libc
    policies = inspector.musl if libc == inspector.musl.libc else inspector.glibc
    policy = facts.platform.computed.policy or policies.policies[-1]
    problems = unresolved(facts, policy, left_out=shared)
    if problems:
        raise UnvendorError(
            f"{posixpath.basename(str(staged))} would not load: "
            + describe_unresolved(problems, policy.tag(facts.platform.computed.architecture)),
            path=source,
        )
