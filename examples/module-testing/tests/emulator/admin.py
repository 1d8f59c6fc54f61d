"""One call to cph-emulator's admin API, for main.tf's local-exec.

The emulator is at HW_CPH_ENDPOINT (the provider's setting); ADMIN_METHOD,
ADMIN_PATH (under /_emulator/), ADMIN_BODY (JSON or empty) and ADMIN_EXPECT
(a Python expression over the answer `a`) say the rest. Exits 1 when the
call fails or the expectation is false, so that the run block fails.
"""

import json
import os
import sys
import urllib.error
import urllib.request


def main():
    base = os.environ["HW_CPH_ENDPOINT"].rstrip("/")
    url = f"{base}/_emulator/{os.environ['ADMIN_PATH'].lstrip('/')}"
    method = os.environ.get("ADMIN_METHOD", "POST")
    body = os.environ.get("ADMIN_BODY", "").encode() or None
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {url}: {e.code} {e.read().decode()}")
    answer = json.loads(text) if text else None
    expect = os.environ.get("ADMIN_EXPECT", "True")
    if not eval(expect, {}, {"a": answer}):
        sys.exit(f"{method} {url}: expected {expect}, got {text}")
    print(f"{method} {url}: {text[:200]}")


if __name__ == "__main__":
    main()
