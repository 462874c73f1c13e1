"""Write the library wheels and the rewritten consumers, prove they load, publish them.

Everything is written into one staging directory beside the targets; each output is
proven to load (proof.py) as it is written.  Only when all outputs pass are they
renamed into place, so a failure leaves no new wheel behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from truewheel._files import check_not_input, output_directory
from truewheel.analysis.inspector import Inspector
from truewheel.unvendor.consumer import plan_consumer
from truewheel.unvendor.extracted import Extracted
from truewheel.unvendor.libwheel import library_wheels, write_library
from truewheel.unvendor.model import LibraryPlan, Output, UnvendorError, WheelInput
from truewheel.unvendor.rewrite import write_consumer
from truewheel.wheel.writer import zip_level
from truewheel.wheel.ziptime import source_date_epoch

__all__ = ["write_outputs"]


def write_outputs(
    inspector: Inspector,
    inputs: list[WheelInput],
    plans: list[LibraryPlan],
    extracted: Extracted,
    work: Path,
    wheel_dir: Path,
    level: int | None,
    environ: Mapping[str, str],
) -> list[Output]:
    existed = wheel_dir.is_dir()
    out_dir = output_directory(wheel_dir)
    passing = [p for p in plans if p.chosen is not None]
    order = _load_order(passing)
    wheels = library_wheels(inspector, inputs, passing, order)
    epoch = source_date_epoch(dict(environ))
    deflate = zip_level(level)
    staging = Path(tempfile.mkdtemp(prefix=".truewheel-", dir=out_dir))
    try:
        outputs = [
            write_library(inspector, inputs, p, wheels, extracted, work, staging, epoch, deflate)
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
                    item.facts,
                    removed,
                    {w.distribution: order[lib] for lib, w in wheels.items()},
                    {w.distribution: w for w in wheels.values()},
                )
                outputs.append(
                    write_consumer(
                        inspector, item, plan, passing, extracted, work, staging, epoch, deflate
                    )
                )
        names = [Path(o.output).name for o in outputs]
        if len(set(names)) != len(names):
            twice = next(n for n in names if names.count(n) > 1)
            raise UnvendorError(f"two outputs would both be {twice} in -w")
        inputs_paths = [i.path for i in inputs]
        for output in outputs:
            target = out_dir / Path(output.output).name
            check_not_input(target, inputs_paths, option="-w")
        published: list[Path] = []
        try:
            for output in outputs:
                target = out_dir / Path(output.output).name
                Path(output.output).replace(target)
                published.append(target)
                output.output = str(target)
        except BaseException:  # interrupted between renames: no partial set is left
            for target in published:
                target.unlink(missing_ok=True)
            raise
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
