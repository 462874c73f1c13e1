"""SBOMs of an unvendor run (CycloneDX 1.6, PEP 770), deterministic like repair's.

The library wheel's SBOM describes its one library: where the copy came from
(wheel and member, its sha256 before the SONAME edit), its identity and why the
ABI gate let it serve the others.  A consumer's SBOM (truewheel's own, updated
if a repair wrote one) loses the components of the removed copies and gains the
library wheels that now provide them, with the same reasons.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from typing import Any

from truewheel.repair.model import GraftedLibrary, ProvidedLibrary
from truewheel.repair.sbom import build_sbom, canonical_json
from truewheel.unvendor.library import LibraryWheel
from truewheel.unvendor.model import LibraryPlan

__all__ = ["consumer_sbom", "gate_statement", "library_sbom"]


def gate_statement(plan: LibraryPlan) -> str:
    """Why the chosen copy may serve every consumer, in one line."""
    chosen = plan.chosen
    assert chosen is not None
    if len({c.sha256 for c in plan.copies}) == 1:
        if len(plan.copies) == 1:
            return f"one copy only (sha256 {chosen.sha256[:16]})"
        return f"all {len(plan.copies)} copies are byte-identical (sha256 {chosen.sha256[:16]})"
    versions = sorted({c.version or "?" for c in plan.copies})
    return (
        f"defines all {plan.checked_symbols} symbols, by name and version, that "
        f"{plan.consumers} consumer files bound to their own copies; version "
        f"{chosen.version} >= every copy's ({', '.join(versions)}); one ABI revision"
    )


def library_sbom(
    wheel: LibraryWheel, plan: LibraryPlan, provided: list[ProvidedLibrary], tool_version: str
) -> str:
    """``provided``: the library wheels this one's library needs (a chain: MPFR, GMP)."""
    chosen = plan.chosen
    assert chosen is not None
    library = GraftedLibrary(
        original_name=chosen.soname or posixpath.basename(chosen.member),
        source_path=f"{posixpath.basename(chosen.wheel)}:{chosen.member}",
        wheel_path=wheel.library_member,
        soname=wheel.soname,
        sha256=chosen.sha256,
        size=chosen.size,
        family=chosen.family,
        family_name=chosen.family_name,
        version=chosen.version,
    )
    raw: dict[str, Any] = json.loads(
        build_sbom(
            wheel_name=wheel.distribution,
            wheel_version=wheel.version,
            grafted=[library],
            excluded=[],
            provided=provided,
            tool_version=tool_version,
            timestamp=None,
        )
    )
    for component in raw.get("components", []):
        if component.get("bom-ref") == wheel.library_member:
            component["properties"].append(
                {"name": "truewheel:abi_gate", "value": gate_statement(plan)}
            )
            if chosen.toolchain:
                component["properties"].append(
                    {"name": "truewheel:toolchain", "value": chosen.toolchain}
                )
            if wheel.licence_files:
                component["licenses"] = [
                    {"license": {"name": f"licenses/{f}", "acknowledgement": "declared"}}
                    for f in wheel.licence_files
                ]
    return canonical_json(raw)


def consumer_sbom(
    existing: str | None,
    *,
    wheel: tuple[str, str],
    removed: Mapping[str, LibraryWheel],
    plans: Mapping[str, LibraryPlan],
    provided: list[ProvidedLibrary],
    tool_version: str,
) -> str:
    """``existing``: the wheel's truewheel SBOM, if any; ``plans`` by distribution."""
    raw: dict[str, Any] = json.loads(
        existing
        or build_sbom(
            wheel_name=wheel[0],
            wheel_version=wheel[1],
            grafted=[],
            excluded=[],
            provided=[],
            tool_version=tool_version,
            timestamp=None,
        )
    )
    gone = set(removed)
    raw["components"] = [c for c in raw.get("components", []) if c.get("bom-ref") not in gone]
    dependencies = []
    for dep in raw.get("dependencies", []):
        if dep.get("ref") in gone:
            continue
        dep["dependsOn"] = [r for r in dep.get("dependsOn", []) if r not in gone]
        dependencies.append(dep)
    refs = {c.get("bom-ref") for c in raw["components"]}
    root = raw.get("metadata", {}).get("component", {})
    for member, target in sorted(removed.items()):
        root.setdefault("properties", []).append(
            {
                "name": "truewheel:unvendored",
                "value": f"{member} -> {target.library_member} of {target.requirement}",
            }
        )
    for p in provided:
        # read back by inspect (analysis/provided.py): these needs are not the system's
        root.setdefault("properties", []).append(
            {"name": "truewheel:provided_by", "value": f"{p.name} by {p.requirement}"}
        )
        plan = plans[p.distribution]
        ref = f"pkg:pypi/{p.distribution}@{plan.version}"
        if ref not in refs:
            refs.add(ref)
            raw["components"].append(
                {
                    "type": "library",
                    "name": p.distribution,
                    "version": plan.version,
                    "purl": ref,
                    "bom-ref": ref,
                    "properties": [
                        {"name": "truewheel:soname", "value": p.name},
                        {"name": "truewheel:abi_gate", "value": gate_statement(plan)},
                    ],
                }
            )
        for user in p.needed_by:
            if user not in refs:
                refs.add(user)
                raw["components"].append({"type": "file", "name": user, "bom-ref": user})
            entry = next((d for d in dependencies if d.get("ref") == user), None)
            if entry is None:
                entry = {"ref": user, "dependsOn": []}
                dependencies.append(entry)
            if ref not in entry["dependsOn"]:
                entry["dependsOn"].append(ref)
    for d in dependencies:
        d["dependsOn"] = sorted(d["dependsOn"])
    raw["dependencies"] = sorted(dependencies, key=lambda d: d["ref"])
    raw["components"] = sorted(raw["components"], key=lambda c: c["bom-ref"])
    return canonical_json(raw)
