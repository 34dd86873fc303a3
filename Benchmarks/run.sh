#!/usr/bin/env bash
# Runs the compose benchmarks (release build, inputs from scripts/gen-fixtures.sh --bench).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 Benchmarks/bench.py "$@"
