#!/usr/bin/env bash
# Set up, then lint and run the test suite: what CI runs (.ci/run calls this script).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"
.venv/bin/ruff check src tests scripts benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest -q "$@"
# The same answers whichever kernels BLAS, numpy, oneDNN and CTranslate2 pick: each line of the
# CPU-path matrix in a fresh process, compared with the defaults (scripts/cpu_matrix.py).
echo "== CPU-path matrix"
.venv/bin/python scripts/cpu_matrix.py
