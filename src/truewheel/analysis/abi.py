"""The ABI gate: can one copy of a library serve files built against other copies?

Each consumer file binds today, through its DT_NEEDED, to its own vendored copy.
A shared copy may replace that copy only if it defines every symbol the
consumer binds there, at the version it binds: the dynamic loader matches a
versioned reference by name and version (``foo@GMP_2``), so a copy lacking it
stops the consumer from loading ("version `GMP_2' not found"), and an
unversioned reference needs the name at all.  A copy without any version
definitions satisfies a versioned reference by name, as ld.so accepts such a
library (with no version to check against).

What a consumer binds "there" is what its own copy defines, by name: symbols
it takes from libc or elsewhere are none of the shared copy's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from truewheel.elf.versions import DynamicSymbols, Symbol

__all__ = ["GateVerdict", "abi_gate", "bound_to"]


@dataclass(frozen=True)
class GateVerdict:
    """Per consumer, what the candidate copy does not define; empty when it serves all."""

    missing: dict[str, list[Symbol]]

    @property
    def passes(self) -> bool:
        return not any(self.missing.values())


def bound_to(consumer: DynamicSymbols, own_copy: DynamicSymbols) -> frozenset[Symbol]:
    """The needs of ``consumer`` that its own copy of the library defines (by name)."""
    names = {name for name, _ in own_copy.defined}
    return frozenset(need for need in consumer.needed if need[0] in names)


def abi_gate(candidate: DynamicSymbols, consumers: Mapping[str, frozenset[Symbol]]) -> GateVerdict:
    """``consumers``: file -> the symbols it binds to its own copy (:func:`bound_to`)."""
    names = {name for name, _ in candidate.defined}
    versioned = any(version is not None for _, version in candidate.defined)
    missing: dict[str, list[Symbol]] = {}
    for file, needs in consumers.items():
        lacking = [
            (name, version)
            for name, version in needs
            if name not in names
            or (version is not None and versioned and (name, version) not in candidate.defined)
        ]
        missing[file] = sorted(lacking, key=lambda s: (s[0], s[1] or ""))
    return GateVerdict(missing)
