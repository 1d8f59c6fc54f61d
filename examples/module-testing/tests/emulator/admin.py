"""One call to cph-emulator, for main.tf's local-exec.

The emulator is at HW_CPH_ENDPOINT (the provider's setting). ADMIN_API says
which API: "admin" (no authentication, the path under /_emulator/) or "cph"
(the CPH API, the path under /v1/HW_PROJECT_ID/cloud-phone/, signed with
HW_ACCESS_KEY and HW_SECRET_KEY as the provider signs; a call that starts
jobs waits for them to end and fails if one fails). ADMIN_METHOD,
ADMIN_PATH, ADMIN_BODY (JSON or empty) and ADMIN_EXPECT (a Python expression
over the answer `a`, with `json` at hand) say the rest. Exits 1 when the call
fails or the expectation is false, so that the run block fails.
"""

import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def sign(method, url, body, headers):
    """Add X-Sdk-Date and the SDK-HMAC-SHA256 Authorization header."""
    parts = urllib.parse.urlsplit(url)
    headers["Host"] = parts.netloc
    headers["X-Sdk-Date"] = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y%m%dT%H%M%SZ")
    names = sorted(h.lower() for h in headers)
    values = {h.lower(): v.strip() for h, v in headers.items()}
    path = "/".join(urllib.parse.quote(urllib.parse.unquote(s), safe="~")
                    for s in parts.path.split("/"))
    canonical = "\n".join([
        method,
        path if path.endswith("/") else path + "/",
        "",  # no query
        "".join(f"{n}:{values[n]}\n" for n in names),
        ";".join(names),
        hashlib.sha256(body or b"").hexdigest(),
    ])
    to_sign = "SDK-HMAC-SHA256\n{}\n{}".format(
        headers["X-Sdk-Date"], hashlib.sha256(canonical.encode()).hexdigest())
    signature = hmac.new(os.environ["HW_SECRET_KEY"].encode(), to_sign.encode(),
                         hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"SDK-HMAC-SHA256 Access={os.environ['HW_ACCESS_KEY']}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}")


def call(api, method, path, body=None):
    """The answer's text, or exit with the error."""
    base = os.environ["HW_CPH_ENDPOINT"].rstrip("/")
    headers = {"Content-Type": "application/json"}
    if api == "cph":
        project = os.environ["HW_PROJECT_ID"]
        url = f"{base}/v1/{project}/cloud-phone/{path.lstrip('/')}"
        headers["X-Project-Id"] = project
        sign(method, url, body, headers)
    else:
        url = f"{base}/_emulator/{path.lstrip('/')}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return url, resp.read().decode()
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {url}: {e.code} {e.read().decode()}")


def wait_for_jobs(answer):
    """Wait until every job a CPH call started has ended; exit if one failed."""
    jobs = answer.get("jobs", []) if isinstance(answer, dict) else []
    for job in jobs:
        if "job_id" not in job:
            sys.exit(f"refused: {json.dumps(job)}")
        for _ in range(600):
            _, text = call("cph", "GET", f"jobs/{job['job_id']}")
            status = json.loads(text).get("status")
            if status != 1:
                break
            time.sleep(0.1)
        if status != 2:
            sys.exit(f"job {job['job_id']} ended with status {status}: {text}")


def main():
    api = os.environ.get("ADMIN_API", "admin")
    method = os.environ.get("ADMIN_METHOD", "POST")
    body = os.environ.get("ADMIN_BODY", "").encode() or None
    url, text = call(api, method, os.environ["ADMIN_PATH"], body)
    answer = json.loads(text) if text else None
    if api == "cph":
        wait_for_jobs(answer)
    expect = os.environ.get("ADMIN_EXPECT", "True")
    if not eval(expect, {"json": json}, {"a": answer}):
        sys.exit(f"{method} {url}: expected {expect}, got {text}")
    print(f"{method} {url}: {text[:200]}")


if __name__ == "__main__":
    main()
