"""A finished operation's video → the job's asset: MP4, poster and thumbnail, stored
create-only under the user's prefix, described by decoding the file itself.

The asset id was chosen when the job was submitted, so a retry after a crash writes the same
objects (create-only uploads accept identical bytes) and the same asset.
"""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING

from genmedia import bucket, search
from genmedia.catalog import VIDEO_VARIANTS
from genmedia.errors import ProviderError
from genmedia.media.video import VideoResult
from genmedia.store.records import AssetRecord, JobRecord, ObjectRef

if TYPE_CHECKING:
    from genmedia.bootstrap import Deps

THUMBNAIL_LONG_SIDE = 256


def staged_path(deps: Deps, job: JobRecord, result: VideoResult) -> str | None:
    """The object the provider wrote (Veo's output_gcs_uri), or None for bytes returned."""
    if result.data is not None:
        return None
    # Only what the provider wrote where we told it to: our bucket, this job's staging prefix.
    root = f"gs://{deps.settings.media_bucket}/"
    if result.gcs_uri is None or not result.gcs_uri.startswith(
        root + bucket.staging_prefix(job.id)
    ):
        raise ProviderError("The provider's video is not where it was asked to be", retryable=False)
    return result.gcs_uri.removeprefix(root)


def _video_bytes(deps: Deps, job: JobRecord, result: VideoResult) -> bytes:
    path = staged_path(deps, job, result)
    if path is None:
        assert result.data is not None
        return result.data
    return deps.bucket.download(path)


def store_video(deps: Deps, job: JobRecord, result: VideoResult) -> tuple[AssetRecord, list[str]]:
    """Upload the variants; the ACTIVE asset to record, and the paths written."""
    from genmedia.media import video_files

    data = _video_bytes(deps, job, result)
    try:
        info = video_files.probe(data)
        poster = video_files.poster(data, max_side=max(info.width, info.height))
        thumb = video_files.poster(data, max_side=THUMBNAIL_LONG_SIDE)
    except ValueError as exc:
        raise ProviderError("The provider returned an unusable video", retryable=False) from exc
    payloads = {"original": data, "poster": poster, "thumbnail": thumb}
    sizes = {
        "original": (info.width, info.height),
        "poster": _size(poster),
        "thumbnail": _size(thumb),
    }
    objects, uploaded = {}, []
    for variant, fmt in VIDEO_VARIANTS.items():
        path = bucket.object_path(job.owner_uid, job.asset_id, variant, fmt.extension)
        deps.bucket.upload_create_only(path, payloads[variant], fmt.content_type)
        uploaded.append(path)
        blob = payloads[variant]
        objects[variant] = ObjectRef(path, fmt.content_type, len(blob), *sizes[variant])
    now = deps.clock.now()
    params = dict(job.params) | {
        "job_id": job.id,
        "fps": round(info.fps, 3),
        "duration_seconds": round(info.duration_seconds, 3),
        "codec": info.codec,
    }
    asset = AssetRecord(
        id=job.asset_id, owner_uid=job.owner_uid, type="video", state="ACTIVE",
        prompt=job.prompt, params=params, cost_micros=job.cost_micros,
        create_time=now, update_time=now, request_id=job.request_id,
        sha256=hashlib.sha256(data).hexdigest(), search_terms=search.terms(job.prompt),
        objects=objects,
    )  # fmt: skip
    return asset, uploaded


def _size(image: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(image)) as opened:
        return opened.size
