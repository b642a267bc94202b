"""The local GCP stack: emulators, one functions-framework process per function, and the gateway.

`make dev` runs it in the foreground; the tests start the same Stack on free ports.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from infra.local import seed
from infra.local.events import EVENTS_JSON, Events, load_events
from infra.local.gateway import Gateway
from infra.local.gateway import serve as serve_gateway
from infra.local.ports import HOST, free_port, port_free
from infra.local.processes import Child, stop_all
from infra.local.queues import load_queues
from infra.local.routes import load_routes
from infra.local.webapp import local_webapp

ROOT = Path(__file__).resolve().parents[2]
FIREBASE = ROOT / "infra" / "node" / "node_modules" / ".bin" / "firebase"
DEFAULT_PORTS = {
    "gateway": 8000,
    "firestore": 8080,
    "firestore_admin": 8081,
    "auth": 9099,
    "auth_hub": 4400,
    "auth_logging": 4500,
    "storage": 4443,
    "tasks": 8123,
    "tasks_admin": 8124,
    "pubsub": 8085,
}
FUNCTION_PORT_BASE = 8101
# Where the Firestore emulator (--data-dir) and fake-gcs-server (storage_on_disk) keep their
# data under the state directory.
EMULATOR_DATA_DIRS = ("firestore-data", "storage-data")
EMULATORS = ("firestore", "auth", "storage", "tasks")
# Function settings the test suite runs with: a generous rate limit so quota and idempotency
# tests measure quotas, not the token bucket (rate-limit tests set their own).
# Functions that Cloud Tasks delivers to, beyond the video and webhook workers: the variable
# that gives each its own URL (the tasks' target and OIDC audience).
TASK_TARGETS = {
    "GENMEDIA_EXPORT_WORKER_URL": "export_worker",
    "GENMEDIA_ERASURE_WORKER_URL": "erasure_worker",
    "GENMEDIA_PURGE_URL": "purge",
}
TEST_FUNCTION_ENV = {
    "GENMEDIA_RATE_LIMIT_BURST": "1000",
    "GENMEDIA_RATE_LIMIT_PER_MINUTE": "1000",
    # Every purge run does one small batch and continues itself (services/purge.py).
    "GENMEDIA_PURGE_BATCH_SIZE": "2",
    "GENMEDIA_PURGE_BUDGET_SECONDS": "0",
    # Reads trust a revocation state for 2 s, so tests see it expire (genmedia/revocation.py).
    "GENMEDIA_REVOCATION_CACHE_SECONDS": "2",
}


# Set by the stack itself to wire functions to its emulators and keys; a user's value is ignored.
STACK_WIRED = frozenset(
    {
        "GENMEDIA_MEDIA_BUCKET",
        "GENMEDIA_LOCAL_SIGNING_KEY_FILE",
        "GENMEDIA_PAGE_TOKEN_KEY",
        "GENMEDIA_PUBLIC_BASE_URL",
    }
)


def user_settings(environ: dict[str, str], env_file: Path) -> tuple[dict[str, str], list[str]]:
    """Function settings a ``make dev`` user asked for: ``GENMEDIA_*`` variables from
    ``env_file`` (``.env`` format), overridden by the environment; and the names ignored."""
    from dotenv import dotenv_values

    from_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    # GENMEDIA_PORT_* choose the stack's own ports (choose_ports), not function settings.
    wanted = {
        k: v
        for k, v in {**from_file, **environ}.items()
        if k.startswith("GENMEDIA_") and not k.startswith("GENMEDIA_PORT_") and v
    }
    ignored = sorted(k for k in wanted if k in STACK_WIRED)
    return {k: v for k, v in wanted.items() if k not in ignored}, ignored


class StackError(RuntimeError):
    pass


@dataclass
class StackOptions:
    project_id: str = "demo-genmedia"
    state_dir: Path = ROOT / ".local"
    free_ports: bool = False
    echo: bool = False
    seed_demo_user: bool = True
    external_firestore: str | None = None  # host:port of an emulator someone else runs
    function_env: dict[str, str] = field(default_factory=dict)
    start_timeout: float = 90.0
    events_file: Path = EVENTS_JSON
    pubsub: bool | None = None  # None: Google's emulator where installed; False: direct delivery
    # fake-gcs-server on disk (its filesystem backend) instead of in memory, so a storage
    # emulator stopped and started again (bench/faults.py) keeps its buckets and objects.
    storage_on_disk: bool = False


def choose_ports(functions: list[str], free: bool, *, pubsub: bool = True) -> dict[str, int]:
    """Fixed defaults (overridable with GENMEDIA_PORT_<NAME>), or free ports for tests."""
    # Without the Pub/Sub emulator its port must not be reported taken.
    wanted = {k: v for k, v in DEFAULT_PORTS.items() if pubsub or k != "pubsub"}
    wanted.update({f"fn_{name}": FUNCTION_PORT_BASE + i for i, name in enumerate(functions)})
    if free:
        return {name: free_port() for name in wanted}
    ports = {
        name: int(os.environ.get(f"GENMEDIA_PORT_{name.upper()}", port))
        for name, port in wanted.items()
    }
    taken = [
        f"{port} ({name}, GENMEDIA_PORT_{name.upper()})"
        for name, port in ports.items()
        if not port_free(port)
    ]
    if taken:
        raise StackError(
            "ports already in use: " + ", ".join(taken) + ". Stop what holds them or "
            "set the named variables to other ports."
        )
    return ports


class Stack:
    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.table = load_routes()
        self.function_names = sorted(self.table.functions)
        self.children: dict[str, Child] = {}
        self.gateway: Gateway | None = None
        self.ports: dict[str, int] = {}
        self.events: Events = Events()
        self.pubsub = False
        self.direct_reason = ""  # why events are posted directly, when they are

    # -- addresses -------------------------------------------------------------------------
    @property
    def firestore_host(self) -> str:
        return self.options.external_firestore or f"{HOST}:{self.ports['firestore']}"

    @property
    def firestore_admin(self) -> str:
        if self.options.external_firestore:  # Google's emulator serves reset on its own port
            return f"http://{self.options.external_firestore}"
        return f"http://{HOST}:{self.ports['firestore_admin']}"

    @property
    def tasks_admin(self) -> str:
        """The Tasks emulator's HTTP admin port: reset, attempts, faults, OIDC certificates."""
        return f"http://{HOST}:{self.ports['tasks_admin']}"

    @property
    def pubsub_host(self) -> str | None:
        return f"{HOST}:{self.ports['pubsub']}" if self.pubsub else None

    @property
    def event_delivery(self) -> str:
        return "pubsub" if self.pubsub else "direct"

    def function_url(self, name: str) -> str:
        return f"http://{HOST}:{self.ports['fn_' + name]}"

    def emulator_env(self) -> dict[str, str]:
        """What a Google client needs to talk to this stack instead of Google."""
        env = {
            "GOOGLE_CLOUD_PROJECT": self.options.project_id,
            "FIRESTORE_EMULATOR_HOST": self.firestore_host,
            "STORAGE_EMULATOR_HOST": f"http://{HOST}:{self.ports['storage']}",
            "FIREBASE_AUTH_EMULATOR_HOST": f"{HOST}:{self.ports['auth']}",
            "CLOUD_TASKS_EMULATOR_HOST": f"{HOST}:{self.ports['tasks']}",
        }
        if self.pubsub_host:
            env["PUBSUB_EMULATOR_HOST"] = self.pubsub_host
        return env

    def function_env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GENMEDIA_", "K_"))}
        # A shell's emulator must not reach functions of a stack that delivers directly.
        env.pop("PUBSUB_EMULATOR_HOST", None)
        env.update(self.emulator_env())
        env.update(
            {
                "FUNCTION_TARGET": name,
                "PYTHONUNBUFFERED": "1",
                "GENMEDIA_MEDIA_BUCKET": seed.media_bucket(self.options.project_id),
                "GENMEDIA_CORS_ORIGINS": "http://localhost:5173,http://127.0.0.1:5173",
                "GENMEDIA_LOCAL_SIGNING_KEY_FILE": str(self.options.state_dir / "signing-key.json"),
                "GENMEDIA_PAGE_TOKEN_KEY": seed.page_token_key(
                    self.options.state_dir / "page-token-key"
                ),
                "GENMEDIA_PUBLIC_BASE_URL": f"http://{HOST}:{self.ports['gateway']}",
                **self._video_env(),
            }
        )
        env.update(self.options.function_env)
        return env

    def _video_env(self) -> dict[str, str]:
        """Task workers as Terraform wires them (video, webhooks, exports, erasures): each
        worker's URL, the tasks service account whose OIDC tokens the Tasks emulator signs,
        and the queues' attempts."""
        if "video_worker" not in self.function_names:
            return {}
        queue = load_queues()["video-jobs"]
        return {
            "GENMEDIA_VIDEO_WORKER_URL": self.function_url("video_worker"),
            "GENMEDIA_TASKS_SERVICE_ACCOUNT": seed.invoker_service_account(self.options.project_id),
            "GENMEDIA_OIDC_CERTS_URL": self.tasks_admin + "/oauth2/v1/certs",
            "GENMEDIA_VIDEO_MAX_ATTEMPTS": str(queue["retry_config"]["max_attempts"]),
            "GENMEDIA_VIDEO_POLL_SECONDS": "1",
            "GENMEDIA_JOB_LEASE_SECONDS": "30",
            "GENMEDIA_WEBHOOK_WORKER_URL": self.function_url("deliver_webhook"),
            "GENMEDIA_WEBHOOK_MAX_ATTEMPTS": str(
                load_queues()["webhook-deliveries"]["retry_config"]["max_attempts"]
            ),
            "GENMEDIA_EXPORT_MAX_ATTEMPTS": str(
                load_queues()["exports"]["retry_config"]["max_attempts"]
            ),
            "GENMEDIA_EXPORT_LEASE_SECONDS": "30",
            **{
                variable: self.function_url(function)
                for variable, function in TASK_TARGETS.items()
                if function in self.function_names
            },
        }

    def info(self) -> dict[str, object]:
        env = self.emulator_env()
        return {
            "project_id": self.options.project_id,
            "gateway": f"http://{HOST}:{self.ports['gateway']}",
            "auth_emulator": env["FIREBASE_AUTH_EMULATOR_HOST"],
            "firestore_emulator": self.firestore_host,
            "firestore_admin": self.firestore_admin,
            "storage_emulator": env["STORAGE_EMULATOR_HOST"].removeprefix("http://"),
            "tasks_emulator": env["CLOUD_TASKS_EMULATOR_HOST"],
            "tasks_admin": self.tasks_admin,
            "pubsub_emulator": self.pubsub_host,
            "event_delivery": self.event_delivery,
            "media_bucket": seed.media_bucket(self.options.project_id),
            "function_env": self.options.function_env,
            "functions": {name: self.function_url(name) for name in self.function_names},
            "logs": str(self.options.state_dir / "logs"),
        }

    # -- children --------------------------------------------------------------------------
    def _make_child(self, name: str) -> Child:
        from infra.local import services  # argv/env/health of each service

        argv, env, cwd = services.command(self, name)
        log = self.options.state_dir / "logs" / f"{name}.log"
        return Child(name, argv, env=env, cwd=cwd, log=log, echo=self.options.echo)

    def _wanted(self) -> list[str]:
        names = [e for e in EMULATORS if not (e == "firestore" and self.options.external_firestore)]
        names += ["pubsub"] if self.pubsub else []
        return names + [f"fn_{n}" for n in self.function_names]

    def plan(self) -> None:
        """Read the event declarations, choose the event delivery and the ports; no process
        starts, so a bad declaration fails before anything runs."""
        from infra.local import services

        self.events = load_events(self.options.events_file)
        unknown = sorted(
            f"{name} -> {sub.function}"
            for name, sub in self.events.subscriptions.items()
            if sub.function not in self.function_names
        )
        if unknown:
            raise StackError(
                f"{self.options.events_file} subscribes functions the stack does not run: "
                + ", ".join(unknown)
                + f" (functions: {', '.join(self.function_names)})"
            )
        self.pubsub, self.direct_reason = services.pubsub_choice(self.options.pubsub)
        self.ports = choose_ports(self.function_names, self.options.free_ports, pubsub=self.pubsub)

    def start(self) -> dict[str, object]:
        self.options.state_dir.mkdir(parents=True, exist_ok=True)
        self.plan()
        # A new stack starts empty; its emulators keep their data only across their own
        # restarts within its life (stop_service/start_service).
        for kept in EMULATOR_DATA_DIRS:
            shutil.rmtree(self.options.state_dir / kept, ignore_errors=True)
        seed.ensure_signing_key(
            self.options.state_dir / "signing-key.json", self.options.project_id
        )
        try:
            for name in self._wanted():
                self.start_service(name, wait=False)
            self._wait_healthy(self._wanted())
            seed.seed(self)
            self.gateway = serve_gateway(
                HOST,
                self.ports["gateway"],
                {n: self.function_url(n) for n in self.table.public_functions},
                local_webapp(
                    self.options.project_id,
                    f"{HOST}:{self.ports['auth']}",
                    f"http://{HOST}:{self.ports['storage']}",
                ),
            )
        except BaseException:
            self.stop()
            raise
        info = self.info()
        (self.options.state_dir / "stack.json").write_text(json.dumps(info, indent=2) + "\n")
        return info

    def start_service(
        self, name: str, *, wait: bool = True, env: dict[str, str] | None = None
    ) -> None:
        child = self._make_child(name)
        child.env.update(env or {})
        self.children[name] = child
        child.start()
        if wait:
            self._wait_healthy([name])

    def stop_service(self, name: str) -> None:
        self.children[name].stop()

    def restart_function(self, function: str, env: dict[str, str] | None = None) -> None:
        """Restart one function process, optionally with extra environment (tests use this)."""
        self.stop_service(f"fn_{function}")
        self.start_service(f"fn_{function}", env=env)

    def _wait_healthy(self, names: list[str]) -> None:
        from infra.local import services

        deadline = time.monotonic() + self.options.start_timeout

        def wait_one(name: str) -> None:
            while not services.healthy(self, name):
                child = self.children[name]
                if not child.running:
                    tail = (
                        child.log.read_text(errors="replace")[-2000:] if child.log.exists() else ""
                    )
                    raise StackError(f"{name} exited during start-up (log {child.log}):\n{tail}")
                if time.monotonic() > deadline:
                    raise StackError(f"{name} did not become healthy in time (log {child.log})")
                time.sleep(0.1)

        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            list(pool.map(wait_one, names))

    def dead_children(self) -> list[str]:
        return [n for n, c in self.children.items() if not c.running and not c.expected_exit]

    def stop(self) -> None:
        # A stack.json that outlives the stack would point `make token` and tests at nothing.
        (self.options.state_dir / "stack.json").unlink(missing_ok=True)
        if self.gateway is not None:
            self.gateway.shutdown()
            self.gateway.server_close()
            self.gateway = None
        stop_all(list(self.children.values()))


def http_json(url: str, timeout: float = 1.0) -> object:
    """The JSON a 2xx answer of ``url`` carries, or None (no answer, not 2xx, not JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return json.loads(resp.read()) if 200 <= resp.status < 300 else None
    except (OSError, ValueError):
        return None


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status: int = resp.status
            return 200 <= status < 300
    except OSError:
        return False


def tcp_open(hostport: str, timeout: float = 1.0) -> bool:
    host, port = hostport.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def python() -> str:
    return sys.executable
