"""Data export with fakes of our ports: one ZIP of the user's data, once, and only theirs."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from genmedia.errors import AccountErasing, NotFound, Unavailable
from genmedia.principal import Principal
from genmedia.services import export_worker, exports, generate_video, webhooks
from genmedia.services.export_worker import Delivery
from genmedia.services.generate_video import VideoRequest
from tests.fakes.ports import Fakes, make_deps
from tests.unit.genmedia.services._assets import add_asset

ALICE = Principal("alice", "user", token="alice-token")
BOB = Principal("bob", "user", token="bob-token")


@pytest.fixture
def fakes() -> Fakes:
    made = make_deps(datetime(2026, 6, 15, 12, tzinfo=UTC), GENMEDIA_EXPORT_MAX_ATTEMPTS="3")
    made.resolver.table["hooks.example"] = ["127.0.0.1"]
    return made


def requested(fakes: Fakes, who: Principal = ALICE) -> str:
    return str(exports.request_export(fakes.deps, who)["export"]["id"])


def run(fakes: Fakes, export_id: str, retry_count: int = 0) -> str:
    return export_worker.handle(fakes.deps, Delivery(export_id, retry_count))


def archive(fakes: Fakes, export_id: str) -> zipfile.ZipFile:
    path = fakes.db.state.exports[export_id].path
    assert path is not None
    return zipfile.ZipFile(io.BytesIO(fakes.bucket.objects[path]))


def test_an_export_holds_the_users_data_and_media_and_nothing_of_anyone_else(
    fakes: Fakes,
) -> None:
    add_asset(fakes, "a1")
    add_asset(fakes, "a2", state="DELETED")
    add_asset(fakes, "b1", owner="bob")
    generate_video.submit(fakes.deps, ALICE, VideoRequest("a heron"), "rid")
    webhooks.create(fakes.deps, ALICE, "http://hooks.example:8080/x", ["job.succeeded"])
    export_id = requested(fakes)
    assert list(fakes.exports.tasks) == [export_id]
    assert run(fakes, export_id) == "succeeded"

    zf = archive(fakes, export_id)
    names = set(zf.namelist())
    assert {"README.txt", "account.json", "assets.json", "jobs.json", "webhooks.json"} <= names
    assert {"media/a1/original.png", "media/a1/thumbnail.webp"} <= names
    assert not any("b1" in n or "a2" in n for n in names if n.startswith("media/"))
    assets = json.loads(zf.read("assets.json"))
    assert sorted(a["id"] for a in assets) == ["a1", "a2"]  # the trash too, never Bob's
    assert len(json.loads(zf.read("jobs.json"))) == 1
    (hook,) = json.loads(zf.read("webhooks.json"))
    assert "secret" not in json.dumps(hook).lower()
    assert zf.read("media/a1/original.png") == b"bytes"
    assert json.loads(zf.read("account.json"))["usage"]["videos"] == 1
    actions = sorted(e["action"] for e in json.loads(zf.read("audit.json")))
    assert actions == ["export.request", "webhook.create"]

    view = exports.get_export(fakes.deps, ALICE, export_id)
    assert view["state"] == "SUCCEEDED" and view["download"]["url"]
    assert view["counts"] == {
        "assets": 2, "jobs": 1, "webhooks": 1, "audit_events": 2, "media_files": 2,
    }  # fmt: skip
    assert not any(p.endswith(".partial") for p in fakes.bucket.objects)


def test_one_export_at_a_time_and_only_its_owner_sees_it(fakes: Fakes) -> None:
    first = requested(fakes)
    assert requested(fakes) == first  # asked again while queued: the same export
    with pytest.raises(NotFound):
        exports.get_export(fakes.deps, BOB, first)
    run(fakes, first)
    assert requested(fakes) != first  # once done, a new one may be asked for


def test_an_export_expires_after_seven_days(fakes: Fakes) -> None:
    export_id = requested(fakes)
    run(fakes, export_id)
    fakes.clock.advance(timedelta(days=7).total_seconds())
    view = exports.get_export(fakes.deps, ALICE, export_id)
    assert view["state"] == "EXPIRED" and "download" not in view


def test_a_duplicate_delivery_writes_nothing_twice(fakes: Fakes) -> None:
    export_id = requested(fakes)
    assert run(fakes, export_id) == "succeeded"
    assert run(fakes, export_id) == "skipped"
    audits = [e.action for _, e in fakes.db.state.audit]
    assert audits.count("export.complete") == 1


def test_a_failure_is_retried_and_the_last_attempt_ends_it_failed(fakes: Fakes) -> None:
    add_asset(fakes, "a1")
    fakes.bucket.fail_on = "a1/original"
    export_id = requested(fakes)
    with pytest.raises(Unavailable):
        run(fakes, export_id, retry_count=0)
    assert fakes.db.state.exports[export_id].state == "RUNNING"
    assert not any(p.endswith(".zip") for p in fakes.bucket.objects)  # nothing half-written
    assert run(fakes, export_id, retry_count=2) == "failed"
    view = exports.get_export(fakes.deps, ALICE, export_id)
    assert view["state"] == "FAILED" and view["error"]["code"] == "INTERNAL"


def test_a_held_lease_sends_the_delivery_back_to_the_queue(fakes: Fakes) -> None:
    export_id = requested(fakes)
    export_worker._take(fakes.deps, export_id)  # another delivery is writing it
    with pytest.raises(Unavailable):
        run(fakes, export_id)
    fakes.clock.advance(fakes.deps.settings.export_lease_seconds + 1)
    assert run(fakes, export_id) == "succeeded"  # the holder died: taken over


def test_a_zip_written_by_an_attempt_that_died_before_recording_it_is_kept(
    fakes: Fakes,
) -> None:
    export_id = requested(fakes)
    path = f"exports/alice/{export_id}.zip"
    fakes.bucket.objects[path] = b"PK-complete"
    assert run(fakes, export_id) == "succeeded"
    assert fakes.db.state.exports[export_id].size_bytes == len(b"PK-complete")


def test_an_export_whose_task_cannot_be_created_fails_at_once(fakes: Fakes) -> None:
    fakes.exports.down = True
    with pytest.raises(Unavailable):
        exports.request_export(fakes.deps, ALICE)
    (export,) = fakes.db.state.exports.values()
    assert export.state == "FAILED"
    fakes.exports.down = False
    assert requested(fakes) != export.id


def test_no_export_is_started_for_an_account_being_erased(fakes: Fakes) -> None:
    fakes.db.users.merge("alice", {"erasure_time": fakes.clock.now()})
    with pytest.raises(AccountErasing):
        exports.request_export(fakes.deps, ALICE)
