"""auditwheel 6.8.2's own test cases on its bundled wheels: truewheel must give auditwheel's answer.

The cases, and how a question is asked of truewheel and its answer reduced to a short text,
are benchmarks/auditwheel_suite.py's (the benchmark runs auditwheel as well; this test only
runs truewheel, against auditwheel's answers written here). A case where truewheel does not
yet answer as auditwheel does is ``xfail(strict=True)`` naming the part of issue 11 that
covers it: when that part lands the case passes, strict xfail fails, and the mark goes.
The bundled wheels come from auditwheel's sdist on PyPI, downloaded once into a cache
outside git; offline, the test is skipped. The integration projects (built with pip wheel)
are the benchmark's alone: they take minutes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from truewheel.analysis.inspector import Inspector

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "truewheel-tests"


def _suite() -> ModuleType:
    """benchmarks/auditwheel_suite.py, imported by path (it imports its sibling ``harness``)."""
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    spec = importlib.util.spec_from_file_location(
        "auditwheel_suite", BENCH_DIR / "auditwheel_suite.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["auditwheel_suite"] = module
    spec.loader.exec_module(module)
    return module


suite = _suite()

LIBC_FIELD = (
    "documented choice: the wheel-level libc field of a file that names no libc (a static "
    "program; a cp310 musl extension) reads glibc; inspect says libc-undecided where it matters"
)
ARCH = (
    "documented choice: inspect reports the wheel with an architecture error (exit 1) where "
    "show refuses; repair refuses as auditwheel does; test_inspect_gives_an_architecture_error"
)
PURE = "documented choice: inspect reports pure wheels; repair refuses them as auditwheel does"
UCS2 = (
    "UCS-2: truewheel's repair refuses a narrow-unicode CPython build before it looks for "
    "libraries (auditwheel's repair refuses it too, at any manylinux --plat); auditwheel's test "
    "calls its internal analyze_wheel_abi. inspect lists the same external libraries: "
    "test_ucs2_wheel_external_libraries_as_analyze_wheel_abi"
)
LIBPYTHON = (
    "truewheel keeps an input tag only while the content meets it: manylinux2014 is dropped "
    "for content that needs glibc 2.29+"
)

# auditwheel 6.8.2's answers (benchmarks/results/raw/auditwheel-suite.json), in the
# benchmark's words; ``None``: the case needs an input that is not in the sdist.
EXPECTED: dict[str, str] = {
    "analyze_wheel_abi[cffi-0]": "external {libffi.so.5, libpython2.7.so.1.0}",
    "analyze_wheel_abi[cffi-1]": "external {}",
    "analyze_wheel_abi[cffi-2]": "external {libffi.so.5, libpython2.7.so.1.0}",
    "analyze_wheel_abi[cffi-3]": "external {libpython2.7.so.1.0}",
    "analyze_wheel_abi[cffi-4]": "external {libffi.so.5, libpython2.7.so.1.0}",
    "analyze_wheel_abi[cffi-5]": "external {libpython2.7.so.1.0}",
    "analyze_wheel_abi[cffi-6]": "external {libpython2.7.so.1.0}",
    "analyze_wheel_abi[cffi-7]": "external {libffi.so.5, libpython2.7.so.1.0}",
    "analyze_wheel_abi[cffi-8]": "external {libpython2.7.so.1.0}",
    "analyze_wheel_abi[cffi-9]": "external {}",
    "analyze_wheel_abi[python_snappy]": "external {libsnappy.so.1}",
    "analyze_wheel_abi_pyfpe": "tag linux_x86_64",
    "show_wheel_abi_pyfpe": "names PyFPE_jbuf: yes",
    "analyze_wheel_abi_bad_architecture": "refused",
    "analyze_wheel_abi_static_exe": "tag manylinux_2_5_x86_64",
    "wheel_source_date_epoch[0]": "wheel musllinux_1_2_x86_64; member times 315532800",
    "wheel_source_date_epoch[315532799]": "wheel musllinux_1_2_x86_64; member times 315532800",
    "wheel_source_date_epoch[315532801]": "wheel musllinux_1_2_x86_64; member times 315532800",
    "wheel_source_date_epoch[315532802]": "wheel musllinux_1_2_x86_64; member times 315532802",
    "wheel_source_date_epoch[650203201]": "wheel musllinux_1_2_x86_64; member times 650203200",
    "libpython": "wheel manylinux2014_aarch64.manylinux_2_31_aarch64; libpython DT_NEEDED removed",
    "main_lddtree": "needed []; libc unknown",
    "weak_symbols_not_blacklisted": "tag manylinux_2_17_x86_64",
    "symbol_blacklist[show]": "tag linux_x86_64",
    "symbol_blacklist[repair]": "refused",
    "lddtree.libpython": "needed [libpython3.13.so.1.0, libstdc++.so.6, libm.so.6, "
    "libgcc_s.so.1, libc.so.6, ld-linux-aarch64.so.1]; libc glibc",
    "lddtree.libc_no_detect_musl_cp310": "needed []; libc unknown",
    "non_platform_wheel_pure[repair]": "refused",
    "non_platform_wheel_pure[show]": "refused",
    "non_platform_wheel_pure_allow[repair]": "wheel any; output identical to input",
    "non_platform_wheel_pure_allow[repair-samefile]": "wheel any; output identical to input",
    "non_platform_wheel_pure_allow[show]": "tag none",
    "non_platform_wheel_unknown_arch[True-armv5l-repair]": "refused",
    "non_platform_wheel_unknown_arch[False-armv5l-repair]": "refused",
    "non_platform_wheel_unknown_arch[True-mips64-repair]": "refused",
    "non_platform_wheel_unknown_arch[False-mips64-repair]": "refused",
    "non_platform_wheel_bad_arch[True-aarch64-repair]": "refused",
    "non_platform_wheel_bad_arch[False-aarch64-repair]": "refused",
    "non_platform_wheel_bad_arch[True-armv7l-repair]": "refused",
    "non_platform_wheel_bad_arch[False-armv7l-repair]": "refused",
    "non_platform_wheel_bad_arch[True-i686-repair]": "refused",
    "non_platform_wheel_bad_arch[False-i686-repair]": "refused",
    "non_platform_wheel_bad_arch[True-ppc64le-repair]": "refused",
    "non_platform_wheel_bad_arch[False-ppc64le-repair]": "refused",
    "non_platform_wheel_bad_arch[True-s390x-repair]": "refused",
    "non_platform_wheel_bad_arch[False-s390x-repair]": "refused",
    "non_platform_wheel_unknown_arch[True-armv5l-show]": "refused",
    "non_platform_wheel_unknown_arch[False-armv5l-show]": "refused",
    "non_platform_wheel_unknown_arch[True-mips64-show]": "refused",
    "non_platform_wheel_unknown_arch[False-mips64-show]": "refused",
    "non_platform_wheel_bad_arch[True-aarch64-show]": "refused",
    "non_platform_wheel_bad_arch[False-aarch64-show]": "refused",
    "non_platform_wheel_bad_arch[True-armv7l-show]": "refused",
    "non_platform_wheel_bad_arch[False-armv7l-show]": "refused",
    "non_platform_wheel_bad_arch[True-i686-show]": "refused",
    "non_platform_wheel_bad_arch[False-i686-show]": "refused",
    "non_platform_wheel_bad_arch[True-ppc64le-show]": "refused",
    "non_platform_wheel_bad_arch[False-ppc64le-show]": "refused",
    "non_platform_wheel_bad_arch[True-s390x-show]": "refused",
    "non_platform_wheel_bad_arch[False-s390x-show]": "refused",
    "cross_repair[glibc-aarch64]": "wheel manylinux2014_aarch64.manylinux_2_17_aarch64",
    "cross_repair[glibc-armv7l]": "wheel manylinux2014_armv7l.manylinux_2_17_armv7l",
    "cross_repair[glibc-i686]": "wheel manylinux1_i686.manylinux_2_5_i686",
    "cross_repair[glibc-ppc64le]": "wheel manylinux2014_ppc64le.manylinux_2_17_ppc64le",
    "cross_repair[glibc-riscv64]": "wheel manylinux_2_31_riscv64",
    "cross_repair[glibc-s390x]": "wheel manylinux2014_s390x.manylinux_2_17_s390x",
    "cross_repair[glibc-x86_64]": "wheel manylinux1_x86_64.manylinux_2_5_x86_64",
    "cross_repair[musl-aarch64]": "wheel musllinux_1_2_aarch64",
    "cross_repair[musl-armv7l]": "wheel musllinux_1_2_armv7l",
    "cross_repair[musl-i686]": "wheel musllinux_1_2_i686",
    "cross_repair[musl-ppc64le]": "wheel musllinux_1_2_ppc64le",
    "cross_repair[musl-riscv64]": "wheel musllinux_1_2_riscv64",
    "cross_repair[musl-s390x]": "wheel musllinux_1_2_s390x",
    "cross_repair[musl-x86_64]": "wheel musllinux_1_2_x86_64",
    "repair_wheel_mismatch[aarch64 to x86_64]": "refused",
    "repair_wheel_mismatch[musl to glibc]": "refused",
    "repair_wheel_mismatch[glibc to musl]": "refused",
    "unexisting_wheel[show]": "refused",
    "unexisting_wheel[repair]": "refused",
}

# Cases where truewheel answers otherwise today, and the part of issue 11 that covers it.
DIFFERS: dict[str, str] = {
    **{f"analyze_wheel_abi[cffi-{i}]": UCS2 for i in range(10)},
    "libpython": LIBPYTHON,
    "main_lddtree": LIBC_FIELD,
    "lddtree.libc_no_detect_musl_cp310": LIBC_FIELD,
    "non_platform_wheel_pure[show]": PURE,
    "non_platform_wheel_unknown_arch[True-armv5l-show]": ARCH,
    "non_platform_wheel_unknown_arch[False-armv5l-show]": ARCH,
    "non_platform_wheel_unknown_arch[True-mips64-show]": ARCH,
    "non_platform_wheel_unknown_arch[False-mips64-show]": ARCH,
    "non_platform_wheel_bad_arch[True-aarch64-show]": ARCH,
    "non_platform_wheel_bad_arch[False-aarch64-show]": ARCH,
    "non_platform_wheel_bad_arch[True-armv7l-show]": ARCH,
    "non_platform_wheel_bad_arch[False-armv7l-show]": ARCH,
    "non_platform_wheel_bad_arch[True-i686-show]": ARCH,
    "non_platform_wheel_bad_arch[False-i686-show]": ARCH,
    "non_platform_wheel_bad_arch[True-ppc64le-show]": ARCH,
    "non_platform_wheel_bad_arch[False-ppc64le-show]": ARCH,
    "non_platform_wheel_bad_arch[True-s390x-show]": ARCH,
    "non_platform_wheel_bad_arch[False-s390x-show]": ARCH,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    sdist = suite.fetch_sdist(CACHE, sys.executable)
    if sdist is None:
        pytest.skip("auditwheel's sdist could not be downloaded from PyPI (offline?)")
    suite.fetch_extra_wheels(sdist / "tests" / "bundled-wheels", sys.executable)
    return suite.Inputs(sdist, tmp_path_factory.mktemp("auditwheel-suite"))


def _params() -> list[Any]:
    params: list[Any] = []
    for case in suite.bundled_cases():
        marks = (
            [pytest.mark.xfail(strict=True, reason=DIFFERS[case.id])] if case.id in DIFFERS else []
        )
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def test_every_case_has_an_expected_answer() -> None:
    ids = {case.id for case in suite.bundled_cases()}
    assert ids == set(EXPECTED), ids ^ set(EXPECTED)
    assert set(DIFFERS) <= ids


_ANSWERS: dict[tuple[object, ...], str] = {}


@pytest.mark.parametrize("case", _params())
def test_truewheel_answers_as_auditwheel(case: Any, inputs: Any) -> None:
    truewheel = suite.Truewheel([sys.executable, "-m", "truewheel"])
    key = (
        case.kind,
        case.wheel,
        tuple(case.options),
        tuple(sorted(case.env.items())),
        tuple(case.exclude),
        case.rename,
        case.member,
        case.needle,
        tuple(case.probes),
    )
    if key not in _ANSWERS:
        _ANSWERS[key] = suite.answer(truewheel, case, inputs).answer
    got = _ANSWERS[key]
    if got == "skipped":
        pytest.skip(f"input not available: {case.wheel}")
    assert got == EXPECTED[case.id]


def test_ucs2_wheel_external_libraries_as_analyze_wheel_abi(inputs: Any) -> None:
    """What auditwheel's analyze_wheel_abi finds external in the UCS-2 cffi wheel, inspect
    finds too, and it says why no manylinux tag can hold."""
    wheel = inputs.sdist / "tests" / "bundled-wheels" / "cffi-1.5.0-cp27-none-linux_x86_64.whl"
    report = Inspector().inspect(wheel)
    assert report.platform is not None
    assert report.platform.external_libraries == ["libffi.so.5", "libpython2.7.so.1.0"]
    assert "python-ucs2" in {f.code for f in report.findings if f.severity == "error"}


@pytest.mark.parametrize(
    "case", [c for c in suite.bundled_cases() if DIFFERS.get(c.id) == ARCH], ids=lambda c: c.id
)
def test_inspect_gives_an_architecture_error(case: Any, inputs: Any, tmp_path: Path) -> None:
    """Where ``auditwheel show`` refuses another or an unknown architecture, inspect still
    reports the wheel, with the error that makes its exit status 1."""
    wheel, _ = inputs.wheel(case)
    staged = suite._staged(case, wheel, tmp_path)
    report = Inspector().inspect(staged)
    codes = {f.code for f in report.findings if f.severity == "error"}
    assert codes & {"architecture-mismatch", "architecture-unsupported"}, report.findings
