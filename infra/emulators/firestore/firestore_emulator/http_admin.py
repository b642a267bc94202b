"""HTTP/1.1 admin endpoint: health check and the official emulator's reset call."""

import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

RESET_PATH = re.compile(r"^/emulator/v1/projects/([^/]+)/databases/([^/]+)/documents/?$")
Reset = Callable[[str, str], None]


class AdminServer(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR: a restart binds its port while the last run's closed connections sit in
    # TIME_WAIT. A port another process listens on is still refused (Linux needs
    # SO_REUSEPORT for that, which stays off), so a taken port still fails fast.
    allow_reuse_address = True

    def __init__(self, host: str, port: int, reset: Reset) -> None:
        self.reset = reset
        super().__init__((host, port), _Handler)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="firestore-http", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: AdminServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/":
            self._reply(200, "Ok")
        else:
            self._reply(404, "Not Found")

    def do_DELETE(self) -> None:
        match = RESET_PATH.match(self.path.split("?", 1)[0])
        if match is None:
            self._reply(404, "Not Found")
            return
        self.server.reset(unquote(match.group(1)), unquote(match.group(2)))
        self._reply(200, "{}", "application/json")

    def _reply(self, status: int, body: str, content_type: str = "text/plain") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return
