#!/usr/bin/env bash
# Set up everything, then run the linters, the type checker and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
.venv/bin/ruff check src tests benchmarks fuzz
.venv/bin/ruff format --check src tests benchmarks fuzz
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
# Coverage-guided fuzzing, FUZZ_SECONDS (60) per harness; a run with pytest arguments skips it.
[ "$#" -gt 0 ] || .venv/bin/python fuzz/run.py
