from __future__ import annotations

import pytest

from genmedia import config
from genmedia.config import DEFAULT_DENYLIST, TEST_ONLY_VARS, ConfigError, load_settings
from tests.unit._helpers import BASE_ENV


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    return info.value.problems


def test_defaults() -> None:
    s = load_settings(BASE_ENV)
    assert s.project_id == "demo-genmedia"
    assert s.media_bucket == "demo-genmedia-media"
    assert s.region == "us-central1"
    assert s.k_service is None and not s.running_in_cloud
    assert s.function_name == "local"
    assert s.cors_origins == ()
    assert s.max_body_bytes == 65536
    assert s.image_provider == "local"
    assert s.vertex_location == "us-central1"
    assert s.imagen_model == "imagen-4.0-generate-001"
    assert s.vertex_base_url is None
    assert (s.quota_images_per_day, s.quota_videos_per_month) == (50, 20)
    assert (s.rate_limit_burst, s.rate_limit_per_minute) == (10, 10)
    assert (s.breaker_failure_threshold, s.breaker_reset_seconds) == (5, 30.0)
    assert (s.retry_deadline_seconds, s.retry_max_attempts) == (30.0, 4)
    assert s.backend_deadline_seconds == 5.0
    assert s.signed_url_ttl_seconds == 900
    assert s.signing_service_account is None and s.local_signing_key_file is None
    assert s.moderation_denylist == DEFAULT_DENYLIST and s.moderation_denylist
    assert (s.idempotency_ttl_hours, s.purge_retention_days) == (24, 30)
    assert s.processing_concurrency == 2
    assert s.tasks_location == "us-central1"
    assert s.log_level == "INFO"
    assert s.emulator_hosts == {}


def test_settings_are_frozen() -> None:
    s = load_settings(BASE_ENV)
    with pytest.raises(AttributeError):
        s.project_id = "other"  # type: ignore[misc]


def test_overrides_are_parsed_and_typed() -> None:
    s = load_settings(
        {
            **BASE_ENV,
            "GENMEDIA_REGION": "europe-west4",
            "FUNCTION_TARGET": "images",
            "GENMEDIA_CORS_ORIGINS": " https://App.Example.com , http://localhost:5173,https://x.dev:443",
            "GENMEDIA_MAX_BODY_BYTES": "1024",
            "GENMEDIA_IMAGE_PROVIDER": "vertex",
            "GENMEDIA_RETRY_DEADLINE_SECONDS": "2.5",
            "GENMEDIA_BREAKER_RESET_SECONDS": "7",
            "GENMEDIA_MODERATION_DENYLIST": "Foo, bar ,,foo",
            "GENMEDIA_LOG_LEVEL": "debug",
            "GENMEDIA_SIGNING_SERVICE_ACCOUNT": "signer@demo.iam.gserviceaccount.com",
            "FIRESTORE_EMULATOR_HOST": "localhost:8080",
        }
    )
    assert s.region == "europe-west4"
    assert s.function_name == "images"
    assert s.cors_origins == ("https://app.example.com", "http://localhost:5173", "https://x.dev")
    assert s.max_body_bytes == 1024
    assert s.image_provider == "vertex"
    assert s.retry_deadline_seconds == 2.5
    assert s.breaker_reset_seconds == 7.0
    assert s.moderation_denylist == ("foo", "bar")
    assert s.log_level == "DEBUG"
    assert s.emulator_hosts == {"FIRESTORE_EMULATOR_HOST": "localhost:8080"}


def test_gcloud_project_fallback_and_k_service_names_function() -> None:
    env = {
        "GCLOUD_PROJECT": "fallback-proj",
        "GENMEDIA_MEDIA_BUCKET": "bucket-1",
        "GENMEDIA_PAGE_TOKEN_KEY": "x" * 32,
    }
    s = load_settings({**env, "K_SERVICE": "images", "FUNCTION_TARGET": "ignored"})
    assert s.project_id == "fallback-proj"
    assert s.function_name == "images" and s.running_in_cloud


def test_empty_values_count_as_unset() -> None:
    s = load_settings({**BASE_ENV, "K_SERVICE": "", "GENMEDIA_MAX_BODY_BYTES": " "})
    assert s.k_service is None and s.max_body_bytes == 65536


