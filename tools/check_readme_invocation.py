"""Runs README.md's "Local invocation with cargo-lambda" snippet exactly as
written, and checks that the function processed the sample file.

The snippet is taken from the README itself, so a change to it is what is
tested. It runs in its own process group, which is killed afterwards (the
snippet starts moto and `cargo lambda watch` in the background).

Usage: check_readme_invocation.py [--self-test]
"""

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Local invocation with cargo-lambda"
# The response of a metrics invocation over an SQS batch.
WANTED = '"batchItemFailures"'


def snippet(readme: str) -> str:
    """The first ```sh block after the heading."""
    start = readme.find(HEADING)
    if start < 0:
        raise SystemExit(f"README.md has no {HEADING!r} section")
    block = re.search(r"```sh\n(.*?)```", readme[start:], re.S)
    if block is None:
        raise SystemExit(f"no ```sh block under {HEADING!r}")
    return block.group(1)


def verdict(output: str) -> str | None:
    """Why the snippet's output shows a failed invocation; None if it worked."""
    decoder = json.JSONDecoder()
    for start in (i for i, c in enumerate(output) if c == "{"):
        try:
            response, _ = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            continue
        if isinstance(response, dict) and "batchItemFailures" in response:
            failures = response["batchItemFailures"]
            return None if failures == [] else f"items failed: {failures}"
    return f"no {WANTED} response in the output"


def self_test() -> None:
    text = "# x\n" + HEADING + "\n\n```sh\necho hi\n```\n```sh\nnot this\n```\n"
    assert snippet(text) == "echo hi\n"
    assert verdict('noise\n{"batchItemFailures": []}\n') is None
    assert verdict('x {"a": 1}\n{\n  "batchItemFailures": []\n}\n') is None
    assert verdict('{"batchItemFailures": [{"itemIdentifier": "m"}]}') is not None
    assert verdict("NoSuchBucket") is not None
    print("self-test passed")


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    script = snippet((ROOT / "README.md").read_text())
    # As a reader would paste it: in a fresh shell at the repository root,
    # stopping at the first failing command.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    log = ROOT / "target" / "readme-invocation.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-e", "-c", script],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=900)
        except subprocess.TimeoutExpired:
            out.write("\ntimed out after 900 s\n")
        finally:
            # The snippet leaves moto and `cargo lambda watch` running.
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    output = log.read_text()
    problem = verdict(output) if proc.returncode == 0 else f"exit status {proc.returncode}"
    if problem is not None:
        print(output[-4000:])
        print(f"README local invocation snippet failed: {problem}")
        return 1
    print("README local invocation snippet: the function processed the file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
