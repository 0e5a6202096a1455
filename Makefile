# kdpipe: two commands on a fresh machine.
#   make reproduce   the default study, from nothing to a table and a report
#   make test        the whole test suite (what .ci/run calls)
# Each target does its own set-up: a project-local .venv with torch==2.13.0
# (libtorch for tch 0.26), the release build, the built-in data set.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

TORCH_VERSION := 2.13.0
VENV := .venv
PYTHON ?= python3
STAMPS := .stamps
KDPIPE := target/release/kdpipe
EXPERIMENT ?= experiments/default.toml

# tch finds libtorch through the venv's torch (its build script runs python).
export LIBTORCH_USE_PYTORCH := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: build test reproduce data venv system-deps bench lint clean

venv: $(STAMPS)/torch-$(TORCH_VERSION)

$(STAMPS)/torch-$(TORCH_VERSION):
	@echo "==> creating $(VENV) with torch==$(TORCH_VERSION) (about 80 s and 4.7 GB, once)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q torch==$(TORCH_VERSION)
	$(VENV)/bin/python -c "import torch, sys; v = torch.__version__.split('+')[0]; sys.exit(0 if v == '$(TORCH_VERSION)' else 'torch ' + v + ' installed, need $(TORCH_VERSION)')"
	@mkdir -p $(STAMPS) && touch $@

build: venv
	cargo build --release --locked --workspace --bins

data: build
	$(KDPIPE) data fetch brain-mri

# Debian packages the tests use for real: chromium (report test) and
# Slurm + munge (cluster executor tests). Installed once, as root.
system-deps:
	scripts/system-deps.sh

test: build data system-deps
	scripts/test.sh

reproduce: build data
	$(KDPIPE) run $(EXPERIMENT)
	$(KDPIPE) compare $(EXPERIMENT) --format markdown
	$(KDPIPE) report $(EXPERIMENT)

bench: build data
	scripts/bench.sh

lint: venv
	cargo fmt --all -- --check
	cargo clippy --release --locked --workspace --all-targets -- -D warnings

clean:
	cargo clean
	rm -rf $(STAMPS)