def test_missing_required_are_all_reported_at_once() -> None:
    found = problems({})
    text = "\n".join(found)
    assert "GOOGLE_CLOUD_PROJECT" in text and "GCLOUD_PROJECT" in text
    assert "GENMEDIA_MEDIA_BUCKET" in text
    assert len(found) == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GENMEDIA_MAX_BODY_BYTES", "0"),
        ("GENMEDIA_MAX_BODY_BYTES", "abc"),
        ("GENMEDIA_QUOTA_IMAGES_PER_DAY", "-1"),
        ("GENMEDIA_QUOTA_VIDEOS_PER_MONTH", "1.5"),
        ("GENMEDIA_RATE_LIMIT_BURST", "0"),
        ("GENMEDIA_RATE_LIMIT_PER_MINUTE", "x"),
        ("GENMEDIA_BREAKER_FAILURE_THRESHOLD", "0"),
        ("GENMEDIA_BREAKER_RESET_SECONDS", "-3"),
        ("GENMEDIA_RETRY_DEADLINE_SECONDS", "nan"),
        ("GENMEDIA_RETRY_DEADLINE_SECONDS", "inf"),
        ("GENMEDIA_RETRY_MAX_ATTEMPTS", "0"),
        ("GENMEDIA_SIGNED_URL_TTL_SECONDS", "59"),
        ("GENMEDIA_SIGNED_URL_TTL_SECONDS", "604801"),
        ("GENMEDIA_IDEMPOTENCY_TTL_HOURS", "0"),
        ("GENMEDIA_PURGE_RETENTION_DAYS", "0"),
        ("GENMEDIA_PROCESSING_CONCURRENCY", "0"),
        ("GENMEDIA_IMAGE_PROVIDER", "openai"),
        ("GENMEDIA_LOG_LEVEL", "LOUD"),
        ("GENMEDIA_REGION", "Mars 1"),
        ("GENMEDIA_VERTEX_LOCATION", "us central"),
        ("GENMEDIA_TASKS_LOCATION", "x"),
        ("GENMEDIA_IMAGEN_MODEL", "bad model/name"),
        ("GENMEDIA_SIGNING_SERVICE_ACCOUNT", "not-an-email"),
        ("GENMEDIA_MODERATION_DENYLIST", " , ,"),
        ("GOOGLE_CLOUD_PROJECT", "Bad Project"),
        ("GENMEDIA_MEDIA_BUCKET", "Bad_Bucket/"),
    ],
)
def test_invalid_value_is_named(name: str, value: str) -> None:
    found = problems({**BASE_ENV, name: value})
    assert len(found) == 1
    assert name in found[0]


def test_ttl_bounds_are_inclusive() -> None:
    for value in ("60", "604800"):
        s = load_settings({**BASE_ENV, "GENMEDIA_SIGNED_URL_TTL_SECONDS": value})
        assert s.signed_url_ttl_seconds == int(value)


def test_every_invalid_value_reported_together() -> None:
    env = {
        **BASE_ENV,
        "GENMEDIA_MAX_BODY_BYTES": "-5",
        "GENMEDIA_RETRY_MAX_ATTEMPTS": "many",
        "GENMEDIA_CORS_ORIGINS": "*",
    }
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    message = str(info.value)
    for name in ("GENMEDIA_MAX_BODY_BYTES", "GENMEDIA_RETRY_MAX_ATTEMPTS", "GENMEDIA_CORS_ORIGINS"):
        assert name in message
    assert len(info.value.problems) == 3


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://*.example.com",
        "https://app.example.com/",
        "https://app.example.com/path",
        "app.example.com",
        "ftp://app.example.com",
        "https://app.example.com?x=1",
        "https://user@app.example.com",
        "https://app.example.com:99999",
        "null",
    ],
)
def test_malformed_or_wildcard_cors_origin_refused(origin: str) -> None:
    found = problems({**BASE_ENV, "GENMEDIA_CORS_ORIGINS": f"https://ok.example.com,{origin}"})
    assert len(found) == 1
    assert "GENMEDIA_CORS_ORIGINS" in found[0] and repr(origin) in found[0]


@pytest.mark.parametrize("name", TEST_ONLY_VARS)
def test_cloud_refuses_each_emulator_or_test_variable(name: str) -> None:
    found = problems({**BASE_ENV, "K_SERVICE": "images", name: "localhost:1234"})
    assert len(found) == 1
    assert name in found[0] and "K_SERVICE" in found[0]


