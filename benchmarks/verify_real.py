"""`truewheel verify` on real releases: the sdist and the cp311 manylinux x86_64 wheel of each.

Downloads (once, into benchmarks/.cache/verify/): the sdist through truewheel's own Simple
API client (sha256 checked, nothing run: ``pip download --no-binary`` would run its build
backend), the wheel with the project's pip, ``--only-binary :all: --python-version 3.11
--platform manylinux2014_x86_64`` (pure releases get their py3 wheel), runs ``truewheel
verify --json`` on each pair and prints the Markdown table that docs/verify.md holds:
verdict, member counts, and what every unexplained or different member and every finding
is.  ``--json`` writes the raw documents too.

    python benchmarks/verify_real.py [--packages NAME==VERSION ...] [--json out.json]
    python benchmarks/verify_real.py --releases     # verify --release on RELEASE_RUNS
    python benchmarks/verify_real.py --speed SPEC   # verify of one large wheel, median of 3
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import harness as h

VERIFY_DIR = h.CACHE_DIR / "verify"
RELEASES = (
    "attrs==23.2.0",
    "attrs==24.2.0",
    "packaging==24.0",
    "packaging==24.2",
    "requests==2.31.0",
    "six==1.16.0",
    "pluggy==1.5.0",
    "markupsafe==2.1.5",
    "markupsafe==3.0.2",
    "pyyaml==6.0.1",
    "pyyaml==6.0.2",
    "msgpack==1.0.8",
    "msgpack==1.1.0",
    "ujson==5.9.0",
    "cffi==1.16.0",
    "psutil==5.9.8",
    "frozenlist==1.4.1",
    "charset-normalizer==3.3.2",
    "pillow==10.3.0",
    "idna==3.7",
    "certifi==2024.2.2",
    "click==8.1.7",
    "jinja2==3.1.4",
    "wrapt==1.16.0",
    "multidict==6.0.5",
    "yarl==1.9.4",
    "simplejson==3.19.2",
    "regex==2024.5.15",
    # large native releases (also the --speed inputs)
    "scipy==1.13.0",
    "pyarrow==16.0.0",
    # added with verify's precision pass (issue 15 leftovers)
    "numpy==1.26.4",
    "pandas==2.2.2",
    "lxml==5.2.1",
    "orjson==3.10.3",
    "pydantic-core==2.18.2",
    "cryptography==42.0.7",
    "aiohttp==3.9.5",
    "zstandard==0.22.0",
    "kiwisolver==1.4.5",
    "greenlet==3.0.3",
    "coverage==7.5.1",
    "tornado==6.4",
)
#: ``--release`` runs: the sdist and wheels for several platforms of one version each.
RELEASE_RUNS = (
    "markupsafe==2.1.5",
    "msgpack==1.0.8",
    "pyyaml==6.0.1",
    "wrapt==1.16.0",
    "regex==2024.5.15",
)
RELEASE_PLATFORMS = (
    "manylinux2014_x86_64",
    "manylinux2014_aarch64",
    "musllinux_1_1_x86_64",
    "win_amd64",
    "macosx_10_9_x86_64",
    "macosx_11_0_arm64",
)
_SDIST = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
_SHOWN = 6  # members listed per row; the rest counted


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _find(directory: Path, name: str, version: str, wheel: bool) -> Path | None:
    for path in sorted(directory.iterdir()):
        stem = path.name
        if wheel and stem.endswith(".whl"):
            dist, ver = stem.split("-")[:2]
        elif not wheel and stem.endswith(_SDIST):
            base = next(stem[: -len(s)] for s in _SDIST if stem.endswith(s))
            dist, _, ver = base.rpartition("-")
        else:
            continue
        if _canonical(dist) == _canonical(name) and ver == version:
            return path
    return None


def fetch(spec: str, python: Path) -> tuple[Path | None, Path | None]:
    name, version = spec.split("==")
    VERIFY_DIR.mkdir(parents=True, exist_ok=True)
    pip = [str(python), "-m", "pip", "download", "-q", "--no-deps", "-d", str(VERIFY_DIR)]
    sdist = _find(VERIFY_DIR, name, version, wheel=False)
    if sdist is None:  # not pip: `pip download --no-binary` runs the sdist's build backend
        sdist = _fetch_sdist(spec, VERIFY_DIR)
    wheel = _find(VERIFY_DIR, name, version, wheel=True)
    if wheel is None:
        platform = ["--python-version", "3.11", "--platform", "manylinux2014_x86_64"]
        subprocess.run([*pip, "--only-binary", ":all:", *platform, spec], capture_output=True,
                       check=False)  # fmt: skip
        wheel = _find(VERIFY_DIR, name, version, wheel=True)
    return sdist, wheel


def _fetch_sdist(spec: str, directory: Path) -> Path | None:
    """The sdist through truewheel's own Simple API client: downloaded, nothing run."""
    from truewheel.errors import InputError
    from truewheel.verify.fetch import default_index, download, release_files

    name, version = spec.split("==")
    try:
        sdists = [f for f in release_files(name, version, default_index()) if f.sdist]
        return download(sdists[0], directory, spec) if sdists else None
    except InputError:
        return None


