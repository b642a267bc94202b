"""Webhook endpoints and deliveries with fakes of our ports and a real receiver on 127.0.0.1.

Signatures are checked by ``standardwebhooks``, an independent implementation of the spec.
Names resolve through a fake resolver; nothing is sent beyond loopback.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from genmedia.errors import FailedPrecondition, NotFound, Unavailable
from genmedia.principal import Principal
from genmedia.services import webhook_delivery, webhooks
from genmedia.services.jobs import finish
from genmedia.services.webhook_delivery import DeliveryTask
from genmedia.store.records import JobRecord
from genmedia.webhooks.ssrf import UnsafeWebhookUrl
from tests.fakes.ports import Fakes, make_deps

ALICE = Principal("alice", "user", token="alice-token")
BOB = Principal("bob", "user", token="bob-token")


class Receiver:
    """An HTTP receiver on 127.0.0.1 answering ``status`` and recording what it got."""

    def __init__(self) -> None:
        self.status = 200
        self.hits: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hits.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def fakes(receiver: Receiver) -> Fakes:
    f = make_deps(GENMEDIA_WEBHOOK_MAX_ATTEMPTS="3")
    f.resolver.table["hooks.example"] = ["127.0.0.1"]
    return f


def url(receiver: Receiver) -> str:
    return f"http://hooks.example:{receiver.port}/genmedia"


def ended_job(fakes: Fakes, state: str = "SUCCEEDED") -> JobRecord:
    now = fakes.clock.now()
    job = JobRecord(
        id="job1", owner_uid="alice", state="RUNNING", prompt="a heron",
        params={"model": "fake-video", "duration_seconds": 8, "aspect_ratio": "16:9",
                "resolution": "720p"},
        cost_micros=0, month=now.strftime("%Y-%m"), asset_id="asset1",
        create_time=now, update_time=now,
    )  # fmt: skip
    fakes.db.state.jobs[job.id] = job
    return finish(fakes.deps, job.id, state)[0]  # type: ignore[arg-type]


def test_an_endpoint_shows_its_secret_once(fakes: Fakes, receiver: Receiver) -> None:
    created = webhooks.create(fakes.deps, ALICE, url(receiver), ["job.succeeded"])
    assert created["secret"].startswith("whsec_")
    [listed] = webhooks.list_for(fakes.deps, ALICE)["webhooks"]
    assert listed["id"] == created["id"] and "secret" not in listed
    assert webhooks.list_for(fakes.deps, BOB)["webhooks"] == []


@pytest.mark.parametrize(
    "addresses", [["10.0.0.5"], ["169.254.169.254"], ["127.0.0.1", "192.168.1.2"]]
)
def test_urls_resolving_inside_are_refused_at_registration(
    fakes: Fakes, receiver: Receiver, addresses: list[str]
) -> None:
    fakes.resolver.table["hooks.example"] = addresses
    with pytest.raises(UnsafeWebhookUrl) as caught:
        webhooks.create(fakes.deps, ALICE, url(receiver), ["job.succeeded"])
    assert caught.value.status == 422 and caught.value.errors[0].field == "url"
    assert fakes.db.state.webhooks == {}


def test_a_user_has_at_most_ten_endpoints(fakes: Fakes, receiver: Receiver) -> None:
    for _ in range(webhooks.MAX_ENDPOINTS):
        webhooks.create(fakes.deps, ALICE, url(receiver), ["job.failed"])
    with pytest.raises(FailedPrecondition):
        webhooks.create(fakes.deps, ALICE, url(receiver), ["job.failed"])


def test_other_users_cannot_delete_or_rotate_an_endpoint(fakes: Fakes, receiver: Receiver) -> None:
    hook_id = webhooks.create(fakes.deps, ALICE, url(receiver), ["job.failed"])["id"]
    for call in (webhooks.delete, webhooks.rotate_secret):
        with pytest.raises(NotFound):
            call(fakes.deps, BOB, hook_id)
    assert hook_id in fakes.db.state.webhooks


def test_a_finished_job_queues_one_delivery_per_subscribed_endpoint_once(
    fakes: Fakes, receiver: Receiver
) -> None:
    wanted = webhooks.create(fakes.deps, ALICE, url(receiver), ["job.succeeded"])["id"]
    webhooks.create(fakes.deps, ALICE, url(receiver), ["job.failed"])
    webhooks.create(fakes.deps, BOB, url(receiver), ["job.succeeded"])
    job = ended_job(fakes)
    assert list(fakes.hooks.tasks) == [f"job1-succeeded-{wanted}"]
    assert webhooks.notify(fakes.deps, job) == 1 and len(fakes.hooks.tasks) == 1


def deliver(fakes: Fakes, hook_id: str, retry: int = 0) -> str:
    task = DeliveryTask(hook_id, "job1", "job.succeeded", retry)
    return webhook_delivery.deliver(fakes.deps, task)


def test_a_delivery_is_signed_as_standard_webhooks_define(fakes: Fakes, receiver: Receiver) -> None:
    created = webhooks.create(fakes.deps, ALICE, url(receiver), ["job.succeeded"])
    ended_job(fakes)
    assert deliver(fakes, created["id"]) == "delivered"
    [(headers, body)] = receiver.hits
    payload = Webhook(created["secret"]).verify(body, {k.lower(): v for k, v in headers.items()})
    assert payload["type"] == "job.succeeded" and payload["data"]["id"] == "job1"
    assert headers["webhook-id"] == "msg_job1_succeeded"
    attempt = fakes.db.state.webhooks[created["id"]].last_attempt
    assert attempt is not None and attempt["status"] == 200


def test_failed_attempts_retry_then_give_up_with_the_same_webhook_id(
    fakes: Fakes, receiver: Receiver
) -> None:
    hook_id = webhooks.create(fakes.deps, ALICE, url(receiver), ["job.succeeded"])["id"]
    ended_job(fakes)
    receiver.status = 500
    for retry in (0, 1):
        with pytest.raises(Unavailable):
            deliver(fakes, hook_id, retry)
    assert deliver(fakes, hook_id, retry=2) == "failed"
    assert len({h["webhook-id"] for h, _ in receiver.hits}) == 1 and len(receiver.hits) == 3


def test_a_410_disables_the_endpoint(fakes: Fakes, receiver: Receiver) -> None:
    hook_id = webhooks.create(fakes.deps, ALICE, url(receiver), ["job.succeeded"])["id"]
    ended_job(fakes)
    receiver.status = 410
    assert deliver(fakes, hook_id) == "gone"
    assert fakes.db.state.webhooks[hook_id].disabled
    assert deliver(fakes, hook_id) == "skipped" and len(receiver.hits) == 1


def test_a_name_that_now_resolves_inside_is_refused_before_connecting(
    fakes: Fakes, receiver: Receiver
) -> None:
    hook_id = webhooks.create(fakes.deps, ALICE, url(receiver), ["job.succeeded"])["id"]
    ended_job(fakes)
    fakes.resolver.table["hooks.example"] = ["10.1.2.3"]  # DNS rebinding after registration
    assert deliver(fakes, hook_id) == "failed"
    assert receiver.hits == []
    attempt: Any = fakes.db.state.webhooks[hook_id].last_attempt
    assert attempt["status"] is None and attempt["error"]


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(
    fakes: Fakes, receiver: Receiver
) -> None:
    old = webhooks.create(fakes.deps, ALICE, url(receiver), ["job.succeeded"])
    new = webhooks.rotate_secret(fakes.deps, ALICE, old["id"])
    ended_job(fakes)
    deliver(fakes, old["id"])
    fakes.clock.advance(webhooks.ROTATION_OVERLAP.total_seconds() + 1)
    deliver(fakes, old["id"])
    (during, body1), (after, body2) = receiver.hits
    # The signatures each secret makes, computed by the reference implementation (its verify
    # also checks the timestamp against the real clock, which the fake clock has left behind).
    assert signatures(during, body1) == {expected(old["secret"], during, body1),
                                         expected(new["secret"], during, body1)}  # fmt: skip
    assert signatures(after, body2) == {expected(new["secret"], after, body2)}


def signatures(headers: dict[str, str], body: bytes) -> set[str]:
    return set(headers["webhook-signature"].split())


def expected(secret: str, headers: dict[str, str], body: bytes) -> str:
    stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    return str(Webhook(secret).sign(headers["webhook-id"], stamp, body.decode()))
