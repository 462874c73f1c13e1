"""The wheels of one release against one another: the metadata an installer reads.

An installer or a locker that resolves a release reads one wheel's METADATA and assumes
the others say the same (uv and Poetry lock from one; pip installs whichever wheel fits).
So any field that differs between wheels of a release is a finding, compared for
meaning as :mod:`truewheel.verify.metadata` compares PKG-INFO with METADATA: names
canonical, versions and specifiers parsed, multiple-use fields as multisets.

``Requires-Dist`` is compared requirement by requirement: one that only some wheels
carry is explained when it has an environment marker (a ``sys_platform == "win32"``
dependency in the Windows wheel only says the same thing as its absence elsewhere, to
any installer on any platform), so it is a note; without a marker it changes what
installing the release pulls in depending on which wheel is picked, a finding.  A field
that a Metadata 2.2+ PKG-INFO declares ``Dynamic`` may differ between wheels (PEP 643):
a note.  ``License-File`` and ``Platform`` describe the build, not the install: notes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement

from truewheel.verify.metadata import _FIELD_NAMES, _NOT_COMPARED, _normal, _show, _values
from truewheel.verify.release_model import ReleaseFinding

__all__ = ["compare_wheels"]

_NOTE_FIELDS = frozenset({"license_files", "platforms", "supported_platforms"})
_LISTED = 6


def compare_wheels(
    wheels: Sequence[tuple[str, str]], dynamic: Collection[str], static: bool
) -> tuple[list[ReleaseFinding], tuple[str, ...]]:
    """``wheels``: (file name, METADATA text) each.  ``dynamic``: the fields PKG-INFO
    declares Dynamic, binding only when ``static`` (PKG-INFO is 2.2 or later).

    Returns the findings and the fields compared (every field some wheel has)."""
    if len(wheels) < 2:
        return [], ()
    values: dict[str, dict[str, tuple[str, ...]]] = {}
    for filename, text in wheels:
        raw, unparsed = parse_email(text)
        values[filename] = _values(dict(raw), unparsed)
    keys = sorted({k for v in values.values() for k in v} - _NOT_COMPARED)
    allowed = {d.lower() for d in dynamic} if static else set()
    findings: list[ReleaseFinding] = []
    for key in keys:
        field = _FIELD_NAMES.get(key, key)
        per_wheel = {name: v.get(key, ()) for name, v in values.items()}
        if key == "requires_dist":
            findings += _requirements(per_wheel, field.lower() in allowed)
            continue
        groups: dict[tuple[tuple[str, int], ...], list[str]] = {}
        for name, items in per_wheel.items():
            meaning = _normal(key, items)
            signature = tuple(sorted((repr(k), n) for k, n in meaning.items()))
            groups.setdefault(signature, []).append(name)
        if len(groups) == 1:
            continue
        shown = "; ".join(
            f"{_show(per_wheel[names[0]])} in {_names(names)}" for names in groups.values()
        )
        involved = tuple(sorted(per_wheel))
        if field.lower() in allowed:
            message = f"{field} differs between wheels, as PKG-INFO's Dynamic allows: {shown}"
            findings.append(ReleaseFinding("note", "wheels-differ-dynamic", message, involved))
        elif key in _NOTE_FIELDS:
            message = f"{field} differs between wheels: {shown}"
            findings.append(ReleaseFinding("note", "wheels-differ-build", message, involved))
        else:
            message = f"{field} differs between wheels of one release: {shown}"
            findings.append(ReleaseFinding("finding", "wheels-metadata-differ", message, involved))
    return findings, tuple(_FIELD_NAMES.get(k, k) for k in keys)


def _requirements(per_wheel: dict[str, tuple[str, ...]], dynamic: bool) -> list[ReleaseFinding]:
    """Each requirement some wheels lack: explained by its marker, or not."""
    normal = {name: _normal("requires_dist", items) for name, items in per_wheel.items()}
    every = sorted({str(r) for counts in normal.values() for r in counts})
    unmarked: list[str] = []
    marked: list[str] = []
    involved: set[str] = set()
    for requirement in every:
        having = [n for n, counts in normal.items() if counts.get(requirement)]
        lacking = [n for n in normal if n not in having]
        if not lacking:
            continue
        involved.update(normal)
        line = f"{requirement!r} in {_names(having)}, not in {_names(lacking)}"
        (marked if _has_marker(requirement) else unmarked).append(line)
    findings: list[ReleaseFinding] = []
    wheels = tuple(sorted(involved))
    if unmarked:
        shown = "; ".join(unmarked[:_LISTED]) + _more(unmarked)
        if dynamic:
            message = (
                "Requires-Dist differs between wheels without environment markers, as PKG-INFO's "
                f"Dynamic allows (a locker reading one wheel gets the others wrong): {shown}"
            )
            findings.append(ReleaseFinding("note", "wheels-differ-dynamic", message, wheels))
        else:
            message = (
                "Requires-Dist differs between wheels without an environment marker to explain "
                f"it (which dependencies install depends on the wheel picked): {shown}"
            )
            findings.append(ReleaseFinding("finding", "requires-dist-differs", message, wheels))
    if marked:
        shown = "; ".join(marked[:_LISTED]) + _more(marked)
        message = f"Requires-Dist differs between wheels only in requirements with markers: {shown}"
        findings.append(ReleaseFinding("note", "requires-dist-markers-differ", message, wheels))
    return findings


def _has_marker(requirement: str) -> bool:
    try:
        return Requirement(requirement).marker is not None
    except InvalidRequirement:
        return ";" in requirement


def _names(names: Sequence[str]) -> str:
    listed = ", ".join(names[:3])
    return listed + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")


def _more(items: Sequence[str]) -> str:
    return f" (+{len(items) - _LISTED} more)" if len(items) > _LISTED else ""
