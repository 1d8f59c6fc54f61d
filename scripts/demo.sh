#!/usr/bin/env bash
# make demo: the quick start on a local CPH emulator, start to finish.
#
#   1. builds the provider and cph-emulator in release mode (in cargo's target
#      directory, as `cargo metadata` reports it: CARGO_TARGET_DIR works);
#      DEMO_PROFILE=debug uses a debug build instead (the test of this script)
#   2. installs Terraform 1.0.3 into .tools/ (git-ignored) if missing
#   3. starts cph-emulator on a free loopback port
#   4. runs examples/quickstart in a temporary folder: init, apply, a plan that
#      must show no changes, a flavor change, a route change, destroy
#
# The emulator is stopped and the temporary files are removed whatever happens
# (success, failure or Ctrl-C). Nothing here talks to Huawei Cloud.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

TF="$ROOT/.tools/bin/terraform"
TARGET_DIR="$(python3 scripts/cargo_target.py)"
PROFILE="${DEMO_PROFILE:-release}"
case "$PROFILE" in
  release) build_flags=(--release) ;;
  debug) build_flags=() ;;
  *) echo "DEMO_PROFILE is release or debug, not $PROFILE" >&2; exit 2 ;;
esac
EMULATOR="$TARGET_DIR/$PROFILE/cph-emulator"
PROVIDER_DIR="$TARGET_DIR/$PROFILE"
VERSION="$(scripts/version.sh)"

# The emulator's account (its defaults, passed explicitly so the demo says
# what it relies on).
PROJECT_ID="0123456789abcdef0123456789abcdef"
REGION="cn-east-3"
ACCESS_KEY="EMULATORACCESSKEY"
SECRET_KEY="emulator-secret-key"

# The flavor the demo changes the server back to (the quick start's defaults
# are the "special" flavors).
OTHER_SERVER_MODEL="physical.rx1.xlarge"
OTHER_PHONE_MODEL="rx1.cp.c15.d46.e1v1"