def verify(
    truewheel: str, wheel: Path, sdist: Path, *options: str
) -> tuple[int, dict[str, object], float]:
    """``truewheel verify --json [options] WHEEL --sdist SDIST``: exit status, document (or
    the one-line error of exit 2) and seconds."""
    start = time.perf_counter()
    done = subprocess.run(
        [truewheel, "verify", *options, "--json", str(wheel), "--sdist", str(sdist)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode == 2:
        return 2, {"error": done.stderr.strip()}, seconds
    return done.returncode, json.loads(done.stdout), seconds


def row(spec: str, status: int, doc: dict[str, object], seconds: float) -> str:
    if "error" in doc:
        return f"| {spec} | error | | {doc['error']} |"
    counts = doc["counts"]
    assert isinstance(counts, dict)
    shown = ", ".join(f"{n} {c}" for c, n in counts.items() if n)
    notes = []
    members = doc["members"]
    assert isinstance(members, list)
    odd = [m for m in members if m["category"] in ("unexplained", "from-sdist-different")]
    notes += [f"{m['category']}: `{m['path']}`" for m in odd[:_SHOWN]]
    if len(odd) > _SHOWN:
        notes.append(f"and {len(odd) - _SHOWN} more")
    findings = doc["findings"]
    assert isinstance(findings, list)
    codes = [f["code"] for f in findings if f["severity"] == "finding"]
    notes += [f"**{code}** x{codes.count(code)}" for code in dict.fromkeys(codes)]
    meta = doc["metadata"]
    assert isinstance(meta, dict)
    version = meta["sdist_metadata_version"]
    verdict = "corresponds" if status == 0 else "**findings**"
    return (
        f"| {spec} | {verdict} | {version} | {shown} | {'; '.join(notes) or '-'} | {seconds:.2f} |"
    )


def fetch_release(spec: str, python: Path) -> Path:
    """The sdist and the cp311 wheel of each RELEASE_PLATFORMS platform, in one directory."""
    directory = h.CACHE_DIR / "verify-release" / spec.replace("==", "-")
    directory.mkdir(parents=True, exist_ok=True)
    pip = [str(python), "-m", "pip", "download", "-q", "--no-deps", "-d", str(directory)]
    if not any(p.name.endswith(_SDIST) for p in directory.iterdir()):
        _fetch_sdist(spec, directory)
    for platform in RELEASE_PLATFORMS:
        marker = directory / f".{platform}"
        if marker.exists():
            continue
        options = ["--only-binary", ":all:", "--python-version", "3.11", "--platform", platform]
        subprocess.run([*pip, *options, spec], capture_output=True, check=False)
        marker.touch()
    return directory


def release_runs(truewheel: str, python: Path, specs: list[str]) -> None:
    """Print each release's verdict, wheels and every finding and note, for the doc."""
    for spec in specs:
        directory = fetch_release(spec, python)
        start = time.perf_counter()
        done = subprocess.run(
            [truewheel, "verify", "--json", "--release", str(directory)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        if done.returncode == 2:
            print(f"### {spec}: error {done.stderr.strip()}")
            continue
        doc = json.loads(done.stdout)
        verdict = "corresponds" if doc["corresponds"] else "**findings**"
        print(f"### {spec}: {verdict}, {len(doc['wheels'])} wheels, {seconds:.2f} s")
        for w in doc["wheels"]:
            counts = ", ".join(f"{n} {c}" for c, n in w["verify"]["counts"].items() if n)
            state = "corresponds" if w["verify"]["corresponds"] else "FINDINGS"
            allowed = w["platform"]["allowed"]
            print(f"- `{w['filename']}`: {state}; content allows {allowed}; {counts}")
            for f in w["verify"]["findings"]:
                print(f"  - {f['severity']} {f['code']}: {f['member'] or ''} {f['message'][:160]}")
        for f in doc["findings"]:
            print(f"- release {f['severity']} {f['code']}: {f['message'][:300]}")


def speed(truewheel: str, python: Path, spec: str) -> None:
    """``verify`` (no rebuild) of one large wheel against its sdist: median of 3 runs."""
    sdist, wheel = fetch(spec, python)
    if sdist is None or wheel is None:
        print(f"{spec}: not downloaded")
        return
    times = []
    for _ in range(3):
        status, doc, seconds = verify(truewheel, wheel, sdist)
        times.append(seconds)
    times.sort()
    mib = wheel.stat().st_size / (1 << 20)
    sdist_mib = sdist.stat().st_size / (1 << 20)
    found = doc.get("counts", {})
    assert isinstance(found, dict)
    counts = ", ".join(f"{n} {c}" for c, n in found.items() if n)
    print(
        f"| {wheel.name} | {mib:.1f} MiB | {sdist.name} | {sdist_mib:.1f} MiB | "
        f"{times[1]:.2f} s | {', '.join(f'{t:.2f}' for t in times)} | exit {status}: {counts} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=list(RELEASES))
    parser.add_argument("--python", type=Path, default=h.project_python())
    parser.add_argument("--json", type=Path, default=None, help="also write the documents here")
    parser.add_argument("--releases", nargs="*", default=None, help="verify --release runs")
    parser.add_argument("--speed", nargs="+", default=None, metavar="SPEC")
    args = parser.parse_args()
    truewheel = h.project_truewheel()
    if args.releases is not None:
        release_runs(truewheel, args.python, args.releases or list(RELEASE_RUNS))
        return 0
    if args.speed:
        print("| wheel | size | sdist | size | median | runs (s) | result |")
        print("|---|---|---|---|---|---|---|")
        for spec in args.speed:
            speed(truewheel, args.python, spec)
        return 0
    print("| release | verdict | PKG-INFO | members | unexplained, different, findings | s |")
    print("|---|---|---|---|---|---|")
    documents = {}
    for spec in args.packages:
        sdist, wheel = fetch(spec, args.python)
        if sdist is None or wheel is None:
            print(
                f"| {spec} | not downloaded | | | {'no sdist' if sdist is None else 'no wheel'} | |"
            )
            continue
        status, doc, seconds = verify(truewheel, wheel, sdist)
        documents[spec] = doc
        print(row(spec, status, doc, seconds), flush=True)
    if args.json:
        args.json.write_text(json.dumps(documents, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
