#!/usr/bin/env bash
# Installs what `make release` needs to cross-build into .tools/ (git-ignored),
# never system-wide:
#   .tools/release-venv    a Python venv with cargo-zigbuild (a cargo wrapper that
#                          links with zig) and ziglang (the zig toolchain, which
#                          carries libc headers and linkers for Linux, macOS and
#                          Windows-gnu targets)
#   .tools/release-zig-macos  ziglang 0.17.1 for the macOS targets only: zig
#                          0.15.2's Mach-O linker crashes on aws-lc's s2n-bignum
#                          objects; 0.17.1 links them (Linux and Windows stay on
#                          the 0.15.2 they were verified with)
#   rustup targets         aarch64-unknown-linux-gnu, x86_64-apple-darwin,
#                          aarch64-apple-darwin, x86_64-pc-windows-gnu (plus the host)
# Safe to run again: it does nothing when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
VENV="$TOOLS/release-venv"
STAMP="$TOOLS/.release-installed-v2"
MACOS_ZIG="$TOOLS/release-zig-macos"
MACOS_ZIG_PACKAGE="ziglang==0.17.1"
PY_PACKAGES=("cargo-zigbuild==0.24.1" "ziglang==0.15.2")
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin
         aarch64-apple-darwin x86_64-pc-windows-gnu)

missing_targets() {
  local installed
  installed="$(rustup target list --installed)"
  for t in "${TARGETS[@]}"; do
    grep -qx "$t" <<<"$installed" || echo "$t"
  done
}

if [[ -f "$STAMP" && -x "$VENV/bin/cargo-zigbuild" && -x "$MACOS_ZIG/ziglang/zig" &&
      -z "$(missing_targets)" ]]; then
  exit 0
fi
mkdir -p "$TOOLS"
if [[ ! -x "$VENV/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
if [[ ! -x "$MACOS_ZIG/ziglang/zig" ]]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --target "$MACOS_ZIG" "$MACOS_ZIG_PACKAGE"
fi
mapfile -t need < <(missing_targets)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "==> rustup target add ${need[*]}"
  rustup target add "${need[@]}"
fi
"$VENV/bin/cargo-zigbuild" --version
"$VENV/bin/python" -m ziglang version
"$MACOS_ZIG/ziglang/zig" version
touch "$STAMP"
