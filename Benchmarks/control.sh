#!/usr/bin/env bash
# Cost of dressing the composite and speed of the control API, in a live room (release build):
# two built-in publishers for 12 s at 1280x720, a chat message; prints the engine's compositing and encoding time
# per frame from /metrics, then how long `PUT /layout` (answered once in force) and `snapshot.jpg` take.
# Run without overlays, then with the example watermark and chat overlay.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/mcu-record
[ -x "$bin" ] || swift build -c release
run() {
  local port=$1; shift
  local out; out=$(mktemp -d)
  "$bin" --room m --http 127.0.0.1:$port --output "$out" "$@" > "$out/log" 2>&1 &
  local room=$!
  sleep 1.5
  "$bin" publish --whip http://127.0.0.1:$port/rooms/m/whip --name Alice --duration 12 > /dev/null 2>&1 &
  "$bin" publish --whip http://127.0.0.1:$port/rooms/m/whip --name Bob --colour c04020 --duration 12 > /dev/null 2>&1 &
  sleep 3
  curl -s -o /dev/null -X POST localhost:$port/rooms/m/chat -H 'Content-Type: application/json' \
    -d '{"from": "Host", "text": "Welcome to the measurement, a message long enough to wrap over two lines"}'
  sleep 8
  curl -s localhost:$port/metrics | awk '
    /^mcu_output_frames_total/ { frames = $2 } /^mcu_compose_seconds_total/ { compose = $2 } /^mcu_encode_seconds_total/ { encode = $2 }
    END { printf "  %d frames: compositing %.3f ms/frame, encoding %.3f ms/frame\n", frames, 1000 * compose / frames, 1000 * encode / frames }'
  local t0 t1
  t0=$(date +%s%N); curl -s -o /dev/null -X PUT localhost:$port/rooms/m/layout -H 'Content-Type: application/json' -d '{"preset": "speaker"}'; t1=$(date +%s%N)
  echo "  PUT /layout answered (in force) in $(( (t1 - t0) / 1000000 )) ms"
  t0=$(date +%s%N); curl -s -o /dev/null localhost:$port/rooms/m/snapshot.jpg; t1=$(date +%s%N)
  echo "  snapshot.jpg in $(( (t1 - t0) / 1000000 )) ms"
  wait $(jobs -p | grep -v "^$room$") 2> /dev/null || true
  kill -INT $room; wait $room || true
  rm -rf "$out"
}
echo "no overlays:"; run 8101
echo "example watermark and chat overlay:"; run 8102 --watermark Layouts/examples/watermark.json --chat-overlay Layouts/examples/chat.json
