#!/usr/bin/env bash
# make release: a signed release of terraform-provider-cph in dist/.
#
# Cross-builds the provider and the emulator (cph-emulator, for testing
# modules offline) for every platform in PLATFORMS (default: all of
# linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64) with
# cargo-zigbuild and zig from .tools/release-venv (scripts/install-release-tools.sh
# installs them and the Rust targets), then scripts/package_release.py writes
# the zips (the emulator's as cph-emulator_{V}_{os}_{arch}.zip), SHA256SUMS
# (every zip) and its detached signature, dist/signing-key.asc, the
# registry protocol's documents (dist/registry/), a network mirror
# (dist/network-mirror/) and a filesystem mirror (dist/mirror/).
#
# Settings (environment, or `make release VAR=...`):
#   PLATFORMS         space-separated {os}_{arch} list, e.g. "linux_amd64"
#   RELEASE_GPG_KEY   key id in your keyring that signs; unset: a throwaway
#                     key and a release for testing only
#   RELEASE_BASE_URL  where the zips will be downloaded from (the registry's
#                     download documents name it); default a placeholder
#
# Linux binaries are linked against glibc 2.28 (zig provides the stubs), so
# they run on any distribution from 2018 on, not only on this machine's.
# macOS binaries are built with a newer zig: zig 0.15.2's Mach-O linker
# crashes (SIGSEGV, reported as a bare exit 1) on aws-lc's s2n-bignum objects;
# zig 0.17.1 links them. Its ziglang package sits in .tools/release-zig-macos,
# which PYTHONPATH puts before the venv's 0.15.2 (cargo-zigbuild runs
# `python -m ziglang`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
NAME="terraform-provider-cph"
EMULATOR="cph-emulator"
SOURCE="registry.terraform.io/cloudphone/cph"
DIST="$ROOT/dist"
ALL_PLATFORMS="linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64"
PLATFORMS="${PLATFORMS:-$ALL_PLATFORMS}"
RELEASE_BASE_URL="${RELEASE_BASE_URL:-https://releases.example.invalid/$NAME/}"
GLIBC="2.28"

# The workspace's version: the provider and the emulator both take it.
VERSION="$(scripts/version.sh)"
# Cargo's target directory (CARGO_TARGET_DIR and build.target-dir included).
TARGET_DIR="$(python3 scripts/cargo_target.py)"

triple_of() { # the Rust target of a Terraform platform
  case "$1" in
    linux_amd64) echo x86_64-unknown-linux-gnu ;;
    linux_arm64) echo aarch64-unknown-linux-gnu ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-gnu ;;
    *) echo "release: unknown platform $1 (known: $ALL_PLATFORMS)" >&2; return 1 ;;
  esac
}

for platform in $PLATFORMS; do triple_of "$platform" >/dev/null; done
scripts/install-release-tools.sh
export PATH="$ROOT/.tools/release-venv/bin:$PATH"
MACOS_ZIGLANG="$ROOT/.tools/release-zig-macos"

echo "==> $NAME $VERSION for: $PLATFORMS"
binaries=()
failed=()
for platform in $PLATFORMS; do
  triple="$(triple_of "$platform")"
  zig_target="$triple"
  [[ "$triple" == *-linux-gnu ]] && zig_target="$triple.$GLIBC"
  zig_env=()
  [[ "$platform" == darwin_* ]] && zig_env=("PYTHONPATH=$MACOS_ZIGLANG")
  echo "==> ${zig_env[*]} cargo zigbuild --release --target $zig_target"
  # A platform that fails is named at the end; the others are still packaged.
  # One cargo run for both binaries: their shared dependencies build once.
  if ! env "${zig_env[@]}" cargo zigbuild --release --locked -p "$NAME" --bin "$NAME" \
      -p "$EMULATOR" --bin "$EMULATOR" --target "$zig_target"; then
    failed+=("$platform")
    continue
  fi
  exe=""
  [[ "$platform" == windows_* ]] && exe=".exe"
  binaries+=(--binary "$platform=$TARGET_DIR/$triple/release/$NAME$exe"
             --emulator "$platform=$TARGET_DIR/$triple/release/$EMULATOR$exe")
done
if [[ ${#binaries[@]} -eq 0 ]]; then
  echo "release: no platform could be built (${failed[*]})" >&2
  exit 1
fi

rm -rf "$DIST"
python3 scripts/package_release.py --version "$VERSION" --dist "$DIST" \
  --manifest terraform-registry-manifest.json --base-url "$RELEASE_BASE_URL" \
  --gpg-key "${RELEASE_GPG_KEY:-}" "${binaries[@]}"

echo
echo "==> dist/"
(cd "$DIST" && find . -maxdepth 1 -type f | sort | xargs ls -l | awk '{printf "  %10d  %s\n", $5, $9}')
echo
echo "==> ${NAME}_${VERSION}_SHA256SUMS"
sed 's/^/  /' "$DIST/${NAME}_${VERSION}_SHA256SUMS"
cat <<NEXT

Check the signature:  gpg --import dist/signing-key.asc &&
  gpg --verify dist/${NAME}_${VERSION}_SHA256SUMS.sig dist/${NAME}_${VERSION}_SHA256SUMS
and a zip against it:  (cd dist && sha256sum --check --ignore-missing ${NAME}_${VERSION}_SHA256SUMS)
The emulator: unzip dist/${EMULATOR}_${VERSION}_{os}_{arch}.zip; ./${EMULATOR} --version
Publish: the files of dist/ at $RELEASE_BASE_URL and dist/registry/ at the
registry host's root, or dist/network-mirror/ as a network mirror (HTTPS), or
dist/mirror/ as a filesystem mirror. README.md "Installing" shows the CLI
configuration for each; a quick local try with the filesystem mirror:

provider_installation {
  filesystem_mirror {
    path    = "$DIST/mirror"
    include = ["$SOURCE"]
  }
  direct {
    exclude = ["$SOURCE"]
  }
}
NEXT
if [[ ${#failed[@]} -gt 0 ]]; then
  echo >&2
  echo "release: INCOMPLETE: not built: ${failed[*]} (the build's errors are above);" >&2
  echo "dist/ holds the other platforms only." >&2
  exit 1
fi
