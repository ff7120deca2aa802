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

.PHONY: test demo venv lint fmt unit template-lint bench build clean-venv

test: venv lint unit template-lint

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
	@if [ -f template.yaml ]; then \
	  echo "==> sam validate --lint"; \
	  sam validate --lint --template template.yaml --region us-east-1 && \
	  echo "==> cfn-lint" && cfn-lint template.yaml; \
	else echo "no template.yaml yet"; fi

fmt:
	cargo fmt --all

clean-venv:
	rm -rf $(VENV)
