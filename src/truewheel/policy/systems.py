"""What macOS and Windows provide to a wheel, from data (``data/macos.json``, ``windows.json``).

Like the manylinux policies, these are facts compiled from their sources (named in
the files): the install-name prefixes of the macOS system, the architectures of
each macOS tag and the first macOS of each architecture; the DLLs every
supported Windows has (KnownDLLs, API sets, the UCRT, and every DLL in System32
of each machine), the ones the CPython installer puts beside ``python.exe``, and
the MSVC runtime that neither does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from truewheel.errors import PolicyError
from truewheel.policy._data import load_table

__all__ = ["MacSystem", "WindowsSystem"]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


@dataclass(frozen=True)
class MacSystem:
    system_prefixes: tuple[str, ...]
    forbidden: dict[str, str]  # install name -> why loading it aborts the process
    tag_archs: dict[str, frozenset[str]]
    first_versions: dict[str, tuple[int, ...]]

    @classmethod
    def load(cls) -> MacSystem:
        table = load_table("macos.json")
        try:
            system = table["system"]
            archs = table["architectures"]
            return cls(
                system_prefixes=tuple(str(p["prefix"]) for p in system["prefixes"]),
                forbidden={str(f["name"]): str(f["note"]) for f in system["forbidden"]},
                tag_archs={
                    **{arch: frozenset({arch}) for arch in archs},
                    **{tag: frozenset(v["archs"]) for tag, v in table["multi_arch"].items()},
                },
                first_versions={
                    arch: _version(str(v["min_macos"]))
                    for arch, v in archs.items()
                    if "min_macos" in v
                },
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(
                f"bundled data file is malformed ({exc!r})", path="macos.json"
            ) from exc

    def is_system(self, install_name: str) -> bool:
        """An absolute install name the system provides (``/usr/lib/libSystem.B.dylib``)."""
        return install_name.startswith(self.system_prefixes) and install_name not in self.forbidden

    def tag_architectures(self, tag_arch: str) -> frozenset[str]:
        """The architectures a tag's binaries must carry: universal2 -> {arm64, x86_64}."""
        return self.tag_archs.get(tag_arch, frozenset({tag_arch}))

    def first_macos(self, arch: str) -> tuple[int, ...]:
        """The first macOS release that runs ``arch`` (arm64: 11.0); (10, 0) when unknown."""
        return self.first_versions.get(arch, (10, 0))

    def tag_architecture(self, present: frozenset[str]) -> str | None:
        """The tag architecture of binaries that all carry ``present``: the multi-architecture
        tag with the most of them (universal2 for arm64 + x86_64), else the one there is."""
        multi = sorted(
            (len(archs), tag)
            for tag, archs in self.tag_archs.items()
            if len(archs) > 1 and archs <= present
        )
        if multi:
            return multi[-1][1]
        for preferred in ("arm64", "x86_64"):
            if preferred in present:
                return preferred
        return min(present) if present else None


