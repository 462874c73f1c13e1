"""The PEP 770 SBOM of a repaired wheel (CycloneDX 1.6 JSON) and its licence files.

The SBOM describes what ``truewheel repair`` put into the wheel: one component per
grafted host library, named and versioned as the distro package that installed it
(its purl says the same), with its hash, its licence and where it sits in the wheel;
one ``file`` component per wheel member that needs a grafted library; and
``dependencies`` from the wheel to those members, from them to the libraries they
need, and from each library to the libraries it needs.  Libraries left out
(``--exclude``) or delegated to another distribution (``--provided-by``) are recorded
as properties of the wheel's own component.  It is built in the repairing process: the
few tens of milliseconds a forked helper once saved were not worth its machinery.

Output is deterministic: the serial number is a UUID derived from the rest, the
timestamp is the one given (or absent), components, properties and dependencies are
sorted, and two calls with the same input give the same text byte for byte.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from truewheel.errors import InputError
from truewheel.repair.model import (
    ExcludedLibrary,
    GraftedLibrary,
    OwnerPackage,
    ProvidedLibrary,
)

if TYPE_CHECKING:
    from cyclonedx.model import Property
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
    from packageurl import PackageURL

    from truewheel.repair.owners import OwnerLookup
    from truewheel.repair.plan import RepairPlan

__all__ = [
    "SBOM_NAME",
    "SBOM_NAMESPACE",
    "SbomFiles",
    "build_sbom",
    "canonical_json",
    "licence_members",
    "sbom_files",
]

SBOM_NAME = "sboms/truewheel.cdx.json"
"""Where the SBOM goes inside ``.dist-info`` (PEP 770)."""

SBOM_NAMESPACE = uuid.UUID("6f0b8a52-5d0e-5c35-9a7f-1d3c2b8e4a10")
"""Namespace of the name-based (version 5) UUIDs used as BOM serial numbers."""


def _pypi_purl(name: str, version: str) -> PackageURL:
    from packageurl import PackageURL

    # purl spec, type pypi: lowercase, '_' becomes '-'.
    return PackageURL(type="pypi", name=name.lower().replace("_", "-"), version=version)


def _owner_purl(owner: OwnerPackage) -> PackageURL:
    """The same purl as :attr:`OwnerPackage.purl`, built from fields so it is percent-encoded."""
    from packageurl import PackageURL

    return PackageURL(
        type=owner.manager,
        namespace=owner.distro,
        name=owner.name,
        version=owner.version,
        qualifiers={"arch": owner.architecture} if owner.architecture else None,
    )


def _utc(timestamp: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if timestamp.tzinfo is None:
        return timestamp.replace(tzinfo=timezone.utc)
    return timestamp.astimezone(timezone.utc)


def _check_unique(grafted: list[GraftedLibrary]) -> None:
    seen: set[str] = set()
    for lib in grafted:
        if lib.wheel_path in seen:
            raise InputError(
                "grafted twice into the same place; cannot describe it in the SBOM",
                member=lib.wheel_path,
            )
        seen.add(lib.wheel_path)


def build_sbom(
    *,
    wheel_name: str,
    wheel_version: str,
    grafted: list[GraftedLibrary],
    excluded: list[ExcludedLibrary],
    provided: list[ProvidedLibrary],
    tool_version: str,
    timestamp: datetime | None,
    licence_files: Mapping[str, list[str]] | None = None,
) -> str:
    """The JSON text of a CycloneDX 1.6 BOM of the repaired wheel (ends with a newline).

    ``timestamp`` becomes ``metadata.timestamp`` (converted to UTC; a naive value is
    taken as UTC); with None the BOM has no timestamp at all.  ``licence_files`` maps an
    owner package's name to the wheel members its licence files were copied to: a
    component whose licence is no SPDX expression names those files instead.
    """
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository
    from cyclonedx.output.json import JsonV1Dot6

    _check_unique(grafted)
    when = _utc(timestamp) if timestamp is not None else None

    wheel_props = [
        Property(name="truewheel:excluded", value=f"{e.name} (pattern {e.pattern})")
        for e in excluded
    ]
    wheel_props += [
        Property(name="truewheel:provided_by", value=f"{p.name} by {p.requirement}")
        for p in provided
    ]
    wheel_purl = _pypi_purl(wheel_name, wheel_version)
    root = Component(
        type=ComponentType.LIBRARY,
        name=wheel_name,
        version=wheel_version,
        purl=wheel_purl,
        bom_ref=wheel_purl.to_string(),
        properties=wheel_props,
    )
    tool_purl = _pypi_purl("truewheel", tool_version)
    tool = Component(
        type=ComponentType.APPLICATION,
        name="truewheel",
        version=tool_version,
        purl=tool_purl,
        bom_ref=f"tool:{tool_purl.to_string()}",
    )

    libraries = {
        lib.wheel_path: Component(
            type=ComponentType.LIBRARY,
            name=lib.owner.name if lib.owner else lib.original_name,
            version=lib.owner.version if lib.owner else None,
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=lib.sha256.lower())],
            purl=_owner_purl(lib.owner) if lib.owner else None,
            licenses=_licences(lib.owner, (licence_files or {}).get(lib.owner.name, []))
            if lib.owner
            else None,
            bom_ref=lib.wheel_path,
            properties=_library_properties(lib),
        )
        for lib in grafted
    }
    needs: dict[str, set[str]] = {}  # wheel member -> the grafted libraries it needs
    for lib in grafted:
        for user in lib.needed_by:
            needs.setdefault(user, set()).add(lib.wheel_path)
    modules = {
        path: Component(type=ComponentType.FILE, name=path, bom_ref=path)
        for path in needs
        if path not in libraries
    }

    bom = Bom(
        metadata=BomMetaData(
            tools=ToolRepository(components=[tool]), component=root, timestamp=when
        ),
        components=[*libraries.values(), *modules.values()],
    )
    # A library nothing in the wheel is known to need hangs from the wheel itself.
    direct = [*modules.values(), *(libraries[g.wheel_path] for g in grafted if not g.needed_by)]
    if direct:
        bom.register_dependency(root, direct)
    for path, wanted in needs.items():
        needer = libraries.get(path) or modules[path]
        bom.register_dependency(needer, [libraries[w] for w in sorted(wanted)])

    raw: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    if when is None:
        raw.get("metadata", {}).pop("timestamp", None)
    return canonical_json(raw)


def canonical_json(raw: dict[str, Any]) -> str:
    """The BOM's text: keys sorted at every level (the bytes must not depend on the
    library's key order) and a serial number derived from everything else it says."""
    raw.pop("serialNumber", None)
    content = json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True)
    raw["serialNumber"] = uuid.uuid5(SBOM_NAMESPACE, content).urn
    return json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _library_properties(lib: GraftedLibrary) -> list[Property]:
    from cyclonedx.model import Property

    values = {
        "truewheel:wheel_path": lib.wheel_path,
        "truewheel:original_path": lib.source_path,
        "truewheel:original_soname": lib.original_name,
        "truewheel:soname": lib.soname,
        # what truewheel's table of libraries recognised, which may be the family's name
        # (libgpg-error is of the Libgcrypt family): the package is the component's name
        "truewheel:family": lib.family,
        "truewheel:family_name": lib.family_name,
        "truewheel:family_version": lib.version,
        "truewheel:source_package": lib.owner.source if lib.owner else None,
    }
    return [Property(name=k, value=v) for k, v in values.items() if v]


