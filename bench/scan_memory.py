#!/usr/bin/env python3
"""Peak memory and wall time of `trailguard scan` on one large log file,
writing every finding (jsonl and json) against writing nothing (--summary),
and the cost of the built-in Sigma correlations (--summary with them
against --summary without them).

Usage: bench/scan_memory.py TRAILGUARD_BINARY LOG_FILE [RUNS]

Each command runs RUNS times (default 5) after one warm-up, output thrown
away; the median wall time and the largest peak RSS are printed. Exits 1
when a target is missed: writing findings, peak RSS <= 48 MiB and wall time
within 1.5x of the scan that writes nothing; with the correlations, wall
time within 1.1x of the same scan without them. The writing rows run
without correlations, so that they measure writing alone.
"""

import os
import statistics
import subprocess
import sys
import time

PEAK_MIB = 48
SLOWDOWN = 1.5
CORRELATION_SLOWDOWN = 1.1


def measure(argv, runs):
    walls, peaks = [], []
    for i in range(runs + 1):
        start = time.monotonic()
        with open(os.devnull, "wb") as sink:
            child = subprocess.Popen(argv, stdout=sink, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            sys.exit(f"{' '.join(argv)}: exit status {code}")
        if i > 0:  # the first run warms the page cache
            walls.append(wall)
            peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
    return statistics.median(walls), max(peaks)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    binary, log = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) == 4 else 5
    # Every match on its own: the most findings the scan can write.
    scan = [binary, "scan", "--repeat-window", "0"]
    plain = scan + ["--no-correlations"]
    rows = [
        ("writing nothing (--summary)", plain + ["--summary", log]),
        ("jsonl, every finding", plain + ["--format", "jsonl", log]),
        ("json, every finding", plain + ["--format", "json", log]),
    ]
    results = [(name, *measure(argv, runs)) for name, argv in rows]
    base = results[0][1]
    failed = False
    print(f"{'command':<34} {'wall s (median)':>16} {'x base':>8} {'peak MiB (max)':>15}")
    for name, wall, peak in results:
        ratio = wall / base
        missed = peak > PEAK_MIB or ratio > SLOWDOWN
        failed |= missed
        print(f"{name:<34} {wall:>16.2f} {ratio:>8.2f} {peak:>15.1f}{'  MISSED' if missed else ''}")
    print(f"targets: peak <= {PEAK_MIB} MiB, wall <= {SLOWDOWN}x writing nothing")
    wall, peak = measure(scan + ["--summary", log], runs)
    ratio = wall / base
    missed = ratio > CORRELATION_SLOWDOWN
    failed |= missed
    name = "--summary, built-in correlations"
    print(f"{name:<34} {wall:>16.2f} {ratio:>8.2f} {peak:>15.1f}{'  MISSED' if missed else ''}")
    print(f"target: wall <= {CORRELATION_SLOWDOWN}x the same scan without correlations")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
