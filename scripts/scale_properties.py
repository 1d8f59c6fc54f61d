#!/usr/bin/env python3
"""Fleet-scale benchmark of cph_phone_properties against the emulator.

N phones (default 1,000) split into R (default 10) `cph_phone_properties`
resources of one `for_each`, all managing the same two keys:
  1. `terraform apply`: every phone is shown once (its original values),
     then written in batch-update-property calls of 100 phones merged across
     the resources: ceil(N/100) writes expected;
  2. `terraform plan -refresh=true -detailed-exitcode`: a refresh that finds
     no change, N show-phone reads;
  3. `terraform destroy`.
Each line gives the wall time, the calls per endpoint, and the floor set by
the provider's rate limit (max_requests_per_second, default 30): the calls
the command must make divided by the rate, plus one job time for the apply.

Reuses scripts/scale.py's emulator and work directory (dev_overrides, HW_*
settings). Binaries: the release build in cargo's target directory, or
--bin-dir (e.g. target/debug). SCALE_TERRAFORM picks terraform (default
.tools/bin/terraform-1.15 here).

Usage: scripts/scale_properties.py [--phones 1000] [--resources 10]
       [--job-seconds 2] [--latency-ms 20] [--max-rps 30] [--bin-dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SCALE_TERRAFORM", str(ROOT / ".tools" / "bin" / "terraform-1.15"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402

PROPERTY_CHUNK = 100  # phones per batch-update-property call (src/resources/phone_properties/calls.rs)
DEFAULT_RPS = 30.0  # the provider's default max_requests_per_second

MAIN_TF = """\
terraform {
  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

provider "cph" {}

variable "routes" {
  type = map(list(string))
}

resource "cph_phone_properties" "fleet" {
  for_each  = var.routes
  phone_ids = each.value
  properties = {
    "persist.sys.locale"      = "en-US"
    "com.cph.bandwidth_limit" = "20000"
  }
}
"""


def line(name: str, run: scale.Run, floor_s: float, extra: str = "") -> None:
    calls = {k: v for k, v in sorted(run.calls.items()) if v}
    print(f"{name:<8} {run.seconds:7.1f} s  floor {floor_s:6.1f} s  "
          f"x{run.seconds / floor_s if floor_s else 0:4.2f}  calls {json.dumps(calls)} {extra}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phones", type=int, default=1000)
    ap.add_argument("--resources", type=int, default=10)
    ap.add_argument("--job-seconds", type=float, default=2.0)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--max-rps", type=float, default=None)
    ap.add_argument("--bin-dir", default=str(scale.RELEASE))
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    bins = Path(args.bin_dir).absolute()
    scale.EMULATOR = bins / "cph-emulator"
    n, r = args.phones, args.resources
    rps = args.max_rps or DEFAULT_RPS
    base = Path(tempfile.mkdtemp(prefix="scale-props-"))
    emu = scale.Emulator(math.ceil(n / scale.PHONES_PER_SERVER), args.job_seconds,
                         args.latency_ms, base / "emulator.log", log_level="info")
    try:
        ids = emu.phone_ids(n)
        groups = scale.split(ids, r)
        wd = scale.Workdir(base, emu, groups, parallelism=r, timeout=args.timeout,
                           provider_dir=bins, for_each=True, max_rps=args.max_rps)
        (base / "main.tf").write_text(MAIN_TF)
        print(f"{n} phones in {r} cph_phone_properties (for_each), jobs {args.job_seconds:g} s, "
              f"latency {args.latency_ms} ms, {rps:g} requests/s, terraform {scale.TERRAFORM.name}")
        writes = math.ceil(n / PROPERTY_CHUNK)
        apply = wd.run("apply", ["apply", "-auto-approve", f"-parallelism={r}"])
        got = apply.calls.get("update_phone_property", 0)
        # The apply shows every phone, writes, then reads its jobs.
        floor = (n + writes) / rps + args.job_seconds
        line("apply", apply, floor, f"writes {got} (expected {writes})")
        plan = wd.run("refresh", ["plan", "-refresh=true", "-detailed-exitcode", f"-parallelism={r}"],
                      ok_codes=(0, 2))
        reads = plan.calls.get("show_phone", 0)
        line("refresh", plan, n / rps, f"reads {reads} (expected {n}), exit {plan.exit_code}")
        destroy = wd.run("destroy", ["destroy", "-auto-approve", f"-parallelism={r}"])
        line("destroy", destroy, 0.0, "(no originals to put back: nothing to write)")
        ok = got == writes and reads == n and plan.exit_code == 0
        print("writes = ceil(N/100) and refresh = N reads:", "yes" if ok else "NO")
        return 0 if ok else 1
    finally:
        emu.stop()
        if not args.keep:
            import shutil
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base}")


if __name__ == "__main__":
    sys.exit(main())
