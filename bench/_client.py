"""The load driver: sends a list of HTTP requests from its own process and reports each one.

Run by the scenarios as a child process, so its CPU and GIL never compete with the gateway,
which runs inside the benchmark's process as it does in ``make dev``. Reads one JSON document
on stdin: ``{"clients": N, "rate": R or null, "requests": [{"method", "url", "headers",
"json", "tag", "keep_body"}...]}``. ``clients`` threads, one keep-alive ``requests.Session``
each, take the requests in order; with ``rate`` (requests/s) request i is not sent before
``i / rate`` seconds (an open-loop steady rate, for the soak), otherwise as fast as answered.
Writes one JSON document on stdout: per request its tag, start offset and latency (s), status,
problem ``code``, ``Retry-After``, content type, SHA-256 of the body (and the body when asked),
or the transport error's name.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from typing import Any

import requests


def _one(session: requests.Session, spec: dict[str, Any], began: float) -> dict[str, Any]:
    start = time.perf_counter()
    out: dict[str, Any] = {"tag": spec.get("tag", ""), "t": start - began}
    try:
        resp = session.request(
            spec["method"],
            spec["url"],
            headers=spec.get("headers") or {},
            json=spec.get("json"),
            timeout=spec.get("timeout", 120),
        )
    except requests.RequestException as exc:
        out.update(latency=time.perf_counter() - start, status=0, error=type(exc).__name__)
        return out
    body = resp.content
    out.update(
        latency=time.perf_counter() - start,
        status=resp.status_code,
        content_type=resp.headers.get("Content-Type", ""),
        retry_after=resp.headers.get("Retry-After"),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    if "problem+json" in out["content_type"]:
        try:
            out["code"] = json.loads(body).get("code")
        except ValueError:
            out["code"] = "UNPARSEABLE"
    if spec.get("keep_body"):
        out["body"] = body.decode("utf-8", "replace")
    return out


def drive(plan: dict[str, Any]) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = plan["requests"]
    rate: float | None = plan.get("rate")
    results: list[dict[str, Any] | None] = [None] * len(specs)
    cursor = iter(range(len(specs)))
    lock = threading.Lock()
    began = time.perf_counter()

    def worker() -> None:
        session = requests.Session()
        session.trust_env = False  # loopback only: no proxies, no netrc
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            if rate:
                time.sleep(max(0.0, began + index / rate - time.perf_counter()))
            results[index] = _one(session, specs[index], began)

    threads = [threading.Thread(target=worker) for _ in range(int(plan["clients"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def main() -> None:
    plan = json.load(sys.stdin)
    json.dump({"results": drive(plan)}, sys.stdout)


if __name__ == "__main__":
    main()
