#!/usr/bin/env python3
"""Checks that every sample under events/ (*.json, recursively) is used by a
test or by the demo, so no sample drifts out of date unnoticed, and that no
sample of trailguard's own output (a finding, an audit record) is hand-made:
each must be listed in events/generated.txt, whose files a test regenerates
from the producing component and compares.

A sample counts as used when its file name (or, if two samples share a file
name, its path relative to events/) appears in a Rust source file of the
repository (tests, and #[cfg(test)] code in src/) or in tools/demo.py,
outside a whole-line comment. The name must stand alone: "s3-test-event.json"
inside "sqs-s3-test-event.json" does not count.

Usage:
  tools/check_events_used.py [--root DIR]   list unused samples, exit 1 if any
  tools/check_events_used.py --self-test    check this script against fixtures
"""
import argparse
import contextlib
import io
import json
import re
import sys
import tempfile
from pathlib import Path

EVENTS = "events"
DEMO = Path("tools") / "demo.py"
# Build output and tool directories hold copies or generated code, not tests.
SKIP_DIRS = {"target", ".git", ".venv", ".aws-sam", ".demo", "node_modules"}
# A file-name character: a match must not be preceded or followed by one.
NAME_CHAR = r"[A-Za-z0-9_.-]"


def samples(root):
    """Every *.json under root/events, as POSIX paths relative to events/."""
    base = root / EVENTS
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*.json") if p.is_file())


def source_files(root):
    """The files whose text may use a sample: every .rs file outside build
    output, and the demo."""
    found = []
    for path in sorted(root.rglob("*.rs")):
        parts = path.relative_to(root).parts
        if not any(part in SKIP_DIRS for part in parts[:-1]):
            found.append(path)
    demo = root / DEMO
    if demo.is_file():
        found.append(demo)
    return found


def code_text(path):
    """The file's text without whole-line comments, so a sample that is only
    mentioned in a doc comment does not count as used."""
    marker = "#" if path.suffix == ".py" else "//"
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(marker))


def needle(sample, ambiguous):
    """The pattern that marks `sample` as used: its file name, or its path
    relative to events/ when another sample has the same file name."""
    name = sample if ambiguous else sample.rsplit("/", 1)[-1]
    return re.compile(rf"(?<!{NAME_CHAR}){re.escape(name)}(?!{NAME_CHAR})")


def unused_samples(root):
    """Samples no source file uses, relative to events/."""
    all_samples = samples(root)
    names = [s.rsplit("/", 1)[-1] for s in all_samples]
    texts = [code_text(p) for p in source_files(root)]
    unused = []
    for sample, name in zip(all_samples, names):
        pattern = needle(sample, names.count(name) > 1)
        if not any(pattern.search(text) for text in texts):
            unused.append(sample)
    return unused


GENERATED = Path(EVENTS) / "generated.txt"


def carries_own_output(value):
    """Whether a JSON value holds trailguard output at any depth, including
    inside JSON text (SNS `Message`, SQS `body`): a finding (`rule` with
    `rawEvent` or `event`) or a remediation audit record (`outcome`, `dryRun`)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                return carries_own_output(json.loads(text))
            except ValueError:
                return False
        return False
    if isinstance(value, list):
        return any(carries_own_output(v) for v in value)
    if isinstance(value, dict):
        if "rule" in value and ("rawEvent" in value or "event" in value):
            return True
        if "outcome" in value and "dryRun" in value:
            return True
        return any(carries_own_output(v) for v in value.values())
    return False


def hand_made_outputs(root):
    """Samples holding trailguard output that events/generated.txt does not list."""
    manifest = root / GENERATED
    listed = set()
    if manifest.is_file():
        listed = {line.strip() for line in manifest.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.lstrip().startswith("#")}
    found = []
    for sample in samples(root):
        path = f"{EVENTS}/{sample}"
        try:
            value = json.loads((root / path).read_text(encoding="utf-8"))
        except ValueError:
            continue
        if carries_own_output(value) and path not in listed:
            found.append(path)
    return found


def check(root):
    if not (root / EVENTS).is_dir():
        print(f"no {EVENTS}/ directory under {root}", file=sys.stderr)
        return 1
    total = len(samples(root))
    unused = unused_samples(root)
    print(f"{total - len(unused)} of {total} samples in {EVENTS}/ used by a test or the demo")
    for sample in unused:
        print(f"{EVENTS}/{sample} is used by no test and not by {DEMO.as_posix()}: "
              "load it in a test (or the demo), or delete it", file=sys.stderr)
    hand_made = hand_made_outputs(root)
    for path in hand_made:
        print(f"{path} holds trailguard output but is not in {GENERATED.as_posix()}: "
              "generate it from the producing component in a test, and list it there",
              file=sys.stderr)
    return 1 if unused or hand_made or total == 0 else 0


def quiet_check(root):
    """check(root) without its report, for the fixtures."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return check(root)


