"""Fixtures for the contract tests: start the cph-emulator binary on port 0
(building it first only if CPH_EMULATOR_BIN is unset and the binary is
missing), read its `listening on` line, and give tests official-SDK clients
(CPH with project-scoped credentials, BSS with global ones). The clients
are given no project id and no domain id: the SDK looks them up at the
emulator's IAM itself, as it does at Huawei Cloud's."""

import contextlib

import json
import os
import pathlib
import subprocess
import urllib.request

import pytest

from huaweicloudsdkbss.v2 import BssClient
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcph.v1 import CphClient

REPO = pathlib.Path(__file__).resolve().parents[2]
PROJECT_ID = "0123456789abcdef0123456789abcdef"
REGION = "cn-east-3"
AK = "EMULATORACCESSKEY"
SK = "emulator-secret-key"
# The emulator's account: BSS calls signed with AK/SK must carry it as a
# signed X-Domain-Id (GlobalCredentials finds it at GET /v3/auth/domains).
DOMAIN_ID = "fedcba9876543210fedcba9876543210"


def _binary():
    env = os.environ.get("CPH_EMULATOR_BIN")
    if env:
        return pathlib.Path(env)
    path = REPO / "target" / "debug" / "cph-emulator"
    if not path.exists():
        subprocess.run(["cargo", "build", "-p", "cph-emulator"], cwd=REPO, check=True)
    return path


class Emulator:
    def __init__(self, url):
        self.url = url

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_emulator" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())


@contextlib.contextmanager
def running_emulator(*extra):
    proc = subprocess.Popen(
        [str(_binary()), "--listen", "127.0.0.1:0", "--order-seconds", "1", "--job-seconds", "0.3", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield Emulator(line[len("listening on "):])
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


@pytest.fixture(scope="session")
def emulator():
    with running_emulator() as emu:
        yield emu


def http_config():
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True
    config.retry_times = 0
    return config


def make_client(url, ak=AK, sk=SK):
    """A CPH client with `BasicCredentials(ak, sk)`: the SDK finds the
    project of REGION at the emulator's IAM (`GET /v3/projects?name=`)."""
    creds = BasicCredentials(ak, sk).with_iam_endpoint(url)
    return (CphClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(creds)
            .with_region(Region(REGION, url))
            .build())


def make_bss_client(url, ak=AK, sk=SK):
    """A BSS client with `GlobalCredentials(ak, sk)`: the SDK finds the
    account at the emulator's IAM (`GET /v3/auth/domains`)."""
    creds = GlobalCredentials(ak, sk).with_iam_endpoint(url)
    return (BssClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(creds)
            .with_region(Region(REGION, url))
            .build())


@pytest.fixture(scope="session")
def client(emulator):
    return make_client(emulator.url)
