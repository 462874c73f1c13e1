"""`verify` and setuptools' ``package_dir``: a package renamed between the sdist and the wheel
(regex 2024.5.15 ships ``regex_3/`` as ``regex/``), read from setup.py, setup.cfg or
pyproject.toml without running anything; and one sdist built into a wheel by real setuptools."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from test_verify import INIT, UTIL, make_sdist, make_wheel, pkg_info
from truewheel.verify import verify_wheel
from truewheel.verify.packagedirs import read_package_dirs

RENAMED = {"lib3/__init__.py": INIT, "lib3/util.py": UTIL, "lib3/data/table.txt": b"1 2\n"}
WHEEL = {"twv/__init__.py": INIT, "twv/util.py": UTIL, "twv/data/table.txt": b"1 2\n"}
CONFIGS = {
    "setup.py": b"from setuptools import setup\nsetup(name='twv', package_dir={'twv': 'lib3'})\n",
    "setup.py-name": (
        b"import setuptools\nDIRS = {'twv': './lib3/'}\n"
        b"setuptools.setup(name='twv', packages=['twv'], package_dir=DIRS)\n"
    ),
    "setup.py-dict": b"from setuptools import setup\nsetup(package_dir=dict(twv='lib3'))\n",
    "setup.cfg": b"[metadata]\nname = twv\n\n[options]\npackage_dir =\n    twv = lib3\n",
    "pyproject.toml": b'[tool.setuptools]\npackage-dir = {twv = "lib3"}\n',
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_a_renamed_package_corresponds(tmp_path: Path, config: str) -> None:
    """Failed before package_dir was read: all three members were unexplained-code."""
    name = config.split("-")[0]
    sdist = make_sdist(
        tmp_path / "twv-1.0.tar.gz", {**RENAMED, name: CONFIGS[config]}, info=pkg_info()
    )
    report = verify_wheel(make_wheel(tmp_path, WHEEL), sdist)
    sources = {m.path: (m.category, m.source) for m in report.members}
    assert sources["twv/util.py"] == ("from-sdist-identical", "lib3/util.py")
    assert sources["twv/data/table.txt"] == ("from-sdist-identical", "lib3/data/table.txt")
    assert report.corresponds and report.counts["unexplained"] == 0
    assert report.layout == ("lib3/ (package_dir twv)",)


def test_without_the_mapping_the_renamed_package_is_unexplained(tmp_path: Path) -> None:
    """The package's own files are unexplained; ``data/table.txt`` has the bytes of
    ``lib3/data/table.txt``, a file ending with its path below the package (two parts),
    and is placed by that alone (opencv's ``misc/python/package/``)."""
    sdist = make_sdist(tmp_path / "twv-1.0.tar.gz", RENAMED, info=pkg_info())
    report = verify_wheel(make_wheel(tmp_path, WHEEL), sdist)
    assert {m.path for m in report.unexplained} == {"twv/__init__.py", "twv/util.py"}
    assert not report.corresponds


def test_a_renamed_file_that_differs_comes_with_its_diff(tmp_path: Path) -> None:
    files = {**RENAMED, "setup.py": CONFIGS["setup.py"]}
    sdist = make_sdist(tmp_path / "twv-1.0.tar.gz", files, info=pkg_info())
    evil = UTIL + b"import urllib.request  # exfiltrate\n"
    report = verify_wheel(make_wheel(tmp_path, {**WHEEL, "twv/util.py": evil}), sdist)
    [different] = [m for m in report.members if m.category == "from-sdist-different"]
    assert different.path == "twv/util.py" and different.source == "lib3/util.py"
    assert different.diff is not None and "+import urllib.request" in different.diff
    assert [f.code for f in report.findings if f.severity == "finding"] == ["python-differs"]


def test_an_injected_file_in_a_renamed_package_stays_unexplained(tmp_path: Path) -> None:
    files = {**RENAMED, "setup.cfg": CONFIGS["setup.cfg"]}
    sdist = make_sdist(tmp_path / "twv-1.0.tar.gz", files, info=pkg_info())
    wheel = make_wheel(tmp_path, {**WHEEL, "twv/_hook.py": b"import os\nos.system('x')\n"})
    report = verify_wheel(wheel, sdist)
    [unexplained] = [m for m in report.members if m.category == "unexplained"]
    assert unexplained.path == "twv/_hook.py" and not report.corresponds


def test_setup_py_is_read_never_run(tmp_path: Path) -> None:
    """A computed package_dir is not seen (its members stay unexplained); nothing executes."""
    marker = tmp_path / "ran"
    setup = (
        f"open({str(marker)!r}, 'w').close()\n"
        "from setuptools import setup\n"
        "setup(package_dir={'twv': 'lib' + '3'})\n"
    ).encode()
    sdist = make_sdist(tmp_path / "twv-1.0.tar.gz", {**RENAMED, "setup.py": setup}, info=pkg_info())
    report = verify_wheel(make_wheel(tmp_path, WHEEL), sdist)
    assert report.counts["unexplained"] == 2 and not marker.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.py", b"setup(package_dir={'twv': 'lib3'}\n"),  # syntax error
        ("setup.py", b"\xff\xfe not utf-8"),
        ("setup.py", b"setup(package_dir=" + b"[" * 200_000 + b")\n"),
        ("setup.cfg", b"package_dir = twv = lib3\n"),  # no section header
        ("pyproject.toml", b"[tool.setuptools\n"),
        ("pyproject.toml", b"x = " + b"[" * 100_000 + b"\n"),
    ],
)
def test_unreadable_configuration_gives_nothing(name: str, data: bytes) -> None:
    found = read_package_dirs({name: data})
    assert found.mappings == () and found.problems and found.problems[0].startswith(name)


