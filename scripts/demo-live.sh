#!/usr/bin/env bash
# The live demo: a room recorded by `mcu-record --room` with the example watermark and chat overlay, four
# built-in publishers joining one after another (about 15 s in all), a chat message and a layout switch through
# the REST API, then Ctrl-C; the composite ends up in recordings/demo.mp4 (with its events and chat files).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/mcu-record
mkdir -p recordings
log=$(mktemp)
"$bin" --room demo --http 127.0.0.1:0 --output recordings/.demo-room \
  --watermark Layouts/examples/watermark.json --chat-overlay Layouts/examples/chat.json > "$log" 2>&1 &
room=$!
trap 'kill -INT $room 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'WHIP http' "$log" && break; sleep 0.1; done
whip=$(grep -o 'http://[^ ]*/whip' "$log" | head -1)
[ -n "$whip" ] || { cat "$log"; echo "the room did not start"; exit 1; }
echo "room running: $whip"
"$bin" publish --whip "$whip" --name Alice --file Fixtures/samples/alice.webm --duration 15 &
sleep 1; "$bin" publish --whip "$whip" --name Bob --file Fixtures/samples/bob.webm --duration 14 &
sleep 2; "$bin" publish --whip "$whip" --name Carol --file Fixtures/samples/carol.webm --duration 10 &
sleep 2; "$bin" publish --whip "$whip" --name Dave --file Fixtures/samples/dave.webm --duration 10 &
api=${whip%/whip}
if command -v curl > /dev/null; then
  sleep 1; curl -s -o /dev/null -X POST "$api/chat" -H 'Content-Type: application/json' -d '{"from": "Host", "text": "Welcome! This room is recorded by mcu-record."}'
  sleep 3; curl -s -o /dev/null -X PUT "$api/layout" -H 'Content-Type: application/json' -d '{"preset": "speaker"}'
  echo "chat sent and layout switched to speaker through $api"
fi
wait $(jobs -p | grep -v "^$room$") 2>/dev/null || true
sleep 1
kill -INT $room
wait $room || true
trap - EXIT
cat "$log" | grep -v '^\[mcu-record\]' || true
recorded=$(grep -o 'recorded demo: [^ ]*' "$log" | awk '{print $3}')
[ -n "$recorded" ] && [ -f "$recorded" ] || { cat "$log"; echo "no recording"; exit 1; }
mv "$recorded" recordings/demo.mp4
for extra in events.jsonl chat.vtt; do
  if [ -f "${recorded%.mp4}.$extra" ]; then mv "${recorded%.mp4}.$extra" "recordings/demo.$extra"; fi
done
rm -rf recordings/.demo-room "$log"
echo "demo recording: $(pwd)/recordings/demo.mp4"
echo "its events and chat: $(pwd)/recordings/demo.events.jsonl, $(pwd)/recordings/demo.chat.vtt"
