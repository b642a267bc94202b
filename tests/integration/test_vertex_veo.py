"""The Veo provider driving the real google-genai SDK against a local HTTP fake of Vertex.

No stack fixtures: only the fake on 127.0.0.1 is started.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials

from genmedia.errors import ContentBlocked, ProviderError
from genmedia.media import video_files
from genmedia.media.genai_sdk import LOOPBACK_TOKEN
from genmedia.media.veo import VeoProvider
from genmedia.media.video import VideoSpec
from tests.fakes.vertex_veo import (
    FAKE_TOKEN,
    ApiError,
    Failed,
    FakeVeo,
    Filtered,
    Video,
    sample_mp4,
)

PROJECT = "test-project"
LOCATION = "us-central1"
FAST = "veo-3.1-fast-generate-001"
STAGING = "gs://media-bucket/staging/job-1/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeVeo]:
    with FakeVeo(PROJECT, LOCATION, models=frozenset(VeoProvider.models)) as f:
        yield f


@pytest.fixture
def veo(fake: FakeVeo) -> Iterator[VeoProvider]:
    fake.reset()
    provider = new_provider(fake)
    yield provider
    provider.close()


def new_provider(fake: FakeVeo, token: str = FAKE_TOKEN) -> VeoProvider:
    return VeoProvider(
        PROJECT, LOCATION, base_url=fake.base_url, credentials=Credentials(token), timeout_seconds=5
    )


def spec(**overrides: object) -> VideoSpec:
    fields: dict[str, object] = {
        "prompt": "a heron over a lake",
        "model": FAST,
        "duration_seconds": 8,
    }
    fields.update(overrides)
    return VideoSpec(**fields)  # type: ignore[arg-type]


def test_start_then_poll_until_done_with_a_gcs_uri(veo: VeoProvider) -> None:
    name = veo.start(spec(), output_gcs_uri=STAGING)

    assert name.startswith(f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/")
    running = veo.poll(name)
    assert (running.done, running.progress.stage, running.result) == (False, "generating", None)
    done = veo.poll(name)
    assert done.done and done.progress.percent == 100 and done.result is not None
    assert done.result.gcs_uri is not None and done.result.gcs_uri.startswith(STAGING)
    assert done.result.gcs_uri.endswith("/sample_0.mp4")
    assert (done.result.data, done.result.mime_type) == (None, "video/mp4")


def test_request_body_has_the_vertex_shape_on_v1(veo: VeoProvider, fake: FakeVeo) -> None:
    chosen = spec(
        model="veo-3.1-generate-001", duration_seconds=6, aspect_ratio="9:16",
        resolution="1080p", negative_prompt="fog", seed=42, generate_audio=True,
    )  # fmt: skip
    name = veo.start(chosen, output_gcs_uri=STAGING)
    veo.poll(name)

    [start] = fake.requests_for("predictLongRunning")
    assert start.path == (
        f"/v1/projects/{PROJECT}/locations/{LOCATION}"
        "/publishers/google/models/veo-3.1-generate-001:predictLongRunning"
    )
    assert start.headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    assert start.instances == [{"prompt": "a heron over a lake"}]
    assert start.parameters == {
        "sampleCount": 1, "storageUri": STAGING, "durationSeconds": 6, "aspectRatio": "9:16",
        "resolution": "1080p", "negativePrompt": "fog", "seed": 42, "generateAudio": True,
    }  # fmt: skip
    [fetch] = fake.requests_for("fetchPredictOperation")
    assert fetch.path.startswith("/v1/projects/") and fetch.path.endswith(":fetchPredictOperation")
    assert fetch.body == {"operationName": name}


def test_optional_fields_are_left_out(veo: VeoProvider, fake: FakeVeo) -> None:
    veo.start(spec())

    params = fake.requests[0].parameters
    assert not {"storageUri", "seed", "negativePrompt", "enhancePrompt"} & set(params)
    assert params["generateAudio"] is False


def test_a_new_instance_polls_an_operation_from_its_name_alone(fake: FakeVeo) -> None:
    fake.reset()
    first, second = new_provider(fake), new_provider(fake)
    name = first.start(spec(), output_gcs_uri=STAGING)
    first.close()  # e.g. the instance that started the job is gone

    assert not second.poll(name).done
    assert second.poll(name).done
    second.close()


def test_inline_bytes_come_back_as_data(veo: VeoProvider, fake: FakeVeo) -> None:
    fake.starts.enqueue(fake.accept(Video(), running_polls=0))

    done = veo.poll(veo.start(spec()))

    assert done.result is not None and done.result.gcs_uri is None
    assert done.result.data == sample_mp4()
    assert video_files.probe(done.result.data).codec == "h264"


def test_filtered_video_is_content_blocked_with_reasons(veo: VeoProvider, fake: FakeVeo) -> None:
    prompt = "a very specific secret prompt"
    fake.starts.enqueue(fake.accept(Filtered(), running_polls=0))
    name = veo.start(spec(prompt=prompt))

    with pytest.raises(ContentBlocked) as caught:
        veo.poll(name)

    assert "usage guidelines" in caught.value.detail and "17301594" in caught.value.detail
    assert prompt not in caught.value.detail


def test_filtered_without_reasons_is_still_content_blocked(veo: VeoProvider, fake: FakeVeo) -> None:
    fake.starts.enqueue(fake.accept(Filtered(count=1, reasons=()), running_polls=0))

    with pytest.raises(ContentBlocked):
        veo.poll(veo.start(spec()))


@pytest.mark.parametrize(
    ("failure", "retryable"),
    [(Failed(3), False), (Failed(8, "Quota exhausted"), True), (Failed(13, "Internal"), True)],
    ids=["invalid-argument", "resource-exhausted", "internal"],
)
def test_a_failed_operation_is_a_provider_error(
    veo: VeoProvider, fake: FakeVeo, failure: Failed, retryable: bool
) -> None:
    fake.starts.enqueue(fake.accept(failure, running_polls=0))
    name = veo.start(spec())

    with pytest.raises(ProviderError) as caught:
        veo.poll(name)

    assert caught.value.retryable is retryable
    assert f"({failure.code})" in str(caught.value)


def test_a_policy_refusal_in_the_operation_is_content_blocked(
    veo: VeoProvider, fake: FakeVeo
) -> None:
    refusal = Failed(3, "The prompt contains words that violate Vertex AI's usage guidelines.")
    fake.starts.enqueue(fake.accept(refusal, running_polls=0))

    with pytest.raises(ContentBlocked):
        veo.poll(veo.start(spec()))


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ApiError.rate_limited(), True),
        (ApiError.unavailable(), True),
        (ApiError.invalid_argument("Unsupported resolution."), False),
        (ApiError.permission_denied(), False),
    ],
    ids=["429", "503", "400", "403"],
)
def test_start_http_errors_are_mapped_by_retryability(
    veo: VeoProvider, fake: FakeVeo, error: ApiError, retryable: bool
) -> None:
    fake.starts.enqueue(error)

    with pytest.raises(ProviderError) as caught:
        veo.start(spec())

    assert (caught.value.status, caught.value.retryable) == (error.status, retryable)
    assert len(fake.requests) == 1  # the provider never retries by itself


def test_a_500_on_poll_is_retryable_and_the_next_poll_recovers(
    veo: VeoProvider, fake: FakeVeo
) -> None:
    name = veo.start(spec(), output_gcs_uri=STAGING)
    fake.fetches.enqueue(ApiError.internal())

    with pytest.raises(ProviderError) as caught:
        veo.poll(name)
    assert (caught.value.status, caught.value.retryable) == (500, True)
    assert not veo.poll(name).done and veo.poll(name).done


def test_an_unknown_operation_is_a_permanent_404(veo: VeoProvider) -> None:
    name = f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{FAST}/operations/x"

    with pytest.raises(ProviderError) as caught:
        veo.poll(name)

    assert (caught.value.status, caught.value.retryable) == (404, False)


def test_malformed_names_and_unknown_models_fail_without_a_request(
    veo: VeoProvider, fake: FakeVeo
) -> None:
    for bad in ("", "local-video/abc", "projects/p/no-operation-here"):
        with pytest.raises(ProviderError) as caught:
            veo.poll(bad)
        assert caught.value.retryable is False
    with pytest.raises(ProviderError):
        veo.start(spec(model="veo-9"))
    assert fake.requests == []


def test_rejected_credentials_are_not_retryable(fake: FakeVeo) -> None:
    provider = new_provider(fake, token="wrong-token")

    with pytest.raises(ProviderError) as caught:
        provider.start(spec())
    provider.close()

    assert (caught.value.status, caught.value.retryable) == (401, False)


def test_html_gateway_error_on_poll_is_retryable(veo: VeoProvider, fake: FakeVeo) -> None:
    from tests.fakes.server import RawReply

    name = veo.start(spec())
    fake.fetches.enqueue(RawReply(502, b"<html>bad gateway</html>"))

    with pytest.raises(ProviderError) as caught:
        veo.poll(name)

    assert (caught.value.status, caught.value.retryable) == (502, True)


def test_loopback_fake_needs_no_application_default_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
    with FakeVeo(PROJECT, LOCATION, token=None) as open_fake:
        provider = VeoProvider(PROJECT, LOCATION, base_url=open_fake.base_url)
        provider.start(spec())
        provider.close()
        assert open_fake.requests[0].headers["authorization"] == f"Bearer {LOOPBACK_TOKEN}"


def test_importing_veo_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "import genmedia.media.veo, genmedia.media.video_local, genmedia.media.video_files\n"
        "genmedia.media.veo.VeoProvider('p', 'l')\n"
        "heavy = [m for m in ('google.genai', 'google.auth', 'httpx', 'pydantic', 'av')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(ROOT / "functions"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
