"""Retry (full jitter, deadline, retryability) and the circuit breaker, with a fake clock."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import pytest

from genmedia import config, resilience
from genmedia.errors import ContentBlocked, InvalidArgument, ProviderError, ProviderUnavailable
from genmedia.resilience import CircuitBreaker, is_retryable, retry_call


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Flaky:
    """Fails with the given errors in order, then returns "ok"."""

    def __init__(self, *errors: BaseException, clock: FakeClock | None = None) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.clock = clock

    def __call__(self) -> str:
        self.calls += 1
        if self.clock is not None:
            self.clock.now += 0.01  # every call takes a little time
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def retryable() -> ProviderError:
    return ProviderError("upstream 503", retryable=True, status=503)


def run(fn: Callable[[], Any], clock: FakeClock, rand: float = 1.0, **kw: Any) -> Any:
    options: dict[str, Any] = {"deadline_s": 30.0, "max_attempts": 5, **kw}
    return retry_call(fn, sleep=clock.sleep, clock=clock, rand=lambda: rand, op="test", **options)


# --- retry ------------------------------------------------------------------------------------


def test_retries_until_success_with_exponential_cap() -> None:
    clock = FakeClock()
    fn = Flaky(retryable(), retryable(), retryable(), retryable())
    assert run(fn, clock, rand=1.0, base_delay_s=0.2, max_delay_s=1.0) == "ok"
    assert fn.calls == 5
    assert clock.sleeps == pytest.approx([0.2, 0.4, 0.8, 1.0])


@pytest.mark.parametrize("r", [0.0, 0.25, 0.999])
def test_full_jitter_scales_the_whole_delay(r: float) -> None:
    clock = FakeClock()
    run(Flaky(retryable(), retryable(), retryable()), clock, rand=r, base_delay_s=0.5)
    assert clock.sleeps == pytest.approx([r * 0.5, r * 1.0, r * 2.0])
    assert all(0 <= d <= 5.0 for d in clock.sleeps)


def test_random_jitter_stays_within_bounds() -> None:
    clock = FakeClock()
    errors = [retryable() for _ in range(9)]
    retry_call(
        Flaky(*errors), deadline_s=1e9, max_attempts=10, sleep=clock.sleep, clock=clock,
        base_delay_s=0.2, max_delay_s=5.0,
    )  # fmt: skip
    for attempt, delay in enumerate(clock.sleeps):
        assert 0 <= delay <= min(5.0, 0.2 * 2**attempt)


def test_max_attempts_reraises_last_error() -> None:
    clock = FakeClock()
    last = ProviderError("third", retryable=True)
    fn = Flaky(retryable(), retryable(), last, retryable())
    with pytest.raises(ProviderError) as info:
        run(fn, clock, max_attempts=3)
    assert info.value is last and fn.calls == 3 and len(clock.sleeps) == 2


def test_never_sleeps_past_deadline() -> None:
    clock = FakeClock()
    start = clock.now
    fn = Flaky(*[retryable() for _ in range(50)], clock=clock)
    with pytest.raises(ProviderError):
        run(fn, clock, rand=1.0, deadline_s=3.0, max_attempts=50, base_delay_s=0.5, max_delay_s=5.0)
    assert clock.now - start <= 3.0
    # 0.5 + 1.0 fit, 2.0 more would end past the deadline: give up instead of sleeping.
    assert clock.sleeps == pytest.approx([0.5, 1.0])


def test_non_retryable_is_raised_immediately() -> None:
    clock = FakeClock()
    for error in (ValueError("x"), ContentBlocked("no"), ProviderError("bad", retryable=False)):
        fn = Flaky(error)
        with pytest.raises(type(error)):
            run(fn, clock)
        assert fn.calls == 1
    assert clock.sleeps == []


def test_retry_after_hint_is_respected_within_deadline() -> None:
    clock = FakeClock()
    hinted = retryable()
    hinted.retry_after = 4  # type: ignore[attr-defined]
    assert run(Flaky(hinted), clock, rand=0.0) == "ok"
    assert clock.sleeps == [4.0]
    too_long = retryable()
    too_long.retry_after = 60  # type: ignore[attr-defined]
    fn = Flaky(too_long)
    with pytest.raises(ProviderError):
        run(fn, clock, rand=0.0, deadline_s=10.0)
    assert fn.calls == 1 and clock.sleeps == [4.0]


def test_retry_after_header_on_response() -> None:
    class Resp:
        status_code = 429
        headers = {"Retry-After": "2"}

    class HTTPError(Exception):
        response = Resp()

    clock = FakeClock()
    assert run(Flaky(HTTPError()), clock, rand=0.0) == "ok"
    assert clock.sleeps == [2.0]


def test_retry_logs_class_not_text(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    secret = ProviderError("token=sk-123 leaked in provider text", retryable=True, status=503)
    run(Flaky(secret), clock)
    record = next(r for r in caplog.records if r.name == "genmedia.resilience")
    assert record.levelname == "WARNING"
    fields = record.json_fields  # type: ignore[attr-defined]
    assert fields["op"] == "test" and fields["attempt"] == 1
    assert fields["error_class"].endswith("ProviderError") and fields["error_status"] == 503
    assert "sk-123" not in record.getMessage() and "sk-123" not in str(fields)


# --- is_retryable -----------------------------------------------------------------------------


def fake_exception(module: str, name: str, base: type[Exception] = Exception, **attrs: Any) -> Any:
    cls = type(name, (base,), {"__module__": module, **attrs})
    return cls("x")


@pytest.mark.parametrize(
    "exc",
    [
        ProviderError("x", retryable=True),
        ConnectionResetError(),
        ConnectionError(),
        TimeoutError(),
        fake_exception("google.api_core.exceptions", "ServiceUnavailable", code=503),
        fake_exception("google.api_core.exceptions", "TooManyRequests", code=429),
        fake_exception("google.api_core.exceptions", "ResourceExhausted", code=429),
        fake_exception("google.api_core.exceptions", "InternalServerError", code=500),
        fake_exception("google.api_core.exceptions", "GatewayTimeout", code=504),
        fake_exception("google.api_core.exceptions", "DeadlineExceeded", code=504),
        fake_exception("google.api_core.exceptions", "Aborted", code=409),
        fake_exception("requests.exceptions", "ConnectionError", base=OSError),
        fake_exception("requests.exceptions", "Timeout", base=OSError),
        fake_exception("httpx._exceptions", "ConnectTimeout", base=fake_exception(
            "httpx._exceptions", "TimeoutException").__class__),
        fake_exception("httpx._exceptions", "ReadError", base=fake_exception(
            "httpx._exceptions", "NetworkError").__class__),
        fake_exception("some.sdk", "ServerError", code=502),
        fake_exception("some.sdk", "HTTPError", status_code=503),
        fake_exception("some.sdk", "ApiError", status=429),
    ],
)  # fmt: skip
def test_retryable_errors(exc: BaseException) -> None:
    assert is_retryable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ProviderError("x", retryable=False),
        ContentBlocked("blocked"),
        InvalidArgument("bad"),
        ProviderUnavailable("open"),  # our own breaker rejection must not be retried
        ValueError("x"),
        KeyError("x"),
        fake_exception("google.api_core.exceptions", "NotFound", code=404),
        fake_exception("google.api_core.exceptions", "PermissionDenied", code=403),
        fake_exception("google.api_core.exceptions", "InvalidArgument", code=400),
        fake_exception("httpx._exceptions", "UnsupportedProtocol"),
        fake_exception("some.sdk", "ClientError", code=400),
        fake_exception("some.sdk", "Weird", code=True),
    ],
)
def test_non_retryable_errors(exc: BaseException) -> None:
    assert not is_retryable(exc)


def test_grpc_status_codes() -> None:
    class Code:
        def __init__(self, name: str) -> None:
            self.name = name

    rpc_base = type("RpcError", (Exception,), {"__module__": "grpc"})

    def rpc(name: str) -> BaseException:
        cls = type("_InactiveRpcError", (rpc_base,), {"__module__": "grpc._channel"})
        err: Any = cls()
        err.code = lambda: Code(name)
        return err  # type: ignore[no-any-return]

    for name in ("UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "ABORTED", "INTERNAL"):
        assert is_retryable(rpc(name)), name
    for name in ("INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED", "UNAUTHENTICATED"):
        assert not is_retryable(rpc(name)), name


def test_real_google_api_core_classes() -> None:
    exceptions = importlib.import_module("google.api_core.exceptions")
    assert is_retryable(exceptions.ServiceUnavailable("x"))
    assert is_retryable(exceptions.Aborted("x"))
    assert is_retryable(exceptions.DeadlineExceeded("x"))
    assert not is_retryable(exceptions.NotFound("x"))
    assert not is_retryable(exceptions.FailedPrecondition("x"))


# --- circuit breaker --------------------------------------------------------------------------


def failing() -> str:
    raise retryable()


def trip(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ProviderError):
            breaker.call(failing)


def test_breaker_opens_after_consecutive_failures_and_rejects_before_calling() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("imagen", failure_threshold=3, reset_timeout_s=30, clock=clock)
    trip(breaker, 2)
    assert breaker.call(lambda: "ok") == "ok"  # success resets the streak
    trip(breaker, 2)
    assert breaker.state == "closed"
    trip(breaker, 1)
    assert breaker.state == "open"
    called: list[int] = []
    clock.now += 10.2
    with pytest.raises(ProviderUnavailable) as info:
        breaker.call(lambda: called.append(1))
    assert called == []
    assert info.value.status == 503 and info.value.code == "PROVIDER_UNAVAILABLE"
    assert info.value.headers["Retry-After"] == "20"  # ceil(19.8)
    snap = breaker.snapshot()
    assert snap["state"] == "open" and snap["consecutive_failures"] == 3
    assert snap["open_remaining_s"] == pytest.approx(19.8)


def test_retry_after_is_at_least_one() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=30, clock=clock)
    trip(breaker, 1)
    clock.now += 29.9999
    with pytest.raises(ProviderUnavailable) as info:
        breaker.call(lambda: "x")
    assert info.value.headers["Retry-After"] == "1"


def test_half_open_success_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=2, reset_timeout_s=5, clock=clock)
    trip(breaker, 2)
    clock.now += 5
    assert breaker.state == "half_open"
    assert breaker.call(lambda: "trial") == "trial"
    assert breaker.state == "closed"
    assert breaker.snapshot() == {
        "state": "closed",
        "consecutive_failures": 0,
        "open_remaining_s": 0.0,
    }


def test_half_open_failure_reopens_with_fresh_timeout() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=2, reset_timeout_s=5, clock=clock)
    trip(breaker, 2)
    clock.now += 7
    trip(breaker, 1)
    assert breaker.state == "open"
    assert breaker.snapshot()["open_remaining_s"] == pytest.approx(5.0)
    clock.now += 4.9
    assert breaker.state == "open"
    clock.now += 0.1
    assert breaker.state == "half_open"


def test_client_errors_do_not_trip_and_reset_streak() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=2, reset_timeout_s=5, clock=clock)
    for _ in range(5):
        with pytest.raises(ContentBlocked):
            breaker.call(lambda: (_ for _ in ()).throw(ContentBlocked("no")))
    assert breaker.state == "closed"
    trip(breaker, 1)
    with pytest.raises(ValueError):
        breaker.call(lambda: (_ for _ in ()).throw(ValueError("bug")))
    trip(breaker, 1)
    assert breaker.state == "closed"


def test_non_retryable_provider_error_still_counts() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=5, clock=FakeClock())
    with pytest.raises(ProviderError):
        breaker.call(lambda: (_ for _ in ()).throw(ProviderError("5xx", retryable=False)))
    assert breaker.state == "open"


def test_custom_failure_predicate() -> None:
    breaker = CircuitBreaker(
        "p", 1, 5, clock=FakeClock(), is_failure=lambda e: isinstance(e, KeyError)
    )
    with pytest.raises(ProviderError):
        breaker.call(failing)
    assert breaker.state == "closed"
    with pytest.raises(KeyError):
        breaker.call(lambda: {}["x"])
    assert breaker.state == "open"


def test_exactly_one_trial_in_half_open_under_threads() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=1, clock=clock)
    trip(breaker, 1)
    clock.now += 1
    entered = threading.Event()
    release = threading.Event()
    inside: list[int] = []
    rejected: list[int] = []
    results: list[str] = []

    def trial() -> str:
        inside.append(1)
        entered.set()
        release.wait(5)
        return "done"

    def worker() -> None:
        try:
            results.append(breaker.call(trial))
        except ProviderUnavailable:
            rejected.append(1)

    first = threading.Thread(target=worker)
    first.start()
    assert entered.wait(5)
    others = [threading.Thread(target=worker) for _ in range(16)]
    for t in others:
        t.start()
    for t in others:
        t.join(5)
    release.set()
    first.join(5)
    assert len(inside) == 1 and results == ["done"] and len(rejected) == 16
    assert breaker.state == "closed"


def test_trial_interrupted_by_base_exception_releases_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=1, clock=clock)
    trip(breaker, 1)
    clock.now += 1

    def interrupted() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        breaker.call(interrupted)
    assert breaker.call(lambda: "next trial") == "next trial"


def test_registry_uses_settings_and_reports_states(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-genmedia")
    monkeypatch.setenv("GENMEDIA_MEDIA_BUCKET", "demo-bucket")
    monkeypatch.setenv("GENMEDIA_BREAKER_FAILURE_THRESHOLD", "2")
    monkeypatch.setenv("GENMEDIA_BREAKER_RESET_SECONDS", "12")
    monkeypatch.delenv("K_SERVICE", raising=False)
    config.get_settings.cache_clear()
    resilience.reset_breakers()
    try:
        breaker = resilience.get_breaker("vertex")
        assert resilience.get_breaker("vertex") is breaker
        assert (breaker.failure_threshold, breaker.reset_timeout_s) == (2, 12.0)
        trip(breaker, 2)
        states = resilience.breaker_states()
        assert states["vertex"]["state"] == "open"
        assert 0 < float(states["vertex"]["open_remaining_s"]) <= 12  # type: ignore[arg-type]
    finally:
        resilience.reset_breakers()
        config.get_settings.cache_clear()


def test_real_http_client_classes() -> None:
    httpx = importlib.import_module("httpx")
    requests = importlib.import_module("requests")
    assert is_retryable(httpx.ConnectTimeout("x"))
    assert is_retryable(httpx.ReadError("x"))
    assert is_retryable(httpx.RemoteProtocolError("x"))
    assert not is_retryable(httpx.UnsupportedProtocol("x"))
    assert is_retryable(requests.ConnectionError())
    assert is_retryable(requests.ReadTimeout())
    assert not is_retryable(requests.HTTPError())


def test_real_genai_errors_by_status_code() -> None:
    errors = importlib.import_module("google.genai.errors")
    assert is_retryable(errors.ServerError(503, {"error": {"message": "busy"}}))
    assert is_retryable(errors.ClientError(429, {"error": {"message": "slow down"}}))
    assert not is_retryable(errors.ClientError(400, {"error": {"message": "bad"}}))


def test_retry_defaults_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-genmedia")
    monkeypatch.setenv("GENMEDIA_MEDIA_BUCKET", "demo-bucket")
    monkeypatch.setenv("GENMEDIA_RETRY_MAX_ATTEMPTS", "2")
    monkeypatch.delenv("K_SERVICE", raising=False)
    config.get_settings.cache_clear()
    try:
        clock = FakeClock()
        fn = Flaky(retryable(), retryable(), retryable())
        with pytest.raises(ProviderError):
            retry_call(fn, sleep=clock.sleep, clock=clock, rand=lambda: 0.0)
        assert fn.calls == 2
    finally:
        config.get_settings.cache_clear()