def test_cloud_refusal_names_all_and_explains_auth_bypass() -> None:
    env = {
        **BASE_ENV,
        "K_SERVICE": "images",
        "FIREBASE_AUTH_EMULATOR_HOST": "localhost:9099",
        "STORAGE_EMULATOR_HOST": "http://localhost:9023",
    }
    message = "\n".join(problems(env))
    assert "FIREBASE_AUTH_EMULATOR_HOST" in message and "STORAGE_EMULATOR_HOST" in message
    assert "unsigned" in message and "bypass" in message


def test_emulators_allowed_locally() -> None:
    env = {name: "localhost:1" for name in TEST_ONLY_VARS}
    s = load_settings({**BASE_ENV, **env})
    assert s.firebase_auth_emulator_host == "localhost:1"
    assert s.vertex_base_url == "localhost:1" and s.local_signing_key_file == "localhost:1"
    assert len(s.emulator_hosts) == 4


def test_from_environment_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*BASE_ENV, "GCLOUD_PROJECT", "K_SERVICE", *TEST_ONLY_VARS]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "first-proj")
    monkeypatch.setenv("GENMEDIA_MEDIA_BUCKET", "bucket-1")
    assert config.from_environment().project_id == "first-proj"
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "second-proj")
    assert config.from_environment().project_id == "second-proj"


def test_config_imports_nothing_from_genmedia() -> None:
    with open(config.__file__, encoding="utf-8") as f:
        source = f.read()
    assert "from genmedia" not in source and "import genmedia" not in source


def test_page_token_keys_current_first_then_previous_and_never_printed() -> None:
    current, previous = "c" * 32, "p" * 40
    s = load_settings(
        {
            **BASE_ENV,
            "GENMEDIA_PAGE_TOKEN_KEY": current,
            "GENMEDIA_PAGE_TOKEN_KEY_PREVIOUS": previous,
        }
    )
    assert s.page_token_keys == (current, previous)
    assert current not in repr(s) and previous not in repr(s)


def test_the_development_page_token_key_is_never_used_in_the_cloud() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "GENMEDIA_PAGE_TOKEN_KEY"}
    assert load_settings({**env, "K_SERVICE": "library"}).page_token_keys == ()
    assert load_settings(env).page_token_keys == (config.DEV_PAGE_TOKEN_KEY,)
    assert "at least 32" in problems({**env, "GENMEDIA_PAGE_TOKEN_KEY": "short"})[0]


def test_backend_deadline_is_configurable_and_bounded() -> None:
    env = BASE_ENV | {"GENMEDIA_BACKEND_DEADLINE_SECONDS": "2.5"}
    assert load_settings(env).backend_deadline_seconds == 2.5
    for bad in ("0", "-1", "601", "nan", "soon"):
        found = problems(BASE_ENV | {"GENMEDIA_BACKEND_DEADLINE_SECONDS": bad})
        assert [p for p in found if p.startswith("GENMEDIA_BACKEND_DEADLINE_SECONDS")], bad


def test_firestore_breaker_is_configurable_and_bounded() -> None:
    defaults = load_settings(BASE_ENV)
    assert defaults.firestore_breaker_failure_threshold == 1
    assert defaults.firestore_breaker_reset_seconds == 0.5
    env = BASE_ENV | {
        "GENMEDIA_FIRESTORE_BREAKER_FAILURE_THRESHOLD": "3",
        "GENMEDIA_FIRESTORE_BREAKER_RESET_SECONDS": "2.5",
    }
    s = load_settings(env)
    assert (s.firestore_breaker_failure_threshold, s.firestore_breaker_reset_seconds) == (3, 2.5)
    for name, bad in (
        ("GENMEDIA_FIRESTORE_BREAKER_FAILURE_THRESHOLD", "0"),
        ("GENMEDIA_FIRESTORE_BREAKER_FAILURE_THRESHOLD", "1.5"),
        ("GENMEDIA_FIRESTORE_BREAKER_RESET_SECONDS", "0"),
        ("GENMEDIA_FIRESTORE_BREAKER_RESET_SECONDS", "301"),
        ("GENMEDIA_FIRESTORE_BREAKER_RESET_SECONDS", "nan"),
    ):
        found = problems(BASE_ENV | {name: bad})
        assert [p for p in found if p.startswith(name)], (name, bad)