@dataclass(frozen=True)
class WindowsSystem:
    system: frozenset[str]  # KnownDLLs, core system DLLs, the UCRT
    system32: dict[int, frozenset[str]]  # machine -> every DLL in its System32 (Windows 7 SP1+)
    system_patterns: re.Pattern[str]  # API sets, UCRT forwarders
    interpreter_patterns: re.Pattern[str]  # python3.dll, python311.dll, PyPy's
    msvc_runtime: dict[str, str]  # name -> note
    redistributable: re.Pattern[str]  # every MSVC runtime DLL name
    runtime_140: re.Pattern[str]  # the VC++ 2015-2022 runtime: never in System32
    cpython_rules: tuple[
        tuple[re.Pattern[str], re.Pattern[str] | None, frozenset[str], frozenset[str]], ...
    ]
    tag_machines: dict[str, int]  # win_amd64 -> IMAGE_FILE_MACHINE_AMD64

    @classmethod
    def load(cls) -> WindowsSystem:
        table = load_table("windows.json")
        try:
            msvc = table["msvc_runtime"]
            runtime_140 = re.compile(msvc["runtime_140_pattern"], re.IGNORECASE)
            system32 = _system32(table, runtime_140)
            return cls(
                system=frozenset(
                    n.lower()
                    for key in ("known_dlls", "system", "ucrt")
                    for n in table[key]["names"]
                ),
                system32=system32,
                system_patterns=_any(
                    [p["pattern"] for p in table["api_sets"]["patterns"]]
                    + [p["pattern"] for p in table["ucrt"]["patterns"]]
                ),
                interpreter_patterns=_any([p["pattern"] for p in table["interpreter"]["patterns"]]),
                msvc_runtime={str(n["name"]).lower(): str(n["note"]) for n in msvc["names"]},
                redistributable=re.compile(msvc["redistributable_pattern"], re.IGNORECASE),
                runtime_140=runtime_140,
                cpython_rules=tuple(
                    (
                        re.compile(rule["abi"]),
                        re.compile(rule["python"]) if "python" in rule else None,
                        frozenset(rule["platforms"]),
                        frozenset(n.lower() for n in rule["names"]),
                    )
                    for rule in msvc["provided_by_cpython_rules"]
                ),
                tag_machines={tag: int(v["machine"]) for tag, v in table["machines"].items()},
            )
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise PolicyError(
                f"bundled data file is malformed ({exc!r})", path="windows.json"
            ) from exc

    def beside_python(self, tags: list[tuple[str, str, str]]) -> frozenset[str]:
        """The MSVC runtime DLLs python.org's CPython ships beside ``python.exe`` for every
        one of the wheel's (python, abi, platform) tags (none they do not all agree on).

        A ``py3-none`` wheel (lightgbm's, loaded by ctypes) runs in any CPython: it is
        judged for the releases still supported (3.10 and later)."""
        sets = []
        for python, abi, platform in tags:
            if abi == "none":  # any CPython: judged for the releases still supported
                python = abi = python if python.startswith("cp") else "cp310"
            names: set[str] = set()
            for abi_rule, python_rule, platforms, provided in self.cpython_rules:
                if platform not in platforms or not abi_rule.fullmatch(abi):
                    continue
                if python_rule is not None and not python_rule.fullmatch(python):
                    continue
                names |= provided
            sets.append(names)
        return frozenset(set.intersection(*sets)) if sets else frozenset()

    def classify(
        self, dll: str, beside_python: frozenset[str] = frozenset(), machine: int | None = None
    ) -> str | None:
        """``api-set`` or ``system`` (every supported Windows), ``interpreter`` (the Python
        DLLs, and the MSVC runtime the interpreter ships: ``beside_python``),
        ``msvc-runtime`` (neither installs it), or None for a DLL nothing provides.

        Without ``machine`` only the curated core counts as system (what a wheel must not
        ship a copy of); with the importing file's machine, every DLL in that machine's
        System32 does too (``usp10.dll``, ``aclui.dll``), after the VC++ 2015-2022 runtime
        names, which are never system whatever a list says."""
        name = dll.lower()
        if name.startswith(("api-ms-win-", "ext-ms-")) or self.system_patterns.fullmatch(name):
            return "api-set"
        if name in self.system:
            return "system"
        if self.interpreter_patterns.fullmatch(name) or name in beside_python:
            return "interpreter"
        if name in self.msvc_runtime or self.runtime_140.fullmatch(name):
            return "msvc-runtime"
        if machine is not None and name in self.system32.get(machine, frozenset()):
            return "system"
        if self.redistributable.fullmatch(name):
            return "msvc-runtime"
        return None

    def machine_of_tag(self, platform: str) -> int | None:
        """``win_amd64`` -> 0x8664; None for a tag that is not Windows'."""
        return self.tag_machines.get(platform)

    def runtime_note(self, dll: str) -> str:
        if self.is_debug_runtime(dll):
            return (
                "the debug C/C++ runtime of a Debug build, installed with Visual Studio only; "
                "Microsoft does not allow redistributing it and no Redistributable has it"
            )
        return self.msvc_runtime.get(dll.lower(), "part of the Visual C++ Redistributable")

    @staticmethod
    def is_debug_runtime(dll: str) -> bool:
        """``vcruntime140d.dll``, ``msvcp140d.dll``, ``ucrtbased.dll``: what a Debug build
        links instead of the runtime a Release build uses."""
        return _DEBUG_RUNTIME.fullmatch(dll.lower()) is not None


_DEBUG_RUNTIME = re.compile(
    r"(?:vcruntime|msvcp|concrt|vccorlib|vcomp)14\d(?:_\w+)?d\.dll|ucrtbased\.dll"
)


def _system32(table: dict[str, Any], runtime_140: re.Pattern[str]) -> dict[int, frozenset[str]]:
    """Each machine's System32 names (``common`` plus its own); a list naming the VC++
    2015-2022 runtime or an MSVC runtime entry is refused: swallowing ``msvcp140.dll`` as
    system would silence the warning that the Redistributable is needed."""
    section = table["system32"]
    common = {str(n).lower() for n in section["common"]}
    runtime = {str(n["name"]).lower() for n in table["msvc_runtime"]["names"]}
    machines = {str(v["name"]): int(v["machine"]) for v in table["machines"].values()}
    out = {}
    for arch, names in section["by_machine"].items():
        found = common | {str(n).lower() for n in names}
        wrong = sorted(n for n in found if n in runtime or runtime_140.fullmatch(n))
        if wrong:
            raise ValueError(f"system32 of {arch} names the MSVC runtime: {', '.join(wrong)}")
        out[machines[arch]] = frozenset(found)
    return out


def _any(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)", re.IGNORECASE)
