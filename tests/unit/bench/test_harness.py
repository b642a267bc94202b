"""The bench harness's own plumbing (no stack, no timing): the load driver's report of what
clients saw, and the results files `make bench` writes."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"
sys.path.insert(0, str(BENCH))

from _drive import drive, summary  # noqa: E402
from _report import Check, ScenarioResult, Series, Table  # noqa: E402
from run import write  # noqa: E402


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/busy":
            body, status, kind = b'{"code": "UNAVAILABLE"}', 503, "application/problem+json"
        else:
            body, status, kind = b"ok", 200, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if status == 503:
            self.send_header("Retry-After", "3")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_the_driver_reports_every_answer_and_its_problem_code(server: str) -> None:
    plan = [{"method": "GET", "url": f"{server}/ok", "tag": "ok", "keep_body": True}] * 6
    plan += [{"method": "GET", "url": f"{server}/busy", "tag": "busy"}] * 2
    block = drive(None, plan, clients=3)
    assert len(block.results) == 8
    busy = [r for r in block.results if r["tag"] == "busy"]
    assert all(r["code"] == "UNAVAILABLE" and r["retry_after"] == "3" for r in busy)
    assert {r["body"] for r in block.results if r["tag"] == "ok"} == {"ok"}
    figures = summary(block.results, block.wall_s)
    assert figures["outcomes"] == {"200": 6, "503 UNAVAILABLE": 2}
    assert figures["server_errors"] == 2


def test_a_refused_connection_is_an_outcome_not_a_crash() -> None:
    block = drive(None, [{"method": "GET", "url": "http://127.0.0.1:9/", "tag": "x"}], 1)
    assert block.results[0]["status"] == 0
    assert summary(block.results, 1.0)["outcomes"] == {"ConnectionError": 1}


def test_results_are_written_as_markdown_json_and_plots(tmp_path: Path) -> None:
    result = ScenarioResult("load")
    result.tables.append(Table("Latency", ["block", "p95 ms"], [["cheap", 12.5], None]))
    result.checks += [
        Check("no 5xx", True),
        Check("p95 < 1 s", False, "1200 ms"),
        Check("gap", None),
    ]
    result.series.append(Series("RSS", "MiB", {"library": [(0.0, 70.0), (5.0, 71.0)]}))
    header = {"date": "2026-12-06", "commit": "abc1234", "machine": "2 cores"}
    md = write([result], tmp_path, header).read_text()
    assert "| cheap | 12.50 |" in md
    assert "- **FAIL** p95 < 1 s: 1200 ms" in md and "- **GAP** gap" in md
    assert "| load | 1 | 1 | 1 |" in md
    png = tmp_path / "2026-12-06-abc1234-load-1.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    saved = json.loads((tmp_path / "2026-12-06-abc1234.json").read_text())
    assert saved["scenarios"]["load"]["checks"][1]["ok"] is False
