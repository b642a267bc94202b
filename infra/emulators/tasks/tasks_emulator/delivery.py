"""Sending one attempt's HTTP request to the task's URL, and nowhere else.

http.client rather than urllib: no proxy from the environment and no redirects, so the
request goes exactly to the task's URL. A redirect counts as a failed attempt.
"""

import http.client
import ssl
from typing import Protocol
from urllib.parse import urlsplit

from .attempts import DEADLINE_EXCEEDED, Result
from .history import Request

# Enough to let a worker finish writing a normal reply; the body itself is not used.
_DRAIN_BYTES = 64 * 1024


class Sender(Protocol):
    def send(self, request: Request, timeout: float) -> Result: ...


class HttpSender:
    def send(self, request: Request, timeout: float) -> Result:
        url = urlsplit(request.url)
        host, port = url.hostname or "", url.port
        connection: http.client.HTTPConnection
        if url.scheme == "https":
            context = ssl.create_default_context()
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        try:
            connection.request(request.method, target, request.body or None, request.headers)
            response = connection.getresponse()
            status = response.status
            _drain(response)
            return Result(status)
        except TimeoutError:
            return Result(None, DEADLINE_EXCEEDED)
        except (OSError, http.client.HTTPException) as exc:
            return Result(None, f"UNAVAILABLE: {type(exc).__name__}: {exc}")
        finally:
            connection.close()


def _drain(response: http.client.HTTPResponse) -> None:
    try:
        response.read(_DRAIN_BYTES)
    except (OSError, http.client.HTTPException):
        return
