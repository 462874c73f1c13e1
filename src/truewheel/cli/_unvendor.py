"""Glue between ``truewheel unvendor`` arguments, the command and its output."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from truewheel.cli import imported, working_on
from truewheel.cli._inspect import expand_paths
from truewheel.cli._outcome import Outcome
from truewheel.cli._text import plain_text
from truewheel.commands.unvendor import Unvendorer, UnvendorOptions, UnvendorResult
from truewheel.errors import InputError, TruewheelError
from truewheel.jsonreport import dumps, envelope
from truewheel.unvendor.model import Copy, LibraryPlan
from truewheel.unvendor.sbom import gate_statement


def run_unvendor(
    wheels: tuple[str, ...],
    *,
    patterns: tuple[str, ...],
    wheel_dir: str,
    name: str | None,
    plan_only: bool,
    catalog: str | None,
    zip_compression_level: int | None,
    as_json: bool,
) -> Outcome:
    if catalog is not None and not plan_only:
        raise InputError("--catalog asks a question only: use it with --plan")
    if not patterns and not plan_only:
        raise InputError("say which libraries to share with --lib PATTERN (or ask with --plan)")
    errors: list[TruewheelError] = []
    if catalog is not None:
        from truewheel.unvendor.catalog import catalog_wheels

        paths = [Path(p) for p in catalog_wheels(catalog, wheels)]
    else:
        paths, errors = expand_paths(wheels)
    if errors:
        return Outcome("", errors=errors)
    options = UnvendorOptions(
        patterns=patterns or None,
        wheel_dir=Path(wheel_dir),
        name=name,
        plan_only=plan_only,
        zip_level=zip_compression_level,
        mirror=catalog is not None,
    )
    unvendorer = Unvendorer()
    imported()
    try:
        with working_on(paths[0] if paths else "unvendor"):
            result = unvendorer.run(paths, options)
    except TruewheelError as exc:
        return Outcome("", errors=[exc])
    report = dumps(unvendor_document(result, [])) if as_json else plain_text(describe(result))
    return Outcome(report, findings=bool(result.refused))


def describe(result: UnvendorResult) -> list[str]:
    lines: list[str] = []
    saved = [p.saved_bytes for p in result.libraries]
    alone = [p for p in result.libraries if len(p.copies) == 1 and p.passes]
    for plan in result.libraries:
        if plan not in alone or not result.plan_only:
            lines += _plan_lines(plan)
    if alone and result.plan_only:
        lines.append(
            "held by one wheel only (a library wheel would save nothing yet): "
            + ", ".join(f"{p.revision} ({Path(p.copies[0].wheel).name})" for p in alone)
        )
    for output in result.outputs:
        what = f"{output.distribution} {output.version}"
        if output.kind == "library":
            lines.append(f"wrote library wheel {output.output} ({what})")
        else:
            lines.append(f"wrote {output.output} ({what}): removed {', '.join(output.removed)}")
            lines.append(f"  requires {', '.join(output.requirements)}")
        if output.note:
            lines.append(f"  note: {output.note}")
    if not result.libraries:
        lines.append("no vendored library matched")
    else:
        unpacked = sum(s[0] for s in saved)
        compressed = sum(s[1] for s in saved)
        shared = [p for p in result.libraries if len(p.copies) > 1]
        passing = sum(1 for p in shared if p.passes)
        single = len(result.libraries) - len(shared)
        verb = "would remove" if result.plan_only else "removed"
        gate = (
            f"{passing} of {len(shared)} libraries with more than one copy pass the ABI gate"
            if shared
            else "no library has more than one copy"
        )
        lines.append(
            gate
            + (f" ({single} held by one wheel only)" if single else "")
            + f"; copies {'to remove' if result.plan_only else 'removed'}: {_size(unpacked)} "
            f"unpacked, {_size(compressed)} compressed"
        )
        duplicated = sum(p.duplicated_bytes[0] for p in result.libraries)
        removed = sum(p.duplicated_bytes[0] for p in result.libraries if p.passes)
        if duplicated:
            lines.append(
                f"duplicated today (identical bytes or same version): {_size(duplicated)} "
                f"unpacked; the plan {verb} {_size(removed)} of them "
                f"({100 * removed / duplicated:.0f}%)"
            )
        if result.outputs:
            before = sum(Path(o.input).stat().st_size for o in result.outputs if o.input)
            after = sum(Path(o.output).stat().st_size for o in result.outputs)
            lines.append(
                f"wheel files: {_size(before)} before, {_size(after)} after (library wheels "
                "included; edited files are compressed anew)"
            )
    return lines


def _plan_lines(plan: LibraryPlan) -> list[str]:
    head = f"{plan.revision} ({plan.architecture}"
    head += f", {plan.libc})" if plan.libc else ")"
    lines = [
        f"{head}: {len(plan.copies)} copies, {_size(plan.unpacked_bytes)} unpacked, "
        f"{_size(plan.compressed_bytes)} compressed"
    ]
    for c in plan.copies:
        mark = "*" if c is plan.chosen else " "
        lines.append(f" {mark} {Path(c.wheel).name}: {c.member} [{_identity(c)}]")
    if plan.chosen is not None:
        lines.append(f"  ABI gate passes: {gate_statement(plan)}")
        if plan.distribution:
            lines.append(
                f"  library wheel {plan.distribution} {plan.version}, SONAME {plan.soname}"
                + (f", requires {', '.join(plan.requires)}" if plan.requires else "")
            )
        unpacked, compressed = plan.saved_bytes
        lines.append(f"  saves {_size(unpacked)} unpacked, {_size(compressed)} compressed")
    elif plan.refusal is not None:
        lines.append(f"  refused: {plan.refusal.reason}")
    return lines


def _identity(c: Copy) -> str:
    parts = [p for p in (c.family_name, c.version) if p]
    parts.append(c.toolchain or "toolchain unknown")
    parts.append(f"sha256 {c.sha256[:12]}")
    return ", ".join(parts)


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def unvendor_document(result: UnvendorResult, errors: list[TruewheelError]) -> dict[str, Any]:
    return envelope(
        "unvendor",
        {
            "plan_only": result.plan_only,
            "wheels": result.wheels,
            "libraries": [_plan_json(p) for p in result.libraries],
            "outputs": [asdict(o) for o in result.outputs],
        },
        errors,
    )


def _plan_json(plan: LibraryPlan) -> dict[str, Any]:
    unpacked, compressed = plan.saved_bytes
    return {
        "library": plan.library,
        "revision": plan.revision,
        "architecture": plan.architecture,
        "libc": plan.libc,
        "copies": [
            {k: v for k, v in asdict(c).items() if k != "needed_names"} for c in plan.copies
        ],
        "passes": plan.passes,
        "chosen": {"wheel": plan.chosen.wheel, "member": plan.chosen.member}
        if plan.chosen
        else None,
        "refusal": asdict(plan.refusal) if plan.refusal else None,
        "consumers": plan.consumers,
        "checked_symbols": plan.checked_symbols,
        "distribution": plan.distribution if plan.chosen else None,
        "version": plan.version if plan.chosen else None,
        "soname": plan.soname if plan.chosen else None,
        "requires": plan.requires,
        "unpacked_bytes": plan.unpacked_bytes,
        "compressed_bytes": plan.compressed_bytes,
        "saved_unpacked_bytes": unpacked,
        "saved_compressed_bytes": compressed,
        "duplicated_unpacked_bytes": plan.duplicated_bytes[0],
        "duplicated_compressed_bytes": plan.duplicated_bytes[1],
    }
