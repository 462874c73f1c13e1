#!/usr/bin/env bash
# Set up everything, build real native wheels from the C fixtures with gcc, and inspect them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
out=$(mktemp -d "${TMPDIR:-/tmp}/truewheel-demo.XXXXXX")
.venv/bin/python tests/fixtures/wheelbuild.py "$out" >/dev/null
echo "== built fixture wheels in $out"
echo "== truewheel inspect: a wheel with vendored GMP, an unmangled libgomp and a CUDA-named stub"
.venv/bin/truewheel inspect --files --fail-on never "$out"/twvend-*.whl
echo "== truewheel inspect: every fixture wheel at once (a directory means every wheel in it)"
.venv/bin/truewheel inspect --fail-on never "$out"
if [ -f /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl ]; then
    echo "== truewheel inspect: the torch 2.13.0 CPU wheel found on this machine"
    .venv/bin/truewheel inspect --fail-on never /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
fi
