"""The ``--provided-by`` runtime preload: its text, its placement, and a real venv proving it."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from truewheel.analysis.inspector import Inspector
from truewheel.cli import main
from truewheel.repair.model import ProvidedLibrary
from truewheel.repair.preload import (
    BEGIN_MARKER,
    END_MARKER,
    FUNCTION_NAME,
    inject_preload,
    preload_source,
    target_packages,
)

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


def _load_providerbuild() -> ModuleType:
    """Import fixtures/providerbuild.py by path, like conftest.load_wheelbuild."""
    name = "truewheel_fixtures_providerbuild"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, FIXTURES_DIR / "providerbuild.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import providerbuild
else:
    providerbuild = _load_providerbuild()

BLOCK = f"{BEGIN_MARKER}\npass\n{END_MARKER}\n"
OTHER_BLOCK = f"{BEGIN_MARKER}\nx = 1\ndel x\n{END_MARKER}\n"


def _provided(
    name: str = "libfoo.so.1",
    requirement: str = "twfoo",
    distribution: str = "twfoo",
    pattern: str = "libfoo*",
) -> ProvidedLibrary:
    return ProvidedLibrary(
        name=name,
        requirement=requirement,
        distribution=distribution,
        pattern=pattern,
        needed_by=("twconsumer/_core.so",),
    )


# --------------------------------------------------------------------------------------------
# inject_preload


def test_inject_after_docstring_and_future_imports() -> None:
    init = (
        '"""Package docstring."""\n'
        "\n"
        "from __future__ import annotations\n"
        "\n"
        "from pkg._core import answer\n"
    )
    assert inject_preload(init, BLOCK) == (
        '"""Package docstring."""\n'
        "\n"
        "from __future__ import annotations\n"
        "\n"
        f"{BLOCK}"
        "\n"
        "from pkg._core import answer\n"
    )


def test_inject_keeps_multiline_docstring_comments_and_parenthesized_future_first() -> None:
    init = (
        "#!/usr/bin/env python\n"
        "# -*- coding: utf-8 -*-\n"
        '"""Multi-line\n'
        "\n"
        "docstring.\n"
        '"""\n'
        "# a comment between\n"
        "from __future__ import (\n"
        "    annotations,\n"
        "    division,\n"
        ")\n"
        "from __future__ import generator_stop  # trailing comment\n"
        "# comment about the import below\n"
        "import os\n"
    )
    result = inject_preload(init, BLOCK)
    head, tail = result.split(BEGIN_MARKER)
    assert head == init.split("# comment about")[0] + "\n"
    assert tail.endswith("\n# comment about the import below\nimport os\n")
    compile(result, "__init__.py", "exec")  # __future__ imports are still at the top


def test_inject_without_docstring_goes_to_the_top() -> None:
    assert inject_preload("import os\n", BLOCK) == f"{BLOCK}\nimport os\n"
    assert inject_preload("from __future__ import annotations\nimport os\n", BLOCK) == (
        f"from __future__ import annotations\n\n{BLOCK}\nimport os\n"
    )


def test_inject_below_comment_header_and_coding_line() -> None:
    licence = "# Copyright 2024 Someone\n# SPDX-License-Identifier: MIT\n\nimport os\n"
    assert inject_preload(licence, BLOCK) == (
        f"# Copyright 2024 Someone\n# SPDX-License-Identifier: MIT\n\n{BLOCK}\nimport os\n"
    )
    attached = "# -*- coding: latin-1 -*-\n# import the core first\nfrom ._core import x\n"
    assert inject_preload(attached, BLOCK) == (
        f"# -*- coding: latin-1 -*-\n\n{BLOCK}\n# import the core first\nfrom ._core import x\n"
    )


def test_inject_docstring_without_trailing_newline_and_bom() -> None:
    assert inject_preload('"""Doc."""', BLOCK) == f'"""Doc."""\n\n{BLOCK}'
    assert inject_preload('\ufeff"""Doc."""\nx = 1\n', BLOCK) == (
        f'\ufeff"""Doc."""\n\n{BLOCK}\nx = 1\n'
    )


