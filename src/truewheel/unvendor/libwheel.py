"""The library wheel: one copy under its shared SONAME, its loader, licences and SBOM.

Its name, version and tags are settled first for every library (a chained library
wheel names the ones it requires); then each is written, its copy patched
(SONAME, chained DT_NEEDED renamed, search paths removed: chained libraries are
loaded first instead), and proven to load.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from truewheel import __version__
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.platform import requirements
from truewheel.errors import located
from truewheel.repair.model import ProvidedLibrary
from truewheel.repair.patchelf import apply_edits, patchelf_arguments
from truewheel.repair.plan import ElfEdit
from truewheel.repair.sbom import SBOM_NAME
from truewheel.unvendor.extracted import Extracted
from truewheel.unvendor.library import LibraryWheel, loader_source, metadata_text, wheel_text
from truewheel.unvendor.model import LibraryPlan, Output, WheelInput
from truewheel.unvendor.names import dist_info_name, import_package, wheel_filename
from truewheel.unvendor.proof import prove_loads
from truewheel.unvendor.sbom import library_sbom
from truewheel.wheel import WheelArchive
from truewheel.wheel.archive import MAX_TEXT_BYTES
from truewheel.wheel.writer import NewMember, RawMember, RecordSpec, wheel_order, write_wheel
from truewheel.wheel.ziptime import dos_datetime

__all__ = ["library_wheels", "write_library"]


def library_wheels(
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


def write_library(
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
    patched: dict[str, Path] = {}
    if patchelf_arguments(edit):
        source = extracted.path(chosen.wheel, chosen.member)
        patched = apply_edits(
            {wheel.library_member: partial(shutil.copyfile, source)},
            {wheel.library_member: edit},
            work=Path(tempfile.mkdtemp(prefix="library-", dir=work)),
        )
    stamp = dos_datetime(epoch) if epoch is not None else _member_time(chosen.wheel, chosen.member)
    dist_info = dist_info_name(wheel.distribution, wheel.version)
    files: dict[str, bytes | Path] = {
        f"{wheel.package}/__init__.py": loader_source(wheel).encode(),
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
    if patched:
        files[wheel.library_member] = patched[wheel.library_member]
    members: list[NewMember | RawMember] = [
        NewMember(name, data, name == wheel.library_member, stamp) for name, data in files.items()
    ]
    staged = staging / wheel_filename(wheel.distribution, wheel.version, list(wheel.platforms))
    with WheelArchive(chosen.wheel, inspector.limits) as origin:
        digests = {}
        if not patched:  # unchanged: its compressed bytes are copied as they are
            copy = origin.zip.get(chosen.member)
            assert copy is not None
            members.append(RawMember(copy, wheel.library_member, True, stamp))
            digests[wheel.library_member] = (_record_digest(chosen.sha256), chosen.size)
        members.sort(key=lambda m: wheel_order(m.name, dist_info))
        record = RecordSpec(f"{dist_info}/RECORD", stamp, digests)
        write_wheel(staged, members, origin.zip, level=level, record=record)
    required = {d for d, _, _ in wheel.requires}
    prove_loads(
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
    return Output(
        "library",
        None,
        str(staged),
        wheel.distribution,
        wheel.version,
        patched=sorted(patched),
        requirements=[f"{d}=={v}" for d, v, _ in wheel.requires],
        note=note,
    )


def _record_digest(sha256_hex: str) -> str:
    """The digest RECORD uses (urlsafe base64 without padding) of a known sha256."""
    return base64.urlsafe_b64encode(bytes.fromhex(sha256_hex)).rstrip(b"=").decode()


def _chain(wheel: LibraryWheel, wheels: Mapping[str, LibraryWheel]) -> list[ProvidedLibrary]:
    """The library wheels ``wheel``'s library needs, as its SBOM declares them."""
    required = {d for d, _, _ in wheel.requires}
    return [
        ProvidedLibrary(w.soname, w.requirement, w.distribution, w.soname, (wheel.library_member,))
        for w in wheels.values()
        if w.distribution in required
    ]


def _member_time(path: str, member: str) -> tuple[int, int]:
    with WheelArchive(path) as wheel:
        zm = wheel.zip.get(member)
        assert zm is not None
        return zm.dos_datetime
