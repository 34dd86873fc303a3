#!/usr/bin/env bash
# Runs the benchmarks (release build, inputs from scripts/gen-fixtures.sh --bench): compose against ffmpeg
# (Benchmarks/RESULTS.md), then live rooms under load (Benchmarks/LOAD.md). `run.sh compose` or `run.sh load`
# runs one of them; `run.sh tileaware` measures tile-aware bitrate with four Chromium publishers.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  compose) exec python3 Benchmarks/bench.py ;;
  load) exec python3 Benchmarks/load.py ;;
  tileaware) exec python3 Benchmarks/tileaware.py ;;
  all) python3 Benchmarks/bench.py && python3 Benchmarks/load.py ;;
  *) echo "usage: $0 [compose|load|tileaware|all]" >&2; exit 2 ;;
esac
