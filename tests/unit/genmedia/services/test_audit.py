"""The audit log with fakes of our ports: each sensitive operation records one event, with its
actor, target, request id and outcome; admins page and filter it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from genmedia.errors import ContentBlocked, InvalidArgument
from genmedia.logging import LogContext, bound_context
from genmedia.media import ImageSpec
from genmedia.principal import Principal
from genmedia.services import audit, generate_image, library_trash, purge
from genmedia.store.audit import AuditQuery
from genmedia.store.records import AuditEvent
from tests.fakes.ports import Fakes, make_deps
from tests.unit.genmedia.services._assets import add_asset

ALICE = Principal("alice", "user")


@pytest.fixture
def fakes() -> Fakes:
    return make_deps(GENMEDIA_PURGE_RETENTION_DAYS="1")


def events(fakes: Fakes) -> list[AuditEvent]:
    return [e for _, e in fakes.db.state.audit]


def test_delete_undelete_and_purge_are_each_recorded_once(fakes: Fakes) -> None:
    add_asset(fakes, "a1")
    with bound_context(LogContext(request_id="req-1")):
        library_trash.delete_asset(fakes.deps, ALICE, "a1", allow_missing=False)
        library_trash.delete_asset(fakes.deps, ALICE, "a1", allow_missing=True)  # no change
        library_trash.undelete_asset(fakes.deps, ALICE, "a1")
        library_trash.delete_asset(fakes.deps, ALICE, "a1", allow_missing=False)
    fakes.clock.advance(2 * 86400)
    purge.purge(fakes.deps)
    actions = [(e.action, e.actor_uid, e.target_id) for e in events(fakes)]
    assert actions == [
        ("asset.delete", "alice", "a1"), ("asset.undelete", "alice", "a1"),
        ("asset.delete", "alice", "a1"), ("asset.purge", None, "a1"),
    ]  # fmt: skip
    assert [e.request_id for e in events(fakes)][:3] == ["req-1"] * 3


def test_a_blocked_prompt_is_recorded_as_refused_without_its_text(fakes: Fakes) -> None:
    with pytest.raises(ContentBlocked):
        generate_image.generate(fakes.deps, ALICE, ImageSpec("c.s.a.m"), "rid")
    [event] = events(fakes)
    assert (event.action, event.outcome, event.target_id) == ("prompt.blocked", "refused", "alice")
    assert "c.s.a.m" not in repr(event)


def test_admins_page_the_log_newest_first_and_filter_it(fakes: Fakes) -> None:
    for i in range(5):
        actor = Principal("root" if i % 2 else "alice", "admin" if i % 2 else "user")
        audit.record(fakes.deps, None, actor, "asset.delete", ("asset", f"a{i}"))
        fakes.clock.advance(1)
    first = audit.list_events(fakes.deps, audit.ListAudit(AuditQuery(), page_size=3))
    assert [e["target"]["id"] for e in first["events"]] == ["a4", "a3", "a2"]
    rest = audit.list_events(
        fakes.deps, audit.ListAudit(AuditQuery(), page_token=first["next_page_token"])
    )
    assert [e["target"]["id"] for e in rest["events"]] == ["a1", "a0"]
    by_root = audit.list_events(fakes.deps, audit.ListAudit(AuditQuery(actor_uid="root")))
    assert [e["target"]["id"] for e in by_root["events"]] == ["a3", "a1"]
    since = fakes.clock.now() - timedelta(seconds=2.5)
    recent = audit.list_events(fakes.deps, audit.ListAudit(AuditQuery(start_time=since)))
    assert [e["target"]["id"] for e in recent["events"]] == ["a4", "a3"]


def test_a_token_is_refused_for_another_filter(fakes: Fakes) -> None:
    for i in range(3):
        audit.record(fakes.deps, None, ALICE, "asset.delete", ("asset", f"a{i}"))
    page = audit.list_events(fakes.deps, audit.ListAudit(AuditQuery(), page_size=1))
    with pytest.raises(InvalidArgument):
        audit.list_events(fakes.deps, audit.ListAudit(
            AuditQuery(action="user.update"), page_token=page["next_page_token"]))  # fmt: skip
