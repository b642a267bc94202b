"""A misconfigured instance fails at start (functions-framework CLI) and never serves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from genmedia.config import TEST_ONLY_VARS
from infra.local.ports import free_port

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
CLOUD_ENV = {
    "K_SERVICE": "health",
    "GOOGLE_CLOUD_PROJECT": "genmedia-prod",
    "GENMEDIA_MEDIA_BUCKET": "genmedia-prod-media",
}
SAMPLE_VALUES = {
    "GENMEDIA_VERTEX_BASE_URL": "http://127.0.0.1:9/",
    "GENMEDIA_LOCAL_SIGNING_KEY_FILE": "/tmp/signing-key.json",
}


def healthz_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def start(env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    """``functions-framework --target health`` as Cloud Functions runs it, with only ``env``."""
    port = free_port()
    command = [sys.executable, "-m", "functions_framework", "--target", "health"]
    command += ["--source", "main.py", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        command,
        cwd=FUNCTIONS_DIR,
        env={"PATH": os.environ["PATH"], **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, port


def run_until_exit(env: dict[str, str]) -> tuple[int, str, bool]:
    """Exit code, stderr and whether /healthz ever answered while the process was alive."""
    proc, port = start(env)
    served = False
    try:
        for _ in range(600):
            if proc.poll() is not None:
                break
            served = served or healthz_answers(port)
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate(timeout=30)
    return proc.returncode, stderr, served


def test_a_valid_cloud_configuration_serves() -> None:
    """Control: the same command with a good environment starts and answers."""
    proc, port = start(CLOUD_ENV)
    try:
        served = False
        for _ in range(600):
            assert proc.poll() is None, proc.communicate()[1]
            served = healthz_answers(port)
            if served:
                break
            time.sleep(0.1)
        assert served
    finally:
        proc.kill()
        proc.communicate(timeout=30)


@pytest.mark.parametrize("variable", TEST_ONLY_VARS)
def test_test_only_variable_on_cloud_fails_at_start(variable: str) -> None:
    env = CLOUD_ENV | {variable: SAMPLE_VALUES.get(variable, "127.0.0.1:9")}
    code, stderr, served = run_until_exit(env)
    assert code != 0
    assert not served
    assert f"{variable} must not be set" in stderr
    assert "K_SERVICE='health'" in stderr


def test_every_missing_or_invalid_variable_is_reported_at_once() -> None:
    env = {"K_SERVICE": "health", "GENMEDIA_RATE_LIMIT_BURST": "0"}
    code, stderr, served = run_until_exit(env)
    assert code != 0
    assert not served
    for problem in (
        "GOOGLE_CLOUD_PROJECT (or GCLOUD_PROJECT) is required but not set",
        "GENMEDIA_MEDIA_BUCKET is required but not set",
        "GENMEDIA_RATE_LIMIT_BURST='0' must be between 1 and 10000",
    ):
        assert problem in stderr
