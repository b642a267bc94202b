"""Entry points of functions/main.py, run in process by functions-framework against the stack.

Fixtures:
- ``functions``: ``configure(**env)`` sets function settings, ``client(target)`` builds
  ``create_app(target, source="functions/main.py")`` and returns its Flask test client,
  ``provider(*script)`` installs a fake image provider, ``clock()`` a fake clock, and
  ``generate(...)`` posts a generation. Fakes are ports of ours passed to the composition root:
  the instance's ``Deps`` is rebuilt (``bootstrap.use``) whenever a test configures or installs
  a fake, and dropped after the test, so no test sees another's settings, clients or breakers.
  Building an app re-executes main.py (functions-framework 3.x loads the source file as a new
  module on every ``create_app``), so ``boot()`` validates the environment of the moment.
- ``emulators``: what Firestore and Cloud Storage hold, read with the real Google clients.
- ``problem``: asserts an RFC 9457 problem response and returns its body.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask.testing
import functions_framework
import pytest
from google.cloud import firestore, storage

from genmedia import bootstrap
from genmedia.config import from_environment
from infra.local.seed import ensure_signing_key
from tests.fakes.clock import FakeClock
from tests.fakes.ports import FakeProvider
from tests.support.harness import User
from tests.support.problems import assert_problem

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "functions" / "main.py"
GENERATE = "/v1/images:generate"
PROBLEM = "application/problem+json"

DEFAULT_ENV = {
    "GENMEDIA_RATE_LIMIT_BURST": "1000",
    "GENMEDIA_RATE_LIMIT_PER_MINUTE": "1000",
    "GENMEDIA_RETRY_MAX_ATTEMPTS": "1",
    "GENMEDIA_BREAKER_FAILURE_THRESHOLD": "2",
    "GENMEDIA_BREAKER_RESET_SECONDS": "30",
}
# Variables a developer shell may hold that would change what the functions do.
_UNSET = ("K_SERVICE", "GENMEDIA_MODERATION_DENYLIST", "GENMEDIA_IMAGE_PROVIDER")


# --- the functions under test --------------------------------------------------------------------


class Functions:
    """Builds in-process apps for the entry points of functions/main.py."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
        self._mp = monkeypatch
        self._ports: dict[str, Any] = {}
        # create_app appends functions/ to sys.path and sets sys.modules["main"]: undo both.
        monkeypatch.setattr(sys, "path", list(sys.path))
        monkeypatch.delitem(sys.modules, "main", raising=False)
        for name in _UNSET:
            monkeypatch.delenv(name, raising=False)
        self.configure(GENMEDIA_LOCAL_SIGNING_KEY_FILE=str(key_file), **DEFAULT_ENV)

    def configure(self, **env: str) -> None:
        """Set function environment variables (before building the apps that should see them)."""
        for name, value in env.items():
            self._mp.setenv(name, value)
        self._rebuild()

    def _rebuild(self) -> None:
        """A fresh instance Deps: from the environment, with this test's fakes if any."""
        bootstrap.use(None)
        if self._ports:
            bootstrap.use(bootstrap.Deps(from_environment(), **self._ports))

    def client(self, target: str) -> flask.testing.FlaskClient:
        # create_app writes FUNCTION_TARGET and FUNCTION_SIGNATURE_TYPE into os.environ.
        self._mp.setenv("FUNCTION_TARGET", target)
        self._mp.setenv("FUNCTION_SIGNATURE_TYPE", "http")
        app = functions_framework.create_app(target=target, source=str(MAIN))
        return app.test_client()

    def provider(self, *script: str, default: str = "ok") -> FakeProvider:
        """Install a fake provider for this test (what ``image_provider()`` returns)."""
        fake = FakeProvider(list(script), default)
        self._ports["image_provider"] = fake
        self._rebuild()
        return fake

    def ids(self, *values: str) -> None:
        """Give this test's new assets these ids, in order."""
        queue = list(values)
        self._ports["new_id"] = lambda: queue.pop(0)
        self._rebuild()

    def clock(self) -> FakeClock:
        """A fake clock for this test's instance (breakers, retries, timestamps)."""
        clock = FakeClock()
        self._ports["clock"] = clock
        self._rebuild()
        return clock

    @staticmethod
    def generate(
        client: flask.testing.FlaskClient,
        user: User | None,
        body: dict[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> Any:
        headers = user.headers() if user else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.post(GENERATE, json=body or {"prompt": "a lighthouse"}, headers=headers)


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory, stack_info: dict[str, Any]) -> Path:
    path = tmp_path_factory.mktemp("signing") / "key.json"
    ensure_signing_key(path, stack_info["project_id"])
    return path


@pytest.fixture
def functions(
    clean_stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, signing_key: Path
) -> Iterator[Functions]:
    yield Functions(monkeypatch, signing_key)
    bootstrap.use(None)


# --- assertions and what the emulators hold ------------------------------------------------------


@pytest.fixture
def problem() -> Callable[[Any, int, str], dict[str, Any]]:
    """``problem(response, status, code)``: assert a problem+json answer, return its body."""
    return assert_problem


class Emulators:
    """What the stack holds, read with real Google clients."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.db = firestore.Client(project=info["project_id"])
        self.bucket = storage.Client(project=info["project_id"]).bucket(info["media_bucket"])

    def usage(self, uid: str) -> dict[str, Any] | None:
        return self.db.collection("usage").document(uid).get().to_dict()

    def images_used(self, uid: str) -> int:
        return int((self.usage(uid) or {}).get("images", 0))

    def cost_micros(self, uid: str) -> int:
        return int((self.usage(uid) or {}).get("cost_micros", 0))

    def asset_states(self, uid: str) -> dict[str, str]:
        query = self.db.collection("assets").where(
            filter=firestore.FieldFilter("owner_uid", "==", uid)
        )
        return {s.id: s.get("state") for s in query.stream()}

    def objects(self, prefix: str = "") -> list[str]:
        return sorted(b.name for b in self.bucket.list_blobs(prefix=prefix))

    def docs(self, collection: str) -> list[dict[str, Any]]:
        return [s.to_dict() or {} for s in self.db.collection(collection).stream()]


@pytest.fixture
def emulators(clean_stack: dict[str, Any]) -> Emulators:
    return Emulators(clean_stack)