def test_inject_not_a_docstring() -> None:
    init = '"""%s""" % "x"\n'
    assert inject_preload(init, BLOCK) == f"{BLOCK}\n{init}"


@pytest.mark.parametrize("init", ["", "\n", "   \n\n"])
def test_inject_into_empty_file_gives_just_the_block(init: str) -> None:
    assert inject_preload(init, BLOCK) == BLOCK


def test_inject_ignores_unparsable_code_after_the_insertion_point() -> None:
    init = '"""Doc."""\nfrom __future__ import annotations\ntype X = (\n'
    assert inject_preload(init, BLOCK) == (
        f'"""Doc."""\nfrom __future__ import annotations\n\n{BLOCK}\ntype X = (\n'
    )


@pytest.mark.parametrize(
    "init",
    [
        "",
        "import os\n",
        '"""Doc."""\n',
        '"""Doc."""\n\nfrom __future__ import annotations\n\n\n\nimport os\n',
        "# header\n\nx = 1\n",
        "\r\n".join(['"""Doc."""', "from __future__ import annotations", "import os", ""]),
    ],
)
def test_inject_is_idempotent_and_replaces_in_place(init: str) -> None:
    block = preload_source([_provided()])
    once = inject_preload(init, block)
    assert inject_preload(once, block) == once
    other = inject_preload(once, OTHER_BLOCK)
    assert other.count(BEGIN_MARKER) == 1
    assert other == inject_preload(init, OTHER_BLOCK)
    assert inject_preload(other, block) == once
    compile(once, "__init__.py", "exec")


def test_inject_rejects_bad_blocks_and_broken_markers() -> None:
    with pytest.raises(ValueError, match="marker"):
        inject_preload("import os\n", "print('no markers')\n")
    with pytest.raises(ValueError, match="markers"):
        inject_preload(f"{BEGIN_MARKER}\nimport os\n", BLOCK)
    with pytest.raises(ValueError, match="markers"):
        inject_preload(BLOCK + BLOCK, BLOCK)


# --------------------------------------------------------------------------------------------
# preload_source


def test_preload_source_is_deterministic_and_sorted() -> None:
    foo = _provided()
    bar = _provided(
        name="libscipy_openblas64_.so",
        requirement="scipy-openblas64>=0.3.28",
        distribution="scipy-openblas64",
        pattern="libscipy_openblas64_*",
    )
    text = preload_source([foo, bar])
    assert text == preload_source([bar, foo]) == preload_source([bar, foo, bar])
    assert text.startswith(BEGIN_MARKER + "\n") and text.endswith(END_MARKER + "\n")
    assert text.index('"libfoo.so.1"') < text.index('"libscipy_openblas64_.so"')
    assert "'scipy-openblas64>=0.3.28'" in text
    assert f"def {FUNCTION_NAME}():" in text and f"del {FUNCTION_NAME}" in text
    with pytest.raises(ValueError):
        preload_source([])


def _exec_block(block: str) -> tuple[dict[str, object], ImportError | None]:
    namespace: dict[str, object] = {"__name__": "twconsumer"}
    try:
        exec(compile(block, "twconsumer/__init__.py", "exec"), namespace)
    except ImportError as exc:
        return namespace, exc
    return namespace, None


def test_missing_provider_raises_one_line_import_error_and_leaves_no_names() -> None:
    provided = _provided(
        name="libscipy_openblas64_.so",
        requirement="scipy-openblas64-twtest-absent>=0.3.28",
        distribution="scipy-openblas64-twtest-absent",
        pattern="libscipy_openblas64_*",
    )
    namespace, error = _exec_block(preload_source([provided]))
    assert type(error) is ImportError
    assert str(error) == (
        "twconsumer: libscipy_openblas64_.so is provided by scipy-openblas64-twtest-absent>=0.3.28"
        ", which is not installed: pip install 'scipy-openblas64-twtest-absent>=0.3.28'"
    )
    assert set(namespace) == {"__name__", "__builtins__"}


