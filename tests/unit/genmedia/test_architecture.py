"""The layering the code relies on, checked: services and policy know nothing of HTTP, and only
store/ touches Firestore. A change that breaks a rule fails here, naming the module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit._helpers import modules_after

PACKAGE = Path(__file__).resolve().parents[3] / "functions" / "genmedia"
HTTP_FREE = [
    "genmedia.services.generate_image",
    "genmedia.services.issue_signed_url",
    "genmedia.services.library",
    "genmedia.services.library_trash",
    "genmedia.services.admin",
    "genmedia.services.health",
    "genmedia.quotas",
    "genmedia.idempotency",
    "genmedia.moderation",
    "genmedia.ratelimit",
    "genmedia.bootstrap",
    "genmedia.store.database",
    "genmedia.media",
    "genmedia.principal",
]


def imported_by(module: str) -> list[str]:
    return modules_after(f"import {module}", {**os.environ, "PYTHONPATH": str(PACKAGE.parent)})


@pytest.mark.parametrize("module", HTTP_FREE)
def test_services_and_policy_do_not_import_http(module: str) -> None:
    loaded = imported_by(module)
    offending = [m for m in loaded if m.split(".")[0] in ("flask", "werkzeug")]
    offending += [m for m in loaded if m == "genmedia.http" or m.startswith("genmedia.http.")]
    assert offending == [], f"{module} pulls in {offending}"


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_store_touches_firestore(path: Path) -> None:
    relative = path.relative_to(PACKAGE).as_posix()
    source = path.read_text()
    if relative.startswith("store/") or relative == "bootstrap.py":
        return  # the repositories, and the root that creates the client
    assert "from google.cloud import firestore" not in source, relative
    assert ".collection(" not in source, relative
    assert ".transaction()" not in source and "transactional" not in source, relative


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_config_reads_the_environment(path: Path) -> None:
    if path.name == "config.py":
        return
    source = path.read_text()
    assert "os.environ" not in source and "os.getenv" not in source, path.name
