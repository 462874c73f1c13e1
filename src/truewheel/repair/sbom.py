"""The PEP 770 SBOM of a repaired wheel (CycloneDX 1.6 JSON) and its licence files.

The SBOM describes what ``truewheel repair`` put into the wheel: one component per
grafted host library, with its hash, the distro package it came from (as a purl)
and where it sits in the wheel.  Libraries left out (``--exclude``) or delegated to
another distribution (``--provided-by``) are recorded as properties of the wheel's
own component.

Output is deterministic: the serial number is a UUID derived from the content, the
timestamp is the one given (or absent), components, properties and dependencies are
sorted, and two calls with the same input give the same text byte for byte.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
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
    from packageurl import PackageURL

__all__ = ["SBOM_NAMESPACE", "build_sbom", "licence_members", "load_library"]

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


def _serial_number(
    wheel_name: str,
    wheel_version: str,
    grafted: list[GraftedLibrary],
    excluded_values: Iterable[str],
    provided_values: Iterable[str],
    tool_version: str,
    timestamp: datetime | None,
) -> uuid.UUID:
    """A UUID that changes whenever anything the SBOM says changes, and only then."""
    parts = [
        "wheel",
        wheel_name,
        wheel_version,
        "tool",
        tool_version,
        "time",
        timestamp.isoformat() if timestamp else "",
        "grafted",
        *sorted(f"{g.wheel_path}={g.sha256}" for g in grafted),
        "excluded",
        *sorted(excluded_values),
        "provided",
        *sorted(provided_values),
    ]
    return uuid.uuid5(SBOM_NAMESPACE, "\n".join(parts))


def _check_unique(grafted: list[GraftedLibrary]) -> None:
    seen: set[str] = set()
    for lib in grafted:
        if lib.wheel_path in seen:
            raise InputError(
                "grafted twice into the same place; cannot describe it in the SBOM",
                member=lib.wheel_path,
            )
        seen.add(lib.wheel_path)


def load_library() -> None:
    """Import cyclonedx-python-lib now (it takes ~50 ms), e.g. while dpkg is queried."""
    import cyclonedx.model.bom
    import cyclonedx.output.json  # noqa: F401


def build_sbom(
    *,
    wheel_name: str,
    wheel_version: str,
    grafted: list[GraftedLibrary],
    excluded: list[ExcludedLibrary],
    provided: list[ProvidedLibrary],
    tool_version: str,
    timestamp: datetime | None,
) -> str:
    """The JSON text of a CycloneDX 1.6 BOM of the repaired wheel (ends with a newline).

    ``timestamp`` becomes ``metadata.timestamp`` (converted to UTC; a naive value is
    taken as UTC); with None the BOM has no timestamp at all.
    """
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository
    from cyclonedx.output.json import JsonV1Dot6

    _check_unique(grafted)
    when = _utc(timestamp) if timestamp is not None else None

    excluded_values = [f"{e.name} (pattern {e.pattern})" for e in excluded]
    provided_values = [f"{p.name} by {p.requirement}" for p in provided]
    wheel_props = [Property(name="truewheel:excluded", value=v) for v in excluded_values]
    wheel_props += [Property(name="truewheel:provided_by", value=v) for v in provided_values]

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

    components = []
    for lib in grafted:
        props = [
            Property(name="truewheel:wheel_path", value=lib.wheel_path),
            Property(name="truewheel:original_path", value=lib.source_path),
            Property(name="truewheel:original_soname", value=lib.original_name),
            Property(name="truewheel:soname", value=lib.soname),
        ]
        if lib.needed_by:
            needers = ",".join(sorted(set(lib.needed_by)))
            props.append(Property(name="truewheel:needed_by", value=needers))
        components.append(
            Component(
                type=ComponentType.LIBRARY,
                name=lib.family_name or lib.original_name,
                version=lib.version,
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=lib.sha256.lower())],
                purl=_owner_purl(lib.owner) if lib.owner else None,
                bom_ref=lib.wheel_path,
                properties=props,
            )
        )

    serial = _serial_number(
        wheel_name, wheel_version, grafted, excluded_values, provided_values, tool_version, when
    )
    bom = Bom(
        serial_number=serial,
        metadata=BomMetaData(
            tools=ToolRepository(components=[tool]),
            component=root,
            timestamp=when,
        ),
        components=components,
    )
    if components:
        bom.register_dependency(root, components)

    raw: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    if when is None:
        raw.get("metadata", {}).pop("timestamp", None)
    # Sorted keys at every level: the bytes must not depend on the library's key order.
    return json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


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
