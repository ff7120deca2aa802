# trailguard: the two commands are `make demo` and `make test`.
# Everything they need beyond the Rust toolchain and Python 3 is installed
# into .venv from tools/requirements.txt.

SHELL := /bin/bash
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
# The venv's bin first: cargo-lambda finds zig there, tests find moto_server.
export PATH := $(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_EC2_METADATA_DISABLED := true

.PHONY: test demo venv lint fmt unit template-lint readme-check bench build cli clean-venv fuzz

test: venv lint unit template-lint readme-check

venv: $(VENV)/.installed

$(VENV)/.installed: tools/requirements.txt
	@echo "==> creating $(VENV) with pinned test tooling"
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	@touch $@

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

unit: venv
	cargo test --workspace --locked

template-lint: venv
	@echo "==> sam validate --lint"
	sam validate --lint --template template.yaml --region us-east-1
	@echo "==> cfn-lint"
	cfn-lint template.yaml
	@echo "==> every function in the template is a binary of the workspace"
	$(PY) tools/check_template_binaries.py
	@echo "==> IAM grants name resources; log writers and findings publishers are locked down"
	$(PY) tools/check_template_policies.py --self-test
	$(PY) tools/check_template_policies.py
	@echo "==> every events/ sample is used by a test or the demo"
	$(PY) tools/check_events_used.py --self-test
	$(PY) tools/check_events_used.py

# README's local-invocation snippet, run exactly as written.
readme-check: venv
	@echo "==> README local invocation"
	$(PY) tools/check_readme_invocation.py --self-test
	$(PY) tools/check_readme_invocation.py

# An optimised `trailguard` in target/release (the CLI alone: S3, SQS and
# CloudTrail are the only AWS SDK crates it compiles).
cli:
	cargo build --release --locked -p trailguard-cli --bin trailguard

# The full SAM build: cargo-lambda cross-compiles each function for arm64
# in release mode (no Docker). Too slow for CI's budget, so `make test`
# runs the CI-sized check above instead.
build: venv
	sam build --template template.yaml

BENCH_DATA := target/bench-data
bench: venv
	cargo build --release -p trailguard-engine --example gen_logs --example count_records --example scan_throughput
	test -f $(BENCH_DATA)/cloudtrail-200k.json.gz || ./target/release/examples/gen_logs
	test -f $(BENCH_DATA)/cloudtrail-1k.json.gz || ./target/release/examples/gen_logs --records 1000 --out $(BENCH_DATA)/cloudtrail-1k.json.gz
	test -d $(BENCH_DATA)/small || ./target/release/examples/gen_logs --files 500 --records 100
	cargo bench -p trailguard-engine --bench reader --bench sigma --bench correlation
	./target/release/examples/count_records $(BENCH_DATA)/cloudtrail-1k.json.gz
	./target/release/examples/count_records $(BENCH_DATA)/cloudtrail-200k.json.gz
	./target/release/examples/scan_throughput $(BENCH_DATA)/cloudtrail-200k.json.gz parse pass cis rules sigma notifier all
	python3 bench/python_baseline.py $(BENCH_DATA)/cloudtrail-200k.json.gz
	cargo build --release -p trailguard-cli --bin trailguard --example integrity_bench
	./target/release/examples/integrity_bench
	python3 bench/scan_memory.py target/release/trailguard $(BENCH_DATA)/cloudtrail-200k.json.gz

# Fuzzing (not part of `make test`): every target in fuzz/ for FUZZ_SECONDS
# each, one after another, then executions and crashes per target. Needs
# the nightly toolchain (`rustup toolchain install nightly`); cargo-fuzz is
# installed at the pinned version when missing. See docs/reliability.md.
FUZZ_SECONDS ?= 120
CARGO_FUZZ_VERSION := 0.13.2
fuzz:
	@cargo fuzz --version 2>/dev/null | grep -q ' $(CARGO_FUZZ_VERSION)$$' || \
		cargo install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION)
	python3 tools/fuzz_seeds.py
	cd fuzz && cargo +nightly fuzz build -O
	python3 tools/fuzz_report.py --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: venv
	$(PY) tools/demo.py

fmt:
	cargo fmt --all

clean-venv:
	rm -rf $(VENV)
