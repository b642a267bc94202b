from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import av
import pytest
from PIL import ImageChops, ImageStat

from genmedia.errors import ContentBlocked, ProviderError
from genmedia.media.video import OperationStatus, VideoSpec
from genmedia.media.video_local import (
    MAX_OPERATION_NAME_BYTES,
    PREFIX,
    LocalVideoProvider,
    frame_size,
)
from tests.fakes.clock import FakeClock

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def spec(**overrides: object) -> VideoSpec:
    fields: dict[str, object] = {
        "prompt": "a heron over a lake at dawn", "model": "local-video", "duration_seconds": 4,
        "seed": 7,
    }  # fmt: skip
    fields.update(overrides)
    return VideoSpec(**fields)  # type: ignore[arg-type]


def provider(clock: FakeClock, render_seconds: float = 3.0, **options: int) -> LocalVideoProvider:
    return LocalVideoProvider(clock.now, render_seconds=render_seconds, **options)


def finish(video_spec: VideoSpec, **options: int) -> bytes:
    clock = FakeClock(START)
    local = provider(clock, render_seconds=0, **options)
    status = local.poll(local.start(video_spec))
    assert status.done and status.result is not None and status.result.data is not None
    return status.result.data


def decode(data: bytes) -> tuple[str, str, int, int, int, float]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        fps = float(stream.average_rate or 0)
        ctx = stream.codec_context
        return ctx.name, str(ctx.format.name), ctx.width, ctx.height, frames, fps


def test_finished_video_is_an_h264_mp4_of_the_requested_length() -> None:
    data = finish(spec(duration_seconds=8))

    codec, pix_fmt, width, height, frames, fps = decode(data)
    assert (codec, pix_fmt, width, height, fps) == ("h264", "yuv420p", 640, 360, 12.0)
    assert abs(frames / fps - 8) <= 1 / fps
    assert data[4:8] == b"ftyp"
    # faststart: the index (moov) precedes the media (mdat), so playback starts at once.
    assert data.index(b"moov") < data.index(b"mdat")


def test_portrait_and_custom_frame_rate() -> None:
    codec, _, width, height, frames, fps = decode(finish(spec(aspect_ratio="9:16"), fps=8))

    assert (codec, width, height, fps, frames) == ("h264", 360, 640, 8.0, 32)


@pytest.mark.parametrize(
    ("aspect", "resolution", "cap", "size"),
    [
        ("16:9", "720p", 640, (640, 360)),
        ("9:16", "1080p", 640, (360, 640)),
        ("16:9", "720p", 4000, (1280, 720)),
        ("16:9", "1080p", 4000, (1920, 1080)),
        ("9:16", "720p", 1000, (562, 1000)),
        ("16:9", "720p", 333, (332, 186)),
    ],
)
def test_frame_size_follows_aspect_and_resolution_capped_and_even(
    aspect: str, resolution: str, cap: int, size: tuple[int, int]
) -> None:
    assert frame_size(aspect, resolution, cap) == size
    assert all(side % 2 == 0 for side in size)


def test_same_spec_gives_identical_bytes_whenever_it_started() -> None:
    clock = FakeClock(START)
    local = provider(clock, render_seconds=1)
    first = local.start(spec())
    clock.advance(60)
    second = local.start(spec())
    clock.advance(1)

    assert first != second  # the start time is part of the name
    assert _data(local.poll(first)) == _data(local.poll(second)) == finish(spec())


@pytest.mark.parametrize(
    "change", [{"seed": 8}, {"prompt": "a red bicycle"}, {"negative_prompt": "fog"}]
)
def test_a_different_spec_gives_a_different_video(change: dict[str, object]) -> None:
    assert finish(spec(**change)) != finish(spec())


