"""Symbols a file must not import: per-policy black-lists and CPython build markers.

A whitelisted library is used as the target system has it, and not every build
of it exports the same symbols: zlib builds without zlib's export map (or with
a distribution's patches) export internals such as ``zcalloc``; glibc 2.18
added ``__cxa_thread_atexit_impl``.  A file importing one of those loads only
where that build is installed, so the policies that cannot promise it list the
symbol.  Separately, ``PyFPE_jbuf`` and ``PyUnicodeUCS2_*`` exist only in some
CPython builds (``--with-fpectl``, narrow unicode) that no policy describes.
The lists are data (``data/symbols.json``, sources inside); this module only
answers questions about them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property

from truewheel.policy._data import load_table

__all__ = ["SymbolRules"]


@dataclass(frozen=True)
class SymbolRules:
    """The black-lists of every policy by name, and the CPython build markers."""

    blacklists: Mapping[str, Mapping[str, frozenset[str]]]  # policy -> library -> symbols
    why: Mapping[str, str]  # library -> why its symbols are listed
    fpectl: frozenset[str]
    ucs2_prefix: str

    @staticmethod
    @cache
    def load() -> SymbolRules:
        table = load_table("symbols.json")
        lists: dict[str, dict[str, frozenset[str]]] = defaultdict(dict)
        why: dict[str, str] = {}
        for entry in table["blacklists"]:
            library = entry["library"]
            why[library] = entry["why"]
            for policy in entry["policies"]:
                lists[policy][library] = frozenset(entry["symbols"])
        python = table["python"]
        return SymbolRules(
            blacklists=dict(lists),
            why=why,
            fpectl=frozenset(python["fpectl"]),
            ucs2_prefix=python["ucs2_prefix"],
        )

    def blacklist(self, policy: str) -> Mapping[str, frozenset[str]]:
        return self.blacklists.get(policy, {})

    @cached_property
    def listed(self) -> dict[str, frozenset[str]]:
        """Every symbol some policy black-lists, by library."""
        out: dict[str, frozenset[str]] = {}
        for lists in self.blacklists.values():
            for library, symbols in lists.items():
                out[library] = out.get(library, frozenset()) | symbols
        return out

    def python_build_symbols(self, imports: frozenset[str]) -> list[str]:
        """The imports that tie a file to an fpectl or a narrow-unicode CPython build."""
        return sorted(s for s in imports if s in self.fpectl or s.startswith(self.ucs2_prefix))
