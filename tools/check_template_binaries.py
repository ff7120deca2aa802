#!/usr/bin/env python3
"""Checks that every rust-cargolambda function in template.yaml names a
binary the workspace builds, so `sam build` cannot fail on a typo.

CloudFormation short-form tags (!Ref, !Sub ...) are read as plain values.
"""
import json
import subprocess
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


def any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


Loader.add_multi_constructor("!", any_tag)

template = yaml.load(open("template.yaml"), Loader=Loader)
meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--no-deps", "--format-version", "1"],
    capture_output=True, text=True, check=True).stdout)
binaries = {t["name"] for p in meta["packages"] for t in p["targets"] if "bin" in t["kind"]}

problems = []
functions = 0
for name, res in template["Resources"].items():
    if res.get("Type") != "AWS::Serverless::Function":
        continue
    functions += 1
    m = res.get("Metadata", {})
    binary = m.get("BuildProperties", {}).get("Binary")
    if m.get("BuildMethod") != "rust-cargolambda":
        problems.append(f"{name}: BuildMethod is not rust-cargolambda")
    if binary not in binaries:
        problems.append(f"{name}: Binary {binary!r} is not a workspace binary ({sorted(binaries)})")
print(f"{functions} functions checked against binaries {sorted(binaries)}")
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems or functions == 0 else 0)
