#!/usr/bin/env bash
# Set up everything, build real native wheels from the C fixtures with gcc, then inspect,
# repair, diff, scan and unvendor them: the main jobs of truewheel on real examples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
out=$(mktemp -d "${TMPDIR:-/tmp}/truewheel-demo.XXXXXX")
tw=.venv/bin/truewheel
.venv/bin/python tests/fixtures/wheelbuild.py "$out/a" >/dev/null
.venv/bin/python tests/fixtures/wheelbuild.py "$out/b" >/dev/null
echo "== built fixture wheels in $out/a and, a second time, in $out/b"
echo "== truewheel inspect: a wheel with vendored GMP, an unmangled libgomp and a CUDA-named stub"
$tw inspect --files --fail-on never "$out"/a/twvend-*.whl
echo "== truewheel inspect: every fixture wheel at once (a directory means every wheel in it)"
$tw inspect --fail-on never "$out/a"
echo "== truewheel repair: graft the system's libgmp and libgomp into a wheel that links them"
$tw repair -w "$out/wheelhouse" "$out"/a/twsys-*.whl
$tw inspect --fail-on never "$out"/wheelhouse/twsys-*.whl
echo "== truewheel diff: the same -g build made in two directories"
$tw diff "$out"/a/twdebug-*.whl "$out"/b/twdebug-*.whl || true
echo "== truewheel scan: every wheel made above, as one corpus (catalog in $out)"
$tw scan --no-progress --catalog "$out/catalog.sqlite" "$out/a" "$out/wheelhouse" || true
echo "== truewheel scan: a venv holding the repaired twsys, twvend and twbroken"
python3 -m venv --without-pip "$out/venv"
.venv/bin/python -m pip --python "$out/venv/bin/python" install --quiet --no-deps --no-index \
    "$out"/wheelhouse/twsys-*.whl "$out"/a/twvend-*.whl "$out"/a/twbroken-*.whl
$tw scan --no-progress --catalog "$out/catalog.sqlite" --fail-on never "$out/venv"
echo "== truewheel unvendor: two distributions, each repaired with its own copy of libgmp"
.venv/bin/python tests/fixtures/unvendorbuild.py "$out/uv" >/dev/null
$tw repair -w "$out/uv/repaired" "$out"/uv/twgmp*.whl
$tw unvendor --plan --lib 'libgmp*' "$out"/uv/repaired/*.whl
$tw unvendor --lib 'libgmp*' -w "$out/uv/shared" "$out"/uv/repaired/*.whl
echo "== the library wheel and both consumers installed with pip: one libgmp mapped"
python3 -m venv --without-pip "$out/uvenv"
.venv/bin/python -m pip --python "$out/uvenv/bin/python" install --quiet --no-deps --no-index \
    "$out"/uv/shared/*.whl
"$out/uvenv/bin/python" -c 'import twgmpa, twgmpb
assert twgmpa.power(3, 200) == twgmpb.power(3, 200) == str(3**200)
print("twgmpa and twgmpb import; libgmp mapped from:",
      *sorted({l.split()[-1] for l in open("/proc/self/maps") if "libgmp" in l}))'
if [ -f /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl ]; then
    echo "== truewheel inspect: the torch 2.13.0 CPU wheel found on this machine"
    $tw inspect --fail-on never /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
fi
