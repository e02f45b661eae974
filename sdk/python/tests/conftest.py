"""Session fixture: the real gateway binary on a free loopback port.

The binary is built with ``go build`` from this checkout unless
SWITCHYARD_TEST_BIN names a prebuilt one. It runs with tests/switchyard.yaml
(simulator provider, API key required) and must exit 0 on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
API_KEY = "sk-sdk-python-test-0123456789"


@dataclass(frozen=True)
class Gateway:
    target: str  # host:port for the gRPC clients
    api_key: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(addr: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{addr}/healthz", timeout=1) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def gateway() -> Iterator[Gateway]:
    with tempfile.TemporaryDirectory(prefix="switchyard-sdk-python-") as tmp:
        binary = os.environ.get("SWITCHYARD_TEST_BIN", "")
        if not binary:
            binary = str(Path(tmp) / "switchyard")
            subprocess.run(
                ["go", "build", "-o", binary, "./server/cmd/switchyard"],
                cwd=REPO,
                check=True,
                timeout=300,
            )
        addr = f"127.0.0.1:{_free_port()}"
        log_path = Path(tmp) / "gateway.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [binary, "--config", str(HERE / "switchyard.yaml"), "--listen", addr],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 20
            while not _healthy(addr):
                if proc.poll() is not None:
                    pytest.fail(f"gateway exited with {proc.returncode} before it was ready:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"gateway not healthy within 20s:\n{log_path.read_text()}")
                time.sleep(0.05)
            yield Gateway(target=addr, api_key=API_KEY)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    pytest.fail(f"gateway did not stop within 15s of SIGTERM:\n{log_path.read_text()}")
        if proc.returncode != 0:
            pytest.fail(f"gateway exited with {proc.returncode} after SIGTERM:\n{log_path.read_text()}")
