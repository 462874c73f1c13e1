#!/usr/bin/env bash
# Set up a fresh machine for truewheel: system tools for the fixtures, then a venv with
# truewheel and its test tools.  Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v gcc >/dev/null || need_apt+=(gcc)
command -v readelf >/dev/null || need_apt+=(binutils)
if ! printf 'int main(void){return 0;}' | gcc -x c - -o /dev/null -lz -lgmp 2>/dev/null; then
    need_apt+=(zlib1g-dev libgmp-dev)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "truewheel setup: please install: ${need_apt[*]}" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
