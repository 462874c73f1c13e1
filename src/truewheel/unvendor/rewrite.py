"""A consumer wheel written again: its copies removed, DT_NEEDED renamed, pins and
preloads added, its SBOM updated; unchanged members copied compressed, byte for byte,
after their RECORD digests are checked (as repair does)."""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path

from truewheel import __version__
from truewheel.analysis.inspector import Inspector
from truewheel.analysis.scan import verified_digests
from truewheel.errors import located
from truewheel.repair.patchelf import apply_edits
from truewheel.repair.preload import preload_source, preloaded_inits, target_packages
from truewheel.repair.rewrite import add_requirements
from truewheel.repair.sbom import SBOM_NAME
from truewheel.unvendor.consumer import ConsumerPlan
from truewheel.unvendor.extracted import Extracted
from truewheel.unvendor.model import LibraryPlan, Output, UnvendorError, WheelInput
from truewheel.unvendor.proof import prove_loads
from truewheel.unvendor.sbom import consumer_sbom
from truewheel.wheel import WheelArchive
from truewheel.wheel.archive import MAX_TEXT_BYTES
from truewheel.wheel.writer import NewMember, RawMember, RecordSpec, wheel_order, write_wheel
from truewheel.wheel.ziptime import dos_datetime

__all__ = ["write_consumer"]


def write_consumer(
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
    with WheelArchive(item.path, inspector.limits) as wheel:
        digests = verified_digests(wheel)
        patched = apply_edits(
            {m: partial(shutil.copyfile, extracted.path(item.path, m)) for m in plan.edits},
            plan.edits,
            work=Path(tempfile.mkdtemp(prefix="consumer-", dir=work)),
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
        new_files.update(preloaded_inits(wheel, inits, preload_source(plan.provided)))
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
    prove_loads(
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
