#!/usr/bin/env python3
"""Python baseline for the record reader: gzip + json.load over a CloudTrail log file.

Usage: python3 bench/python_baseline.py [FILE]   (default target/bench-data/cloudtrail-200k.json.gz)

Prints records, MB/s of uncompressed JSON (10^6 bytes per MB), records/s and the
process's peak RSS (resource.getrusage, ru_maxrss in KiB on Linux).
"""

import gzip
import json
import resource
import sys
import time


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "target/bench-data/cloudtrail-200k.json.gz"
    start = time.perf_counter()
    with gzip.open(path, "rb") as f:
        document = json.load(f)
        size = f.tell()
    records = len(document["Records"])
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mb = size / 1e6
    print(
        f"python {sys.version.split()[0]} records {records} uncompressed_mb {mb:.1f} "
        f"seconds {seconds:.3f} mb_per_s {mb / seconds:.0f} records_per_s {records / seconds:.0f} "
        f"peak_rss_mib {peak_mib:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
