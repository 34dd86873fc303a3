#!/usr/bin/env bash
# `make fuzz [FUZZ_SECONDS=N] [FUZZ_JOBS=J] [FUZZ_TARGETS="stun rtp"]`: builds the libFuzzer driver with
# AddressSanitizer and runs every target for N seconds (default 60), J at a time (default 1), from its seeds in
# Fixtures/fuzz/TARGET (new inputs go to .build-fuzz/corpus/TARGET). A crash, leak or timeout is saved to
# Fixtures/fuzz/crashes/TARGET/, where `make test` replays it. Prints executions and findings per target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
# Optimized (as shipped), with AddressSanitizer and libFuzzer's coverage; integer overflow still traps.
MCU_FUZZ=1 swift build -c release --product mcu-fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -E "error" || true
bin=.build-fuzz/release/mcu-fuzz
[ -x "$bin" ] || { echo "the fuzz driver did not build"; exit 1; }
targets=${FUZZ_TARGETS:-$(ls Fixtures/fuzz | grep -v crashes)}
mkdir -p .build-fuzz/logs
run() {
  local target=$1
  mkdir -p ".build-fuzz/corpus/$target" "Fixtures/fuzz/crashes/$target"
  local before; before=$(ls "Fixtures/fuzz/crashes/$target" | wc -l)
  MCU_FUZZ_TARGET=$target "$bin" ".build-fuzz/corpus/$target" "Fixtures/fuzz/$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="Fixtures/fuzz/crashes/$target/" > ".build-fuzz/logs/$target.log" 2>&1 || true
  local runs units found
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' ".build-fuzz/logs/$target.log" | grep -o '[0-9]*$' || echo 0)
  units=$(grep -o 'stat::new_units_added: *[0-9]*' ".build-fuzz/logs/$target.log" | grep -o '[0-9]*$' || echo 0)
  found=$(( $(ls "Fixtures/fuzz/crashes/$target" | wc -l) - before ))
  printf "%-10s %6s s %12s executions %6s new inputs %3s new crashes/leaks/timeouts\n" "$target" "$seconds" "${runs:-0}" "${units:-0}" "$found"
}
export -f run
export bin seconds
printf "%s\n" $targets | xargs -P "$jobs" -I{} bash -c 'run {}'