def test_the_picture_moves() -> None:
    with av.open(io.BytesIO(finish(spec()))) as container:
        frames = [frame.to_image() for frame in container.decode(video=0)]
    first, middle = frames[0], frames[len(frames) // 2]
    assert sum(ImageStat.Stat(ImageChops.difference(first, middle)).mean) / 3 > 2


def test_progress_rises_with_wall_time_until_done() -> None:
    clock = FakeClock(START)
    local = provider(clock, render_seconds=10)
    name = local.start(spec())
    seen = []
    for _ in range(4):
        status = local.poll(name)
        assert not status.done and status.result is None
        assert status.progress.stage == "rendering"
        seen.append((status.progress.percent, status.progress.eta_seconds))
        clock.advance(3)

    assert seen == [(0, 10), (30, 7), (60, 4), (90, 1)]
    done = local.poll(name)  # 12 s elapsed
    assert done.done and (done.progress.percent, done.progress.stage) == (100, "done")
    assert done.progress.eta_seconds == 0 and done.result is not None
    assert done.result.mime_type == "video/mp4" and done.result.gcs_uri is None


def test_a_clock_behind_the_start_reads_as_not_started() -> None:
    clock = FakeClock(START)
    local = provider(clock, render_seconds=5)
    name = local.start(spec())
    clock.wall -= timedelta(seconds=30)  # another instance's clock, a little behind

    assert local.poll(name).progress.percent == 0


def test_another_instance_polls_the_same_operation() -> None:
    clock = FakeClock(START)
    name = provider(clock, render_seconds=2).start(spec())
    clock.advance(2)

    status = provider(clock, render_seconds=2).poll(name)

    assert status.done and _data(status) == finish(spec())


def test_the_name_stays_compact_for_any_prompt() -> None:
    clock = FakeClock(START)
    name = provider(clock).start(spec(prompt="Ünïcødé 🎬 " * 2000, negative_prompt="x" * 5000))

    assert name.startswith(PREFIX) and name.isascii()
    assert len(name.encode()) < MAX_OPERATION_NAME_BYTES
    assert len(name) < 400


def _reencoded(name: str, **changes: object) -> str:
    """A name with a payload field changed and a matching checksum (edited deliberately)."""
    body = name.removeprefix(PREFIX).rpartition(".")[0]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    new_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{PREFIX}{new_body}.{hashlib.sha256(new_body.encode()).hexdigest()[:16]}"


def _tampered_names(name: str) -> list[str]:
    body, _, check = name.removeprefix(PREFIX).rpartition(".")
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    return [
        "",
        "local-video/",
        "operations/123",
        f"{PREFIX}{flipped}.{check}",
        f"{PREFIX}{body}.{'0' * 16}",
        f"{PREFIX}{body}",
        name + "x" * 2000,
        _reencoded(name, d=5),
        _reencoded(name, m="veo-3.1-generate-001"),
        _reencoded(name, t="yesterday"),
        _reencoded(name, f="explode"),
        _reencoded(name, extra=1),
        f"{PREFIX}bm90IGpzb24.{hashlib.sha256(b'bm90IGpzb24').hexdigest()[:16]}",
    ]


def test_a_malformed_or_tampered_name_is_a_permanent_error() -> None:
    clock = FakeClock(START)
    local = provider(clock, render_seconds=0)
    name = local.start(spec())
    assert local.poll(name).done

    for bad in _tampered_names(name):
        with pytest.raises(ProviderError) as caught:
            local.poll(bad)
        assert caught.value.retryable is False, bad


def test_filtered_token_blocks_the_finished_video_only() -> None:
    clock = FakeClock(START)
    local = provider(clock, render_seconds=2)
    name = local.start(spec(prompt="a storm [fail:filtered] at sea"))

    assert not local.poll(name).done
    clock.advance(2)
    with pytest.raises(ContentBlocked) as caught:
        local.poll(name)
    assert "storm" not in caught.value.detail


def test_permanent_token_fails_the_finished_operation() -> None:
    clock = FakeClock(START)
    local = provider(clock, render_seconds=2)
    name = local.start(spec(prompt="[fail:permanent] a storm"))

    assert not local.poll(name).done
    clock.advance(2)
    with pytest.raises(ProviderError) as caught:
        local.poll(name)
    assert caught.value.retryable is False


def test_transient_token_fails_every_poll_retryably() -> None:
    clock = FakeClock(START)
    local = provider(clock, render_seconds=2)
    name = local.start(spec(prompt="a storm [fail:transient]"))

    for _ in range(3):
        with pytest.raises(ProviderError) as caught:
            local.poll(name)
        assert caught.value.retryable is True
        clock.advance(2)


@pytest.mark.parametrize(
    "bad", [{"model": "veo-3.1-generate-001"}, {"duration_seconds": 5}, {"resolution": "4k"}]
)
def test_an_unsupported_spec_is_refused_at_start(bad: dict[str, object]) -> None:
    with pytest.raises(ProviderError) as caught:
        provider(FakeClock(START)).start(spec(**bad))

    assert caught.value.retryable is False


def test_model_catalogue() -> None:
    local = LocalVideoProvider(lambda: START)
    model = local.models[local.default_model]

    assert (local.name, local.default_model) == ("local", "local-video")
    assert model.durations == (4, 6, 8) and model.resolutions == ("720p", "1080p")
    assert model.audio is False and model.cost_per_second == 0


def _data(status: OperationStatus) -> bytes:
    assert status.result is not None and status.result.data is not None
    return status.result.data
