"""The export ZIP: everything stored about one user, streamed so memory stays bounded.

Entries (README.txt describes them to the user):
- ``account.json``: role, quota overrides and usage counters;
- ``assets.json``, ``jobs.json``, ``webhooks.json`` (without signing secrets), ``audit.json``
  (entries naming the user as actor or target): JSON arrays, written a page at a time;
- ``media/<asset id>/<variant>.<ext>``: the files of every live asset, copied from Cloud
  Storage in chunks (stored, not compressed: they are compressed formats already).

The ZIP goes to Cloud Storage through a resumable upload: nothing is held whole in memory,
neither the archive nor any file in it. It appears at its final name only once complete.
"""

from __future__ import annotations

import json
import posixpath
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from genmedia.formats import rfc3339
from genmedia.services.audit import event_view
from genmedia.services.jobs import job_view
from genmedia.services.views import asset_view
from genmedia.services.webhooks import webhook_view
from genmedia.store.records import AssetRecord, AuditEvent, JobRecord, WebhookRecord

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

PAGE_SIZE = 200
COPY_CHUNK_BYTES = 1024 * 1024
AUDIT_LIMIT = 10_000  # entries about one user; far more than any account produces
README = """GenMedia data export

account.json   your role, quota overrides and usage counters
assets.json    every image and video in your library, including the trash
jobs.json      your video generation jobs
webhooks.json  your webhook endpoints (signing secrets are not exported)
audit.json     audit log entries about you or your actions
media/         the files of every live asset: media/<asset id>/<variant>.<ext>
"""


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return rfc3339(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _dump(value: Any) -> bytes:
    return json.dumps(value, default=_default, ensure_ascii=False, indent=1).encode()


def _pages(deps: Deps, collection: str, uid: str) -> Iterator[tuple[str, dict[str, Any]]]:
    after: str | None = None
    while True:
        page = deps.database.owned.page(collection, uid, PAGE_SIZE, after)
        yield from page
        if len(page) < PAGE_SIZE:
            return
        after = page[-1][0]


def _entry(name: str, compress_type: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """An entry dated now (a bare name written through ``open`` would be dated 1980)."""
    info = zipfile.ZipInfo(name, time.gmtime()[:6])
    info.compress_type = compress_type
    return info


def _json_array(zf: zipfile.ZipFile, name: str, items: Iterator[dict[str, Any]]) -> int:
    count = 0
    with zf.open(_entry(name), "w") as out:
        out.write(b"[")
        for item in items:
            out.write((b",\n" if count else b"\n") + _dump(item))
            count += 1
        out.write(b"\n]\n")
    return count


def _copy_media(deps: Deps, zf: zipfile.ZipFile, assets: list[AssetRecord]) -> int:
    files = 0
    for asset in assets:
        for variant, obj in sorted(asset.objects.items()):
            ext = posixpath.splitext(obj.path)[1]
            info = _entry(f"media/{asset.id}/{variant}{ext}", zipfile.ZIP_STORED)
            info.file_size = obj.size_bytes
            with deps.bucket.open_reader(obj.path) as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, COPY_CHUNK_BYTES)
            files += 1
    return files


def _records(
    deps: Deps, collection: str, uid: str, parse: Callable[[str, dict[str, Any]], Any]
) -> Iterator[Any]:
    return (parse(doc_id, doc) for doc_id, doc in _pages(deps, collection, uid))


def write(deps: Deps, uid: str, path: str) -> dict[str, int]:
    """Write the ZIP of ``uid`` to ``path`` (create-only); how many entries of each kind."""
    counts: dict[str, int] = {}
    live: list[AssetRecord] = []

    def assets() -> Iterator[dict[str, Any]]:
        for asset in _records(deps, "assets", uid, AssetRecord.from_doc):
            if asset.state == "ACTIVE":
                live.append(asset)
            if asset.state in ("ACTIVE", "DELETED"):
                yield asset_view(asset)

    jobs = (job_view(j) for j in _records(deps, "jobs", uid, JobRecord.from_doc))
    hooks = (webhook_view(h) for h in _records(deps, "webhooks", uid, WebhookRecord.from_doc))
    audit = (
        event_view(i, AuditEvent.from_doc(d))
        for i, d in deps.database.owned.audit_page(uid, AUDIT_LIMIT)
    )
    # Written under a temporary name, then moved: a failure halfway may leave a partial
    # object there (closing an upload finishes it), never at ``path``.
    partial = path + ".partial"
    with (
        deps.bucket.open_writer(partial, "application/zip") as out,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf,
    ):
        zf.writestr("README.txt", README)
        zf.writestr("account.json", _dump(_account(deps, uid)))
        counts["assets"] = _json_array(zf, "assets.json", assets())
        counts["jobs"] = _json_array(zf, "jobs.json", jobs)
        counts["webhooks"] = _json_array(zf, "webhooks.json", hooks)
        counts["audit_events"] = _json_array(zf, "audit.json", audit)
        counts["media_files"] = _copy_media(deps, zf, live)
    deps.bucket.move_objects([(partial, path)])
    return counts


def _account(deps: Deps, uid: str) -> dict[str, Any]:
    docs = deps.database.owned.per_user(uid)
    user, usage = docs.get("users", {}), docs.get("usage", {})
    return {
        "uid": uid,
        "role": user.get("role"),
        "quota_overrides": user.get("quota") or {},
        "usage": {k: usage.get(k) for k in ("day", "images", "month", "videos", "cost_micros")},
    }
