"""Retry: full jitter, the deadline, Retry-After hints and what counts as retryable."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest

from genmedia.errors import ContentBlocked, InvalidArgument, ProviderError, ProviderUnavailable
from genmedia.retry import is_retryable, retry_call
from tests.fakes.clock import FakeClock


class Flaky:
    """Fails with the given errors in order, then returns "ok"."""

    def __init__(self, *errors: BaseException, clock: FakeClock | None = None) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.clock = clock

    def __call__(self) -> str:
        self.calls += 1
        if self.clock is not None:
            self.clock.mono += 0.01  # every call takes a little time
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
    assert clock.slept == pytest.approx([0.2, 0.4, 0.8, 1.0])


@pytest.mark.parametrize("r", [0.0, 0.25, 0.999])
def test_full_jitter_scales_the_whole_delay(r: float) -> None:
    clock = FakeClock()
    run(Flaky(retryable(), retryable(), retryable()), clock, rand=r, base_delay_s=0.5)
    assert clock.slept == pytest.approx([r * 0.5, r * 1.0, r * 2.0])
    assert all(0 <= d <= 5.0 for d in clock.slept)


def test_random_jitter_stays_within_bounds() -> None:
    clock = FakeClock()
    errors = [retryable() for _ in range(9)]
    retry_call(
        Flaky(*errors), deadline_s=1e9, max_attempts=10, sleep=clock.sleep, clock=clock,
        base_delay_s=0.2, max_delay_s=5.0,
    )  # fmt: skip
    for attempt, delay in enumerate(clock.slept):
        assert 0 <= delay <= min(5.0, 0.2 * 2**attempt)


def test_max_attempts_reraises_last_error() -> None:
    clock = FakeClock()
    last = ProviderError("third", retryable=True)
    fn = Flaky(retryable(), retryable(), last, retryable())
    with pytest.raises(ProviderError) as info:
        run(fn, clock, max_attempts=3)
    assert info.value is last and fn.calls == 3 and len(clock.slept) == 2


def test_never_sleeps_past_deadline() -> None:
    clock = FakeClock()
    start = clock.mono
    fn = Flaky(*[retryable() for _ in range(50)], clock=clock)
    with pytest.raises(ProviderError):
        run(fn, clock, rand=1.0, deadline_s=3.0, max_attempts=50, base_delay_s=0.5, max_delay_s=5.0)
    assert clock.mono - start <= 3.0
    # 0.5 + 1.0 fit, 2.0 more would end past the deadline: give up instead of sleeping.
    assert clock.slept == pytest.approx([0.5, 1.0])


def test_non_retryable_is_raised_immediately() -> None:
    clock = FakeClock()
    for error in (ValueError("x"), ContentBlocked("no"), ProviderError("bad", retryable=False)):
        fn = Flaky(error)
        with pytest.raises(type(error)):
            run(fn, clock)
        assert fn.calls == 1
    assert clock.slept == []


def test_retry_after_hint_is_respected_within_deadline() -> None:
    clock = FakeClock()
    hinted = retryable()
    hinted.retry_after = 4  # type: ignore[attr-defined]
    assert run(Flaky(hinted), clock, rand=0.0) == "ok"
    assert clock.slept == [4.0]
    too_long = retryable()
    too_long.retry_after = 60  # type: ignore[attr-defined]
    fn = Flaky(too_long)
    with pytest.raises(ProviderError):
        run(fn, clock, rand=0.0, deadline_s=10.0)
    assert fn.calls == 1 and clock.slept == [4.0]


def test_retry_after_header_on_response() -> None:
    class Resp:
        status_code = 429
        headers = {"Retry-After": "2"}

    class HTTPError(Exception):
        response = Resp()

    clock = FakeClock()
    assert run(Flaky(HTTPError()), clock, rand=0.0) == "ok"
    assert clock.slept == [2.0]


def test_retry_logs_class_not_text(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    secret = ProviderError("token=sk-123 leaked in provider text", retryable=True, status=503)
    run(Flaky(secret), clock)
    record = next(r for r in caplog.records if r.name == "genmedia.retry")
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
        fake_exception("google.api_core.exceptions", "Cancelled", code=499),
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

    retryable = ("UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "ABORTED", "INTERNAL")
    for name in (*retryable, "CANCELLED"):
        assert is_retryable(rpc(name)), name
    for name in ("INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED", "UNAUTHENTICATED"):
        assert not is_retryable(rpc(name)), name


def test_real_google_api_core_classes() -> None:
    exceptions = importlib.import_module("google.api_core.exceptions")
    assert is_retryable(exceptions.ServiceUnavailable("x"))
    assert is_retryable(exceptions.Aborted("x"))
    assert is_retryable(exceptions.DeadlineExceeded("x"))
    assert is_retryable(exceptions.Cancelled("Stream removed"))  # a server cut the call
    assert not is_retryable(exceptions.NotFound("x"))
    assert not is_retryable(exceptions.FailedPrecondition("x"))


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
