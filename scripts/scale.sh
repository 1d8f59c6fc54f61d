#!/usr/bin/env bash
# Fleet-scale benchmark (`make bench`): terraform 1.0.3 applies, refreshes and
# destroys routes over N phones (default 100, 1000, 5000) against a local
# cph-emulator with a 2 s job time and 20 ms latency per call, and prints the
# API calls per endpoint, wall times against the floor, the provider's peak
# RSS and the goal checks of issue [E]. Then the start-up comparison with the
# Go null provider. Without arguments it also runs the sharing case: 1,000
# phones over 50 resources on 10 servers, whose refresh must list each server
# once, and the for_each cases of issue [H]: 10 x 10, 50 x 20 and 50 x 100
# phones (one cph_phone_route per map key, all applied at once), whose
# route changes the provider merges across resources, with Terraform 1.0.3 and
# again with 1.15.5 when it is installed. The work is done by scripts/scale.py and scripts/bench_startup.py;
# arguments go to scale.py instead (e.g. `scale.sh 1000 --latency-ms 50`).
# SKIP_STARTUP=1 skips the start-up comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=".tools/venv/bin/python"
if [[ ! -x "$PYTHON" || ! -x .tools/bin/terraform ]]; then
  scripts/install-tools.sh
fi

# Release binaries of the provider and the emulator (cargo does nothing when
# they are up to date).
cargo build --release --workspace --bins --quiet

status=0
"$PYTHON" scripts/scale.py "$@" || status=$?
if [[ $# -eq 0 ]]; then
  echo
  "$PYTHON" scripts/scale.py 1000 --resources 50 || status=$?
  echo
  "$PYTHON" scripts/scale.py --for-each 10x10 --for-each 50x20 --for-each 50x100 || status=$?
  if [[ -x .tools/bin/terraform-1.15 ]]; then
    echo
    echo "The for_each cases again with the newest Terraform (1.15.5):"
    SCALE_TERRAFORM=.tools/bin/terraform-1.15 \
      "$PYTHON" scripts/scale.py --for-each 10x10 --for-each 50x20 --for-each 50x100 || status=$?
  fi
fi
if [[ "${SKIP_STARTUP:-0}" != 1 ]]; then
  echo
  "$PYTHON" scripts/bench_startup.py || status=$?
fi
exit "$status"
