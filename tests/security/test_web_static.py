"""The web studio as the gateway serves it: the built files and /config.json with the app's
security headers (a CSP without 'unsafe-inline'), and nothing else, however a path is spelled."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.local.webapp import DIST, local_webapp
from tests.security.test_gateway import problem_of, request, send


@pytest.fixture(scope="module")
def base(stack_info: dict[str, Any]) -> str:
    assert (DIST / "index.html").is_file(), "web/dist is not built: run make setup"
    return str(stack_info["gateway"])


def assert_app_headers(headers: dict[str, str], storage: str) -> None:
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    # Signed URLs in <img> and <video> point at Storage (locally the emulator).
    assert f"http://{storage}" in directives["img-src"].split()
    assert f"http://{storage}" in directives["media-src"].split()
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_app_is_served_at_the_root_with_its_security_headers(
    base: str, stack_info: dict[str, Any]
) -> None:
    status, headers, body = send(base, request("GET", "/"))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert_app_headers(headers, stack_info["storage_emulator"])
    assert b'<div id="app">' in body and b"<script>" not in body  # no inline script
    script = re.search(rb'src="(/assets/[^"]+\.js)"', body)
    assert script is not None
    path = script.group(1).decode()
    status, headers, js = send(base, request("GET", path))
    assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "immutable" in headers["Cache-Control"] and js == (DIST / path[1:]).read_bytes()


def test_config_points_the_firebase_sdk_at_the_auth_emulator(
    base: str, stack_info: dict[str, Any]
) -> None:
    status, headers, body = send(base, request("GET", "/config.json"))
    assert status == 200 and headers["Content-Type"] == "application/json"
    config = json.loads(body)
    assert config["projectId"] == stack_info["project_id"]
    assert config["authEmulatorUrl"] == "http://" + stack_info["auth_emulator"]
    assert config["apiKey"]
    csp = headers["Content-Security-Policy"]
    assert f"connect-src 'self' http://{stack_info['auth_emulator']}" in csp


def test_head_answers_headers_only(base: str) -> None:
    status, headers, body = send(base, request("HEAD", "/"))
    assert status == 200 and int(headers["Content-Length"]) > 0 and body == b""


ESCAPES = [
    "/../README.md",
    "/..%2fMakefile",
    "/%2e%2e/Makefile",
    "/assets/../../Makefile",
    "/assets/%2e%2e/%2e%2e/Makefile",
    "/assets/..%2f..%2fpackage.json",
    "/%2e%2e%5cMakefile",
    "/assets\\..\\..\\Makefile",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/.built",
    "/assets/",
    "/assets",
    "/index.html%00.js",
    "/../node_modules/firebase/package.json",
    "/nowhere.html",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_nothing_outside_the_build_is_served(base: str, path: str) -> None:
    answer = send(base, request("GET", path))
    problem_of(answer, 404, "NOT_FOUND")
    assert b"GenMedia" not in answer[2] and b"root:" not in answer[2]


def test_only_get_and_head_read_files(base: str) -> None:
    problem_of(send(base, request("POST", "/", "Content-Length: 0")), 404, "NOT_FOUND")
    problem_of(send(base, request("DELETE", "/index.html")), 404, "NOT_FOUND")


def test_a_symlink_out_of_the_build_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<p>app</p>")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "assets" / "leak.txt").symlink_to(secret)
    (root / "assets" / "dir.js").mkdir()
    app = local_webapp("demo-x", "127.0.0.1:1", "http://127.0.0.1:2", root)
    assert app.find("/assets/leak.txt") is None
    assert app.find("/assets/dir.js") is None
    index = app.find("/")
    assert index is not None and index.body == b"<p>app</p>" and index.cache_control == "no-cache"
