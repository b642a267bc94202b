"""Typed settings: the only module that reads the environment.

``load_settings`` is pure (tests pass a dict); ``from_environment`` reads ``os.environ``, which
the composition root (``genmedia.bootstrap``) does once per instance. Every problem is collected
and reported in one ``ConfigError`` so a bad deploy shows all of its mistakes at once instead of
one per redeploy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar
from urllib.parse import urlsplit

ProviderName = Literal["local", "vertex"]
VideoProviderName = Literal["local", "veo"]
N = TypeVar("N", int, float)

DEFAULT_DENYLIST: tuple[str, ...] = ("csam", "child sexual abuse", "beheading", "bestiality")

EMULATOR_HOST_VARS: tuple[str, ...] = (
    "FIRESTORE_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
)
# Variables that only make sense against emulators or test fakes; any of them on Cloud Run
# silently points the service at something that is not Google (or disables token checks).
TEST_ONLY_VARS: tuple[str, ...] = (
    *EMULATOR_HOST_VARS,
    "PUBSUB_EMULATOR_HOST",  # the local stack's; no function reads it yet
    "GENMEDIA_VERTEX_BASE_URL",
    "GENMEDIA_LOCAL_SIGNING_KEY_FILE",
    "GENMEDIA_OIDC_CERTS_URL",  # task tokens verified against the Tasks emulator's key
    "GENMEDIA_TEST_RESOLVER_FILE",  # webhook host names resolved from a file (SSRF tests)
)
# Signs page tokens outside the cloud when no key is configured; never used in the cloud.
DEV_PAGE_TOKEN_KEY = "genmedia-local-development-page-token-key"  # noqa: S105 - not a secret
MIN_KEY_LENGTH = 32
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LOCATION_RE = re.compile(r"^(global|[a-z]+(-[a-z]+)+\d+)$")
_PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9.:-]{0,99}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_QUEUE_RE = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_MODEL_RE = re.compile(r"^[A-Za-z0-9._@-]{1,128}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ConfigError(Exception):
    """The environment is invalid; ``problems`` lists every variable at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("Invalid configuration:\n  - " + "\n  - ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Settings:
    project_id: str
    media_bucket: str
    region: str = "us-central1"
    k_service: str | None = None
    function_name: str = "local"
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 65536
    image_provider: ProviderName = "local"
    vertex_location: str = "us-central1"
    imagen_model: str = "imagen-4.0-generate-001"
    vertex_base_url: str | None = None
    quota_images_per_day: int = 50
    quota_videos_per_month: int = 20
    rate_limit_burst: int = 10
    rate_limit_per_minute: int = 10
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 30.0
    retry_deadline_seconds: float = 30.0
    retry_max_attempts: int = 4
    # Total time one Firestore RPC or Cloud Storage call may spend, retries included, before
    # the request answers 503 + Retry-After (the libraries' own budgets are 60-300 s).
    backend_deadline_seconds: float = 5.0
    # After this many Firestore RPCs failed in a row (outages only), the instance answers 503
    # without calling Firestore for the cool-down, then lets one RPC probe (store/circuit.py).
    firestore_breaker_failure_threshold: int = 1
    firestore_breaker_reset_seconds: float = 0.5
    signed_url_ttl_seconds: int = 900
    public_base_url: str | None = None
    signed_url_reuse_seconds: int = 3600
    signed_url_cache_size: int = 10000
    signing_service_account: str | None = None
    local_signing_key_file: str | None = None
    moderation_denylist: tuple[str, ...] = DEFAULT_DENYLIST
    idempotency_ttl_hours: int = 24
    revocation_cache_seconds: float = 30.0  # reads only; see genmedia/revocation.py
    purge_retention_days: int = 30
    processing_concurrency: int = 2
    tasks_location: str = "us-central1"
    video_provider: VideoProviderName = "local"
    video_worker_url: str | None = None  # where video tasks are delivered (the OIDC audience)
    tasks_service_account: str | None = None  # signs task OIDC tokens; the worker expects it
    video_queue: str = "video-jobs"
    video_max_attempts: int = 5  # the queue's, so the worker knows its last attempt
    video_poll_seconds: float = 10.0
    job_lease_seconds: float = 150.0
    local_video_seconds: float = 3.0
    oidc_certs_url: str | None = None
    webhook_worker_url: str | None = None
    webhook_queue: str = "webhook-deliveries"
    webhook_max_attempts: int = 8
    test_resolver_file: str | None = None
    # Data export and erasure (services/exports.py, services/erasure.py): private workers.
    export_worker_url: str | None = None
    export_queue: str = "exports"
    export_max_attempts: int = 6
    export_lease_seconds: float = 1830.0  # past the worker's 30-minute dispatch deadline
    erasure_worker_url: str | None = None
    erasure_queue: str = "erasures"
    # The purge continues a backlog through this queue, to its own URL (services/purge.py).
    purge_url: str | None = None
    maintenance_queue: str = "maintenance"
    purge_batch_size: int = 100
    purge_budget_seconds: float = 240.0  # well inside the purge function's timeout
    sweep_pending_after_seconds: int = 1800  # far past generate_image's timeout
    sweep_job_after_seconds: int = 7200  # past the video queue's retry window
    sweep_requeue_after_seconds: int = 600
    log_level: str = "INFO"
    firestore_emulator_host: str | None = None
    storage_emulator_host: str | None = None
    firebase_auth_emulator_host: str | None = None
    cloud_tasks_emulator_host: str | None = None
    # Page-token HMAC keys: the current one signs, every one verifies (rotation). Never printed.
    page_token_keys: tuple[str, ...] = field(default=(DEV_PAGE_TOKEN_KEY,), repr=False)

    @property
    def running_in_cloud(self) -> bool:
        return self.k_service is not None

    @property
    def emulator_hosts(self) -> dict[str, str]:
        """Emulator variable name -> host for every emulator in use (empty in production)."""
        values = (
            self.firestore_emulator_host,
            self.storage_emulator_host,
            self.firebase_auth_emulator_host,
            self.cloud_tasks_emulator_host,
        )
        return {n: v for n, v in zip(EMULATOR_HOST_VARS, values, strict=True) if v is not None}


class _Reader:
    """Reads variables from a mapping, recording problems instead of raising on the first."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def opt(self, name: str) -> str | None:
        # Empty counts as unset: deploy tools often render absent values as "".
        value = self.env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.opt(name) or default
        if pattern is not None and not pattern.fullmatch(value):
            self.problems.append(f"{name}={value!r} is not a valid value")
        return value

    def required(self, name: str, pattern: re.Pattern[str], fallback: str | None = None) -> str:
        value = self.opt(name) or (self.opt(fallback) if fallback else None)
        if value is None:
            also = f" (or {fallback})" if fallback else ""
            self.problems.append(f"{name}{also} is required but not set")
            return ""
        if not pattern.fullmatch(value):
            self.problems.append(f"{name}={value!r} is not a valid value")
        return value

    def number(self, name: str, default: N, low: N, high: N) -> N:
        raw = self.opt(name)
        if raw is None:
            return default
        kind: Callable[[str], N] = type(default)
        try:
            value = kind(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a valid {kind.__name__}")
            return default
        if not low <= value <= high:  # also rejects NaN for floats
            self.problems.append(f"{name}={raw!r} must be between {low} and {high}")
            return default
        return value

    def choice(self, name: str, default: str, allowed: tuple[str, ...], upper: bool = False) -> str:
        value = self.opt(name) or default
        value = value.upper() if upper else value
        if value not in allowed:
            self.problems.append(f"{name}={value!r} must be one of {', '.join(allowed)}")
            return default
        return value


def _normalize_origin(raw: str) -> str | None:
    """Canonical ``scheme://host[:port]`` as browsers send it in ``Origin``, or None if invalid."""
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host or "*" in raw:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def _cors_origins(reader: _Reader) -> tuple[str, ...]:
    origins: list[str] = []
    for item in (reader.opt("GENMEDIA_CORS_ORIGINS") or "").split(","):
        raw = item.strip()
        if not raw:
            continue
        origin = _normalize_origin(raw.lower())
        if origin is None:
            reader.problems.append(
                f"GENMEDIA_CORS_ORIGINS entry {raw!r} is not an exact origin "
                "(scheme://host[:port], no path, no wildcard)"
            )
        elif origin not in origins:
            origins.append(origin)
    return tuple(origins)


def _denylist(reader: _Reader) -> tuple[str, ...]:
    raw = reader.opt("GENMEDIA_MODERATION_DENYLIST")
    if raw is None:
        return DEFAULT_DENYLIST
    terms = tuple(dict.fromkeys(t.strip().lower() for t in raw.split(",") if t.strip()))
    if not terms:
        reader.problems.append("GENMEDIA_MODERATION_DENYLIST is set but contains no terms")
    return terms


def _check_test_only_vars(reader: _Reader, k_service: str | None) -> None:
    if k_service is None:
        return
    present = [name for name in TEST_ONLY_VARS if reader.opt(name) is not None]
    if present:
        reader.problems.append(
            f"{', '.join(present)} must not be set when running on Cloud Run/Functions "
            f"(K_SERVICE={k_service!r}): these point the service at emulators or test fakes; "
            "FIREBASE_AUTH_EMULATOR_HOST in particular makes firebase-admin accept unsigned "
            "ID tokens, which is a complete authentication bypass"
        )


def _base_url(reader: _Reader, name: str, in_cloud: bool) -> str | None:
    """Our own API's base URL (never user input); https only in production."""
    value = reader.opt(name)
    if value is None:
        return None
    parts = urlsplit(value)
    schemes = ("https",) if in_cloud else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
        reader.problems.append(f"{name}={value!r} must be an absolute {'/'.join(schemes)} URL")
    return value.rstrip("/")


def _optional_email(reader: _Reader, name: str) -> str | None:
    value = reader.opt(name)
    if value is not None and "@" not in value:
        reader.problems.append(f"{name}={value!r} is not a service account email")
    return value


def _page_token_keys(reader: _Reader, in_cloud: bool) -> tuple[str, ...]:
    keys: list[str] = []
    for name in ("GENMEDIA_PAGE_TOKEN_KEY", "GENMEDIA_PAGE_TOKEN_KEY_PREVIOUS"):
        value = reader.opt(name)
        if value is not None and len(value) < MIN_KEY_LENGTH:
            reader.problems.append(f"{name} must be at least {MIN_KEY_LENGTH} characters")
        elif value is not None:
            keys.append(value)
    if reader.opt("GENMEDIA_PAGE_TOKEN_KEY") is None:
        # Only the library pages; in the cloud, a library without its key fails its first
        # paged request (Terraform mounts the secret into exactly the functions that page).
        return () if in_cloud else (DEV_PAGE_TOKEN_KEY, *keys)
    return tuple(keys)


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build and validate settings from ``env``; raise one ConfigError listing every problem."""
    r = _Reader(env)
    k_service = r.opt("K_SERVICE")
    _check_test_only_vars(r, k_service)
    settings = Settings(
        project_id=r.required("GOOGLE_CLOUD_PROJECT", _PROJECT_RE, fallback="GCLOUD_PROJECT"),
        media_bucket=r.required("GENMEDIA_MEDIA_BUCKET", _BUCKET_RE),
        region=r.text("GENMEDIA_REGION", "us-central1", _LOCATION_RE),
        k_service=k_service,
        function_name=k_service or r.opt("FUNCTION_TARGET") or "local",
        cors_origins=_cors_origins(r),
        max_body_bytes=r.number("GENMEDIA_MAX_BODY_BYTES", 65536, 1, 32 * 1024 * 1024),
        image_provider="vertex"
        if r.choice("GENMEDIA_IMAGE_PROVIDER", "local", ("local", "vertex")) == "vertex"
        else "local",
        vertex_location=r.text("GENMEDIA_VERTEX_LOCATION", "us-central1", _LOCATION_RE),
        imagen_model=r.text("GENMEDIA_IMAGEN_MODEL", "imagen-4.0-generate-001", _MODEL_RE),
        vertex_base_url=r.opt("GENMEDIA_VERTEX_BASE_URL"),
        quota_images_per_day=r.number("GENMEDIA_QUOTA_IMAGES_PER_DAY", 50, 0, 1_000_000),
        quota_videos_per_month=r.number("GENMEDIA_QUOTA_VIDEOS_PER_MONTH", 20, 0, 1_000_000),
        rate_limit_burst=r.number("GENMEDIA_RATE_LIMIT_BURST", 10, 1, 10_000),
        rate_limit_per_minute=r.number("GENMEDIA_RATE_LIMIT_PER_MINUTE", 10, 1, 100_000),
        breaker_failure_threshold=r.number("GENMEDIA_BREAKER_FAILURE_THRESHOLD", 5, 1, 1000),
        breaker_reset_seconds=r.number("GENMEDIA_BREAKER_RESET_SECONDS", 30.0, 0.001, 3600.0),
        retry_deadline_seconds=r.number("GENMEDIA_RETRY_DEADLINE_SECONDS", 30.0, 0.001, 3600.0),
        retry_max_attempts=r.number("GENMEDIA_RETRY_MAX_ATTEMPTS", 4, 1, 20),
        backend_deadline_seconds=r.number("GENMEDIA_BACKEND_DEADLINE_SECONDS", 5.0, 0.1, 600.0),
        firestore_breaker_failure_threshold=r.number(
            "GENMEDIA_FIRESTORE_BREAKER_FAILURE_THRESHOLD", 1, 1, 1000
        ),
        firestore_breaker_reset_seconds=r.number(
            "GENMEDIA_FIRESTORE_BREAKER_RESET_SECONDS", 0.5, 0.1, 300.0
        ),
        signed_url_ttl_seconds=r.number("GENMEDIA_SIGNED_URL_TTL_SECONDS", 900, 60, 604800),
        public_base_url=_base_url(r, "GENMEDIA_PUBLIC_BASE_URL", k_service is not None),
        signed_url_reuse_seconds=r.number("GENMEDIA_SIGNED_URL_REUSE_SECONDS", 3600, 1, 302400),
        signed_url_cache_size=r.number("GENMEDIA_SIGNED_URL_CACHE_SIZE", 10000, 0, 1_000_000),
        signing_service_account=_optional_email(r, "GENMEDIA_SIGNING_SERVICE_ACCOUNT"),
        local_signing_key_file=r.opt("GENMEDIA_LOCAL_SIGNING_KEY_FILE"),
        moderation_denylist=_denylist(r),
        idempotency_ttl_hours=r.number("GENMEDIA_IDEMPOTENCY_TTL_HOURS", 24, 1, 24 * 30),
        revocation_cache_seconds=r.number("GENMEDIA_REVOCATION_CACHE_SECONDS", 30.0, 0.0, 300.0),
        purge_retention_days=r.number("GENMEDIA_PURGE_RETENTION_DAYS", 30, 1, 3650),
        processing_concurrency=r.number("GENMEDIA_PROCESSING_CONCURRENCY", 2, 1, 64),
        tasks_location=r.text("GENMEDIA_TASKS_LOCATION", "us-central1", _LOCATION_RE),
        video_provider="veo"
        if r.choice("GENMEDIA_VIDEO_PROVIDER", "local", ("local", "veo")) == "veo"
        else "local",
        video_worker_url=_base_url(r, "GENMEDIA_VIDEO_WORKER_URL", k_service is not None),
        tasks_service_account=_optional_email(r, "GENMEDIA_TASKS_SERVICE_ACCOUNT"),
        video_queue=r.text("GENMEDIA_VIDEO_QUEUE", "video-jobs", _QUEUE_RE),
        video_max_attempts=r.number("GENMEDIA_VIDEO_MAX_ATTEMPTS", 5, 1, 100),
        video_poll_seconds=r.number("GENMEDIA_VIDEO_POLL_SECONDS", 10.0, 0.05, 600.0),
        job_lease_seconds=r.number("GENMEDIA_JOB_LEASE_SECONDS", 150.0, 1.0, 1800.0),
        local_video_seconds=r.number("GENMEDIA_LOCAL_VIDEO_SECONDS", 3.0, 0.0, 3600.0),
        oidc_certs_url=r.opt("GENMEDIA_OIDC_CERTS_URL"),
        webhook_worker_url=_base_url(r, "GENMEDIA_WEBHOOK_WORKER_URL", k_service is not None),
        webhook_queue=r.text("GENMEDIA_WEBHOOK_QUEUE", "webhook-deliveries", _QUEUE_RE),
        webhook_max_attempts=r.number("GENMEDIA_WEBHOOK_MAX_ATTEMPTS", 8, 1, 100),
        test_resolver_file=r.opt("GENMEDIA_TEST_RESOLVER_FILE"),
        export_worker_url=_base_url(r, "GENMEDIA_EXPORT_WORKER_URL", k_service is not None),
        export_queue=r.text("GENMEDIA_EXPORT_QUEUE", "exports", _QUEUE_RE),
        export_max_attempts=r.number("GENMEDIA_EXPORT_MAX_ATTEMPTS", 6, 1, 100),
        export_lease_seconds=r.number("GENMEDIA_EXPORT_LEASE_SECONDS", 1830.0, 1.0, 7200.0),
        erasure_worker_url=_base_url(r, "GENMEDIA_ERASURE_WORKER_URL", k_service is not None),
        erasure_queue=r.text("GENMEDIA_ERASURE_QUEUE", "erasures", _QUEUE_RE),
        purge_url=_base_url(r, "GENMEDIA_PURGE_URL", k_service is not None),
        maintenance_queue=r.text("GENMEDIA_MAINTENANCE_QUEUE", "maintenance", _QUEUE_RE),
        purge_batch_size=r.number("GENMEDIA_PURGE_BATCH_SIZE", 100, 1, 500),
        purge_budget_seconds=r.number("GENMEDIA_PURGE_BUDGET_SECONDS", 240.0, 0.0, 3000.0),
        sweep_pending_after_seconds=r.number(
            "GENMEDIA_SWEEP_PENDING_AFTER_SECONDS", 1800, 1, 86400
        ),
        sweep_job_after_seconds=r.number("GENMEDIA_SWEEP_JOB_AFTER_SECONDS", 7200, 1, 604800),
        sweep_requeue_after_seconds=r.number("GENMEDIA_SWEEP_REQUEUE_AFTER_SECONDS", 600, 1, 86400),
        log_level=r.choice("GENMEDIA_LOG_LEVEL", "INFO", _LOG_LEVELS, upper=True),
        firestore_emulator_host=r.opt("FIRESTORE_EMULATOR_HOST"),
        storage_emulator_host=r.opt("STORAGE_EMULATOR_HOST"),
        firebase_auth_emulator_host=r.opt("FIREBASE_AUTH_EMULATOR_HOST"),
        cloud_tasks_emulator_host=r.opt("CLOUD_TASKS_EMULATOR_HOST"),
        page_token_keys=_page_token_keys(r, k_service is not None),
    )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def from_environment() -> Settings:
    """Settings from ``os.environ`` (the composition root calls this once per instance)."""
    return load_settings(os.environ)
