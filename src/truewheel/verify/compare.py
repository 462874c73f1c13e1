"""The published wheel against its rebuild, member by member, with ``truewheel diff``'s causes.

:func:`~truewheel.commands.diff.diff_wheels` does the comparing (central directories
first, only differing members inflated, ELF members explained by ``diff/elfdiff.py``);
this module adds what a rebuild needs on top: grafted libraries paired by the name
before mangling (``libffi-1a2b3c4d.so.8`` and ``libffi-5e6f7a8b.so.8`` are one library
whose copies differ), each cause sorted into a kind, and a member whose only causes are
the edits a repair makes called *identical after repair edits*.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import PurePosixPath

from truewheel.commands.diff import MemberDifference, diff_wheels
from truewheel.diff.elfdiff import explain_elf_difference
from truewheel.errors import TruewheelError
from truewheel.verify.published import original_name
from truewheel.verify.rebuild_model import (
    CauseKind,
    MemberKind,
    RebuildStatus,
    RebuiltMember,
)
from truewheel.wheel import WheelArchive

__all__ = ["Comparison", "cause_kind", "compare_rebuild"]

# The first words of each cause diff names, and what kind of cause it is.
_PREFIXES: tuple[tuple[str, CauseKind], ...] = (
    ("compiler differs", "toolchain"),
    ("compiler switches differ", "flags"),
    ("build path differs", "build-path"),
    ("embedded date", "dates"),
    ("embedded time", "dates"),
    ("debug info present", "debug-info"),
    ("sections only in", "sections"),
    ("DT_NEEDED", "linking"),
    ("SONAME", "repair-edits"),
    ("RPATH", "repair-edits"),
    ("RUNPATH", "repair-edits"),
    ("tags changed", "tags"),
    ("build backend differs", "backend"),
)
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
_PYTHON_SUFFIXES = (".py", ".pyi", ".pth")


@dataclass(frozen=True)
class Comparison:
    members: tuple[RebuiltMember, ...]
    bit_identical: bool
    zip_notes: tuple[str, ...]


def cause_kind(cause: str) -> CauseKind:
    if cause.startswith("DT_NEEDED renamed: "):
        return _rename_kind(cause.removeprefix("DT_NEEDED renamed: "))
    for prefix, kind in _PREFIXES:
        if cause.startswith(prefix):
            return kind
    return "code"


def compare_rebuild(
    published: str | os.PathLike[str], rebuilt: str | os.PathLike[str]
) -> Comparison:
    """Every member of ``published`` (A) against ``rebuilt`` (B), and B's extra members."""
    found = diff_wheels(published, rebuilt)
    with WheelArchive(published) as wa, WheelArchive(rebuilt) as wb:
        if found.identical:
            same = tuple(RebuiltMember(m.name, "identical", _kind(wa, m.name)) for m in wa.files)
            return Comparison(same, True, ())
        pairs = _paired_grafts(found.only_in_a, found.only_in_b)
        differing = {d.name: d for d in found.members}
        members: list[RebuiltMember] = []
        for member in wa.files:
            name, kind = member.name, _kind(wa, member.name)
            if name in pairs:
                members.append(_graft_pair(wa, wb, name, pairs[name]))
            elif name in found.only_in_a:
                members.append(RebuiltMember(name, "only-in-published", kind))
            elif name in differing:
                members.append(_member(differing[name], kind, wa, wb))
            else:
                members.append(RebuiltMember(name, "identical", kind))
        paired_b = set(pairs.values())
        members += [
            RebuiltMember(n, "only-in-rebuild", _kind(wb, n))
            for n in found.only_in_b
            if n not in paired_b
        ]
        generators = (wa.wheel_info.generator, wb.wheel_info.generator)
    if generators[0] != generators[1]:
        members = [_by_backend(m, generators) for m in members]
    notes = []
    if found.order_differs:
        notes.append("members are stored in another order")
    if found.timestamps_differ:
        notes.append(f"zip timestamps differ on {len(found.timestamps_differ)} members")
    if found.permissions_differ:
        notes.append("permissions differ: " + "; ".join(found.permissions_differ[:4]))
    if found.compression_differs:
        notes.append(f"compression differs on {len(found.compression_differs)} members")
    return Comparison(tuple(members), False, tuple(notes))


def _rename_kind(renames: str) -> CauseKind:
    """A repair renames a library to its mangled copy (``libffi.so.8 -> libffi-1a2b3c4d.so.8``,
    or one mangling to another); ``libpthread.so.0 -> libyaml-0-….so.2`` in one position is
    not an edit but another set of libraries linked."""
    for pair in renames.split(", "):
        old, _, new = pair.partition(" -> ")
        if not new or original_name(old) != original_name(new):
            return "linking"
    return "repair-edits"


