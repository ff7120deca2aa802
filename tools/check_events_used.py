#!/usr/bin/env python3
"""Checks that every sample under events/ (*.json, recursively) is used by a
test or by the demo, so no sample drifts out of date unnoticed.

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
    return 1 if unused or total == 0 else 0


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
