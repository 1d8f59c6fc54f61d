#!/usr/bin/env bash
# make fuzz: runs each cargo-fuzz target for a bounded time.
#
#   FUZZ_SECONDS=60        seconds per target (default 60)
#   FUZZ_TARGETS="a b"     targets to run (default: all in fuzz/Cargo.toml)
#   FUZZ_SANITIZER=none    cargo fuzz --sanitizer (default none: the decoders
#                          are safe Rust, so panics are what we look for;
#                          "address" works too but builds much slower)
#   FUZZ_JOBS=1            parallel fuzzing processes per target
#
# cargo-fuzz needs nightly features; on a stable toolchain RUSTC_BOOTSTRAP=1
# enables them. cargo-fuzz itself is installed into .tools/cargo (git-ignored)
# when missing. The corpus lives in fuzz/corpus/<target>/ and is minimized
# (cargo fuzz cmin) after each run so that it stays small; crashes land in
# fuzz/artifacts/<target>/ and fail the script. The fuzz binaries are built in
# the fuzz workspace's target directory as `cargo metadata` reports it
# (fuzz/target, or CARGO_TARGET_DIR when set).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tools="$root/.tools/cargo"
export PATH="$tools/bin:$PATH"
export RUSTC_BOOTSTRAP=1

seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz into $tools" >&2
  cargo install --locked cargo-fuzz --root "$tools"
fi

targets="${FUZZ_TARGETS:-$(cargo fuzz list --fuzz-dir fuzz)}"
fuzz_target_dir="$(python3 scripts/cargo_target.py fuzz/Cargo.toml)"
triple="$(rustc -vV | sed -n 's/^host: //p')"
status=0
for t in $targets; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  echo "fuzz: $t for ${seconds}s (sanitizer $sanitizer)" >&2
  parallel=()
  if [ "$jobs" -gt 1 ]; then
    # libFuzzer writes fuzz-N.log into the current directory for each job.
    parallel=(-jobs="$jobs" -workers="$jobs")
  fi
  if ! cargo fuzz run --fuzz-dir fuzz --sanitizer "$sanitizer" "$t" "$corpus" -- \
      -max_total_time="$seconds" -max_len=1024 -print_final_stats=1 "${parallel[@]}"; then
    echo "fuzz: $t FAILED; see fuzz/artifacts/$t/ (reproduce: $fuzz_target_dir/$triple/release/$t fuzz/artifacts/$t/<file>)" >&2
    status=1
    continue
  fi
  # Keep the corpus small: only inputs that add coverage.
  cargo fuzz cmin --fuzz-dir fuzz --sanitizer "$sanitizer" "$t" "$corpus" >/dev/null 2>&1 || true
  rm -f fuzz-[0-9]*.log
  echo "fuzz: $t ok, corpus $(ls "$corpus" | wc -l) files, $(du -sh "$corpus" | cut -f1)" >&2
done
exit $status
