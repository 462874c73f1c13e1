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

# Optional fixture toolchains: musl-gcc, the cross compilers the musl and architecture
# tests build with, gfortran for the build-flag tests, clang + lld + llvm for the Mach-O
# fixtures (ld64.lld, llvm-lipo, llvm-readobj) and mingw-w64 for the PE fixtures.  Installed only as root with
# apt; elsewhere those tests skip.
declare -A fixture_tools=(
    [musl-tools]=musl-gcc
    [gcc-aarch64-linux-gnu]=aarch64-linux-gnu-gcc
    [gcc-arm-linux-gnueabi]=arm-linux-gnueabi-gcc
    [gcc-arm-linux-gnueabihf]=arm-linux-gnueabihf-gcc
    [gcc-powerpc64le-linux-gnu]=powerpc64le-linux-gnu-gcc
    [gcc-s390x-linux-gnu]=s390x-linux-gnu-gcc
    [gcc-riscv64-linux-gnu]=riscv64-linux-gnu-gcc
    [gcc-mips64el-linux-gnuabi64]=mips64el-linux-gnuabi64-gcc
    [gcc-i686-linux-gnu]=i686-linux-gnu-gcc
    [gfortran]=gfortran
    [clang]=clang
    [lld]=lld
    [llvm]=llvm-lipo
    [gcc-mingw-w64-x86-64]=x86_64-w64-mingw32-gcc
    [gcc-mingw-w64-i686]=i686-w64-mingw32-gcc
)
missing_tools=()
for package in "${!fixture_tools[@]}"; do
    command -v "${fixture_tools[$package]}" >/dev/null || missing_tools+=("$package")
done
if [ "${#missing_tools[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        [ "${#need_apt[@]}" -gt 0 ] || apt-get update -qq || true
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_tools[@]}" \
            >/dev/null 2>&1; then
            for package in "${missing_tools[@]}"; do
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1 \
                    || echo "truewheel setup: could not install $package; its tests skip" >&2
            done
        fi
    else
        echo "truewheel setup: optional, for more fixture tests: ${missing_tools[*]}" >&2
    fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
