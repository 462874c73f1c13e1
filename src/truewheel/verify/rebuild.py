"""``verify --rebuild``: build the sdist here, repair it as the published wheel was, compare.

The build is ``truewheel build``'s (:func:`~truewheel.commands.build.build_wheel`: the
private build root, compiler shims with prefix maps, a neutral environment, a normalised
wheel), so whatever differs is the toolchain, the flags or the source, not the machine's
paths or clock.  A published wheel a repair tool made (grafts in ``<dist>.libs/``, a
manylinux tag, a repair SBOM) is compared with the rebuild repaired by ``truewheel repair``
for the tag the published wheel names, grafting the libraries this machine has; where the
content built here cannot meet that tag the best tag it meets is used, and said.  The
comparison (:mod:`.compare`) names a cause for every difference; :func:`assess` turns the
result into findings (only for code that differs where the toolchain is the same) and the
sentences of what was proven all the same.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from truewheel.commands.build import BuildResult, build_wheel
from truewheel.commands.repair import Repairer, RepairOptions
from truewheel.policy.libraries import LibraryName
from truewheel.repair.hostlibs import HostLibraries
from truewheel.repair.plan import RepairError
from truewheel.reproducible.backend import BuildError
from truewheel.reproducible.source import sha256_file
from truewheel.verify.compare import compare_rebuild
from truewheel.verify.model import Finding
from truewheel.verify.published import (
    Published,
    comments_of,
    glibc_of_tag,
    native_files,
    read_published,
    target_tag,
)
from truewheel.verify.rebuild_model import RebuildResult, RebuiltMember, RepairReplay, Toolchain

__all__ = ["assess", "grafted_here_only", "rebuild"]

_EXCUSING = {
    "linking",
    "toolchain",
    "flags",
    "build-path",
    "dates",
    "debug-info",
    "sections",
    "repair-edits",
}


def rebuild(
    wheel: str | os.PathLike[str],
    sdist: str | os.PathLike[str],
    environ: dict[str, str] | None = None,
) -> tuple[RebuildResult, list[Finding]]:
    """Build ``sdist`` as truewheel builds, repair like ``wheel``, compare the two."""
    environ = dict(os.environ) if environ is None else dict(environ)
    published = read_published(wheel)
    env = {**environ, **published.applied}
    with tempfile.TemporaryDirectory(prefix="truewheel-rebuild-") as work:
        built, pinned = _build(os.fspath(sdist), Path(work), env, published)
        final, replay = built.wheel, None
        if published.repaired:
            epoch = json.loads(built.buildinfo.read_text())["source_date_epoch"]
            repair_env = {**environ, "SOURCE_DATE_EPOCH": str(epoch)}
            final, replay = _replay_repair(published, built.wheel, Path(work), repair_env)
        comparison = compare_rebuild(published.path, final)
        rebuilt_comments = comments_of(
            elf for name, elf in native_files(final).items() if not _in_libs(name)
        )
        result = RebuildResult(
            rebuilt_wheel=final.name,
            rebuilt_sha256=sha256_file(final),
            published_sha256=published.sha256,
            bit_identical=comparison.bit_identical,
            reproduced=_reproduced(comparison.members),
            buildinfo=published.buildinfo,
            applied=tuple(sorted(published.applied.items())),
            pins=pinned,
            repair=replay,
            toolchain=Toolchain(
                published=published.comments,
                rebuilt=rebuilt_comments,
                buildinfo=published.compiler,
                same=set(published.comments) == set(rebuilt_comments),
            ),
            members=comparison.members,
            proven=(),
        )
    findings = [Finding("note", "rebuild-buildinfo", n) for n in published.notes]
    findings += [Finding("note", "rebuild-zip", n) for n in comparison.zip_notes]
    proven, assessed = assess(result)
    return _with_proven(result, proven), findings + assessed


def _build(
    sdist: str, work: Path, env: dict[str, str], published: Published
) -> tuple[BuildResult, tuple[str, ...]]:
    """truewheel's build, the backend pinned to the version the published wheel names
    (and every build requirement a buildinfo pins); unpinned when that build fails."""
    if published.pins:
        constraints = work / "constraints.txt"
        constraints.write_text("".join(f"{p}\n" for p in published.pins))
        try:
            pinned = {**env, "PIP_CONSTRAINT": str(constraints)}
            return build_wheel(sdist, work / "built", pinned), tuple(published.pins)
        except BuildError as exc:
            published.notes.append(
                f"the build with {', '.join(published.pins)} failed ({exc.message}); "
                "built with the newest versions instead"
            )
    return build_wheel(sdist, work / "built", env), ()


def _in_libs(name: str) -> bool:
    top, _, rest = name.partition("/")
    return bool(rest) and top.endswith(".libs")


def _replay_repair(
    published: Published, built: Path, work: Path, environ: dict[str, str]
) -> tuple[Path, RepairReplay]:
    """``truewheel repair`` of the rebuild for the published wheel's tag, else the best tag
    this content meets; the unrepaired rebuild when no repair succeeds (said in notes)."""
    host = HostLibraries.for_repair(environ=environ)
    unavailable = tuple(published.unavailable(host))
    notes = [f"grafted library not available on this machine: {n}" for n in unavailable]
    wanted = target_tag(published.tags)
    repairer = Repairer(host=host, environ=environ)
    for index, plat in enumerate(dict.fromkeys((wanted, None))):
        out = work / f"repaired-{index}"
        try:
            done = repairer.repair(built, RepairOptions(wheel_dir=out, plat=plat))
        except RepairError as exc:
            notes.append(f"repair for {plat or 'the best policy'} refused here: {exc.message}")
            continue
        if plat is None and wanted is not None:
            notes.append(f"repaired for {', '.join(done.platform_tags)} instead of {wanted}")
        grafted = [g.original_name for g in done.plan.grafted] if done.plan else []
        extra = grafted_here_only(grafted, published.grafts)
        if extra:
            notes.append(
                f"the rebuild links {', '.join(extra)} from this machine, which the published "
                "wheel does not carry (its build linked it statically, or not at all)"
            )
        replay = RepairReplay(
            published_tags=published.tags,
            grafts=tuple(sorted(published.grafts)),
            sboms=published.sboms,
            target=plat or (done.platform_tags[0] if done.platform_tags else None),
            rebuilt_tags=tuple(done.platform_tags),
            unavailable=unavailable,
            notes=tuple(notes),
        )
        return Path(done.output), replay
    notes.append("the rebuild is compared unrepaired")
    replay = RepairReplay(
        published.tags,
        tuple(sorted(published.grafts)),
        published.sboms,
        None,
        (),
        unavailable,
        tuple(notes),
    )
    return built, replay


def grafted_here_only(grafted: Iterable[str], published: Iterable[str]) -> list[str]:
    """The libraries the rebuild's repair grafted (their original names) that no published
    graft is a copy of, compared by library (``libgmp``): a graft of another version
    (gmpy2 2.2.1 ships ``libgmp-c9be030b.so.10.5.0``, this machine grafts ``libgmp.so.10``,
    10.4.1) is the same library."""
    theirs = {LibraryName.parse(Path(name).name).stem for name in published}
    return sorted({g for g in grafted if LibraryName.parse(g).stem not in theirs})


def _reproduced(members: tuple[RebuiltMember, ...]) -> bool:
    return all(
        m.status in ("identical", "identical-after-repair-edits")
        or (m.status == "different" and m.cause_kinds == ("follows",))
        for m in members
    )


def assess(result: RebuildResult) -> tuple[tuple[str, ...], list[Finding]]:
    """What the comparison proved, and the findings: code that differs for no named reason
    where the toolchain is the same (any other difference has a cause and is a note)."""
    findings: list[Finding] = []
    proven: list[str] = []
    members = result.members
    if result.bit_identical:
        return ("the rebuild is bit for bit the published wheel",), []
    if result.reproduced:
        proven.append("every member reproduced (identical, or identical after repair edits)")
    toolchain = result.toolchain
    if not toolchain.same and toolchain.published and toolchain.rebuilt:
        findings.append(
            Finding(
                "note",
                "rebuild-toolchain",
                f"the published native files were built by {'; '.join(toolchain.published)}, "
                f"this machine's by {'; '.join(toolchain.rebuilt)}{_glibc(result)}: they "
                "cannot be bit for bit the same here",
            )
        )
    for kind, label in (("python", "pure-Python"), ("data", "data")):
        mine = [m for m in members if m.kind == kind and m.status != "only-in-rebuild"]
        same = [m for m in mine if m.status == "identical"]
        if mine and len(same) == len(mine):
            proven.append(f"all {len(mine)} {label} members identical")
    meta = [m for m in members if m.kind == "metadata" and m.status != "only-in-rebuild"]
    if meta and all(m.status == "identical" or m.cause_kinds == ("follows",) for m in meta):
        proven.append(f"all {len(meta)} .dist-info members identical (RECORD as it follows)")
    native = [m for m in members if m.kind == "native" and m.status != "only-in-rebuild"]
    if native:
        proven.append(_native_sentence(native))
    for m in members:
        code_differs = m.status == "different" and "code" in m.cause_kinds
        if m.kind == "python" and (code_differs or m.status == "only-in-published"):
            what = "differs from its rebuild" if code_differs else "is not produced by the rebuild"
            findings.append(Finding("finding", "rebuild-python-differs", what, m.path))
        elif (
            m.kind == "native"
            and code_differs
            and toolchain.same
            and not set(m.cause_kinds) & _EXCUSING
        ):
            findings.append(
                Finding(
                    "finding",
                    "rebuild-code-differs",
                    "differs from its rebuild by the same compiler, for no named reason: "
                    + "; ".join(m.causes[:2]),
                    m.path,
                )
            )
    if result.repair is not None:
        findings += [Finding("note", "rebuild-repair", n) for n in result.repair.notes]
    return tuple(proven), findings


def _glibc(result: RebuildResult) -> str:
    """The C libraries the two builds linked against, where the tag and this machine say."""
    here = _confstr("CS_GNU_LIBC_VERSION")
    tag = target_tag(result.repair.published_tags) if result.repair else None
    theirs = glibc_of_tag(tag) if tag else None
    if not here or not theirs:
        return ""
    return f" against {here} (the published tag {tag}: glibc {theirs} or older)"


def _confstr(name: str) -> str | None:
    try:
        return os.confstr(name)
    except (ValueError, OSError):
        return None


def _native_sentence(native: list[RebuiltMember]) -> str:
    same = sum(m.status in ("identical", "identical-after-repair-edits") for m in native)
    if same == len(native):
        return f"all {len(native)} native modules identical (after repair edits)"
    excused = [m for m in native if m.status == "different" and set(m.cause_kinds) <= _EXCUSING]
    kinds = sorted({k for m in excused for k in m.cause_kinds})
    sentence = f"{same} of {len(native)} native modules identical"
    if excused:
        verb = "differs" if len(excused) == 1 else "differ, each"
        sentence += f"; {len(excused)} {verb} for a named cause ({', '.join(kinds)})"
    rest = len(native) - same - len(excused)
    if rest:
        sentence += f"; {rest} differ otherwise or are missing"
    return sentence


def _with_proven(result: RebuildResult, proven: tuple[str, ...]) -> RebuildResult:
    from dataclasses import replace

    return replace(result, proven=proven)
