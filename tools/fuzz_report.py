#!/usr/bin/env python3
"""Runs every fuzz target for a bounded time, one after another, and prints
executions and crashes per target.

Usage: tools/fuzz_report.py [--seconds N] [TARGET ...]

Needs a nightly toolchain and cargo-fuzz (`make fuzz` installs it) and the
targets built (`cargo +nightly fuzz build -O` in fuzz/). Each target runs
with one job and one worker (libFuzzer's default) on its corpus in
fuzz/corpus/<target>, seeded by tools/fuzz_seeds.py, with its dictionary.
libFuzzer's full output goes to fuzz/logs/<target>.log; a crash leaves its
reproducer in fuzz/artifacts/<target>/. Exits 1 if any target crashed.
"""

import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "fuzz")
TARGETS = {
    "reader": "json.dict",
    "envelope": "json.dict",
    "keys": "keys.dict",
    "filter_pattern": "filter_pattern.dict",
    "rules": "yaml.dict",
    "sigma": "yaml.dict",
    "digest": "json.dict",
    "chain": "json.dict",
    "trigger": "json.dict",
}


def run(target, seconds):
    corpus = os.path.join(FUZZ, "corpus", target)
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(os.path.join(FUZZ, "logs"), exist_ok=True)
    log_path = os.path.join(FUZZ, "logs", f"{target}.log")
    command = [
        "cargo", "+nightly", "fuzz", "run", "-O", target, corpus, "--",
        f"-max_total_time={seconds}",
        f"-dict={os.path.join(FUZZ, 'dict', TARGETS[target])}",
        "-print_final_stats=1",
        # A hang or a runaway allocation is a finding too.
        "-timeout=10",
        "-rss_limit_mb=2048",
    ]
    started = time.monotonic()
    with open(log_path, "w") as log:
        code = subprocess.run(command, cwd=FUZZ, stdout=log, stderr=subprocess.STDOUT).returncode
    elapsed = time.monotonic() - started
    with open(log_path, errors="replace") as log:
        text = log.read()
    execs = None
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
    if m:
        execs = int(m.group(1))
    else:
        runs = re.findall(r"Done (\d+) runs", text)
        if runs:
            execs = int(runs[-1])
    edges = re.findall(r"cov: (\d+)", text)
    crashes = len(re.findall(r"Test unit written to .*/(?:crash|oom|timeout|leak)-", text))
    if code != 0 and crashes == 0:
        crashes = 1
    return {
        "target": target,
        "execs": execs,
        "edges": int(edges[-1]) if edges else None,
        "crashes": crashes,
        "seconds": elapsed,
        "exit": code,
        "log": os.path.relpath(log_path, ROOT),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "120")))
    parser.add_argument("targets", nargs="*", default=list(TARGETS))
    args = parser.parse_args()
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        sys.exit(f"unknown targets: {', '.join(unknown)} (known: {', '.join(TARGETS)})")

    results = []
    for target in args.targets:
        print(f"==> fuzzing {target} for {args.seconds} s", flush=True)
        result = run(target, args.seconds)
        results.append(result)
        execs = "?" if result["execs"] is None else f"{result['execs']:,}"
        print(f"    {execs} executions, {result['crashes']} crashes ({result['log']})", flush=True)

    print()
    print(f"{'target':<16}{'executions':>14}{'exec/s':>10}{'edges':>8}{'crashes':>9}{'seconds':>9}")
    total = 0
    crashed = 0
    for r in results:
        execs = r["execs"] or 0
        total += execs
        crashed += r["crashes"]
        rate = execs / r["seconds"] if r["seconds"] else 0
        edges = "?" if r["edges"] is None else r["edges"]
        print(f"{r['target']:<16}{execs:>14,}{rate:>10,.0f}{edges:>8}{r['crashes']:>9}{r['seconds']:>9.0f}")
    print(f"{'total':<16}{total:>14,}{'':>10}{'':>8}{crashed:>9}")
    sys.exit(1 if crashed else 0)


if __name__ == "__main__":
    main()
