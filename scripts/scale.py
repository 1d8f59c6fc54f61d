#!/usr/bin/env python3
"""Fleet-scale benchmark: terraform against the emulator for N phones.

For each N (default 100, 1000, 5000):
  1. start the release cph-emulator (in cargo's target directory, as `cargo
     metadata` reports it) with ceil(N/100) servers of 100 phones, a job time
     (default 2 s) and a latency per API call (default 20 ms);
  2. read the first N phone ids through the list-phones API (token auth), and
     split them into R (default 10) `cph_phone_route` resources, in fleet order
     (so each resource's phones sit on as few servers as possible);
  3. in a temporary directory: main.tf, terraform.tfvars.json and a CLI
     configuration whose dev_overrides point `cloudphone/cph` at the release
     directory (no `terraform init`); the provider is configured by HW_* variables;
  4. `terraform apply -auto-approve -parallelism=P`: wall time, the emulator's
     call counters (reset before), and the provider's peak RSS (VmHWM of every
     terraform-provider-cph process under terraform, sampled every ~20 ms);
  5. `terraform plan -refresh=false`: Terraform's own fixed cost (start,
     provider start, plan; no API call), for reading the apply time;
  6. `terraform plan -refresh=true -detailed-exitcode`: refresh economy (wall
     time and reads; it must find no change);
  7. `terraform destroy -auto-approve`: every phone back to `direct`.
Every command is also split at its first and last API call (from the
emulator's request log, CPH_EMULATOR_LOG=info), its CPU time is split between
terraform and the provider, and the provider's debug log (TF_LOG_PROVIDER)
gives the polling rounds of every job wait. The size of the state after the
apply is reported in bytes per phone, with the apply's time after its last
API call and Terraform's own CPU time (what the state costs Terraform);
the `plan -refresh=false` line is the no-op plan. Then a table per N, a summary,
and the goal checks of issue [E]; BENCHMARKS.md explains the floor. Every
wait is bounded and the emulator is always stopped.

With --for-each RxP (repeatable, e.g. --for-each 10x10 --for-each 50x20),
the module shape of issue [H] instead: one `cph_phone_route` per key of a
map (`for_each`), R resources of P phones, applied with -parallelism=R (all
instances at once, as `terraform apply -parallelism=R` does; Terraform's
default of 10 runs them in waves). Each such case reports the apply's and
the destroy's phones-traffic calls against ceil(N/100), their job reads and
the apply against the floor.

Usage: scripts/scale.py [N ...] [--resources 10] [--parallelism 10]
       [--for-each RxP ...] [--job-seconds 2] [--latency-ms 20]
       [--timeout 900] [--json FILE] [--keep] [--provider-dir DIR] [--max-rps R]
       [--quota Q] [--skip-destroy] [--skip-refresh-plan]
--provider-dir target/compat/target/release measures the old build of
scripts/compat_build.sh (before/after tables in BENCHMARKS.md).
SCALE_TERRAFORM=PATH runs another terraform (e.g. .tools/bin/terraform-1.15)
instead of .tools/bin/terraform (1.0.3).
Only the standard library is needed. Exit 1 when a run fails (a goal that
is missed is reported, not an error).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cargo_target import target_dir

ROOT = Path(__file__).resolve().parent.parent
# Terraform 1.0.3 from .tools/, or another release named by SCALE_TERRAFORM
# (e.g. .tools/bin/terraform-1.15).
TERRAFORM = Path(os.environ.get("SCALE_TERRAFORM") or ROOT / ".tools" / "bin" / "terraform").absolute()
# Cargo's target directory as `cargo metadata` reports it (CARGO_TARGET_DIR).
RELEASE = target_dir() / "release"
EMULATOR = RELEASE / "cph-emulator"
PROVIDER = RELEASE / "terraform-provider-cph"

PROJECT_ID = "0123456789abcdef0123456789abcdef"
REGION = "cn-east-3"
TOKEN = "emulator-token"
PHONES_PER_SERVER = 100
TRAFFIC_BATCH = 100  # phone ids per phones-traffic call (API limit)
JOBS_PAGE = 100  # jobs per list-jobs page
REQUEST_IDS_PER_LIST = 20  # request ids per list-jobs call
PHONES_PAGE = 200  # phones per list-phones page (API maximum)
SAMPLE_EVERY_S = 0.02
# The provider's job poller (src/fleet/poller.rs): sleep first, then poll;
# interval = a quarter of the time waited, clamped to [0.5 s, 10 s].
WAIT_FIRST_S, WAIT_MAX_S = 0.5, 10.0

ENDPOINTS = ["phones_traffic", "list_jobs", "show_job", "list_phones", "show_phone"]
READ_ENDPOINTS = ["list_phones", "show_phone", "list_servers", "show_server"]

MAIN_TF = """\
terraform {
  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Settings from HW_* variables (token auth against the emulator).
provider "cph" {}

variable "routes" {
  description = "Phone ids of each route resource."
  type        = list(list(string))
}

resource "cph_phone_route" "fleet" {
  count        = length(var.routes)
  phone_ids    = var.routes[count.index]
  traffic_type = "routing"
}
"""


FOR_EACH_TF = """\
terraform {
  required_providers {
    cph = {
      source = "cloudphone/cph"
    }
  }
}

# Settings from HW_* variables (token auth against the emulator).
provider "cph" {}

variable "routes" {
  description = "Phone ids of each route resource, by key (one per server group)."
  type        = map(list(string))
}

resource "cph_phone_route" "fleet" {
  for_each     = var.routes
  phone_ids    = each.value
  traffic_type = "routing"
}
"""


def log(msg: str) -> None:
    print(f"scale: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- emulator


class Emulator:
    """A cph-emulator process on a free loopback port; stop() always kills it."""

    def __init__(self, servers: int, job_seconds: float, latency_ms: int, logfile: Path,
                 log_level: str = "warn", quota: int = 0):
        self.logfile = logfile
        self.log = open(logfile, "wb")
        env = dict(os.environ, CPH_EMULATOR_LOG=log_level)
        self.proc = subprocess.Popen(
            [
                str(EMULATOR), "--listen", "127.0.0.1:0",
                "--servers", str(servers),
                "--phones-per-server", str(PHONES_PER_SERVER),
                "--job-seconds", str(job_seconds),
                "--latency-ms", str(latency_ms),
                "--quota-per-second", str(quota),
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log,
            env=env, start_new_session=True,
        )
        line = read_line(self.proc, 30.0)
        prefix = "listening on "
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError(f"unexpected first line from the emulator: {line!r}")
        self.url = line[len(prefix):].strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=8)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()

    def _call(self, method: str, path: str, headers: dict | None = None,
              body: bytes | None = None) -> dict:
        req = urllib.request.Request(
            self.url + path, method=method, headers=headers or {},
            data=body if body is not None else (b"" if method == "POST" else None),
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")

    def log_offset(self) -> int:
        return self.logfile.stat().st_size

    def api_span(self, offset: int) -> tuple[float, float] | None:
        """(first start, last end) in epoch seconds of the API requests logged
        since `offset` (admin calls excluded); None without request lines."""
        first, last = None, None
        with open(self.logfile, "rb") as f:
            f.seek(offset)
            for raw in f:
                m = REQUEST_LINE.search(raw.decode(errors="replace"))
                if not m or "/_emulator/" in m.group("path"):
                    continue
                end = parse_utc(m.group("ts"))
                start = end - float(m.group("ms")) / 1000
                first = start if first is None else min(first, start)
                last = end if last is None else max(last, end)
        return None if first is None else (first, last)

    def calls(self) -> dict[str, int]:
        """Calls per endpoint, and "throttled": those answered 429 for the quota."""
        answer = self._call("GET", "/_emulator/calls")
        return {**answer["calls"], "throttled": answer.get("throttled", 0)}

    def set_quota(self, per_second: int) -> None:
        """Calls each API takes per second before answering 429 (0: none)."""
        self._call("PUT", "/_emulator/settings", {"Content-Type": "application/json"},
                   json.dumps({"quota_per_second": per_second}).encode())

    def reset_calls(self) -> None:
        self._call("POST", "/_emulator/calls/reset")

    def phone_ids(self, n: int) -> list[str]:
        """The first n phone ids in fleet order, through the API with the token."""
        ids: list[str] = []
        offset = 0
        for _ in range(10_000):
            page = self._call(
                "GET",
                f"/v1/{PROJECT_ID}/cloud-phone/phones?offset={offset}&limit={PHONES_PAGE}",
                {"X-Auth-Token": TOKEN},
            )
            phones = page.get("phones", [])
            ids.extend(p["phone_id"] for p in phones)
            offset += len(phones)
            if len(ids) >= n or len(phones) < PHONES_PAGE:
                break
        if len(ids) < n:
            raise RuntimeError(f"the emulator has {len(ids)} phones, {n} wanted")
        return ids[:n]


# One request line of the emulator's log (CPH_EMULATOR_LOG=info): written when
# the answer is ready, with the time the request took.
REQUEST_LINE = re.compile(
    r"^(?:\x1b\[[0-9;]*m)*(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z).*?"
    r"path=(?P<path>\S+).*?duration_ms=\"?(?P<ms>[0-9.]+)")


def parse_utc(ts: str) -> float:
    day, _, rest = ts.rstrip("Z").partition("T")
    whole, _, frac = rest.partition(".")
    t = datetime.datetime.strptime(f"{day}T{whole}", "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return t + (float("0." + frac) if frac else 0.0)


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"no line on stdout within {timeout:.0f} s")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"exited ({proc.poll()}) before its first line")
            buf += chunk
    return buf.split(b"\n", 1)[0].decode()


# ---------------------------------------------------------------- memory sampling


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    seen: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        for c in children(p):
            if c not in seen:
                seen.append(c)
                todo.append(c)
    return seen


def is_provider(pid: int) -> bool:
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe")).startswith(PROVIDER.name)
    except OSError:
        return False


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Peak VmHWM (and CPU time) of every provider process under `root`, every ~20 ms."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.peaks: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.samples = 0
        self.halt = threading.Event()

    def run(self) -> None:
        known: set[int] = set()
        while not self.halt.is_set():
            for pid in descendants(self.root):
                if pid in known or (pid not in self.peaks and is_provider(pid)):
                    known.add(pid)
                    hwm = vm_hwm_kib(pid)
                    if hwm:
                        self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)
                        self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu_seconds(pid))
            self.samples += 1
            self.halt.wait(SAMPLE_EVERY_S)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)

    @property
    def peak_mib(self) -> float:
        return max(self.peaks.values(), default=0) / 1024

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu.values())


# ---------------------------------------------------------------- terraform


@dataclass
class Run:
    command: str
    seconds: float
    exit_code: int
    calls: dict[str, int]
    peak_rss_mib: float = 0.0
    providers_seen: int = 0
    # CPU time of terraform and its providers (reaped children), and of the
    # providers alone (as last sampled, so a little short).
    cpu_total_s: float = 0.0
    cpu_provider_s: float = 0.0
    # From the start of the command to its first API request, the first to
    # the last API request, and the last request to the end of the command.
    before_api_s: float = 0.0
    api_s: float = 0.0
    after_api_s: float = 0.0
    # Rounds of each job wait, from the provider's debug log.
    wait_rounds: list[int] = field(default_factory=list)


class Workdir:
    def __init__(self, base: Path, emu: Emulator, routes: list[list[str]], parallelism: int,
                 timeout: float, tf_log: str | None = None, provider_dir: Path = RELEASE,
                 for_each: bool = False, max_rps: float | None = None):
        self.dir = base
        self.emu = emu
        self.parallelism = parallelism
        self.timeout = timeout
        if for_each:
            (base / "main.tf").write_text(FOR_EACH_TF)
            keyed = {f"r{i:03d}": r for i, r in enumerate(routes)}
            (base / "terraform.tfvars.json").write_text(json.dumps({"routes": keyed}))
        else:
            (base / "main.tf").write_text(MAIN_TF)
            (base / "terraform.tfvars.json").write_text(json.dumps({"routes": routes}))
        cli = base / "terraform.rc"
        cli.write_text(
            "disable_checkpoint = true\n\n"
            "provider_installation {\n"
            "  dev_overrides {\n"
            f"    \"cloudphone/cph\" = {json.dumps(str(provider_dir))}\n"
            "  }\n"
            "  filesystem_mirror {\n"
            f"    path = {json.dumps(str(base / 'mirror'))}\n"
            "  }\n"
            "}\n"
        )
        (base / "mirror").mkdir()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HW_", "TF_")) and k != "CHECKPOINT_DISABLE"}
        env.update({
            "TF_CLI_CONFIG_FILE": str(cli),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "HW_REGION_NAME": REGION,
            "HW_PROJECT_ID": PROJECT_ID,
            "HW_CPH_ENDPOINT": emu.url,
            "HW_AUTH_TOKEN": TOKEN,
        })
        if max_rps is not None:
            env["HW_MAX_REQUESTS_PER_SECOND"] = f"{max_rps:g}"
        if tf_log:
            env["TF_LOG"] = tf_log
        self.env = env

    def run(self, name: str, args: list[str], sample_rss: bool = False,
            ok_codes: tuple[int, ...] = (0,)) -> Run:
        self.emu.reset_calls()
        logfile = self.dir / f"{name}.log"
        # The provider's debug log: its job waiter logs every polling round.
        # (A few hundred lines at 5,000 phones; Terraform's own log stays off
        # unless --tf-log.)
        tf_log_path = self.dir / f"{name}.tf.log"
        self.env["TF_LOG_PROVIDER"] = "DEBUG"
        self.env["TF_LOG_PATH"] = str(tf_log_path)
        with open(logfile, "wb") as out:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            log_at = self.emu.log_offset()
            wall_start = time.time()
            start = time.perf_counter()
            proc = subprocess.Popen(
                [str(TERRAFORM), *args, "-no-color", "-input=false"],
                cwd=self.dir, env=self.env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
            sampler = RssSampler(proc.pid) if sample_rss else None
            if sampler:
                sampler.start()
            try:
                code = proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                raise RuntimeError(f"terraform {name} did not finish within {self.timeout:.0f} s "
                                   f"(log: {logfile})")
            finally:
                seconds = time.perf_counter() - start
                if sampler:
                    sampler.stop()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        calls = self.emu.calls()
        if code not in ok_codes:
            tail = logfile.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"terraform {name} exited {code}:\n{tail}")
        run = Run(name, seconds, code, calls)
        run.wait_rounds = waits_in_log(tf_log_path)
        span = self.emu.api_span(log_at)
        if span:
            run.before_api_s = max(0.0, span[0] - wall_start)
            run.api_s = span[1] - span[0]
            run.after_api_s = max(0.0, seconds - run.before_api_s - run.api_s)
        run.cpu_total_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if sampler:
            run.peak_rss_mib = sampler.peak_mib
            run.providers_seen = len(sampler.peaks)
            run.cpu_provider_s = sampler.cpu_s
        return run


# ---------------------------------------------------------------- the model


# Fields of the job waiter's debug event per polling round
# (src/fleet/poller.rs); Terraform writes them in any order.
ROUND_FIELD = re.compile(r"\bround=(\d+)")
PENDING_FIELD = re.compile(r"\bpending_request_ids=(\d+)")


def waits_in_log(path: Path) -> list[int]:
    """The number of rounds of every job wait that ended (nothing pending)."""
    rounds: list[int] = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if "polled jobs" not in line:
                    continue
                r, p = ROUND_FIELD.search(line), PENDING_FIELD.search(line)
                if r and p and p.group(1) == "0":
                    rounds.append(int(r.group(1)))
    except OSError:
        pass
    return rounds


def split(ids: list[str], parts: int) -> list[list[str]]:
    parts = max(1, min(parts, len(ids)))
    size, extra = divmod(len(ids), parts)
    out, at = [], 0
    for i in range(parts):
        n = size + (1 if i < extra else 0)
        out.append(ids[at:at + n])
        at += n
    return out


def pages_per_round(n: int) -> int:
    """list-jobs pages one resource of n phones reads per polling round:
    its ceil(n/100) request ids, 20 per call, 100 jobs a page."""
    batches = [min(TRAFFIC_BATCH, n - i) for i in range(0, n, TRAFFIC_BATCH)]
    pages = 0
    for c in range(0, len(batches), REQUEST_IDS_PER_LIST):
        pages += max(1, math.ceil(sum(batches[c:c + REQUEST_IDS_PER_LIST]) / JOBS_PAGE))
    return pages


def rounds_needed(job_s: float, round_s: float) -> int:
    """Polls the waiter makes until it first looks at or after `job_s`
    (sleep first; interval = elapsed/4 within [0.5 s, 10 s]; `round_s` is
    the time one poll takes)."""
    t, rounds = 0.0, 0
    while True:
        t += min(max(t / 4, WAIT_FIRST_S), WAIT_MAX_S)
        rounds += 1
        if t >= job_s:
            return rounds
        t += round_s


@dataclass
class Result:
    n: int
    servers: int
    resources: int
    sizes: list[int]
    job_seconds: float
    latency_ms: int
    apply: Run
    overhead: Run
    plan: Run
    destroy: Run
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    load: str = ""
    for_each: bool = False
    parallelism: int = 10
    # Size of terraform.tfstate after the apply.
    state_bytes: int = 0

    @property
    def state_bytes_per_phone(self) -> float:
        return self.state_bytes / max(1, self.n)

    @property
    def floor_s(self) -> float:
        # One phones-traffic round trip, the job time, one list-jobs round trip.
        return self.job_seconds + 2 * self.latency_ms / 1000

    @property
    def traffic_expected(self) -> int:
        return sum(math.ceil(s / TRAFFIC_BATCH) for s in self.sizes)

    @property
    def reads_per_round(self) -> int:
        return sum(pages_per_round(s) for s in self.sizes)

    @property
    def rounds(self) -> float:
        """Polling rounds of the longest job wait (from the provider's log),
        else job reads / reads of one round."""
        if self.apply.wait_rounds:
            return float(max(self.apply.wait_rounds))
        c = self.apply.calls
        return (c.get("list_jobs", 0) + c.get("show_job", 0)) / max(1, self.reads_per_round)

    @property
    def rounds_expected(self) -> int:
        largest = max(self.sizes)
        return rounds_needed(self.job_seconds,
                             pages_per_round(largest) * self.latency_ms / 1000)

    def refresh_reads(self) -> int:
        return sum(self.plan.calls.get(e, 0) for e in READ_ENDPOINTS)

    def evaluate(self) -> None:
        if self.for_each:
            self.evaluate_for_each()
            return
        c = self.apply.calls
        ceil_n = math.ceil(self.n / TRAFFIC_BATCH)
        self.checks = []

        t = c.get("phones_traffic", 0)
        self.checks.append((
            "phones_traffic == ceil(N/100)", t == ceil_n,
            f"{t} calls, ceil(N/100) = {ceil_n}"
            + ("" if self.traffic_expected == ceil_n else
               f"; {self.resources} resources of {min(self.sizes)}..{max(self.sizes)} phones "
               f"need at least {self.traffic_expected} (one batch per resource)")))
        # A polling round of the whole apply: every wait's poll at about the
        # same time (Terraform applies the resources in parallel). Its reads:
        # all job reads over the rounds of the longest wait.
        job_reads = c.get("list_jobs", 0) + c.get("show_job", 0)
        per_round = job_reads / max(1.0, self.rounds)
        waits = self.apply.wait_rounds
        source = (f"{len(waits)} waits of {min(waits)}..{max(waits)} rounds (provider log)"
                  if waits else "rounds estimated from the counters")
        self.checks.append((
            "job reads per polling round <= ceil(N/100)", per_round <= ceil_n,
            f"{c.get('list_jobs', 0)} list_jobs + {c.get('show_job', 0)} show_job over "
            f"{self.rounds:.0f} rounds = {per_round:.1f} per round; {source}"))
        extra = round(self.rounds) - self.rounds_expected
        self.checks.append((
            "rounds: a few beyond the job time (<= +2)", extra <= 2,
            f"{self.rounds:.0f} rounds; the first look at or past the job time is round "
            f"{self.rounds_expected}"))
        reads = self.refresh_reads()
        limit = math.ceil(self.n / PHONES_PAGE) + self.servers
        self.checks.append((
            "refresh reads <= ceil(N/200) + servers", reads <= limit,
            f"{reads} reads (list_phones {self.plan.calls.get('list_phones', 0)}, "
            f"show_phone {self.plan.calls.get('show_phone', 0)}), limit {limit}"))
        self.checks.append((
            "refresh finds no change", self.plan.exit_code == 0,
            "plan -detailed-exitcode = %d" % self.plan.exit_code))
        self.checks.append((
            "provider peak RSS < 30 MiB", self.apply.peak_rss_mib < 30,
            f"{self.apply.peak_rss_mib:.1f} MiB over {self.apply.providers_seen} provider processes"))
        ratio = self.apply.seconds / self.floor_s
        self.checks.append((
            "apply within 1.5x of the floor", ratio <= 1.5,
            f"{self.apply.seconds:.2f} s / {self.floor_s:.2f} s = {ratio:.2f}x; first to last "
            f"API call {self.apply.api_s:.2f} s = {self.apply.api_s / self.floor_s:.2f}x, "
            f"Terraform before/after the calls {self.apply.before_api_s:.2f} + "
            f"{self.apply.after_api_s:.2f} s"))

    def job_reads(self, run: "Run") -> int:
        return run.calls.get("list_jobs", 0) + run.calls.get("show_job", 0)

    def evaluate_for_each(self) -> None:
        """The goals of issue [H] for R resources of P phones."""
        ceil_n = math.ceil(self.n / TRAFFIC_BATCH)
        shape = (self.resources, max(self.sizes))
        self.checks = []
        for run in (self.apply, self.destroy):
            t = run.calls.get("phones_traffic", 0)
            self.checks.append((
                f"{run.command}: phones_traffic == ceil(N/100)", t == ceil_n,
                f"{t} calls, ceil(N/100) = {ceil_n}"))
        read_limit = {(10, 10): 3, (50, 20): 30}.get(shape)
        if read_limit is not None:
            for run in (self.apply, self.destroy):
                r = self.job_reads(run)
                self.checks.append((
                    f"{run.command}: job reads <= {read_limit}", r <= read_limit,
                    f"{run.calls.get('list_jobs', 0)} list_jobs + {run.calls.get('show_job', 0)} "
                    f"show_job"))
        ratio_limit = {(50, 20): 1.3}.get(shape, 2.0 if self.n >= 5000 else None)
        ratio = self.apply.seconds / self.floor_s
        if ratio_limit is not None:
            self.checks.append((
                f"apply within {ratio_limit}x of the floor", ratio <= ratio_limit,
                f"{self.apply.seconds:.2f} s / {self.floor_s:.2f} s = {ratio:.2f}x; first to "
                f"last API call {self.apply.api_s:.2f} s"))
        else:
            self.checks.append(("apply / floor (reported)", True,
                                f"{self.apply.seconds:.2f} s / {self.floor_s:.2f} s = {ratio:.2f}x"))
        rss = max(self.apply.peak_rss_mib, self.destroy.peak_rss_mib)
        self.checks.append((
            "provider peak RSS < 30 MiB", rss < 30,
            f"{rss:.1f} MiB over {self.apply.providers_seen} provider processes (apply)"))

    def as_dict(self) -> dict:
        return {
            "terraform": str(TERRAFORM),
            "n": self.n, "servers": self.servers, "resources": self.resources,
            "for_each": self.for_each, "parallelism": self.parallelism,
            "sizes": self.sizes, "job_seconds": self.job_seconds,
            "latency_ms": self.latency_ms, "floor_s": self.floor_s,
            "rounds": self.rounds, "rounds_expected": self.rounds_expected,
            "wait_rounds": self.apply.wait_rounds,
            "reads_per_round": self.reads_per_round,
            **{r.command: {"seconds": r.seconds, "exit_code": r.exit_code,
                           "calls": r.calls, "peak_rss_mib": r.peak_rss_mib,
                           "providers_seen": r.providers_seen,
                           "cpu_total_s": r.cpu_total_s, "cpu_provider_s": r.cpu_provider_s,
                           "before_api_s": r.before_api_s, "api_s": r.api_s,
                           "after_api_s": r.after_api_s}
               for r in (self.apply, self.overhead, self.plan, self.destroy)},
            "state_bytes": self.state_bytes,
            "state_bytes_per_phone": self.state_bytes_per_phone,
            "load_average": self.load,
            "checks": [{"goal": g, "met": ok, "detail": d} for g, ok, d in self.checks],
        }


def run_one(n: int, args: argparse.Namespace, resources: int | None = None,
            for_each: bool = False) -> Result:
    resources = resources or args.resources
    parallelism = max(args.parallelism, resources) if for_each else args.parallelism
    servers = math.ceil(n / PHONES_PER_SERVER)
    base = Path(tempfile.mkdtemp(prefix=f"cph-scale-{n}-"))
    emu = None
    try:
        log(f"N={n}: emulator with {servers} servers x {PHONES_PER_SERVER} phones, "
            f"jobs {args.job_seconds} s, latency {args.latency_ms} ms")
        emu = Emulator(servers, args.job_seconds, args.latency_ms, base / "emulator.log",
                       args.emulator_log)
        routes = split(emu.phone_ids(n), resources)
        if args.quota:
            emu.set_quota(args.quota)
        wd = Workdir(base, emu, routes, parallelism, args.timeout, args.tf_log,
                     Path(args.provider_dir).resolve(), for_each=for_each,
                     max_rps=args.max_rps)
        par = f"-parallelism={parallelism}"
        log(f"N={n}: terraform apply ({len(routes)} resources)")
        apply = wd.run("apply", ["apply", "-auto-approve", par], sample_rss=True)
        state_bytes = (base / "terraform.tfstate").stat().st_size
        log(f"N={n}: apply {apply.seconds:.2f} s, state {state_bytes} bytes; "
            f"plan -refresh=false")
        overhead = wd.run("plan-no-refresh", ["plan", "-refresh=false", par], sample_rss=True)
        if args.skip_refresh_plan:
            plan = Run("plan", 0.0, 0, {})
        else:
            log(f"N={n}: plan -refresh=true")
            plan = wd.run("plan", ["plan", "-refresh=true", "-detailed-exitcode", par],
                          sample_rss=True, ok_codes=(0, 2))
        if args.skip_destroy:
            destroy = Run("destroy", 0.0, 0, {})
        else:
            log(f"N={n}: destroy")
            destroy = wd.run("destroy", ["destroy", "-auto-approve", par], sample_rss=True)
        result = Result(n, servers, len(routes), [len(r) for r in routes],
                        args.job_seconds, args.latency_ms, apply, overhead, plan, destroy,
                        for_each=for_each, parallelism=parallelism)
        result.state_bytes = state_bytes
        result.evaluate()
        result.load = loadavg()
        return result
    finally:
        if emu:
            emu.stop()
        if args.keep:
            log(f"N={n}: kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- report


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def print_result(r: Result) -> None:
    shape = (f"for_each: {r.resources} x {max(r.sizes)} phones, -parallelism={r.parallelism}"
             if r.for_each else f"{r.resources} cph_phone_route resources of "
             f"{min(r.sizes)}..{max(r.sizes)} phones")
    print(f"\n### N = {r.n} phones: {r.servers} servers, {shape}, jobs {r.job_seconds:g} s, "
          f"latency {r.latency_ms} ms\n")
    head = ["command", "wall s", "to 1st call / calls / after s", *ENDPOINTS, "other calls",
            "provider peak RSS MiB", "CPU s terraform / provider"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join([" --- "] + [" ---: "] * (len(head) - 1)) + "|")
    for run in (r.apply, r.overhead, r.plan, r.destroy):
        other = {k: v for k, v in run.calls.items() if v and k not in ENDPOINTS}
        other_s = ", ".join(f"{k} {v}" for k, v in sorted(other.items())) or "0"
        rss = f"{run.peak_rss_mib:.1f}" if run.providers_seen else "-"
        cpu = (f"{run.cpu_total_s - run.cpu_provider_s:.2f} / {run.cpu_provider_s:.2f}"
               if run.providers_seen else f"{run.cpu_total_s:.2f} (both)")
        name = {"apply": "apply", "plan-no-refresh": "plan -refresh=false",
                "plan": "plan -refresh=true", "destroy": "destroy"}[run.command]
        phases = (f"{run.before_api_s:.2f} / {run.api_s:.2f} / {run.after_api_s:.2f}"
                  if run.api_s else "-")
        print(f"| {name} | {run.seconds:.2f} | {phases} | "
              + " | ".join(str(run.calls.get(e, 0)) for e in ENDPOINTS)
              + f" | {other_s} | {rss} | {cpu} |")
    print(f"\nstate after apply: {r.state_bytes} bytes, {r.state_bytes_per_phone:.1f} bytes "
          f"per phone; apply: terraform CPU {r.apply.cpu_total_s - r.apply.cpu_provider_s:.2f} s, "
          f"{r.apply.after_api_s:.2f} s after the last API call")
    print(f"\nload average at the end: {r.load}")
    print(f"floor {r.floor_s:.2f} s (job {r.job_seconds:g} s + 2 x {r.latency_ms} ms), "
          f"apply/floor {r.apply.seconds / r.floor_s:.2f}x (first to last API call: "
          f"{r.apply.api_s / r.floor_s:.2f}x); "
          f"job waits' rounds {sorted(r.apply.wait_rounds) or '?'} (first look past the job "
          f"time: round {r.rounds_expected}); a round of every wait reads "
          f"{r.reads_per_round} list-jobs pages\n")
    for goal, ok, detail in r.checks:
        print(f"- [{'x' if ok else ' '}] {goal}: {'met' if ok else 'MISSED'} ({detail})")


def print_summary(results: list[Result]) -> None:
    print("\n### Summary\n")
    head = ["N", "servers", "apply s", "floor s", "ratio", "API span s", "span ratio",
            "phones_traffic", "list_jobs",
            "show_job", "list_phones", "show_phone", "rounds", "plan s", "refresh reads",
            "destroy s", "tf fixed s", "peak RSS MiB", "after last call s",
            "state B/phone", "tf CPU s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join([" ---: "] * len(head)) + "|")
    for r in results:
        c = r.apply.calls
        print(f"| {r.n} | {r.servers} | {r.apply.seconds:.2f} | {r.floor_s:.2f} | "
              f"{r.apply.seconds / r.floor_s:.2f} | {r.apply.api_s:.2f} | "
              f"{r.apply.api_s / r.floor_s:.2f} | "
              + " | ".join(str(c.get(e, 0)) for e in ENDPOINTS)
              + f" | {r.rounds:.1f} | {r.plan.seconds:.2f} | {r.refresh_reads()} | "
              f"{r.destroy.seconds:.2f} | {r.overhead.seconds:.2f} | "
              f"{max(r.apply.peak_rss_mib, r.plan.peak_rss_mib, r.destroy.peak_rss_mib):.1f} | "
              f"{r.apply.after_api_s:.2f} | {r.state_bytes_per_phone:.1f} | "
              f"{r.apply.cpu_total_s - r.apply.cpu_provider_s:.2f} |")
    missed = [(r.n, g, d) for r in results for g, ok, d in r.checks if not ok]
    print()
    if missed:
        print("Goals missed:")
        for n, g, d in missed:
            print(f"- N={n}: {g} ({d})")
    else:
        print("Every goal checked is met.")


def print_for_each_summary(results: list[Result]) -> None:
    print("\n### for_each summary\n")
    head = ["R x P", "N", "parallelism", "apply s", "floor s", "ratio", "API span s",
            "apply phones_traffic", "ceil(N/100)", "apply job reads", "destroy s",
            "destroy phones_traffic", "destroy job reads", "peak RSS MiB",
            "after last call s", "state B/phone", "tf CPU s", "no-op plan s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join([" ---: "] * len(head)) + "|")
    for r in results:
        print(f"| {r.resources} x {max(r.sizes)} | {r.n} | {r.parallelism} | "
              f"{r.apply.seconds:.2f} | {r.floor_s:.2f} | {r.apply.seconds / r.floor_s:.2f} | "
              f"{r.apply.api_s:.2f} | {r.apply.calls.get('phones_traffic', 0)} | "
              f"{math.ceil(r.n / TRAFFIC_BATCH)} | {r.job_reads(r.apply)} | "
              f"{r.destroy.seconds:.2f} | {r.destroy.calls.get('phones_traffic', 0)} | "
              f"{r.job_reads(r.destroy)} | "
              f"{max(r.apply.peak_rss_mib, r.destroy.peak_rss_mib):.1f} | "
              f"{r.apply.after_api_s:.2f} | {r.state_bytes_per_phone:.1f} | "
              f"{r.apply.cpu_total_s - r.apply.cpu_provider_s:.2f} | "
              f"{r.overhead.seconds:.2f} |")


def parse_shape(text: str) -> tuple[int, int]:
    r, _, p = text.lower().partition("x")
    if not (r.isdigit() and p.isdigit()) or int(r) < 1 or int(p) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not RxP, e.g. 50x20")
    return int(r), int(p)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="*", type=int, default=None,
                    help="numbers of phones (default 100 1000 5000)")
    ap.add_argument("--resources", type=int, default=10,
                    help="cph_phone_route resources the phones are split into")
    ap.add_argument("--parallelism", type=int, default=10, help="terraform -parallelism")
    ap.add_argument("--for-each", action="append", type=parse_shape, default=[],
                    metavar="RxP",
                    help="also run R for_each resources of P phones (repeatable); "
                         "without N arguments only these run")
    ap.add_argument("--job-seconds", type=float, default=2.0, help="emulator job time")
    ap.add_argument("--max-rps", type=float, default=None,
                    help="the provider's max_requests_per_second (HW_MAX_REQUESTS_PER_SECOND); "
                         "default: the provider's own (30)")
    ap.add_argument("--quota", type=int, default=0,
                    help="the emulator's API quota, calls per second to each API before it "
                         "answers 429 without Retry-After (default: none)")
    ap.add_argument("--latency-ms", type=int, default=20,
                    help="emulator latency per API call")
    ap.add_argument("--timeout", type=float, default=900.0,
                    help="limit of each terraform command, seconds")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    ap.add_argument("--emulator-log", default="info",
                    help="CPH_EMULATOR_LOG for the emulator's log (info: one line per request)")
    ap.add_argument("--provider-dir", default=str(RELEASE),
                    help="directory of the terraform-provider-cph binary (dev_overrides)")
    ap.add_argument("--skip-destroy", action="store_true",
                    help="do not run (nor time) terraform destroy")
    ap.add_argument("--skip-refresh-plan", action="store_true",
                    help="do not run (nor time) the plan with refresh")
    ap.add_argument("--tf-log", help="TF_LOG level; logs go to the work directory (use --keep)")
    args = ap.parse_args()
    for p in (TERRAFORM, EMULATOR, Path(args.provider_dir) / PROVIDER.name):
        if not os.access(p, os.X_OK):
            log(f"missing {p} (run `make tools` and `cargo build --release --workspace --bins`)")
            return 1
    if args.n is None:
        args.n = [] if args.for_each else [100, 1000, 5000]
    if any(n < 1 for n in args.n):
        log("every N must be at least 1")
        return 1
    results = []
    failed = False
    print(f"scale: N = {', '.join(map(str, args.n))}; {args.resources} resources, parallelism "
          f"{args.parallelism}, jobs {args.job_seconds:g} s, latency {args.latency_ms} ms; "
          f"load average {loadavg()}; terraform {TERRAFORM}")
    for n in args.n:
        try:
            r = run_one(n, args)
        except Exception as e:  # report and go on with the next N
            log(f"N={n}: failed: {e}")
            failed = True
            continue
        results.append(r)
        print_result(r)
        sys.stdout.flush()
    if results:
        print_summary(results)
    each_results = []
    for r_count, p_count in args.for_each:
        try:
            res = run_one(r_count * p_count, args, resources=r_count, for_each=True)
        except Exception as e:  # report and go on with the next shape
            log(f"for_each {r_count}x{p_count}: failed: {e}")
            failed = True
            continue
        each_results.append(res)
        print_result(res)
        sys.stdout.flush()
    if each_results:
        print_for_each_summary(each_results)
        results.extend(each_results)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": {"platform": platform.platform(), "nproc": os.cpu_count()},
            "results": [r.as_dict() for r in results],
        }, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
