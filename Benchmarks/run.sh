#!/usr/bin/env bash
# Runs the benchmarks (release build, inputs from scripts/gen-fixtures.sh --bench): compose against ffmpeg
# (Benchmarks/RESULTS.md), then live rooms under load (Benchmarks/LOAD.md). `run.sh compose` or `run.sh load`
# runs one of them; `run.sh tileaware` measures tile-aware bitrate with four Chromium publishers, `run.sh pull` a
# room pulled over WHEP against the same room published over WHIP, `run.sh audio` an audio-only room against a video
# one, `run.sh outputs` a room recorded alone against the same room also streamed as HLS, `run.sh quality` only the
# compose cases' picture quality against ffmpeg's (SSIM, PSNR, BD-rate; compose reports it too), `run.sh live-quality`
# a recorded room's tiles against what its publishers sent, `run.sh encoders` x264 settings swept on the 4-up case.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  compose) exec python3 Benchmarks/bench.py ;;
  load) exec python3 Benchmarks/load.py ;;
  tileaware) exec python3 Benchmarks/tileaware.py ;;
  pull) exec python3 Benchmarks/pull.py ;;
  audio) exec python3 Benchmarks/audio_only.py ;;
  outputs) exec python3 Benchmarks/outputs.py ;;
  quality) exec python3 Benchmarks/quality.py ;;
  live-quality) exec python3 Benchmarks/live_quality.py ;;
  encoders) exec python3 Benchmarks/encoder_sweep.py a ;;
  all) python3 Benchmarks/bench.py && python3 Benchmarks/load.py ;;
  *) echo "usage: $0 [compose|load|tileaware|pull|audio|outputs|quality|live-quality|encoders|all]" >&2; exit 2 ;;
esac
