#!/usr/bin/env bash
# make release: release artifacts of terraform-provider-cph in dist/.
#
#   dist/terraform-provider-cph_{VERSION}_linux_amd64.zip   the binary, named
#        terraform-provider-cph_v{VERSION} as Terraform expects
#   dist/terraform-provider-cph_{VERSION}_linux_arm64.zip   only when the
#        aarch64-unknown-linux-gnu target and a cross linker are installed
#   dist/terraform-provider-cph_{VERSION}_manifest.json     protocol 5
#   dist/terraform-provider-cph_{VERSION}_SHA256SUMS
#   dist/mirror/registry.terraform.io/cloudphone/cph/{VERSION}/{os}_{arch}/
#        an unpacked filesystem mirror to point Terraform at
#
# It never downloads toolchains: a target that is not installed is skipped
# with a note.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
NAME="terraform-provider-cph"
SOURCE="registry.terraform.io/cloudphone/cph"
DIST="$ROOT/dist"

VERSION="$(awk -F'"' '/^\[package\]/{p=1; next} /^\[/{p=0} p && $1 ~ /^version *= */{print $2; exit}' Cargo.toml)"
[[ -n "$VERSION" ]] || { echo "release: no version in Cargo.toml" >&2; exit 1; }
HOST="$(rustc -vV | sed -n 's/^host: //p')"
INSTALLED_TARGETS="$(rustup target list --installed 2>/dev/null || echo "$HOST")"
# Cargo's target directory (CARGO_TARGET_DIR and build.target-dir included).
TARGET_DIR="$(python3 scripts/cargo_target.py)"

echo "==> $NAME $VERSION (host $HOST)"
rm -rf "$DIST"
mkdir -p "$DIST"
stage="$(mktemp -d "${TMPDIR:-/tmp}/cph-release.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

zip_one() { # zip_one DIR FILE OUT.zip: OUT.zip holds FILE at its root
  local dir="$1" file="$2" out="$3"
  if command -v zip >/dev/null 2>&1; then
    (cd "$dir" && zip -q -X "$out" "$file")
  else
    (cd "$dir" && python3 -m zipfile -c "$out" "$file")
  fi
}

built=()
# triple, Terraform platform, cross linker (unused for the host)
for spec in "x86_64-unknown-linux-gnu linux_amd64 x86_64-linux-gnu-gcc" \
            "aarch64-unknown-linux-gnu linux_arm64 aarch64-linux-gnu-gcc"; do
  read -r triple platform linker <<<"$spec"
  if [[ "$triple" == "$HOST" ]]; then
    echo "==> cargo build --release ($triple, native)"
    cargo build --release --locked --bin "$NAME"
    binary="$TARGET_DIR/release/$NAME"
  elif grep -qx "$triple" <<<"$INSTALLED_TARGETS" && command -v "$linker" >/dev/null 2>&1; then
    echo "==> cargo build --release --target $triple (linker $linker)"
    env_triple="$(tr 'a-z-' 'A-Z_' <<<"$triple")"
    env "CARGO_TARGET_${env_triple}_LINKER=$linker" "CC_${triple//-/_}=$linker" \
      cargo build --release --locked --bin "$NAME" --target "$triple"
    binary="$TARGET_DIR/$triple/release/$NAME"
  else
    echo "note: skipping $platform: the Rust target $triple or the linker $linker is not installed"
    continue
  fi

  file="${NAME}_v${VERSION}"
  mkdir -p "$stage/$platform"
  cp "$binary" "$stage/$platform/$file"
  chmod 0755 "$stage/$platform/$file"
  zip_one "$stage/$platform" "$file" "$DIST/${NAME}_${VERSION}_${platform}.zip"

  mirror="$DIST/mirror/$SOURCE/$VERSION/$platform"
  mkdir -p "$mirror"
  cp "$stage/$platform/$file" "$mirror/$file"
  built+=("$platform")
done
if [[ ${#built[@]} -eq 0 ]]; then
  echo "release: no platform could be built" >&2
  exit 1
fi

cp terraform-registry-manifest.json "$DIST/${NAME}_${VERSION}_manifest.json"

(
  cd "$DIST"
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum ./*.zip ./*_manifest.json
  else
    shasum -a 256 ./*.zip ./*_manifest.json
  fi | sed 's# \./# #' >"${NAME}_${VERSION}_SHA256SUMS"
)

echo
echo "==> dist/ ($(IFS=,; echo "${built[*]}"))"
(cd "$DIST" && find . -type f | sort | sed 's#^\./#  #')
echo
echo "==> ${NAME}_${VERSION}_SHA256SUMS"
sed 's/^/  /' "$DIST/${NAME}_${VERSION}_SHA256SUMS"
cat <<CONFIG

To use this build with Terraform, put this in a CLI config file (for example
~/.terraformrc, or any file named by TF_CLI_CONFIG_FILE):

provider_installation {
  filesystem_mirror {
    path    = "$DIST/mirror"
    include = ["$SOURCE"]
  }
  direct {
    exclude = ["$SOURCE"]
  }
}

then run \`terraform init\` in a configuration that requires
cph = { source = "cloudphone/cph", version = "$VERSION" }.
CONFIG