def _fake_distribution(root: Path, files: dict[str, bytes]) -> None:
    """An installed distribution ``twfake`` 2.0 under ``root`` with ``files`` in its RECORD."""
    dist_info = root / "twfake-2.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: twfake\nVersion: 2.0\n")
    rows = []
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        rows.append(f"{name},,\n")
    rows.append("twfake/lib/libfoo.so.9,,\n")  # in RECORD but deleted: skipped
    (dist_info / "RECORD").write_text("".join(rows) + "twfake-2.0.dist-info/RECORD,,\n")


def test_provider_without_matching_shared_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_distribution(tmp_path, {"twfake/include/libfoo.h": b"int foo_answer(void);\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    provided = _provided(requirement="twfake>=2", distribution="twfake")
    namespace, error = _exec_block(preload_source([provided]))
    assert type(error) is ImportError
    assert str(error) == (
        "twconsumer: libfoo.so.1 is provided by twfake>=2, but the installed twfake 2.0 has no "
        "file libfoo.so.1 or matching 'libfoo*': pip install --force-reinstall 'twfake>=2'"
    )
    assert set(namespace) == {"__name__", "__builtins__"}


def test_provider_file_that_does_not_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(tmp_path, {"twfake/lib/libfoo.so.1": b"not an ELF file\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    _namespace, error = _exec_block(preload_source([_provided(distribution="twfake")]))
    assert type(error) is ImportError
    message = str(error)
    assert message.startswith(
        "twconsumer: libfoo.so.1 is provided by twfoo, but loading it from the installed "
        "twfake 2.0 failed: "
    )
    assert str(tmp_path / "twfake" / "lib" / "libfoo.so.1") in message
    assert "\n" not in message


# --------------------------------------------------------------------------------------------
# target_packages

EXT = ".cpython-311-x86_64-linux-gnu.so"


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([f"pkg/_core{EXT}"], ["pkg/__init__.py"]),
        ([f"pkg/sub/_core{EXT}", f"pkg/_a{EXT}", "pkg/_libs/libx.so.1"], ["pkg/__init__.py"]),
        ([f"pkg/_core{EXT}", "other/_x.abi3.so"], ["other/__init__.py", "pkg/__init__.py"]),
        ([f"pkg-1.0.data/platlib/pkg/_core{EXT}"], ["pkg/__init__.py"]),
        ([f"_foo{EXT}"], []),
        ([f"pkg/_core{EXT}", f"_foo{EXT}"], []),
        (["pkg.libs/libbar-1a2b3c4d.so.2"], []),
        (["pkg/bin/tool"], []),
        ([f"pkg-1.0.data/scripts/_core{EXT}"], []),
        ([f"pkg-1.0.data/platlib/_foo{EXT}"], []),
        ([], []),
    ],
)
def test_target_packages(members: list[str], expected: list[str]) -> None:
    assert target_packages(members) == expected


def test_target_packages_skips_namespace_packages_when_members_are_known() -> None:
    core = f"google/cloud/sub/_x{EXT}"
    members = [core, "google/cloud/__init__.py", "google/cloud/sub/__init__.py"]
    assert target_packages([core], members) == ["google/cloud/__init__.py"]
    assert target_packages([core], [core]) == []  # no regular package at all
    in_data = [f"pkg-1.0.data/platlib/pkg/_core{EXT}", "pkg-1.0.data/platlib/pkg/__init__.py"]
    assert target_packages(in_data[:1], in_data) == ["pkg-1.0.data/platlib/pkg/__init__.py"]


# --------------------------------------------------------------------------------------------
# End to end: two real wheels, one real venv


_IMPORT_SCRIPT = """
import json
try:
    import twconsumer._core
    maps = {line.split()[-1] for line in open("/proc/self/maps") if "libfoo" in line}
    leftovers = sorted(name for name in vars(twconsumer) if "truewheel" in name)
    result = {"answer": twconsumer._core.answer(), "libfoo": sorted(maps), "names": leftovers}
except ImportError as exc:
    result = {"error": type(exc).__name__, "message": str(exc)}
print(json.dumps(result))
"""


def _ldconfig_lists_libfoo() -> bool:
    ldconfig = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.access(p, os.X_OK)), None
    )
    if ldconfig is None:  # no cache to ask: look where the loader would
        dirs = ["/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/lib/x86_64-linux-gnu"]
        return any(Path(d, "libfoo.so.1").exists() for d in dirs)
    listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=True)
    return "libfoo" in listing.stdout


