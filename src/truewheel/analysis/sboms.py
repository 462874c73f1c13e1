"""What a wheel's own SBOMs (PEP 770: ``.dist-info/sboms/``) say about its members.

A repair tool that grafts a library into a wheel knows exactly what it is: the
distro package it came from and its version.  ``truewheel repair`` records that
in a CycloneDX SBOM, one component per grafted file with a
``truewheel:wheel_path`` property; inspect reads it back so a grafted library
is identified even when its name is in no table (libyaml).  An SBOM is input
like any other member: one that is too large, not JSON or not CycloneDX is
passed over, never trusted blindly, and never stops an inspection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from truewheel.errors import TruewheelError
from truewheel.wheel import WheelArchive

__all__ = ["Declarations", "DeclaredComponent", "declarations"]

_MAX_SBOM_BYTES = 16 << 20
_PATH_PROPERTY = "truewheel:wheel_path"
_PROVIDED_PROPERTY = "truewheel:provided_by"


@dataclass(frozen=True, slots=True)
class DeclaredComponent:
    """A wheel member as an SBOM of the wheel names it."""

    name: str
    version: str | None
    purl: str | None
    license: str | None
    sbom: str  # the member the declaration comes from


@dataclass(slots=True)
class Declarations:
    """What the wheel's SBOMs declare: its members, and libraries other distributions provide."""

    components: dict[str, DeclaredComponent] = field(default_factory=dict)
    #: library name -> the requirement that provides it (``repair --provided-by``)
    providers: dict[str, str] = field(default_factory=dict)


def declarations(wheel: WheelArchive) -> Declarations:
    """Read every SBOM in ``.dist-info/sboms/`` once; the first declaration of a path wins."""
    prefix = f"{wheel.dist_info}/sboms/"
    out = Declarations()
    for member in wheel.files:
        if not member.name.startswith(prefix) or member.file_size > _MAX_SBOM_BYTES:
            continue
        try:
            document = json.loads(wheel.read(member, limit=_MAX_SBOM_BYTES))
        except (TruewheelError, ValueError, RecursionError):
            continue
        for path, component in _components(document, member.name):
            out.components.setdefault(path, component)
        for library, requirement in _providers(document):
            out.providers.setdefault(library, requirement)
    return out


def _providers(document: Any) -> list[tuple[str, str]]:
    """``truewheel:provided_by`` values (``NAME by REQUIREMENT``) of the wheel's component."""
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        return []
    metadata = document.get("metadata")
    root = metadata.get("component") if isinstance(metadata, dict) else None
    if not isinstance(root, dict):
        return []
    found = []
    for p in _list(root.get("properties")):
        if not isinstance(p, dict) or p.get("name") != _PROVIDED_PROPERTY:
            continue
        value = p.get("value")
        if isinstance(value, str):
            library, by, requirement = value.partition(" by ")
            if by and library and requirement:
                found.append((library, requirement))
    return found


def _components(document: Any, sbom: str) -> list[tuple[str, DeclaredComponent]]:
    if not isinstance(document, dict) or document.get("bomFormat") != "CycloneDX":
        return []
    found = []
    for raw in _list(document.get("components")):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            continue
        paths = [
            p["value"]
            for p in _list(raw.get("properties"))
            if isinstance(p, dict)
            and p.get("name") == _PATH_PROPERTY
            and isinstance(p.get("value"), str)
        ]
        purl = _text(raw.get("purl"))
        component = DeclaredComponent(
            name=raw["name"],
            version=_text(raw.get("version")) or _purl_version(purl),
            purl=purl,
            license=_license(raw.get("licenses")),
            sbom=sbom,
        )
        found += [(path, component) for path in paths]
    return found


def _license(raw: Any) -> str | None:
    """The SPDX expression, or the ids joined, of a CycloneDX ``licenses`` list."""
    ids = []
    for entry in _list(raw):
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("expression"), str):
            return str(entry["expression"])
        licence = entry.get("license")
        if isinstance(licence, dict):
            value = _text(licence.get("id")) or _text(licence.get("name"))
            if value:
                ids.append(value)
    return " AND ".join(ids) if ids else None


def _purl_version(purl: str | None) -> str | None:
    """The version part of ``pkg:type/namespace/name@version?qualifiers#subpath``."""
    if purl is None or "@" not in purl:
        return None
    version = purl.rpartition("@")[2].partition("?")[0].partition("#")[0]
    return unquote(version) or None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
