"""PKG-INFO against METADATA, and the names, versions and tags a release is known by.

PEP 643 (core metadata 2.2+): a field PKG-INFO does not declare ``Dynamic`` must have
the same value in every wheel built from the sdist, and a field absent from PKG-INFO
and not Dynamic must be absent from the wheel.  So under 2.2+ a difference is a
finding; before 2.2 the sdist promised nothing, and differences are notes.  Values are
compared for meaning, not spelling: names canonicalised (PEP 503), versions as
versions (PEP 440), requirements and specifiers as packaging parses them,
multiple-use fields as multisets, the description with line endings and trailing
whitespace normalised.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import parse_tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from truewheel.verify.model import FieldComparison, Finding
from truewheel.wheel import WheelArchive

__all__ = ["MetadataComparison", "compare_metadata", "identity_findings", "tag_findings"]

# raw key (packaging.metadata) -> the field's name in the spec
_FIELD_NAMES = {
    "author": "Author", "author_email": "Author-email", "classifiers": "Classifier",
    "description": "Description", "description_content_type": "Description-Content-Type",
    "download_url": "Download-URL", "dynamic": "Dynamic", "home_page": "Home-page",
    "import_names": "Import-Name", "import_namespaces": "Import-Namespace",
    "keywords": "Keywords", "license": "License", "license_expression": "License-Expression",
    "license_files": "License-File", "maintainer": "Maintainer",
    "maintainer_email": "Maintainer-email", "metadata_version": "Metadata-Version",
    "name": "Name", "obsoletes": "Obsoletes", "obsoletes_dist": "Obsoletes-Dist",
    "platforms": "Platform", "project_urls": "Project-URL", "provides": "Provides",
    "provides_dist": "Provides-Dist", "provides_extra": "Provides-Extra",
    "requires": "Requires", "requires_dist": "Requires-Dist",
    "requires_external": "Requires-External", "requires_python": "Requires-Python",
    "summary": "Summary", "supported_platforms": "Supported-Platform", "version": "Version",
}  # fmt: skip
_NOT_COMPARED = {"metadata_version", "dynamic"}
_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")


class MetadataComparison:
    """The field-by-field comparison and what it means."""

    def __init__(self, pkg_info: str, metadata: str) -> None:
        sdist, sdist_unparsed = parse_email(pkg_info)
        wheel, wheel_unparsed = parse_email(metadata)
        self.sdist_version = str(sdist.get("metadata_version") or "")
        self.wheel_version = str(wheel.get("metadata_version") or "")
        self.static = _at_least(self.sdist_version, "2.2")
        self.dynamic = tuple(str(d) for d in sdist.get("dynamic", ()))
        dynamic = {d.lower() for d in self.dynamic}
        sdist_values = _values(dict(sdist), sdist_unparsed)
        wheel_values = _values(dict(wheel), wheel_unparsed)
        fields: list[FieldComparison] = []
        self.findings: list[Finding] = []
        for key in sorted(set(sdist_values) | set(wheel_values)):
            if key in _NOT_COMPARED:
                continue
            name = _FIELD_NAMES.get(key, key)
            a, b = sdist_values.get(key, ()), wheel_values.get(key, ())
            if name.lower() in dynamic:
                fields.append(FieldComparison(name, "dynamic", a, b))
                continue
            same = _normal(key, a) == _normal(key, b)
            fields.append(FieldComparison(name, "match" if same else "differs", a, b))
            if not same:
                self.findings.append(self._difference(name, a, b))
        self.fields = tuple(fields)

    def _difference(self, name: str, a: tuple[str, ...], b: tuple[str, ...]) -> Finding:
        shown = _show_pair(a, b) or f"sdist {_show(a)}, wheel {_show(b)}"
        if self.static:
            return Finding(
                "finding",
                "metadata-differs",
                f"{name} differs and PKG-INFO (Metadata-Version {self.sdist_version}) does not "
                f"declare it Dynamic: {shown}",
            )
        return Finding(
            "note",
            "metadata-differs-legacy",
            f"{name} differs (PKG-INFO is Metadata-Version {self.sdist_version or '?'}, "
            f"before PEP 643: not binding): {shown}",
        )


def compare_metadata(pkg_info: str, metadata: str) -> MetadataComparison:
    return MetadataComparison(pkg_info, metadata)


def identity_findings(
    sdist_path: str, pkg_info_name: str, pkg_info_version: str, top: str, wheel: WheelArchive
) -> list[Finding]:
    """Name and version as the sdist's file name, its top directory, PKG-INFO, the wheel's
    file name and METADATA give them: the same project and release, however spelt."""
    out: list[Finding] = []
    stem = Path(sdist_path).name
    stem = next((stem[: -len(s)] for s in _SDIST_SUFFIXES if stem.endswith(s)), stem)
    file_name, _, file_version = stem.rpartition("-")
    sources = [
        ("sdist file name", file_name, file_version),
        ("PKG-INFO", pkg_info_name, pkg_info_version),
        ("wheel file name", str(wheel.name.name), str(wheel.name.version)),
        ("wheel METADATA", wheel.metadata.name, wheel.metadata.version),
    ]
    names = {canonicalize_name(n) for _, n, _ in sources if n}
    if len(names) > 1:
        listed = "; ".join(f"{where} {n!r}" for where, n, _ in sources)
        out.append(
            Finding("finding", "name-differs", f"the names are different projects: {listed}")
        )
    versions = {_version_key(v) for _, _, v in sources}
    if len(versions) > 1:
        listed = "; ".join(f"{where} {v!r}" for where, _, v in sources)
        out.append(Finding("finding", "version-differs", f"the versions differ: {listed}"))
    if file_name and (file_name != canonicalize_name(file_name).replace("-", "_")):
        out.append(
            Finding(
                "note",
                "sdist-name-not-normalized",
                f"sdist file name {stem!r} is not normalized (PEP 625)",
            )
        )
    if top and top != stem:
        out.append(
            Finding(
                "note",
                "sdist-top-directory",
                f"top directory {top!r} is not named like the file ({stem!r})",
            )
        )
    return out


def _expanded(line: str) -> list[str]:
    """The tags of one WHEEL ``Tag`` value: itself, or each tag of a compressed set
    (``cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64``, as maturin 1.5 writes)."""
    parts = line.split("-")
    if len(parts) != 3 or not all(parts) or "." not in line:
        return [line]
    return sorted(str(t) for t in parse_tag(line))


def tag_findings(wheel: WheelArchive, requires_python: str | None) -> list[Finding]:
    """The file name's tags against WHEEL's Tag lines, and against Requires-Python."""
    out: list[Finding] = []
    listed: set[str] = set()
    for line in wheel.wheel_info.tags:
        expanded = _expanded(line)
        listed.update(expanded)
        if len(expanded) > 1:
            out.append(
                Finding(
                    "note",
                    "wheel-tag-compressed",
                    f"WHEEL's Tag line {line!r} is a compressed tag set, where the wheel spec"
                    f" has one tag per line; read as its {len(expanded)} tags",
                )
            )
    named = sorted(str(t) for t in wheel.name.tags)
    missing = [t for t in named if t not in listed]
    if missing:
        out.append(
            Finding(
                "finding",
                "tag-not-in-wheel",
                f"the file name claims {', '.join(missing)}, which WHEEL's Tag lines do not list "
                f"({', '.join(wheel.wheel_info.tags) or 'none'})",
            )
        )
    extra = sorted(listed - set(named))
    if extra:
        out.append(
            Finding(
                "note",
                "tag-not-in-filename",
                f"WHEEL lists {', '.join(extra)}, which the file name does not",
            )
        )
    if requires_python:
        try:
            spec = SpecifierSet(requires_python)
        except InvalidSpecifier:
            return out
        excluded = sorted(
            {t.interpreter for t in wheel.name.tags if _excluded(t.interpreter, spec)}
        )
        if excluded:
            out.append(
                Finding(
                    "note",
                    "tag-outside-requires-python",
                    f"{', '.join(excluded)} tags, but Requires-Python is "
                    f"{requires_python!r}: no installer will pick this wheel there",
                )
            )
    return out


def _excluded(interpreter: str, spec: SpecifierSet) -> bool:
    match = re.fullmatch(r"(?:cp|pp|py)(\d)(\d+)", interpreter)
    if match is None:
        return False
    return not spec.contains(f"{match[1]}.{match[2]}", prereleases=True)


def _values(raw: dict[str, Any], unparsed: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """Each field as a tuple of strings, the way it was written."""
    out: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            out[key] = tuple(f"{label}, {url}" for label, url in value.items())
        elif isinstance(value, list):
            out[key] = tuple(str(v) for v in value)
        else:
            out[key] = (str(value),)
    for key, items in unparsed.items():
        known = key.lower().replace("-", "_")
        out[known if known in _FIELD_NAMES else key.lower()] = tuple(items)
    return out


def _normal(key: str, values: tuple[str, ...]) -> Counter[object]:
    """The meaning of a field's values, as a multiset."""
    fix = _NORMALIZERS.get(key, _text)
    return Counter(fix(v) for v in values)