def _licences(
    owner: OwnerPackage, files: list[str]
) -> list[LicenseExpression | DisjunctiveLicense]:
    """The package's SPDX expression, else a reference to each of its copied licence files."""
    from cyclonedx.model.license import (
        DisjunctiveLicense,
        LicenseAcknowledgement,
        LicenseExpression,
    )

    declared = LicenseAcknowledgement.DECLARED
    if owner.licence:
        return [LicenseExpression(owner.licence, acknowledgement=declared)]
    return [DisjunctiveLicense(name=f, acknowledgement=declared) for f in sorted(files)]


def _safe_component(name: str) -> str:
    """A package name usable as one path component under licenses/."""
    cleaned = name.replace("/", "_").replace("\\", "_")
    if cleaned in ("", ".", ".."):
        raise InputError(f"unusable package name for a licence directory: {name!r}")
    return cleaned


def licence_members(grafted: list[GraftedLibrary]) -> dict[str, bytes]:
    """Licence files of the grafted libraries' owner packages, keyed by their .dist-info path.

    Keys are ``licenses/<owner package>/<file name>`` (PEP 639 layout, relative to
    the .dist-info directory), sorted.  Each package's files appear once however many
    of its libraries were grafted.  Two different files of one package that share a
    file name get ``.2``, ``.3``, ... appended in the order of their host paths.
    """
    by_package: dict[str, set[str]] = {}
    for lib in grafted:
        if lib.owner is not None:
            by_package.setdefault(lib.owner.name, set()).update(lib.owner.licence_files)

    members: dict[str, bytes] = {}
    for package, paths in by_package.items():
        directory = f"licenses/{_safe_component(package)}"
        for path in sorted(paths):
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                raise InputError(
                    f"cannot read licence file ({exc.strerror or exc})", path=path
                ) from exc
            base = _safe_component(PurePosixPath(path).name)
            key = f"{directory}/{base}"
            counter = 1
            while key in members and members[key] != data:
                counter += 1
                key = f"{directory}/{base}.{counter}"
            members[key] = data
    return dict(sorted(members.items()))


@dataclass(frozen=True)
class SbomFiles:
    files: dict[str, bytes]  # member name -> bytes: the SBOM and the licence files
    grafted: tuple[GraftedLibrary, ...]  # the ones asked about, with their owner packages
    licence_files: tuple[str, ...]  # the licence files, relative to .dist-info/licenses/


def sbom_files(
    plan: RepairPlan,
    *,
    dist_info: str,
    wheel: tuple[str, str],
    tool_version: str,
    owners: OwnerLookup | None = None,
) -> SbomFiles:
    """Find who owns each grafted library, then write the SBOM and copy the licence files."""
    from truewheel.repair.owners import OwnerLookup

    lookup = owners if owners is not None else OwnerLookup()
    lookup.prefetch([g.source_path for g in plan.grafted])
    located = [replace(g, owner=lookup.find(g.source_path)) for g in plan.grafted]
    licences = licence_members(located)
    by_package: dict[str, list[str]] = {}
    for key in licences:
        package = key.split("/")[1]
        by_package.setdefault(package, []).append(f"{dist_info}/{key}")
    text = build_sbom(
        wheel_name=wheel[0],
        wheel_version=wheel[1],
        grafted=located,
        excluded=plan.excluded,
        provided=plan.provided,
        tool_version=tool_version,
        timestamp=None,
        licence_files={
            g.owner.name: by_package.get(_safe_component(g.owner.name), [])
            for g in located
            if g.owner
        },
    )
    files = {f"{dist_info}/{SBOM_NAME}": text.encode()}
    files.update({f"{dist_info}/{key}": data for key, data in licences.items()})
    relative = tuple(key[len("licenses/") :] for key in licences)
    return SbomFiles(files, tuple(located), relative)
