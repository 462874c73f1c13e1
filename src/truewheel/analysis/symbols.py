"""What a file's imported symbols ask of the target: black-listed symbols, CPython builds.

The symbol lists are policy data (:mod:`truewheel.policy.symbols`); this module
matches them against each native file's imports (non-weak undefined dynamic
symbols, :mod:`truewheel.elf.dynsym`) and states the result twice: as
requirements the policy engine weighs when it computes the tag, and as
findings that say why to a person.  A black-listed symbol counts only when the
file itself needs the library (``DT_NEEDED``) and the wheel does not ship that
library: a bundled copy exports what the file was linked against.
"""

from __future__ import annotations

from collections.abc import Collection

from truewheel.analysis.report import Finding, NativeFile
from truewheel.analysis.resolve import BUNDLED
from truewheel.policy.symbols import SymbolRules

__all__ = ["blacklisted_imports", "python_build_findings", "symbol_findings", "symbol_needs"]

_NONE: frozenset[str] = frozenset()
_FPECTL = (
    "defined only by CPython 3.6 or older configured --with-fpectl: the module fails to import "
    "on other builds (undefined symbol), and no manylinux or musllinux policy allows it (PEP 513)"
)
_UCS2 = (
    "defined only by a narrow-unicode (UCS-2) CPython 2 or 3.0-3.2: Linux distributions ship "
    "wide (UCS-4) builds, and no manylinux or musllinux policy allows it (PEP 513)"
)


def blacklisted_imports(f: NativeFile) -> dict[str, list[str]]:
    """The symbols some policy black-lists that ``f`` imports, by library it needs."""
    bundled = {d.name for d in f.dependencies if d.status == BUNDLED}
    out: dict[str, list[str]] = {}
    for library, symbols in SymbolRules.load().listed.items():
        if library in f.elf.needed and library not in bundled:
            used = sorted(f.elf.imports & symbols)
            if used:
                out[library] = used
    return out


def symbol_needs(f: NativeFile) -> list[tuple[str, str]]:
    """(kind, value) requirements of ``f``'s imports, for :class:`~truewheel.policy.Requirement`."""
    out = [
        ("blacklisted-symbol", f"black-listed {symbol} from {library}")
        for library, symbols in blacklisted_imports(f).items()
        for symbol in symbols
    ]
    out += [("python-build", s) for s in SymbolRules.load().python_build_symbols(f.elf.imports)]
    return out


def python_build_findings(native: list[NativeFile]) -> list[Finding]:
    """Files that import a symbol only an fpectl or a narrow-unicode CPython defines."""
    rules = SymbolRules.load()
    out: list[Finding] = []
    for f in native:
        found = rules.python_build_symbols(f.elf.imports)
        fpectl = [s for s in found if s in rules.fpectl]
        ucs2 = [s for s in found if s not in rules.fpectl]
        if fpectl:
            message = f"{_imports(fpectl)}, {_FPECTL}"
            out.append(Finding("error", "python-fpectl", message, f.path))
        if ucs2:
            out.append(Finding("error", "python-ucs2", f"{_imports(ucs2)}, {_UCS2}", f.path))
    return out


def symbol_findings(native: list[NativeFile], claimed: Collection[str] = ()) -> list[Finding]:
    """The CPython-build findings, and each file's black-listed imports with the reason: a
    warning, or information when the wheel's tags claim only policies that do not list them
    (pyvips-binary's ``pthread_setattr_default_np``, listed up to manylinux_2_17, in a
    manylinux_2_28 wheel)."""
    rules = SymbolRules.load()
    out = python_build_findings(native)
    for f in native:
        for library, symbols in blacklisted_imports(f).items():
            used = set(symbols)
            policies = [
                name for name, lists in rules.blacklists.items() if lists.get(library, _NONE) & used
            ]
            span = policies[0] if len(policies) == 1 else f"{policies[0]} ... {policies[-1]}"
            message = (
                f"{_imports(symbols)} from {library}, black-listed by {len(policies)} "
                f"policies ({span}): {rules.why[library]}"
            )
            if claimed and not set(claimed) & set(policies):
                tags = ", ".join(sorted(claimed))
                message += f"; the wheel claims {tags}, which does not list them"
                out.append(Finding("info", "blacklisted-symbol", message, f.path))
            else:
                out.append(Finding("warning", "blacklisted-symbol", message, f.path))
    return out


def _imports(symbols: list[str]) -> str:
    more = f" and {len(symbols) - 4} more" if len(symbols) > 4 else ""
    return f"imports {', '.join(symbols[:4])}{more}"