def test_a_setup_py_with_invalid_escapes_is_read_quietly() -> None:
    """'\\d' warns when parsed (a SyntaxWarning, shown by default, on 3.12): not our output,
    and under ``-W error`` it must not turn into a parse failure either."""
    setup = b"import re\nPATTERN = re.compile('\\d+')\nsetup(package_dir={'twv': 'lib3'})\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = read_package_dirs({"setup.py": setup})
    assert found.mappings == (("twv", "lib3", "setup.py"),) and found.problems == ()


def test_directories_leaving_the_tree_and_odd_packages_are_ignored() -> None:
    setup = b"setup(package_dir={'a': '../a', 'b': '/etc', 'c': 'C:x', 'd e': 'x', 'f': 'ok/'})"
    found = read_package_dirs({"setup.py": setup})
    assert found.mappings == (("f", "ok", "setup.py"),)
    assert found.sources("f/g/h.py") == [("ok/ (package_dir f)", "ok/g/h.py")]
    assert found.sources("other/h.py") == []


def test_nested_packages_take_the_longest_mapping() -> None:
    cfg = b"[options]\npackage_dir =\n    = src\n    a.b = vendored/b\n"
    found = read_package_dirs({"setup.cfg": cfg})
    assert found.sources("a/b/c/d.py") == [("vendored/b/ (package_dir a.b)", "vendored/b/c/d.py")]
    assert found.sources("a/x.py") == []  # src/a/x.py: a prefix the suffix search finds
    one_line = read_package_dirs({"setup.cfg": b"[options]\npackage_dir = =src, a = top\n"})
    assert one_line.sources("a/x.py") == [("top/ (package_dir a)", "top/x.py")]


def test_setup_spreading_a_dict_with_computed_values() -> None:
    """pygame 2.6.1: ``setup(**PACKAGEDATA)``, a dict display whose other values are names
    (cmdclass, ext_modules), bound twice (once under ``if STRIPPED:``)."""
    setup = b"""
PACKAGEDATA = {"cmdclass": cmdclass, "package_dir": {'twv': 'src_py', 'twv.tests': 'test'}}
if STRIPPED:
    PACKAGEDATA = {"package_dir": {'twv': 'src_py'}, "ext_modules": extensions}
PACKAGEDATA.update(METADATA)
setup(**PACKAGEDATA)
"""
    found = read_package_dirs({"setup.py": setup})
    assert found.sources("twv/tests/t.py") == [("test/ (package_dir twv.tests)", "test/t.py")]
    assert found.sources("twv/a.py") == [("src_py/ (package_dir twv)", "src_py/a.py")]
    unspread = read_package_dirs({"setup.py": setup.replace(b"setup(**PACKAGEDATA)", b"")})
    assert unspread.mappings == ()


def test_a_stub_package_pep_561() -> None:
    """python-rapidjson 1.20: ``package_dir={'rapidjson-stubs': 'typings/rapidjson'}``."""
    found = read_package_dirs({"setup.py": b"setup(package_dir={'twv-stubs': 'typings/twv'})"})
    assert found.sources("twv-stubs/__init__.pyi") == [
        ("typings/twv/ (package_dir twv-stubs)", "typings/twv/__init__.pyi")
    ]


def test_a_package_from_the_top_directory() -> None:
    found = read_package_dirs({"setup.py": b"setup(package_dir={'twv': '.'})"})
    assert found.sources("twv/util.py") == [("(top) (package_dir twv)", "util.py")]


def test_a_wheel_setuptools_builds_from_a_renamed_package(tmp_path: Path) -> None:
    """The sdist built into a wheel by real setuptools (pip wheel, build isolation): the
    mapping is read the way setuptools applies it."""
    setup = (
        b"from setuptools import setup\n"
        b"setup(name='twv', version='1.0', description='verify fixture',\n"
        b"      python_requires='>=3.8', packages=['twv', 'twv.sub'],\n"
        b"      package_dir={'twv': 'lib3'}, package_data={'twv': ['data/*.txt']})\n"
    )
    files = {**RENAMED, "lib3/sub/__init__.py": b"", "setup.py": setup}
    files["pyproject.toml"] = (
        b'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    sdist = make_sdist(tmp_path / "twv-1.0.tar.gz", files, info=pkg_info())
    out = tmp_path / "out"
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(sdist)]
    built = subprocess.run(pip, capture_output=True, text=True, check=False)
    if built.returncode != 0 and "setuptools" in built.stderr and "version" in built.stderr:
        pytest.skip("PyPI is not reachable: setuptools cannot be installed")
    assert built.returncode == 0, built.stderr
    [wheel] = out.glob("*.whl")
    report = verify_wheel(wheel, sdist)
    categories = {m.path: m.category for m in report.members if m.category != "metadata"}
    assert categories == {
        "twv/__init__.py": "from-sdist-identical",
        "twv/util.py": "from-sdist-identical",
        "twv/data/table.txt": "from-sdist-identical",
        "twv/sub/__init__.py": "from-sdist-identical",
    }
    assert report.corresponds
