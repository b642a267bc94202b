"""What a fault left behind, read straight from the stack's Firestore and bucket.

Not a benchmark itself. For the users of a fault scenario: assets by state, ACTIVE assets
whose objects are missing, charges (the usage counters) against the ACTIVE assets they paid
for. Also triggers the sweeper as its schedule would (a Pub/Sub push CloudEvent).
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from _common import ROOT  # noqa: F401 - puts the repository root on sys.path
from _report import Check

from infra.local.ports import HOST
from infra.local.scheduler import post_event
from infra.local.seed import media_bucket
from infra.local.stack import Stack


@dataclass
class Audit:
    states: Counter[str] = field(default_factory=Counter)  # asset state -> count
    missing_objects: list[str] = field(default_factory=list)  # ACTIVE asset ids
    charge_mismatches: list[str] = field(default_factory=list)  # "uid: charged x, ACTIVE y"
    charged_images: int = 0
    charged_videos: int = 0
    active_images: int = 0
    active_videos: int = 0

    @property
    def pending(self) -> int:
        return self.states.get("PENDING", 0)

    @property
    def exact(self) -> bool:
        return not self.charge_mismatches

    def summary(self) -> str:
        states = ", ".join(f"{s} {n}" for s, n in sorted(self.states.items())) or "no assets"
        return (
            f"assets: {states}; charged images {self.charged_images} / ACTIVE "
            f"{self.active_images}, videos {self.charged_videos} / ACTIVE {self.active_videos}"
        )


def firestore_client(stack: Stack) -> Any:
    # The bench process runs no function code: pointing its own client at this stack's
    # emulator is all the environment is used for.
    os.environ["FIRESTORE_EMULATOR_HOST"] = stack.firestore_host
    from google.cloud import firestore

    return firestore.Client(project=stack.options.project_id)


def object_names(stack: Stack) -> set[str]:
    url = f"http://{HOST}:{stack.ports['storage']}/storage/v1/b/"
    url += f"{media_bucket(stack.options.project_id)}/o"
    names: set[str] = set()
    token = ""
    while True:
        page = requests.get(url, params={"pageToken": token} if token else {}, timeout=30).json()
        names |= {item["name"] for item in page.get("items", [])}
        token = page.get("nextPageToken", "")
        if not token:
            return names


def audit(stack: Stack, uids: list[str]) -> Audit:
    from google.cloud.firestore_v1.base_query import FieldFilter

    db, names, result = firestore_client(stack), object_names(stack), Audit()
    now = datetime.now(UTC)
    day, month = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m")
    for uid in uids:
        query = db.collection("assets").where(filter=FieldFilter("owner_uid", "==", uid))
        assets = [d.to_dict() | {"id": d.id} for d in query.stream()]
        active = [a for a in assets if a["state"] == "ACTIVE"]
        result.states.update(a["state"] for a in assets)
        for asset in active:
            if any(ref["path"] not in names for ref in (asset.get("objects") or {}).values()):
                result.missing_objects.append(asset["id"])
            if not asset.get("objects"):
                result.missing_objects.append(asset["id"])
        usage = (db.collection("usage").document(uid).get().to_dict()) or {}
        images = int(usage.get("images", 0)) if usage.get("day") == day else 0
        videos = int(usage.get("videos", 0)) if usage.get("month") == month else 0
        cost = int(usage.get("cost_micros", 0)) if usage.get("month") == month else 0
        # Usage counts the current day (images) and month (videos, cost): compare like with like.
        act_images = sum(1 for a in active if a["type"] == "image" and _on(a, day))
        act_videos = sum(1 for a in active if a["type"] == "video")
        act_cost = sum(int(a.get("cost_micros", 0)) for a in active)
        if (images, videos, cost) != (act_images, act_videos, act_cost):
            result.charge_mismatches.append(
                f"{uid}: charged {images} images/{videos} videos/{cost} micros, ACTIVE "
                f"{act_images}/{act_videos}/{act_cost}"
            )
        result.charged_images += images
        result.charged_videos += videos
        result.active_images += act_images
        result.active_videos += act_videos
    return result


def _on(asset: dict[str, Any], day: str) -> bool:
    created = asset["create_time"]
    return bool(created.astimezone(UTC).strftime("%Y-%m-%d") == day)


def sweep(stack: Stack) -> int:
    """One sweeper run, delivered as the Cloud Scheduler -> Pub/Sub push would."""
    url, project = stack.function_url("sweeper"), stack.options.project_id
    return int(post_event(url, project, "sweep", {"job": "sweep"}))


def stack_env(args: argparse.Namespace) -> dict[str, str]:
    # The sweeper refunds what a fault left PENDING once it is this old (production: 30 min).
    return {"GENMEDIA_SWEEP_PENDING_AFTER_SECONDS": str(args.sweep_after)}


def audit_checks(
    stack: Stack, uids: list[str], args: argparse.Namespace, prefix: str
) -> tuple[list[Check], dict[str, object]]:
    """Partial records and charges once the load stopped, before and after one sweeper run."""
    before = audit(stack, uids)
    time.sleep(args.sweep_after + 1)
    status = sweep(stack)
    after = audit(stack, uids)
    checks = [
        Check(
            f"{prefix}: no partial records (no asset PENDING once the sweeper ran, no ACTIVE "
            "asset without its objects)",
            after.pending == 0 and not after.missing_objects and status == 200,
            f"before the sweeper: {before.summary()}; after (sweeper {status}): "
            f"{after.summary()}; ACTIVE without objects: {after.missing_objects or 'none'}",
        ),
        Check(
            f"{prefix}: quotas exact (usage counters equal the ACTIVE assets generated)",
            after.exact,
            "; ".join(after.charge_mismatches) or f"{after.charged_images} images charged",
        ),
    ]
    return checks, {"before_sweep": _audit_figures(before), "after_sweep": _audit_figures(after)}


def _audit_figures(a: Audit) -> dict[str, object]:
    return {
        "states": dict(a.states),
        "missing_objects": a.missing_objects,
        "charged_images": a.charged_images,
        "active_images": a.active_images,
        "charged_videos": a.charged_videos,
        "active_videos": a.active_videos,
        "mismatches": a.charge_mismatches,
    }
