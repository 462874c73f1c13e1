"""The macOS and Windows policy tables: shape, cited sources, and consistency between lists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from truewheel.policy._data import load_table

MAC_ARCHS = {"x86_64", "arm64", "i386", "ppc", "ppc64"}


@pytest.fixture(scope="module")
def macos() -> dict[str, Any]:
    return load_table("macos.json")


@pytest.fixture(scope="module")
def windows() -> dict[str, Any]:
    return load_table("windows.json")


def cited(node: object) -> Iterator[list[str]]:
    """Every ``sources`` list anywhere below ``node`` (the top-level map excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "sources" and isinstance(value, list):
                yield value
            else:
                yield from cited(value)
    elif isinstance(node, list):
        for item in node:
            yield from cited(item)


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@pytest.mark.parametrize("name", ["macos.json", "windows.json"])
def test_every_list_names_a_known_source(name: str) -> None:
    table = load_table(name)
    sources = table["sources"]
    assert sources and all(isinstance(text, str) and len(text) > 40 for text in sources.values())
    lists = [key for key, value in table.items() if isinstance(value, dict) and key != "sources"]
    for key in lists:
        keys = [k for found in cited(table[key]) for k in found]
        assert keys, f"{name}: {key} names no source"
        assert set(keys) <= set(sources), f"{name}: {key} cites {set(keys) - set(sources)}"
    used = {k for key in lists for found in cited(table[key]) for k in found}
    assert used == set(sources), f"{name}: sources never cited: {set(sources) - used}"


def test_macos_prefixes_do_not_overlap(macos: dict[str, Any]) -> None:
    system = [p["prefix"] for p in macos["system"]["prefixes"]]
    foreign = [p["prefix"] for p in macos["not_system"]["prefixes"]]
    for prefix in system + foreign:
        assert prefix.startswith("/") and prefix.endswith("/"), prefix
    for a in system:
        for b in foreign:
            assert not a.startswith(b) and not b.startswith(a), (a, b)
    for lib in macos["system"]["libraries"]:
        assert any(lib["name"].startswith(p) for p in system), lib["name"]
        assert not any(lib["name"].startswith(p) for p in foreign), lib["name"]
    forbidden = {lib["name"] for lib in macos["system"]["forbidden"]}
    assert not forbidden & {lib["name"] for lib in macos["system"]["libraries"]}


def test_macos_not_system_patterns_match_what_they_describe(macos: dict[str, Any]) -> None:
    patterns = [re.compile(p["pattern"]) for p in macos["not_system"]["patterns"]]
    examples = [
        "/Users/runner/miniconda3/lib/libgmp.10.dylib",
        "/Users/me/miniforge3/lib/libomp.dylib",
        "/opt/homebrew/opt/libomp/lib/libomp.dylib",
        "/usr/local/Cellar/gmp/6.3.0/lib/libgmp.10.dylib",
    ]
    for example in examples:
        assert any(p.search(example) for p in patterns), example
    for lib in macos["system"]["libraries"]:
        assert not any(p.search(lib["name"]) for p in patterns), lib["name"]


def test_macos_multi_arch_tags_match_packaging_formats(macos: dict[str, Any]) -> None:
    """A Mac of arch A installs format F exactly when F's arch set contains A."""
    multi = {name: set(entry["archs"]) for name, entry in macos["multi_arch"].items()}
    assert multi["universal2"] == {"arm64", "x86_64"}
    assert all(archs <= MAC_ARCHS and len(archs) >= 2 for archs in multi.values())
    accepted = macos["accepted_formats"]
    for arch in MAC_ARCHS:
        assert set(accepted[arch]) == {f for f, archs in multi.items() if arch in archs}, arch


def test_macos_arch_floors(macos: dict[str, Any]) -> None:
    archs = macos["architectures"]
    assert set(archs) == MAC_ARCHS
    assert version(archs["arm64"]["min_macos"]) == (11, 0)
    assert archs["arm64"]["requires_signature"] is True
    for arch in archs.values():
        if "min_macos" in arch and "max_macos" in arch:
            assert version(arch["min_macos"]) <= version(arch["max_macos"])
    assert len({arch["cpu_type"] for arch in archs.values()}) == len(archs)
    tags = macos["tag_versions"]
    assert version(tags["compat_10_16"]) == version(macos["system"]["shared_cache_since"])


def all_windows_patterns(windows: dict[str, Any]) -> list[str]:
    found = [
        p["pattern"]
        for key in ("api_sets", "ucrt", "interpreter")
        for p in windows[key]["patterns"]
    ]
    return found + list(windows["never_vendor"]["patterns"])


def test_windows_patterns_compile_and_match_examples(windows: dict[str, Any]) -> None:
    compiled = [re.compile(p) for p in all_windows_patterns(windows)]
    compiled.append(re.compile(windows["msvc_runtime"]["redistributable_pattern"]))
    for rule in windows["msvc_runtime"]["provided_by_cpython_rules"]:
        compiled += [re.compile(rule["abi"]), re.compile(rule.get("python", ".*"))]
    assert compiled

    def matches(key: str, name: str) -> bool:
        return any(re.fullmatch(p["pattern"], name) for p in windows[key]["patterns"])

    assert matches("api_sets", "api-ms-win-core-synch-l1-2-0.dll")
    assert matches("ucrt", "api-ms-win-crt-runtime-l1-1-0.dll")
    assert matches("interpreter", "python311.dll") and matches("interpreter", "python313t.dll")
    assert matches("interpreter", "python3.dll") and not matches("interpreter", "python3x.dll")
    redist = re.compile(windows["msvc_runtime"]["redistributable_pattern"])
    for entry in windows["msvc_runtime"]["names"]:
        assert redist.fullmatch(entry["name"]), entry["name"]
    assert not redist.fullmatch("libgmp-10.dll")


def test_windows_names_lower_case_and_disjoint(windows: dict[str, Any]) -> None:
    known = set(windows["known_dlls"]["names"])
    system = set(windows["system"]["names"])
    never = set(windows["never_vendor"]["names"])
    msvc = {entry["name"]: entry for entry in windows["msvc_runtime"]["names"]}
    ucrt = set(windows["ucrt"]["names"])
    for name in known | system | never | set(msvc) | ucrt:
        assert name == name.lower() and re.fullmatch(r"[a-z0-9_.-]+\.(dll|drv)", name), name
    assert not known & system, "system.names repeats KnownDLLs"
    must_ship = {name for name, entry in msvc.items() if not entry["provided_by_cpython"]}
    assert not must_ship & (known | system | never | ucrt)
    assert set(msvc) & (known | system | never) == set()
    assert known <= never
    assert {"vcruntime140.dll", "vcruntime140_1.dll"} <= set(msvc) - must_ship
    assert msvc["vcruntime140_1.dll"]["machines"] == ["amd64", "arm64"]
    patterns = [re.compile(p) for p in all_windows_patterns(windows)]
    for name in known | system | set(msvc):
        assert not any(p.fullmatch(name) for p in patterns), name


def test_windows_cpython_rules_name_runtime_dlls(windows: dict[str, Any]) -> None:
    provided = {e["name"] for e in windows["msvc_runtime"]["names"] if e["provided_by_cpython"]}
    machines = windows["machines"]
    for rule in windows["msvc_runtime"]["provided_by_cpython_rules"]:
        assert set(rule["names"]) <= provided
        assert set(rule["platforms"]) <= set(machines)
        if "win32" in rule["platforms"]:
            assert "vcruntime140_1.dll" not in rule["names"]
    assert {m["machine"] for m in machines.values()} == {0x14C, 0x8664, 0xAA64}


def system32_names(windows: dict[str, Any]) -> dict[str, set[str]]:
    section = windows["system32"]
    common = set(section["common"])
    return {arch: common | set(names) for arch, names in section["by_machine"].items()}


def test_windows_system32_lists(windows: dict[str, Any]) -> None:
    """Every machine's System32 list: well-formed names, common ones stated once, the
    names the trials met (pygame, pywin32 and others) present, the VC++ 2015-2022
    runtime absent."""
    section = windows["system32"]
    assert set(section["by_machine"]) == {m["name"] for m in windows["machines"].values()}
    for names in section["by_machine"].values():
        assert not set(names) & set(section["common"])
        assert names == sorted(names)
    lists = system32_names(windows)
    runtime = {entry["name"] for entry in windows["msvc_runtime"]["names"]}
    runtime_140 = re.compile(windows["msvc_runtime"]["runtime_140_pattern"])
    seen = "usp10 aclui activeds lz32 ntdsapi loadperf query sfc d3d9 dxva2 dinput8 msacm32"
    seen += " wlanapi uiautomationcore"
    for arch, names in lists.items():
        for name in names:
            assert name == name.lower() and re.fullmatch(r"[a-z0-9_.-]+\.(dll|drv)", name), name
        assert not names & runtime, arch
        assert not [n for n in names if runtime_140.fullmatch(n)], arch
        assert {f"{n}.dll" for n in seen.split()} <= names
    assert {"mscoree.dll", "avifil32.dll"} <= lists["amd64"] & lists["i386"]
    assert not {"mscoree.dll", "avifil32.dll"} & lists["arm64"]
    assert len(lists["i386"]) == 1226 and len(lists["amd64"]) == 1422
    assert len(lists["arm64"]) == 2767


def test_windows_runtime_names_are_never_system() -> None:
    """The bigger list swallows no MSVC runtime name, on any machine; without a machine
    only the curated core is system (what vendored-system-library judges)."""
    from truewheel.policy.systems import WindowsSystem

    system = WindowsSystem.load()
    runtime = ["msvcp140.dll", "MSVCP140_1.dll", "vcomp140.dll", "concrt140.dll"]
    runtime += ["mfc140u.dll", "mfcm140.dll", "vcruntime140_1.dll", "vccorlib140.dll"]
    for machine in system.tag_machines.values():
        assert system.classify("USP10.dll", machine=machine) == "system"
        assert system.classify("kernel32.dll", machine=machine) == "system"
        assert system.classify("mfc42.dll", machine=machine) == "system"  # Windows' own MFC
        for name in runtime:
            assert system.classify(name, machine=machine) == "msvc-runtime", (name, machine)
        assert system.classify("libgmp-10.dll", machine=machine) is None
    assert system.classify("mscoree.dll", machine=0xAA64) is None
    assert system.classify("usp10.dll") is None


def test_windows_table_with_a_runtime_name_in_system32_is_refused() -> None:
    import copy

    from truewheel.policy import systems

    table = copy.deepcopy(load_table("windows.json"))
    table["system32"]["by_machine"]["amd64"].append("msvcp140.dll")
    pattern = re.compile(table["msvc_runtime"]["runtime_140_pattern"])
    with pytest.raises(ValueError, match=r"msvcp140\.dll"):
        systems._system32(table, pattern)
    table["system32"]["by_machine"]["amd64"][-1] = "mfc140u.dll"
    with pytest.raises(ValueError, match=r"mfc140u\.dll"):
        systems._system32(table, pattern)
