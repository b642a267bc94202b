"""The studio's headers are declared twice, for the local gateway (infra/local/webapp.py) and
for the load balancer's web bucket (terraform/web.tf): parsed here, they must agree, with
Google's origins in production where the stack has its emulators."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2

from infra.local.webapp import CONTENT_TYPES, StaticFile, content_security_policy, local_webapp

WEB_TF = Path(__file__).resolve().parents[4] / "terraform" / "web.tf"


def _locals() -> dict[str, Any]:
    with WEB_TF.open() as f:
        parsed = hcl2.load(f)
    return {k: v for block in parsed["locals"] for k, v in block.items()}


def test_production_csp_is_the_local_one_with_googles_origins() -> None:
    expression = _locals()["web_csp"]
    directives = re.findall(r'"([a-z-]+ [^"]+)"', expression)
    production = content_security_policy("https://storage.googleapis.com", None)
    assert "; ".join(directives) == production
    assert "unsafe-inline" not in production and "frame-ancestors 'none'" in production


def test_production_sends_the_same_security_headers() -> None:
    declared = [h.strip('"') for h in _locals()["web_headers"]]
    production = dict(h.split(": ", 1) for h in declared)
    local = local_webapp("demo-x", "127.0.0.1:1", "http://127.0.0.1:2").headers(
        StaticFile(b"", "text/plain", "no-store")
    )
    assert production.pop("Content-Security-Policy") == "${local.web_csp}"
    assert production == {
        k: v
        for k, v in local.items()
        if k not in ("Content-Type", "Cache-Control", "Content-Security-Policy")
    }


def test_production_content_types_are_the_local_ones() -> None:
    types = {k: v.strip('"') for k, v in _locals()["web_types"].items()}
    assert {f".{ext}": value for ext, value in types.items()} == CONTENT_TYPES
