"""The seed's own example: gmpy2 and python-flint each vendor GMP 6.3.0 and MPFR 4.2.2, built
by different GCCs.  Unvendored, they share one libgmp and one libmpfr from two library wheels;
in one venv ``gmpy2.mpz(3)**200 == int(flint.fmpz(3)**200)``, python-flint's own test suite
passes, and one libgmp is mapped.  The wheels come from PyPI; offline, the test skips.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_python, venv_python
from truewheel.cli import main

WHEELS = ("gmpy2==2.3.2", "python-flint==0.9.0")

_CHECK = """
import json, gmpy2, flint
same = gmpy2.mpz(3) ** 200 == int(flint.fmpz(3) ** 200)
maps = sorted({l.split()[-1] for l in open("/proc/self/maps") if "libgmp" in l or "libmpfr" in l})
print(json.dumps({"same": same, "maps": maps}))
"""


@pytest.fixture(scope="module")
def pypi_wheels(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    cache = getattr(pytestconfig, "cache", None)
    where = Path(cache.mkdir("unvendor-wheels")) if cache else tmp_path_factory.mktemp("pypi")
    found = []
    for requirement in WHEELS:
        name = requirement.split("==")[0].replace("-", "_")
        wheels = sorted(where.glob(f"{name}-*manylinux*x86_64*.whl"))
        if not wheels:
            cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:"]
            cmd += ["--no-deps", "--platform", "manylinux_2_17_x86_64", "--python-version", "3.11"]
            done = subprocess.run(
                [*cmd, "-d", str(where), requirement], capture_output=True, timeout=300
            )
            wheels = sorted(where.glob(f"{name}-*manylinux*x86_64*.whl"))
            if done.returncode != 0 or not wheels:
                pytest.skip(f"{requirement} could not be downloaded (offline?)")
        found.append(wheels[0])
    return found


def test_gmpy2_and_python_flint_share_gmp_and_mpfr(
    pypi_wheels: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["unvendor", "--lib", "libgmp*", "--lib", "libmpfr*", "-w", str(out), "--json"]
    assert main([*argv, *map(str, pypi_wheels)]) == 0
    document = json.loads(capsys.readouterr().out)
    gmp, mpfr = document["libraries"]
    assert (gmp["library"], gmp["version"]) == ("libgmp.so.10", "6.3.0")
    assert (mpfr["library"], mpfr["version"], mpfr["requires"]) == (
        "libmpfr.so.6",
        "4.2.2",
        ["libgmp.so.10"],
    )
    toolchains = {c["toolchain"] for c in gmp["copies"]}
    assert len(toolchains) == 2, "built by different GCCs: not byte-identical"
    written = sorted(out.glob("*.whl"))
    assert len(written) == 4

    python, env = venv_python(tmp_path / "venv", *written)
    done = run_python(python, env, _CHECK)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["same"] is True
    [gmp_file, mpfr_file] = result["maps"]
    assert gmp_file.endswith(f"/site-packages/libgmp/lib/{gmp['soname']}")
    assert mpfr_file.endswith(f"/site-packages/libmpfr/lib/{mpfr['soname']}")

    done = subprocess.run(
        [python, "-m", "flint.test"], capture_output=True, text=True, env=env, cwd="/", timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "seems to be working just fine" in done.stdout
