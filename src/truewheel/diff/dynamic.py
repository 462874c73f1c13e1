"""Name the edits between two dynamic sections, the way a repair makes them.

``auditwheel repair`` and ``truewheel repair`` change a module with patchelf:
DT_NEEDED entries renamed to the grafted copies' mangled names, RPATH/RUNPATH
replaced by ``$ORIGIN/...``, a SONAME set on a grafted library.  patchelf keeps
the order of DT_NEEDED entries, so a rename is the same position holding another
name.  The string table those names live in (``.dynstr``) and the tables that
point into it are rewritten or moved by such an edit: their differences follow
from the edit and are consequences, never a build path of their own.
"""

from __future__ import annotations

from truewheel.elf import ElfFile

__all__ = ["DYNAMIC_SECTIONS", "dynamic_edits"]

DYNAMIC_SECTIONS = frozenset(
    {
        ".dynamic",
        ".dynstr",
        ".dynsym",
        ".gnu.version",
        ".gnu.version_r",
        ".gnu.version_d",
        ".gnu.hash",
        ".hash",
        ".interp",
        ".symtab",
        ".strtab",
        ".shstrtab",
    }
)


def dynamic_edits(a: ElfFile, b: ElfFile) -> list[str]:
    """One line per edit from A's dynamic section to B's; empty when they agree."""
    edits = _needed_edits(a.needed, b.needed)
    edits += _value_edit("SONAME", a.soname, b.soname)
    edits += _value_edit("interpreter", a.interpreter, b.interpreter)
    return edits + _search_path_edits(a, b)


def _search_path_edits(a: ElfFile, b: ElfFile) -> list[str]:
    """RPATH/RUNPATH edits; a RUNPATH turned into an RPATH (auditwheel's and truewheel's
    repairs write DT_RPATH) is one replacement, not a removal and an addition."""
    old = {"RPATH": ":".join(a.rpath), "RUNPATH": ":".join(a.runpath)}
    new = {"RPATH": ":".join(b.rpath), "RUNPATH": ":".join(b.runpath)}
    kinds_a, kinds_b = [k for k, v in old.items() if v], [k for k, v in new.items() if v]
    if len(kinds_a) == len(kinds_b) == 1 and kinds_a != kinds_b:
        (was,), (now,) = kinds_a, kinds_b
        return [f"{was} replaced by {now}: A {old[was]}  B {new[now]}"]
    edits = []
    for tag in ("RPATH", "RUNPATH"):
        edits += _value_edit(tag, old[tag] or None, new[tag] or None)
    return edits


def _value_edit(what: str, old: str | None, new: str | None) -> list[str]:
    if old == new:
        return []
    if old is None:
        return [f"{what} set: {new}"]
    if new is None:
        return [f"{what} removed: {old}"]
    return [f"{what} replaced: A {old}  B {new}"]


def _needed_edits(old: list[str], new: list[str]) -> list[str]:
    """Renames where a position holds another name; additions and removals by name."""
    kept = set(old) & set(new)
    gone = [n for n in old if n not in kept]
    came = [n for n in new if n not in kept]
    renames = []
    for name in list(gone):
        position = old.index(name)
        if position < len(new) and new[position] in came:
            renames.append(f"{name} -> {new[position]}")
            gone.remove(name)
            came.remove(new[position])
    edits = [f"DT_NEEDED renamed: {', '.join(renames)}"] if renames else []
    if came:
        edits.append(f"DT_NEEDED added: {', '.join(came)}")
    if gone:
        edits.append(f"DT_NEEDED removed: {', '.join(gone)}")
    if not edits and old != new:
        edits.append("DT_NEEDED entries reordered")
    return edits