def test_end_to_end_preload_in_a_real_venv(tmp_path_factory: pytest.TempPathFactory) -> None:
    work = tmp_path_factory.mktemp("provided-by")
    wheels = providerbuild.build_provider_wheels(work / "wheels")
    option = f"{providerbuild.PROVIDER_DIST}:{providerbuild.LIBFOO_PATTERN}"
    status = main(
        ["repair", "-w", str(work / "repaired"), "--provided-by", option, str(wheels["consumer"])]
    )
    assert status == 0
    [repaired] = (work / "repaired").glob("*.whl")
    report = Inspector().inspect(repaired)
    [core] = [f for f in report.native_files if f.path == providerbuild.consumer_core_member()]
    assert core.elf.needed.count(providerbuild.LIBFOO_SONAME) == 1, "DT_NEEDED is kept"
    assert not [f for f in report.native_files if "libfoo" in f.path], "nothing is grafted"
    # truewheel's own output inspects clean: the need is the provider's, not the system's.
    assert report.provided == {providerbuild.LIBFOO_SONAME: providerbuild.PROVIDER_DIST}
    about_libfoo = {f.code for f in report.findings if providerbuild.LIBFOO_SONAME in f.message}
    assert "external-library" not in about_libfoo
    assert "provided-by-requirement" in about_libfoo
    before = Inspector().inspect(wheels["consumer"])
    assert "external-library" in {
        f.code for f in before.findings if providerbuild.LIBFOO_SONAME in f.message
    }

    # No system copy of libfoo: the provider wheel is the only place it exists.
    assert not _ldconfig_lists_libfoo()
    for entry in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
        assert not entry or not Path(entry, providerbuild.LIBFOO_SONAME).exists()

    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)

    def pip(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, "-m", "pip", *args], capture_output=True, text=True, env=env, check=False
        )

    def import_consumer() -> dict[str, object]:
        proc = subprocess.run(
            [python, "-c", _IMPORT_SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        result: dict[str, object] = json.loads(proc.stdout)
        return result

    install = ("install", "-q", "--no-deps", "--no-index")

    # 1. Unmodified consumer, provider installed: DT_NEEDED alone does not find libfoo.
    done = pip(*install, str(wheels["provider"]), str(wheels["consumer"]))
    assert done.returncode == 0, done.stderr
    result = import_consumer()
    assert result["error"] == "ImportError"
    assert "libfoo.so.1: cannot open shared object file" in str(result["message"])

    # 2. Repaired consumer, provider absent: a clear ImportError, not a dlopen trace.
    done = pip("uninstall", "-q", "-y", providerbuild.PROVIDER_DIST)
    assert done.returncode == 0, done.stderr
    done = pip(*install, "--force-reinstall", str(repaired))
    assert done.returncode == 0, done.stderr
    result = import_consumer()
    assert result == {
        "error": "ImportError",
        "message": "twconsumer: libfoo.so.1 is provided by twfoo, which is not installed: "
        "pip install 'twfoo'",
    }
    done = pip("check")
    assert done.returncode != 0 and "requires twfoo, which is not installed" in done.stdout

    # 3. Repaired consumer with its provider: the preload makes it import.
    done = pip(*install, str(wheels["provider"]))
    assert done.returncode == 0, done.stderr
    result = import_consumer()
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    expected_lib = (Path(site) / providerbuild.PROVIDER_LIB_MEMBER).resolve()
    assert result == {"answer": 42, "libfoo": [str(expected_lib)], "names": []}
    done = pip("check")
    assert done.returncode == 0, done.stdout
