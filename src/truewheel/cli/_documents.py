"""The ``--json`` documents of repair, diff, build, normalize and verify.

Each is :func:`~truewheel.jsonreport.envelope` around the command's own
fields; the schemas are ``schemas/<command>.schema.json`` (docs/json-schema.md).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from truewheel.commands.build import BuildResult, CheckResult
from truewheel.commands.diff import WheelDiff
from truewheel.commands.normalize import NormalizeResult
from truewheel.commands.repair import RepairResult
from truewheel.errors import TruewheelError
from truewheel.jsonreport import envelope
from truewheel.verify import VerifyReport

__all__ = [
    "build_document",
    "diff_document",
    "normalize_document",
    "repair_document",
    "verify_document",
]


def repair_document(results: list[RepairResult], errors: list[TruewheelError]) -> dict[str, Any]:
    return envelope("repair", {"wheels": [_repair_json(r) for r in results]}, errors)


def _repair_json(result: RepairResult) -> dict[str, Any]:
    plan = result.plan
    return {
        "input": result.input,
        "output": result.output,
        "changed": result.changed,
        "note": result.note,
        "platform_tags": result.platform_tags,
        "libs_dir": plan.libs_dir if plan else None,
        "grafted": [
            {**asdict(g), "owner": ({**asdict(g.owner), "purl": g.owner.purl} if g.owner else None)}
            for g in (plan.grafted if plan else [])
        ],
        "excluded": [asdict(e) for e in (plan.excluded if plan else [])],
        "provided": [_without_order(asdict(p)) for p in (plan.provided if plan else [])],
        "patched": result.patched,
        "removed_search_paths": dict(plan.removed_search_paths) if plan else {},
        "dropped_libpython": [asdict(d) for d in (plan.dropped_libpython if plan else [])],
        "moved_scripts": [asdict(m) for m in (plan.moved_scripts if plan else [])],
    }


def _without_order(provided: dict[str, Any]) -> dict[str, Any]:
    provided.pop("order", None)  # unvendor's load rank; a repair's providers all rank 0
    return provided


def diff_json(result: WheelDiff) -> dict[str, Any]:
    return {**asdict(result), "content_differs": result.content_differs}


def diff_document(result: WheelDiff) -> dict[str, Any]:
    return envelope("diff", {"wheels": [diff_json(result)]})


def normalize_document(
    results: list[NormalizeResult], errors: list[TruewheelError], *, check: bool
) -> dict[str, Any]:
    wheels = [
        {
            "input": r.input,
            "output": r.output,
            "normal": r.already_normal,
            "reasons": [
                {**asdict(reason), "members": list(reason.members)} for reason in r.reasons
            ],
        }
        for r in results
    ]
    return envelope("normalize", {"check": check, "wheels": wheels}, errors)


def build_document(result: BuildResult | CheckResult) -> dict[str, Any]:
    if isinstance(result, BuildResult):
        body: dict[str, Any] = {
            "wheel": str(result.wheel),
            "sha256": result.sha256,
            "buildinfo": str(result.buildinfo),
            "check": None,
        }
        return envelope("build", body)
    builds = [
        {"name": v["name"], "sha256": digest, "seconds": round(seconds, 3), "wheel": str(wheel)}
        | {"conditions": {k: value for k, value in v.items() if k != "name"}}
        for wheel, digest, v, seconds in zip(
            result.wheels, result.digests, result.variations, result.seconds, strict=True
        )
    ]
    check = {
        "reproducible": result.identical,
        "builds": builds,
        "diff": diff_json(result.diff) if result.diff is not None else None,
    }
    kept = result.kept
    info = kept.with_name(kept.name + ".buildinfo.json") if kept is not None else None
    body = {
        "wheel": str(kept) if kept is not None else None,
        "sha256": result.digests[0],
        "buildinfo": str(info) if info is not None and info.exists() else None,
        "check": check,
    }
    return envelope("build", body)


def verify_document(report: VerifyReport) -> dict[str, Any]:
    body = {
        "wheel": report.wheel,
        "sdist": report.sdist,
        "name": report.name,
        "version": report.version,
        "corresponds": report.corresponds,
        "counts": report.counts,
        "layout": list(report.layout),
        "metadata": {
            "sdist_metadata_version": report.sdist_metadata_version,
            "wheel_metadata_version": report.wheel_metadata_version,
            "static": report.static_metadata,
            "dynamic": list(report.dynamic),
            "fields": [
                {
                    "field": f.field,
                    "status": f.status,
                    "sdist": list(f.sdist),
                    "wheel": list(f.wheel),
                }
                for f in report.fields
            ],
        },
        "findings": [
            {"severity": f.severity, "code": f.code, "message": f.message, "member": f.member}
            for f in report.findings
        ],
        "members": [
            {
                "path": m.path,
                "category": m.category,
                "size": m.size,
                "sha256": m.sha256,
                "source": m.source,
                "evidence": list(m.evidence),
                "diff": m.diff,
            }
            for m in report.members
        ],
    }
    from truewheel.cli._verify_rebuild import rebuild_document

    body["rebuild"] = rebuild_document(report.rebuild)
    return envelope("verify", body)
