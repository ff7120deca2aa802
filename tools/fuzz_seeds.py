#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from the repo's real samples.

Usage: tools/fuzz_seeds.py [OUT_DIR]   (default: fuzz/corpus)

Seeds are generated rather than committed: the CloudTrail logs under
engine/tests/data/invictus-stratus (gzip, plain, JSON lines and bare-array
variants), the Lambda payloads under events/, the rule files under
engine/rules, and hand-made digest files and chains. Each target gets its
own directory, OUT_DIR/<target>; existing files are kept, so a corpus grown
by earlier runs stays.
"""

import glob
import gzip
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Kept in step with fuzz/fuzz_targets/chain.rs.
FINGERPRINT = "0123456789abcdef0123456789abcdef"
LOG = b'{"Records":[]}'
RECORD_SEPARATOR = b"\n#record\n"
DIGEST_SEPARATOR = b"\n#digest\n"


def seed(out, target, name, data):
    directory = os.path.join(out, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def logs():
    """(name, gzip bytes, records) of each sample log file."""
    for path in sorted(glob.glob(os.path.join(ROOT, "engine/tests/data/invictus-stratus/*.json.gz"))):
        with open(path, "rb") as f:
            compressed = f.read()
        records = json.loads(gzip.decompress(compressed))["Records"]
        yield os.path.basename(path), compressed, records


def compact(value):
    return json.dumps(value, separators=(",", ":")).encode()


def reader_seeds(out):
    # The first byte sets the read size and where the prefix is cut.
    for name, compressed, records in logs():
        stem = name.split(".")[0]
        plain = gzip.decompress(compressed)
        small = records[:3]
        seed(out, "reader", f"{stem}.gz", b"\xff" + compressed)
        seed(out, "reader", f"{stem}.json", b"\x80" + plain)
        seed(out, "reader", f"{stem}.lines", b"\x07" + b"\n".join(compact(r) for r in small) + b"\n")
        seed(out, "reader", f"{stem}.array", b"\x40" + compact(small))
        # Two gzip members, as CloudTrail sometimes writes.
        half = len(plain) // 2
        seed(out, "reader", f"{stem}.members", b"\x21" + gzip.compress(plain[:half]) + gzip.compress(plain[half:]))
    seed(out, "reader", "bom", b"\x10\xef\xbb\xbf" + b'{"Records":[{"eventName":"a"}]}')
    seed(out, "reader", "other-members", b"\x03" + b'{"a":[1,{"b":2}],"Records":[{"eventName":"x"},5],"z":null}')


def envelope_seeds(out):
    for path in sorted(glob.glob(os.path.join(ROOT, "events/**/*.json"), recursive=True)):
        rel = os.path.relpath(path, os.path.join(ROOT, "events")).replace("/", "_")
        with open(path, "rb") as f:
            data = f.read()
        seed(out, "envelope", rel, data)
        seed(out, "trigger", rel, data)


def strings_named(value, names):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in names and isinstance(v, str):
                yield v
            yield from strings_named(v, names)
    elif isinstance(value, list):
        for v in value:
            yield from strings_named(v, names)


def keys_seeds(out):
    found = set()
    for path in glob.glob(os.path.join(ROOT, "events/**/*.json"), recursive=True):
        with open(path) as f:
            found.update(strings_named(json.load(f), {"key", "s3ObjectKey", "digestS3Object", "s3Object"}))
    for name, _, _ in logs():
        account, _, region, stamp, _ = name.split("_")
        found.add(f"AWSLogs/{account}/CloudTrail/{region}/{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}/{name}")
    found.update([
        "prefix/a+b/AWSLogs/o-exampleorg1/123456789012/CloudTrail-Digest/eu-west-1/2024/02/29/"
        "123456789012_CloudTrail-Digest_eu-west-1_my_trail.v2_us-east-1_20240229T235959Z_backfill.json.gz",
        "AWSLogs/123456789012/CloudTrail-Insight/us-gov-west-1/2023/12/31/"
        "123456789012_CloudTrail-Insight_us-gov-west-1_20231231T2359Z_abcdEFGH12345678.json.gz",
        "AWSLogs/123456789012/CloudTrail/ConfigWritabilityCheckFile",
        "AWSLogs/123456789012/CloudTrail/us-east-1/2023/07/10/123456789012_CloudTrail_us-east-1_20230710T1205Z_a%2Bb%20c.json.gz",
    ])
    for i, key in enumerate(sorted(found)):
        seed(out, "keys", f"key-{i}", key.encode())


def patterns():
    """Every `pattern:` of the rule files, decoded."""
    for path in sorted(glob.glob(os.path.join(ROOT, "engine/rules/**/*.yaml"), recursive=True)):
        with open(path) as f:
            for line in f:
                m = re.match(r'\s*pattern:\s*(".*")\s*$', line)
                if m:
                    try:
                        yield json.loads(m.group(1))
                    except json.JSONDecodeError:
                        pass
                m = re.match(r"\s*pattern:\s*'(.*)'\s*$", line)
                if m:
                    yield m.group(1).replace("''", "'")


def first_records():
    for _, _, records in logs():
        yield from records[:2]


def rule_seeds(out):
    records = list(first_records())
    for i, pattern in enumerate(sorted(set(patterns()))):
        data = pattern.encode()
        if records:
            data += RECORD_SEPARATOR + compact(records[i % len(records)])
        seed(out, "filter_pattern", f"pattern-{i}", data)
    for path in sorted(glob.glob(os.path.join(ROOT, "engine/rules/**/*.yaml"), recursive=True)):
        with open(path, "rb") as f:
            rel = os.path.relpath(path, os.path.join(ROOT, "engine/rules")).replace("/", "_")
            seed(out, "rules", rel, f.read())
    for i, path in enumerate(sorted(glob.glob(os.path.join(ROOT, "engine/rules/sigma/*.yml")))):
        with open(path, "rb") as f:
            data = f.read()
        if records:
            data += RECORD_SEPARATOR + compact(records[i % len(records)])
        seed(out, "sigma", os.path.basename(path), data)


def digest_body(end_hour, previous=None, logs_listed=()):
    key = (f"AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/"
           f"218007301253_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T{end_hour:02d}0131Z.json.gz")
    body = {
        "awsAccountId": "218007301253",
        "digestStartTime": f"2023-07-10T{end_hour - 1:02d}:01:31Z",
        "digestEndTime": f"2023-07-10T{end_hour:02d}:01:31Z",
        "digestS3Bucket": "trail-bucket",
        "digestS3Object": key,
        "digestPublicKeyFingerprint": FINGERPRINT,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": f"2023-07-10T{end_hour - 1:02d}:59:00Z",
        "oldestEventTime": f"2023-07-10T{end_hour - 1:02d}:05:00Z",
        "previousDigestS3Bucket": None,
        "previousDigestS3Object": None,
        "previousDigestHashValue": None,
        "previousDigestHashAlgorithm": None,
        "previousDigestSignature": None,
        "logFiles": [
            {
                "s3Bucket": "trail-bucket",
                "s3Object": name,
                "hashValue": hashlib.sha256(LOG).hexdigest(),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": f"2023-07-10T{end_hour - 1:02d}:59:00Z",
                "oldestEventTime": f"2023-07-10T{end_hour - 1:02d}:05:00Z",
            }
            for name in logs_listed
        ],
    }
    if previous is not None:
        prev_key, prev_bytes = previous
        body.update({
            "previousDigestS3Bucket": "trail-bucket",
            "previousDigestS3Object": prev_key,
            "previousDigestHashValue": hashlib.sha256(prev_bytes).hexdigest(),
            "previousDigestHashAlgorithm": "SHA-256",
        })
    data = compact(body)
    return key, data


def digest_seeds(out):
    chain = []
    previous = None
    for hour in (11, 12, 13):
        log = (f"AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/"
               f"218007301253_CloudTrail_us-east-1_20230710T{hour - 1:02d}05Z_log{hour}.json.gz")
        key, data = digest_body(hour, previous, [log])
        chain.append(data)
        previous = (key, data)
        seed(out, "digest", f"digest-{hour}", data)
    # Flags: 1 sign, 2 store the log files, 4 not stored, 8 not listed, 16 bad signature.
    seed(out, "chain", "signed-chain", DIGEST_SEPARATOR.join(b"\x03" + d for d in chain))
    seed(out, "chain", "broken-chain", DIGEST_SEPARATOR.join(
        [b"\x03" + chain[0], b"\x05" + chain[1], b"\x13" + chain[2]]))
    seed(out, "chain", "unsigned", DIGEST_SEPARATOR.join(b"\x0a" + d for d in chain))
    _, empty = digest_body(9)
    seed(out, "digest", "digest-empty", empty)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz/corpus")
    reader_seeds(out)
    envelope_seeds(out)
    keys_seeds(out)
    rule_seeds(out)
    digest_seeds(out)
    for target in sorted(os.listdir(out)):
        print(f"{target}: {len(os.listdir(os.path.join(out, target)))} files in {out}/{target}")


if __name__ == "__main__":
    main()