if [[ -t 1 ]]; then
  bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' reset=$'\e[0m'
  no_color=()
else
  bold='' green='' red='' reset=''
  no_color=(-no-color)
fi
section() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
fail() {
  printf '\n%sdemo failed: %s%s\n' "$red" "$*" "$reset" >&2
  exit 1
}

tmp=""
emulator_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$emulator_pid" ]] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$emulator_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$emulator_pid" 2>/dev/null; then
      kill -KILL "$emulator_pid" 2>/dev/null || true
    fi
    wait "$emulator_pid" 2>/dev/null || true
    echo "cph-emulator (pid $emulator_pid) stopped."
  fi
  if [[ $rc -ne 0 ]]; then
    if [[ -n "$tmp" && -s "$tmp/emulator.log" ]]; then
      echo "--- last lines of the emulator's log ---" >&2
      tail -n 20 "$tmp/emulator.log" >&2 || true
    fi
    printf '%sdemo failed (exit code %s)%s\n' "$red" "$rc" "$reset" >&2
  fi
  if [[ -n "$tmp" ]]; then
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section "Building terraform-provider-cph and cph-emulator ($PROFILE)"
cargo build ${build_flags[@]+"${build_flags[@]}"} --workspace --bins

section "Checking the tools in .tools/"
scripts/install-tools.sh
"$TF" version

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cph-demo.XXXXXX")"

section "Starting cph-emulator on a free loopback port"
"$EMULATOR" --listen 127.0.0.1:0 --order-seconds 3 --job-seconds 1 \
  --project-id "$PROJECT_ID" --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
  >"$tmp/emulator.out" 2>"$tmp/emulator.log" &
emulator_pid=$!
endpoint=""
for _ in $(seq 1 300); do
  line="$(grep -m 1 '^listening on http://' "$tmp/emulator.out" 2>/dev/null || true)"
  if [[ -n "$line" ]]; then
    endpoint="${line#listening on }"
    break
  fi
  kill -0 "$emulator_pid" 2>/dev/null || fail "cph-emulator exited before it was listening"
  sleep 0.1
done
[[ -n "$endpoint" ]] || fail "cph-emulator did not say where it listens within 30 s"
echo "cph-emulator (pid $emulator_pid) listens on $endpoint"

# Terraform uses the binary in target/release through dev_overrides. `terraform
# init` still looks the provider up, so a filesystem mirror with the same
# binary answers it without the network.
mirror="$tmp/mirror/registry.terraform.io/cloudphone/cph/$VERSION/linux_amd64"
mkdir -p "$mirror"
ln -s "$PROVIDER_DIR/terraform-provider-cph" "$mirror/terraform-provider-cph_v$VERSION"
cat >"$tmp/terraform.rc" <<EOF
provider_installation {
  dev_overrides {
    "cloudphone/cph" = "$PROVIDER_DIR"
  }
  filesystem_mirror {
    path    = "$tmp/mirror"
    include = ["registry.terraform.io/cloudphone/cph"]
  }
  direct {
    exclude = ["registry.terraform.io/cloudphone/cph"]
  }
}
EOF
export TF_CLI_CONFIG_FILE="$tmp/terraform.rc"
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

# The provider reads everything from HW_* variables; AK/SK signing here.
unset HW_AUTH_TOKEN HW_SECURITY_TOKEN HW_USER_NAME HW_USER_PASSWORD HW_DOMAIN_NAME \
  HW_AUTH_URL HW_INSECURE HW_MAX_RETRIES
export HW_CPH_ENDPOINT="$endpoint"
export HW_REGION_NAME="$REGION"
export HW_PROJECT_ID="$PROJECT_ID"
export HW_ACCESS_KEY="$ACCESS_KEY"
export HW_SECRET_KEY="$SECRET_KEY"

work="$tmp/quickstart"
mkdir -p "$work"
cp "$ROOT"/examples/quickstart/*.tf "$work/"
cd "$work"
tf() { "$TF" "$@"; }

section "terraform init  (examples/quickstart, copied to $work)"
tf init -input=false ${no_color[@]+"${no_color[@]}"}

section "terraform apply  (server -> physical.rx1.xlarge.special, every phone -> routing)"
tf apply -auto-approve -input=false ${no_color[@]+"${no_color[@]}"} | tee "$tmp/apply.log"
grep -q 'Apply complete!' "$tmp/apply.log" || fail "apply did not complete"

section "terraform output"
tf output ${no_color[@]+"${no_color[@]}"}

section "terraform plan -detailed-exitcode  (must show no changes)"
rc=0
tf plan -detailed-exitcode -input=false ${no_color[@]+"${no_color[@]}"} || rc=$?
case $rc in
  0) echo "${green}No changes: the state matches the cloud.${reset}" ;;
  2) fail "the plan after apply is not empty" ;;
  *) fail "terraform plan failed (exit code $rc)" ;;
esac

# Applies a change and checks that it is one in-place update.
apply_change() {
  local what="$1" log="$tmp/change.log"
  shift
  tf apply -auto-approve -input=false ${no_color[@]+"${no_color[@]}"} "$@" | tee "$log"
  grep -q '1 to change' "$log" || fail "$what: the plan does not say '1 to change'"
  grep -q '0 to destroy' "$log" || fail "$what: the plan replaces or destroys something"
  grep -q 'Apply complete!' "$log" || fail "$what: apply did not complete"
  echo "${green}$what: 1 changed in place, 0 destroyed.${reset}"
}

flavor_vars=(-var "server_model_name=$OTHER_SERVER_MODEL" -var "phone_model_name=$OTHER_PHONE_MODEL")

section "Flavor change in place  (server -> $OTHER_SERVER_MODEL / $OTHER_PHONE_MODEL)"
apply_change "flavor change" "${flavor_vars[@]}"

section "Route change in place  (every phone -> direct)"
apply_change "route change" "${flavor_vars[@]}" -var "traffic_type=direct"

section "terraform plan -detailed-exitcode  (after both changes, must show no changes)"
rc=0
tf plan -detailed-exitcode -input=false ${no_color[@]+"${no_color[@]}"} "${flavor_vars[@]}" -var "traffic_type=direct" || rc=$?
case $rc in
  0) echo "${green}No changes.${reset}" ;;
  2) fail "the plan after the changes is not empty" ;;
  *) fail "terraform plan failed (exit code $rc)" ;;
esac

section "terraform destroy  (phones back to direct; the server keeps its flavor)"
tf destroy -auto-approve -input=false ${no_color[@]+"${no_color[@]}"} "${flavor_vars[@]}" -var "traffic_type=direct" | tee "$tmp/destroy.log"
grep -q 'Destroy complete!' "$tmp/destroy.log" || fail "destroy did not complete"

section "Done"
echo "${green}The demo ran init, apply, an empty plan, a flavor change, a route change and destroy.${reset}"
echo "Stopping the emulator and removing $tmp."
