#!/usr/bin/env bash
# Builds the provider as of an older commit (default 3f6085f, the tree users
# had before schema version 1 of cph_phone_route) from git history, for the
# compatibility test (`make test-compat`) and before/after benchmarks.
#
# The commit's tree is exported with `git archive` into
# target/compat/src-<commit> and built in release mode into its own target
# directory, target/compat/target, which later runs reuse (cargo rebuilds
# nothing when it is up to date). The binary is copied to
# target/compat/bin-<commit>/ (so that a release build of today's tree in
# the same target directory, sharing its dependencies, does not replace
# it), and that path is printed.
#
# Usage: scripts/compat_build.sh [commit]
set -euo pipefail
cd "$(dirname "$0")/.."

commit="${1:-3f6085f}"
full="$(git rev-parse --verify "${commit}^{commit}")"
short="${full:0:7}"
root="${COMPAT_DIR:-$PWD/target/compat}"
src="$root/src-$short"
bin="$root/bin-$short/terraform-provider-cph"
# A commit never changes: a binary built once is the build of that commit.
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$root"
if [[ ! -f "$src/Cargo.toml" ]]; then
  rm -rf "$src.tmp"
  mkdir -p "$src.tmp"
  git archive "$full" | tar -x -C "$src.tmp"
  mv "$src.tmp" "$src"
fi
# The commit's own lockfile, offline when the registry cache has the crates.
(cd "$src" && CARGO_TARGET_DIR="$root/target" cargo build --release --locked --quiet \
  --bin terraform-provider-cph >&2)
mkdir -p "$root/bin-$short"
cp -p "$root/target/release/terraform-provider-cph" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "$bin"
