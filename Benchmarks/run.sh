#!/usr/bin/env bash
# Runs the benchmarks (release build, inputs from scripts/gen-fixtures.sh --bench): compose against ffmpeg
# (Benchmarks/RESULTS.md), then live rooms under load (Benchmarks/LOAD.md). `run.sh compose` or `run.sh load`
# runs one of them; `run.sh tileaware` measures tile-aware bitrate with four Chromium publishers, `run.sh pull` a
# room pulled over WHEP against the same room published over WHIP.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  compose) exec python3 Benchmarks/bench.py ;;
  load) exec python3 Benchmarks/load.py ;;
  tileaware) exec python3 Benchmarks/tileaware.py ;;
  pull) exec python3 Benchmarks/pull.py ;;
  all) python3 Benchmarks/bench.py && python3 Benchmarks/load.py ;;
  *) echo "usage: $0 [compose|load|tileaware|pull|all]" >&2; exit 2 ;;
esac