def _text(text: str) -> str:
    """Any other field: its line endings (a METADATA written on Windows has CRLF in a
    multi-line License: tiktoken 0.11.0) and surrounding space do not count."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _requirement(text: str) -> str:
    """A requirement as it means: the name canonical (``readme_renderer`` is
    ``readme-renderer``, PEP 503), extras sorted and canonical, then specifier and marker."""
    try:
        parsed = Requirement(text)
    except InvalidRequirement:
        return text.strip()
    parsed.name = canonicalize_name(parsed.name)
    parsed.extras = {canonicalize_name(e) for e in parsed.extras}
    return str(parsed)


def _specifier(text: str) -> str:
    try:
        return str(SpecifierSet(text))
    except InvalidSpecifier:
        return text.strip()


def _version_key(text: str) -> object:
    """A Version (1.0 equals 1.0.0 and hashes alike), or the text when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return text.strip()


def _description(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    rest = lines[1:]
    for fold in ("        |", "       |", "        "):  # a Description header's continuations
        if len(lines) > 1 and all(line.startswith(fold) or not line.strip() for line in rest):
            lines = [lines[0], *(line[len(fold) :] for line in rest)]
            break
    return "\n".join(line.rstrip() for line in lines).strip("\n")


_NORMALIZERS: dict[str, Callable[[str], object]] = {
    "name": lambda v: canonicalize_name(v),
    "version": _version_key,
    "requires_dist": _requirement,
    "provides_dist": _requirement,
    "obsoletes_dist": _requirement,
    "requires_python": _specifier,
    "provides_extra": lambda v: canonicalize_name(v),
    "description": _description,
}


def _at_least(version: str, floor: str) -> bool:
    try:
        return Version(version) >= Version(floor)
    except InvalidVersion:
        return False


def _show_pair(a: tuple[str, ...], b: tuple[str, ...]) -> str | None:
    """Two long single values (a license text, a description) shown where they first
    differ, with their lengths: their first 80 characters are often the same."""
    if len(a) != 1 or len(b) != 1 or max(len(a[0]), len(b[0])) <= 80:
        return None
    x, y = a[0], b[0]
    at = next(
        (i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y))
    )
    start = max(0, at - 30)

    def excerpt(text: str) -> str:
        cut = text[start : at + 40]
        return ("..." if start else "") + repr(cut) + ("..." if at + 40 < len(text) else "")

    return (
        f"sdist {len(x)} characters, wheel {len(y)}, first differing at character {at}:"
        f" sdist {excerpt(x)}, wheel {excerpt(y)}"
    )


def _show(values: tuple[str, ...]) -> str:
    if not values:
        return "(absent)"
    text = "; ".join(v if len(v) <= 80 else v[:77] + "..." for v in values[:6])
    return repr(text) + (f" (+{len(values) - 6} more)" if len(values) > 6 else "")
