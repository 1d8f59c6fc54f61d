#!/usr/bin/env bash
# Prints the release's one version: `[workspace.package] version` in the
# root Cargo.toml, which the provider and cph-emulator both take.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(awk -F'"' '/^\[workspace\.package\]/{p=1; next} /^\[/{p=0} p && $1 ~ /^version *= */{print $2; exit}' Cargo.toml)"
[[ -n "$version" ]] || { echo "no [workspace.package] version in Cargo.toml" >&2; exit 1; }
echo "$version"