def _kind(wheel: WheelArchive, name: str) -> MemberKind:
    path = PurePosixPath(name)
    if name.startswith(wheel.dist_info + "/"):
        return "metadata"
    top = path.parts[0] if path.parts else ""
    if top.endswith(".libs") and len(path.parts) > 1:
        return "graft"
    if name.endswith(_PYTHON_SUFFIXES):
        return "python"
    if path.suffix in _NATIVE_SUFFIXES or ".so." in path.name:
        return "native"
    return "data"


def _paired_grafts(only_a: Iterable[str], only_b: Iterable[str]) -> dict[str, str]:
    """A's grafted library -> B's, by the file name before mangling."""
    by_original: dict[str, str] = {}
    for name in only_b:
        if _in_libs(name):
            by_original.setdefault(original_name(name), name)
    return {
        name: by_original[original_name(name)]
        for name in only_a
        if _in_libs(name) and original_name(name) in by_original
    }


def _in_libs(name: str) -> bool:
    top, _, rest = name.partition("/")
    return bool(rest) and top.endswith(".libs")


def _graft_pair(wa: WheelArchive, wb: WheelArchive, name_a: str, name_b: str) -> RebuiltMember:
    ma, mb = wa.zip.get(name_a), wb.zip.get(name_b)
    assert ma is not None and mb is not None
    try:
        elf = explain_elf_difference(
            partial(wa.stream, ma), ma.file_size, partial(wb.stream, mb), mb.file_size
        )
    except TruewheelError as exc:
        causes: tuple[str, ...] = (f"ELF could not be compared: {exc}",)
        return RebuiltMember(name_a, "different", "graft", name_b, causes, ("code",))
    return _classified(name_a, "graft", elf.causes, elf.consequences, name_b)


def _member(
    difference: MemberDifference, kind: MemberKind, wa: WheelArchive, wb: WheelArchive
) -> RebuiltMember:
    causes = list(difference.causes)
    if difference.kind == "record" and not causes:
        return RebuiltMember(
            difference.name,
            "different",
            kind,
            difference.name_b,
            (),
            ("follows",),
            tuple(difference.consequences),
        )
    if difference.kind == "wheel":
        causes = _wheel_causes(causes, wa, wb)
    elif difference.kind == "text" and difference.detail:
        shown = [
            line if line[1:].strip() else f"{line[:1]}(blank line)" for line in difference.detail
        ]
        causes = [f"text differs: {' | '.join(shown)}"]
    member = _classified(difference.name, kind, causes, difference.consequences, difference.name_b)
    if kind == "metadata" and difference.kind == "text":
        return RebuiltMember(
            member.path, member.status, kind, member.rebuilt_path, member.causes, ("metadata",)
        )
    return member


def _wheel_causes(causes: list[str], wa: WheelArchive, wb: WheelArchive) -> list[str]:
    """WHEEL's "fields differ" told apart: a Generator line naming another backend version."""
    generator_a, generator_b = wa.wheel_info.generator, wb.wheel_info.generator
    if "fields differ" not in causes or generator_a == generator_b:
        return causes
    rest = [c for c in causes if c != "fields differ"]
    return [*rest, f"build backend differs (WHEEL Generator): A {generator_a}  B {generator_b}"]


def _classified(
    name: str,
    kind: MemberKind,
    causes: Iterable[str],
    consequences: Iterable[str],
    rebuilt_path: str | None,
) -> RebuiltMember:
    causes = tuple(causes)
    kinds = tuple(dict.fromkeys(cause_kind(c) for c in causes)) or ("code",)
    status: RebuildStatus = (
        "identical-after-repair-edits" if set(kinds) == {"repair-edits"} else "different"
    )
    return RebuiltMember(name, status, kind, rebuilt_path, causes, kinds, tuple(consequences))


def _by_backend(member: RebuiltMember, generators: tuple[str | None, str | None]) -> RebuiltMember:
    """A ``.dist-info`` file the backends wrote differently: named for the backend versions
    (setuptools 77 moved licence files to ``licenses/`` and wrote Metadata-Version 2.4)."""
    if member.kind != "metadata" or member.status == "identical" or "follows" in member.cause_kinds:
        return member
    if "backend" in member.cause_kinds:
        return member
    cause = (
        f"written by another build backend (WHEEL Generator): A {generators[0]}  B {generators[1]}"
    )
    kinds: tuple[CauseKind, ...] = (*member.cause_kinds, "backend")
    return replace(member, causes=(*member.causes, cause), cause_kinds=kinds)
