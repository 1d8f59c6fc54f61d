# terraform-provider-cph: the two commands of the quick start are `make demo`
# and `make test`. Test tools (Terraform 1.0.3, 0.13.5 and 1.15.5, the Huawei
# Cloud Python SDK) are installed into .tools/ (git-ignored) by
# scripts/install-tools.sh.

SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools
PYTHON := $(TOOLS)/venv/bin/python
CARGO ?= cargo
# Where cargo puts binaries: `cargo metadata`'s target_directory, so that
# CARGO_TARGET_DIR (or build.target-dir) is honoured; ./target if cargo
# cannot say.
TARGET_DIR := $(or $(shell CARGO=$(CARGO) python3 $(CURDIR)/scripts/cargo_target.py 2>/dev/null),$(CURDIR)/target)

# Acceptance tests find terraform, the provider and the emulator through these.
export TF_ACC_TERRAFORM_PATH ?= $(TOOLS)/bin/terraform
export CPH_EMULATOR_BIN ?= $(TARGET_DIR)/debug/cph-emulator
export CPH_TEST_PYTHON ?= $(PYTHON)
# Cross-version acceptance tests: Terraform 0.13.5 and 1.15.5 from .tools/,
# plus a terraform found on PATH (if any; skipped when its version is one of
# these).
export TF_ACC_TERRAFORM_0_13_PATH ?= $(TOOLS)/bin/terraform-0.13
export TF_ACC_TERRAFORM_1_15_PATH ?= $(TOOLS)/bin/terraform-1.15
export TF_ACC_EXTRA_TERRAFORM ?= $(shell command -v terraform 2>/dev/null)

.PHONY: all build docs tools test test-rust test-contract test-long test-compat demo release bench fuzz fmt lint clean

all: build

tools:
	@scripts/install-tools.sh

build:
	$(CARGO) build --workspace --all-targets

## make test: installs the test tools, builds, and runs every test. Acceptance
## tests with the real terraform run when TF_ACC=1 (CI sets it).
test: tools build test-rust test-contract

test-rust:
	$(CARGO) test --workspace --no-fail-fast

test-contract:
	$(PYTHON) -m pytest emulator/contract -q

## make test-long: the tests too slow for CI (not run by `make test`): the
## compatibility test below, then Ctrl-C at random moments of route changes,
## 30 runs, printing "N of 30", and of a 1,000-phone restart action, 20 runs
## (3 in CI), printing "N of 20 runs as expected".
test-long: tools build test-compat
	TF_ACC=1 CPH_LONG_TESTS=1 $(CARGO) test --test acc_interrupt -- \
		--nocapture ctrl_c_at_random_moments_of_route_changes_30_runs
	TF_ACC=1 CPH_LONG_TESTS=1 $(CARGO) test --test acc_action_stop -- --nocapture

## make test-compat: the provider as of COMPAT_COMMIT (built from git history
## into target/compat/, reused by later runs) applies routes, flavors and a
## pending order; this build then takes the state over (tests/acc_compat.rs).
COMPAT_COMMIT ?= 3f6085f
test-compat: tools
	$(CARGO) build -p terraform-provider-cph -p cph-emulator --bins
	CPH_COMPAT_PROVIDER="$$(scripts/compat_build.sh $(COMPAT_COMMIT))" TF_ACC=1 \
	  $(CARGO) test --test acc_compat -- --nocapture

## make demo: release build, a local emulator, terraform through the quick start.
demo: tools
	@scripts/demo.sh

## make release: signed zips for every platform, SHA256SUMS(.sig), the
## signing key, registry documents and mirrors in dist/ (scripts/release.sh).
## make release PLATFORMS="linux_amd64 darwin_arm64" builds only those;
## RELEASE_GPG_KEY=<key id> signs with your key (else a throwaway test key);
## RELEASE_BASE_URL=https://... is where the zips will be downloaded from.
release:
	@PLATFORMS="$(PLATFORMS)" RELEASE_GPG_KEY="$(RELEASE_GPG_KEY)" \
	  RELEASE_BASE_URL="$(RELEASE_BASE_URL)" scripts/release.sh

## make bench: criterion benchmarks and the fleet-scale script.
bench: tools
	$(CARGO) bench --bench hot_paths
	@scripts/scale.sh

fuzz:
	@scripts/fuzz.sh

## make docs: docs/ from templates/ (the prose, one template per page) and the
## provider's live schema; examples come from examples/. Edit the templates,
## then run it; CI fails when docs/ differs from what it writes.
docs:
	$(CARGO) run --quiet --bin gen-docs

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf dist