def self_test():
    """Builds fixture trees and asserts what the check reports for them."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def write(rel, text=""):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

        for sample in ["used.json", "sub/nested.json", "demo-only.json",
                       "s3-test-event.json", "sqs-s3-test-event.json",
                       "doc-only.json", "target-only.json", "a/twin.json", "b/twin.json",
                       "never.json"]:
            write(f"{EVENTS}/{sample}", "{}")
        write(f"{EVENTS}/README.md", "never.json is documented here only")
        write("crate/tests/t.rs", "\n".join([
            '//! Loads doc-only.json (a comment only, does not count).',
            'const A: &str = include_str!("../../events/used.json");',
            'fn f() { load("sub/nested.json"); load("sqs-s3-test-event.json"); }',
            'fn g() { load("events/a/twin.json"); }',
        ]))
        write("crate/target/debug/copied.rs", 'load("target-only.json")')
        write(str(DEMO), 'ROOT / "events/demo-only.json"\n# never.json in a comment\n')

        got = unused_samples(root)
        want = ["b/twin.json", "doc-only.json", "never.json", "s3-test-event.json",
                "target-only.json"]
        assert got == want, f"fixture: unused {got}, expected {want}"
        assert quiet_check(root) == 1, "check passed with unused samples"

        # Once every sample is used, the same tree passes.
        write("crate/tests/more.rs", "\n".join([
            'load("events/b/twin.json"); load("doc-only.json"); load("never.json");',
            'load("s3-test-event.json"); load("target-only.json");',
        ]))
        assert unused_samples(root) == [], unused_samples(root)
        assert quiet_check(root) == 0, "check failed with every sample used"

    with tempfile.TemporaryDirectory() as tmp:
        # Trailguard output in a sample must be listed as generated.
        root = Path(tmp)
        finding = {"schemaVersion": "1.1", "rule": {"id": "r"}, "rawEvent": {}}
        audit = {"id": "a", "outcome": {"kind": "acted"}, "dryRun": False}
        sns = {"Records": [{"Sns": {"Message": json.dumps(finding)}}]}
        for name, value in [("sns.json", sns), ("audit.json", audit),
                            ("old.json", {"rule": {"id": "r"}, "event": {}}),
                            ("aws.json", {"Records": [{"s3": {"object": {"key": "k"}}}]})]:
            (root / EVENTS).mkdir(exist_ok=True)
            (root / EVENTS / name).write_text(json.dumps(value), encoding="utf-8")
            (root / "t.rs").write_text(" ".join(f'"{n}"' for n in
                                                ["sns.json", "audit.json", "old.json", "aws.json"]))
        got = hand_made_outputs(root)
        want = ["events/audit.json", "events/old.json", "events/sns.json"]
        assert got == want, f"hand-made outputs {got}, expected {want}"
        assert quiet_check(root) == 1, "check passed with hand-made outputs"
        (root / GENERATED).write_text("# generated\nevents/audit.json\nevents/old.json\n"
                                      "events/sns.json\n", encoding="utf-8")
        assert hand_made_outputs(root) == [] and quiet_check(root) == 0

    with tempfile.TemporaryDirectory() as tmp:
        # An empty events/ is a misconfiguration, not a pass.
        (Path(tmp) / EVENTS).mkdir()
        assert quiet_check(Path(tmp)) == 1, "check passed with no samples at all"
    print("self-test passed")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="repository root (default: this script's repository)")
    parser.add_argument("--self-test", action="store_true",
                        help="check this script against built-in fixtures")
    args = parser.parse_args()
    return self_test() if args.self_test else check(args.root)


if __name__ == "__main__":
    sys.exit(main())
