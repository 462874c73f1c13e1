"""Glue between ``truewheel repair`` arguments, the repair command and its output."""

from __future__ import annotations

from pathlib import Path

from truewheel._files import output_directory
from truewheel.cli import imported, working_on
from truewheel.cli._inspect import expand_paths
from truewheel.cli._outcome import Outcome
from truewheel.cli._text import plain_text
from truewheel.commands.repair import Repairer, RepairOptions, RepairResult
from truewheel.errors import InputError, TruewheelError
from truewheel.jsonreport import dumps
from truewheel.repair.hostlibs import HostLibraries
from truewheel.repair.plan import Provider, RepairPlan


def run_repair(
    wheels: tuple[str, ...],
    *,
    plat: str | None,
    wheel_dir: str,
    lib_sdir: str,
    excludes: tuple[str, ...],
    providers: tuple[str, ...],
    strip: bool,
    only_plat: bool,
    no_update_tags: bool,
    zip_compression_level: int | None,
    keep_rpath: bool = False,
    disable_isa_ext_check: bool = False,
    ldpaths: str | None = None,
    allow_pure: bool = False,
    patcher: str = "patchelf",
    as_json: bool,
) -> Outcome:
    """A wheel that cannot be repaired is an error (exit status 2); the others are written.

    The options are ``truewheel repair``'s (auditwheel's, and truewheel's own).
    """
    if patcher != "patchelf":
        raise InputError(
            f"--patcher {patcher[:80]!r} is not supported: truewheel edits ELF files "
            "with patchelf only (--patcher patchelf)"
        )
    paths, errors = expand_paths(wheels)
    options = RepairOptions(
        wheel_dir=Path(wheel_dir),
        plat=plat,
        lib_sdir=lib_sdir,
        excludes=excludes,
        providers=tuple(Provider.parse(p) for p in providers),
        strip=strip,
        only_plat=only_plat,
        update_tags=not no_update_tags,
        zip_level=zip_compression_level,
        keep_rpath=keep_rpath,
        isa_check=not disable_isa_ext_check,
        allow_pure=allow_pure,
        inputs=tuple(str(p) for p in paths),
    )
    if paths:
        output_directory(wheel_dir, option="-w")
    repairer = Repairer(host=HostLibraries.for_repair(ldpaths))
    imported()  # the policy tables are loaded: they live as long as the process
    results: list[RepairResult] = []
    for path in paths:
        try:
            with working_on(path):
                results.append(repairer.repair(path, options))
        except TruewheelError as exc:
            errors.append(exc.located(path=str(path)))
    if as_json:
        from truewheel.cli._documents import repair_document

        report = dumps(repair_document(results, errors))
    else:
        report = plain_text(line for r in results for line in describe(r))
    return Outcome(report, errors=errors)


def describe(result: RepairResult) -> list[str]:
    """Lines saying what was done; they hold names from the wheel, so they are escaped
    where they are joined (:func:`~truewheel.cli._text.plain_text`)."""
    lines = [f"{Path(result.input).name} -> {result.output}"]
    if result.note:
        lines.append(f"  {result.note}")
    plan = result.plan
    if plan is not None:
        lines.append(f"  tags: {'.'.join(result.platform_tags)}")
        for g in plan.grafted:
            what = f" ({g.family_name} {g.version})" if g.family_name and g.version else ""
            lines.append(
                f"  grafted {g.original_name} from {g.source_path} as {g.wheel_path}{what}"
            )
        for e in plan.excluded:
            lines.append(
                f"  excluded {e.name} (--exclude {e.pattern}), needed by {', '.join(e.needed_by)}"
            )
        for p in plan.provided:
            lines.append(f"  provided by {p.requirement}: {p.name} (kept DT_NEEDED, preloaded)")
        for member, entries in sorted(plan.removed_search_paths.items()):
            lines.append(
                f"  removed search path {':'.join(entries)} from {member} "
                "(it does not lead into the wheel; --keep-rpath keeps it)"
            )
        lines += _libpython_and_scripts(plan)
    return lines


def _libpython_and_scripts(plan: RepairPlan) -> list[str]:
    lines = [
        f"  removed DT_NEEDED {d.name} from {d.file} (the interpreter provides libpython; "
        "manylinux and musllinux forbid linking it)"
        for d in plan.dropped_libpython
    ]
    lines += [
        f"  moved {m.script} to {m.program} (it needs grafted libraries, which a program "
        "installed in bin/ cannot find); a launcher in its place runs it"
        for m in plan.moved_scripts
    ]
    return lines
