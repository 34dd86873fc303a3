#!/usr/bin/env python3
"""Two builds of mcu-record side by side on `make bench`'s compose cases: did a change make composing slower or
bigger? `python3 Benchmarks/compare.py BEFORE_BINARY AFTER_BINARY` (release builds; inputs from
`scripts/gen-fixtures.sh --bench`). Runs take turns (RUNS each, default 3); medians and after/before ratios."""
import os, sys, pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import bench  # noqa: E402


def command(binary, inputs, size, out):
    cmd = bench.ours(inputs, size, out)
    cmd[0] = binary
    return cmd


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = sys.argv[1], sys.argv[2]
    bench.WORK.mkdir(parents=True, exist_ok=True)
    print(f"| case | build | CPU s | wall s | peak RSS MB |\n|---|---|---:|---:|---:|")
    ratios = []
    for tag, n, size in [("a", 4, "1280x720"), ("b", 16, "1920x1080")]:
        inputs = [bench.INPUTS / f"in{k}.webm" for k in range(n)]
        b, a = bench.interleaved([command(before, inputs, size, bench.WORK / f"{tag}-before.mp4"),
                                  command(after, inputs, size, bench.WORK / f"{tag}-after.mp4")])
        print(f"| ({tag}) {n} → {size} | before | {b[0]:.2f} | {b[1]:.2f} | {b[2]:.0f} |")
        print(f"| ({tag}) {n} → {size} | after | {a[0]:.2f} | {a[1]:.2f} | {a[2]:.0f} |", flush=True)
        ratios.append((tag, a[0] / b[0], a[1] / b[1], a[2] / b[2]))
    print()
    for tag, cpu, wall, rss in ratios:
        print(f"({tag}) after/before: CPU {cpu:.3f}, wall {wall:.3f}, peak RSS {rss:.3f}")


if __name__ == "__main__":
    main()
