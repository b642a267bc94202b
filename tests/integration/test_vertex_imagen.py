"""The Vertex Imagen provider driving the real google-genai SDK against a local HTTP fake."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials

from genmedia.errors import ContentBlocked, ProviderError
from genmedia.media import ImageSpec, make_image_provider
from genmedia.media.genai_sdk import LOOPBACK_TOKEN
from genmedia.media.processing import process_image
from genmedia.media.vertex import VertexImagenProvider
from tests.fakes.vertex import (
    FAKE_TOKEN,
    IMAGEN_SIZES,
    AllFiltered,
    ApiError,
    FakeVertex,
    Images,
    MalformedBase64,
    NoPredictions,
    NotAnImage,
    RawReply,
    Slow,
    sample_png,
)

PROJECT = "test-project"
LOCATION = "us-central1"
MODEL = "imagen-3.0-generate-002"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeVertex]:
    with FakeVertex(PROJECT, LOCATION, models=frozenset({MODEL, "imagen-4.0-generate-001"})) as f:
        yield f


@pytest.fixture
def vertex(fake: FakeVertex) -> Iterator[VertexImagenProvider]:
    fake.reset()
    provider = VertexImagenProvider(
        PROJECT,
        LOCATION,
        MODEL,
        base_url=fake.base_url,
        credentials=Credentials(token=FAKE_TOKEN),
        timeout_seconds=5,
    )
    yield provider
    provider.close()


def spec(**overrides: object) -> ImageSpec:
    fields: dict[str, object] = {"prompt": "a lighthouse at dusk", "count": 2}
    fields.update(overrides)
    return ImageSpec(**fields)  # type: ignore[arg-type]


def test_success_returns_requested_images(vertex: VertexImagenProvider) -> None:
    images = vertex.generate(spec(count=3, aspect_ratio="16:9"))

    assert len(images) == 3
    assert all(image.mime_type == "image/png" for image in images)
    assert images[0].data == sample_png("16:9", 0)
    processed = process_image(images[0].data, expected_aspect_ratio="16:9")
    assert (processed.width, processed.height) == IMAGEN_SIZES["16:9"]


def test_request_carries_parameters_path_and_token(
    vertex: VertexImagenProvider, fake: FakeVertex
) -> None:
    vertex.generate(
        spec(count=2, aspect_ratio="9:16", negative_prompt="fog", seed=1234, style="woodcut")
    )

    [request] = fake.requests
    assert request.path == (
        f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{MODEL}:predict"
    )
    assert request.headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    assert request.instances == [{"prompt": "a lighthouse at dusk, in the style of woodcut"}]
    params = request.parameters
    assert params["sampleCount"] == 2
    assert params["aspectRatio"] == "9:16"
    assert params["negativePrompt"] == "fog"
    assert params["seed"] == 1234
    assert params["addWatermark"] is False
    assert params["includeRaiReason"] is True
    assert params["outputOptions"] == {"mimeType": "image/png"}


def test_without_seed_watermark_is_left_to_the_default(
    vertex: VertexImagenProvider, fake: FakeVertex
) -> None:
    vertex.generate(spec(count=1))

    params = fake.requests[0].parameters
    assert "seed" not in params
    assert "addWatermark" not in params
    assert "negativePrompt" not in params


def test_spec_model_overrides_default(vertex: VertexImagenProvider, fake: FakeVertex) -> None:
    vertex.generate(spec(count=1, model="imagen-4.0-generate-001"))

    assert fake.requests[0].path_params["model"] == "imagen-4.0-generate-001"


def test_sdk_client_created_once_and_reused(vertex: VertexImagenProvider, fake: FakeVertex) -> None:
    vertex.generate(spec(count=1))
    first = vertex._client
    vertex.generate(spec(count=1))

    assert first is not None and vertex._client is first
    assert len(fake.requests) == 2


@pytest.mark.parametrize("behaviour", [AllFiltered(), NoPredictions()], ids=["rai", "empty"])
def test_everything_filtered_is_content_blocked(
    vertex: VertexImagenProvider, fake: FakeVertex, behaviour: object
) -> None:
    fake.imagen.enqueue(behaviour)  # type: ignore[arg-type]
    prompt = "a very specific secret prompt"

    with pytest.raises(ContentBlocked) as caught:
        vertex.generate(spec(prompt=prompt))

    assert caught.value.status == 422
    assert prompt not in caught.value.detail


def test_partially_filtered_returns_survivors(
    vertex: VertexImagenProvider, fake: FakeVertex
) -> None:
    fake.imagen.enqueue(Images(filtered=2))

    images = vertex.generate(spec(count=4))

    assert len(images) == 2


@pytest.mark.parametrize(
    ("behaviour", "status", "retryable"),
    [
        (ApiError.rate_limited(), 429, True),
        (ApiError.internal(), 500, True),
        (ApiError.unavailable(), 503, True),
        (ApiError.invalid_argument(), 400, False),
        (ApiError.permission_denied(), 403, False),
    ],
    ids=["429", "500", "503", "400", "403"],
)
def test_api_errors_are_mapped_by_retryability(
    vertex: VertexImagenProvider,
    fake: FakeVertex,
    behaviour: ApiError,
    status: int,
    retryable: bool,
) -> None:
    fake.imagen.enqueue(behaviour)

    with pytest.raises(ProviderError) as caught:
        vertex.generate(spec())

    assert (caught.value.retryable, caught.value.status) == (retryable, status)
    # The provider must not retry by itself: exactly one request reached the fake.
    assert len(fake.requests) == 1


def test_unknown_model_is_a_non_retryable_404(fake: FakeVertex) -> None:
    provider = VertexImagenProvider(
        PROJECT, LOCATION, "imagen-9", base_url=fake.base_url, credentials=Credentials(FAKE_TOKEN)
    )
    with pytest.raises(ProviderError) as caught:
        provider.generate(spec())
    provider.close()

    assert (caught.value.status, caught.value.retryable) == (404, False)


def test_policy_violation_400_is_content_blocked(
    vertex: VertexImagenProvider, fake: FakeVertex
) -> None:
    fake.imagen.enqueue(ApiError.policy_violation())

    with pytest.raises(ContentBlocked):
        vertex.generate(spec())


@pytest.mark.parametrize(
    "behaviour", [MalformedBase64(), RawReply(200, b"<html>oops</html>")], ids=["b64", "html"]
)
def test_malformed_response_is_non_retryable(
    vertex: VertexImagenProvider, fake: FakeVertex, behaviour: object
) -> None:
    fake.imagen.enqueue(behaviour)  # type: ignore[arg-type]

    with pytest.raises(ProviderError) as caught:
        vertex.generate(spec())

    assert caught.value.retryable is False
    assert "***" not in str(caught.value)  # the bad payload is not echoed


def test_non_image_bytes_fail_in_processing(vertex: VertexImagenProvider, fake: FakeVertex) -> None:
    fake.imagen.enqueue(NotAnImage())
    [image] = vertex.generate(spec(count=1))

    with pytest.raises(ProviderError) as caught:
        process_image(image.data)
    assert caught.value.retryable is False


def test_gateway_html_error_is_retryable(vertex: VertexImagenProvider, fake: FakeVertex) -> None:
    fake.imagen.enqueue(RawReply(502, b"<html>bad gateway</html>"))

    with pytest.raises(ProviderError) as caught:
        vertex.generate(spec())

    assert (caught.value.status, caught.value.retryable) == (502, True)


def test_slow_response_times_out_as_retryable(fake: FakeVertex) -> None:
    fake.reset()
    provider = VertexImagenProvider(
        PROJECT,
        LOCATION,
        MODEL,
        base_url=fake.base_url,
        credentials=Credentials(FAKE_TOKEN),
        timeout_seconds=0.5,
    )
    fake.imagen.enqueue(Slow(10, Images()))
    started = time.monotonic()

    with pytest.raises(ProviderError) as caught:
        provider.generate(spec())
    provider.close()

    assert caught.value.retryable is True
    assert time.monotonic() - started < 5


def test_connection_refused_is_retryable() -> None:
    with FakeVertex(PROJECT, LOCATION) as closed:
        base_url = closed.base_url  # nothing listens here once the fake stops
    provider = VertexImagenProvider(
        PROJECT, LOCATION, MODEL, base_url=base_url, credentials=Credentials(FAKE_TOKEN)
    )

    with pytest.raises(ProviderError) as caught:
        provider.generate(spec())
    provider.close()

    assert caught.value.retryable is True


def test_rejected_credentials_are_not_retryable(fake: FakeVertex) -> None:
    provider = VertexImagenProvider(
        PROJECT, LOCATION, MODEL, base_url=fake.base_url, credentials=Credentials("wrong-token")
    )
    with pytest.raises(ProviderError) as caught:
        provider.generate(spec())
    provider.close()

    assert (caught.value.status, caught.value.retryable) == (401, False)


def test_loopback_fake_needs_no_application_default_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With ADC unreachable, only the loopback default token can make this call succeed.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
    with FakeVertex(PROJECT, LOCATION, token=None) as open_fake:
        provider = make_image_provider(
            "vertex",
            project_id=PROJECT,
            location=LOCATION,
            model=MODEL,
            base_url=open_fake.base_url,
        )
        assert len(provider.generate(spec(count=1))) == 1
        assert open_fake.requests[0].headers["authorization"] == f"Bearer {LOOPBACK_TOKEN}"
        assert isinstance(provider, VertexImagenProvider)
        provider.close()


def test_remote_base_url_without_credentials_uses_adc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
    provider = VertexImagenProvider(
        PROJECT, LOCATION, MODEL, base_url="https://example.invalid", timeout_seconds=2
    )

    with pytest.raises(ProviderError, match="credentials") as caught:
        provider.generate(spec())
    provider.close()

    assert caught.value.retryable is False


def test_factory_builds_vertex_provider(fake: FakeVertex) -> None:
    provider = make_image_provider(
        "vertex",
        project_id=PROJECT,
        location=LOCATION,
        model=MODEL,
        base_url=fake.base_url,
        credentials=Credentials(FAKE_TOKEN),
    )

    assert provider.name == "vertex"
    assert len(provider.generate(spec(count=1))) == 1
    assert isinstance(provider, VertexImagenProvider)
    provider.close()


def test_importing_media_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "import genmedia.media, genmedia.media.local, genmedia.media.processing\n"
        "from genmedia.media import make_image_provider\n"
        "p = make_image_provider('vertex', project_id='p', location='l', model='m')\n"
        "heavy = [m for m in ('google.genai', 'google.auth', 'httpx', 'pydantic')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env_path = f"{ROOT / 'functions'}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
