"""``verify --rebuild``: its lines in the text report and its object in the JSON document.

Member names, causes (they quote paths and ``.comment`` strings from the binaries) and
notes come from the two archives; the caller escapes the lines (``plain_text``).
"""

from __future__ import annotations

from typing import Any

from truewheel.verify.rebuild_model import RebuildResult

__all__ = ["rebuild_document", "render_rebuild"]

_LISTED = 20


def render_rebuild(rebuild: RebuildResult, verbose: bool = False) -> list[str]:
    if rebuild.bit_identical:
        verdict = "reproduced bit for bit"
    elif rebuild.reproduced:
        verdict = "reproduced (every member identical, or identical after repair edits)"
    else:
        verdict = "NOT REPRODUCED"
    lines = [f"rebuild: {verdict}: {rebuild.rebuilt_wheel}"]
    counts = ", ".join(f"{n} {s}" for s, n in rebuild.counts.items() if n)
    lines.append(f"  members: {counts}")
    if rebuild.causes:
        causes = ", ".join(f"{k} {n}" for k, n in rebuild.causes.items())
        lines.append(f"  causes (members): {causes}")
    if rebuild.pins:
        lines.append(f"  build environment pinned to: {', '.join(rebuild.pins)}")
    if rebuild.buildinfo:
        applied = ", ".join(f"{k}={v}" for k, v in rebuild.applied) or "nothing"
        lines.append(f"  buildinfo: {rebuild.buildinfo} (applied: {applied})")
    tool = rebuild.toolchain
    if tool.published or tool.rebuilt:
        same = "same" if tool.same else "DIFFERENT"
        lines.append(
            f"  toolchain ({same}): published {'; '.join(tool.published) or '-'}; "
            f"here {'; '.join(tool.rebuilt) or '-'}"
        )
    if rebuild.repair is not None:
        replay = rebuild.repair
        target = replay.target or "not repaired"
        lines.append(
            f"  repair: published {'.'.join(replay.published_tags)}, "
            f"{len(replay.grafts)} grafts; rebuild repaired for {target}"
        )
        lines += [f"    {n}" for n in replay.notes]
    shown = [m for m in rebuild.members if m.status != "identical"]
    for m in shown[: None if verbose else _LISTED]:
        paired = f" (rebuilt as {m.rebuilt_path})" if m.rebuilt_path else ""
        lines.append(f"  {m.status}: {m.path}{paired}")
        lines += [f"      {c}" for c in m.causes]
        if m.cause_kinds == ("follows",):
            lines += [f"      {c}" for c in m.consequences]
        elif verbose:
            lines += [f"      (consequence) {c}" for c in m.consequences]
    if len(shown) > _LISTED and not verbose:
        lines.append(f"  ... {len(shown) - _LISTED} more (-v lists all)")
    if verbose:
        lines += [f"  identical: {m.path}" for m in rebuild.members if m.status == "identical"]
    if rebuild.proven:
        lines.append("  proven:")
        lines += [f"    {p}" for p in rebuild.proven]
    return lines


def rebuild_document(rebuild: RebuildResult | None) -> dict[str, Any] | None:
    if rebuild is None:
        return None
    tool, replay = rebuild.toolchain, rebuild.repair
    return {
        "rebuilt_wheel": rebuild.rebuilt_wheel,
        "rebuilt_sha256": rebuild.rebuilt_sha256,
        "published_sha256": rebuild.published_sha256,
        "bit_identical": rebuild.bit_identical,
        "reproduced": rebuild.reproduced,
        "buildinfo": rebuild.buildinfo,
        "applied": dict(rebuild.applied),
        "pins": list(rebuild.pins),
        "toolchain": {
            "published": list(tool.published),
            "rebuilt": list(tool.rebuilt),
            "buildinfo": tool.buildinfo,
            "same": tool.same,
        },
        "repair": None
        if replay is None
        else {
            "published_tags": list(replay.published_tags),
            "grafts": list(replay.grafts),
            "sboms": list(replay.sboms),
            "target": replay.target,
            "rebuilt_tags": list(replay.rebuilt_tags),
            "unavailable": list(replay.unavailable),
            "notes": list(replay.notes),
        },
        "counts": rebuild.counts,
        "causes": rebuild.causes,
        "proven": list(rebuild.proven),
        "members": [
            {
                "path": m.path,
                "status": m.status,
                "kind": m.kind,
                "rebuilt_path": m.rebuilt_path,
                "causes": list(m.causes),
                "cause_kinds": list(m.cause_kinds),
                "consequences": list(m.consequences),
            }
            for m in rebuild.members
        ],
    }
