"""manylinux and musllinux policies and the platform tag a wheel's content allows.

Policies are data (``data/manylinux.json``, ``data/musllinux.json``) compiled
from PEP 513, 571, 599, 600 and 656 and the reference distributions' glibc,
musl and GCC releases; the sources are named in those files.  A wheel fits a
policy when every symbol version its files require from system libraries is
in the policy's lists, every system library it needs is on the policy's
whitelist, it imports none of the symbols the policy black-lists from those
libraries (``symbols.py``), no CPython-build symbol, and (x86-64) it needs no
ISA level above the baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from truewheel.policy._data import load_table
from truewheel.policy.symbols import SymbolRules

__all__ = ["Policy", "PolicySet", "Requirement", "TagResult"]

_LEGACY = {
    "manylinux1": "manylinux_2_5",
    "manylinux2010": "manylinux_2_12",
    "manylinux2014": "manylinux_2_17",
}


@dataclass(frozen=True)
class Policy:
    name: str
    aliases: tuple[str, ...]
    libc: str
    libc_version: tuple[int, int]
    architectures: frozenset[str]
    symbol_versions: dict[str, dict[str, frozenset[str]]]
    libraries: frozenset[str]
    blacklist: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: dict[str, Any], libc: str) -> Policy:
        return cls(
            name=raw["name"],
            aliases=tuple(raw.get("aliases", ())),
            libc=libc,
            libc_version=(int(raw[libc][0]), int(raw[libc][1])),
            architectures=frozenset(raw["architectures"]),
            symbol_versions={
                arch: {ns: frozenset(v) for ns, v in spaces.items()}
                for arch, spaces in raw.get("symbol_versions", {}).items()
            },
            libraries=frozenset(raw["libraries"]),
            blacklist=SymbolRules.load().blacklist(raw["name"]),
        )

    def tag(self, arch: str) -> str:
        return f"{self.name}_{arch}"

    def tags(self, arch: str) -> list[str]:
        """The canonical tag first, then legacy aliases (as auditwheel writes them)."""
        return [self.tag(arch), *(f"{a}_{arch}" for a in self.aliases)]

    def allows_version(self, arch: str, namespace: str, version: str) -> bool | None:
        """None when the policy does not police this namespace (e.g. OPENSSL_3.0.0)."""
        spaces = self.symbol_versions.get(arch, {})
        if namespace not in spaces:
            return None
        return version in spaces[namespace]


@dataclass(frozen=True, slots=True)
class Requirement:
    """One thing the content needs, and the files that need it."""

    kind: str  # "symbol-version", "library", "isa", "blacklisted-symbol", "python-build"
    value: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class TagResult:
    """The most compatible tag the content allows, and why not an older one."""

    libc: str
    architecture: str
    policy: Policy | None
    constraints: list[tuple[Requirement, str | None]]

    @property
    def tag(self) -> str:
        return self.policy.tag(self.architecture) if self.policy else f"linux_{self.architecture}"

    @property
    def tags(self) -> list[str]:
        return self.policy.tags(self.architecture) if self.policy else [self.tag]


class PolicySet:
    """All policies of one libc, oldest (most compatible) first."""

    def __init__(self, libc: str, policies: list[Policy], floor: str | None = None) -> None:
        self.libc = libc
        self.policies = sorted(policies, key=lambda p: p.libc_version)
        self._by_name = {name: p for p in self.policies for name in (p.name, *p.aliases)}
        # The oldest policy best() gives when nothing the content needs decides
        # (musllinux: the musl release leaves no trace a reader of the file can see).
        self.floor = self._by_name[floor] if floor else None

    @classmethod
    def load(cls, libc: str = "glibc") -> PolicySet:
        family = "manylinux" if libc == "glibc" else "musllinux"
        table = load_table(f"{family}.json")
        floor = table.get("default_floor", {}).get("policy")
        return cls(libc, [Policy.from_json(raw, libc) for raw in table["policies"]], floor)

    def get(self, name: str) -> Policy | None:
        return self._by_name.get(_LEGACY.get(name, name))

    def policy_of_tag(self, platform_tag: str) -> tuple[Policy | None, str | None]:
        """Split ``manylinux_2_17_x86_64`` into its policy and architecture."""
        for policy in self.policies:
            for name in (policy.name, *policy.aliases):
                if platform_tag.startswith(name + "_"):
                    return policy, platform_tag[len(name) + 1 :]
        return None, None

    def meets(self, platform_tag: str, arch: str, requirements: list[Requirement]) -> bool:
        """Whether content with ``requirements`` on ``arch`` may carry ``platform_tag``."""
        policy, tag_arch = self.policy_of_tag(platform_tag)
        return (
            policy is not None
            and tag_arch == arch
            and not self.violations(policy, arch, requirements)
        )

    @property
    def architectures(self) -> frozenset[str]:
        """Every architecture some policy covers."""
        return frozenset().union(*(p.architectures for p in self.policies))

    @property
    def whitelist(self) -> frozenset[str]:
        """Every library some policy allows: these are 'system' libraries, never grafted."""
        return frozenset().union(*(p.libraries for p in self.policies))

    def best(self, arch: str, requirements: list[Requirement]) -> TagResult:
        verdicts = [(p, self.violations(p, arch, requirements)) for p in self.policies]
        best = next((p for p, violated in verdicts if not violated), None)
        floor = self.floor
        if (
            best is not None
            and floor is not None
            and best.libc_version < floor.libc_version
            and not self.violations(floor, arch, requirements)
        ):
            best = floor
        constraints: dict[Requirement, str | None] = {}
        for policy, violated in verdicts:
            if best is not None and policy.libc_version >= best.libc_version:
                break
            for req in violated:
                constraints.setdefault(req, self._first_allowing(arch, req))
        order = {p.name: i for i, p in enumerate(self.policies)}

        def binding_first(item: tuple[Requirement, str | None]) -> tuple[int, str, list[int], str]:
            req, first = item
            number = [
                -int(p)
                for p in req.value.rpartition("_")[2].split(".")
                if p.isascii() and p.isdigit()
            ]
            return (-order.get(first or "", len(order)), req.kind, number, req.value)

        return TagResult(self.libc, arch, best, sorted(constraints.items(), key=binding_first))

    def violations(self, policy: Policy, arch: str, reqs: list[Requirement]) -> list[Requirement]:
        """The requirements ``policy`` does not accept on ``arch``."""
        if arch not in policy.architectures:
            return [Requirement("architecture", arch, ())]
        return [r for r in reqs if not _allows(policy, arch, r)]

    def _first_allowing(self, arch: str, req: Requirement) -> str | None:
        for policy in self.policies:
            if arch in policy.architectures and _allows(policy, arch, req):
                return policy.name
        return None


def _allows(policy: Policy, arch: str, req: Requirement) -> bool:
    if req.kind == "library":
        return req.value in policy.libraries
    if req.kind in ("isa", "python-build"):
        return False
    if req.kind == "blacklisted-symbol":  # "black-listed zcalloc from libz.so.1"
        _, symbol, _, library = req.value.split(" ", 3)
        return symbol not in policy.blacklist.get(library, ())
    if req.kind == "symbol-version":
        namespace, _, version = req.value.partition("_")
        return policy.allows_version(arch, namespace, version) is not False
    return True
