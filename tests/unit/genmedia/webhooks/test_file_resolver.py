"""The test-only resolver the local stack's SSRF tests steer: read on every lookup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genmedia.webhooks.file_resolver import FileResolver


def test_names_resolve_from_the_file_as_it_is_now(tmp_path: Path) -> None:
    table = tmp_path / "hosts.json"
    table.write_text(json.dumps({"hooks.example": ["93.184.216.34"]}))
    resolver = FileResolver(str(table))
    assert resolver.resolve("Hooks.Example.", 443) == ["93.184.216.34"]
    table.write_text(json.dumps({"hooks.example": ["127.0.0.1"]}))  # rebinding, as DNS can
    assert resolver.resolve("hooks.example", 443) == ["127.0.0.1"]


@pytest.mark.parametrize("content", [None, "not json", "{}"])
def test_unknown_names_and_unreadable_files_do_not_resolve(
    tmp_path: Path, content: str | None
) -> None:
    table = tmp_path / "hosts.json"
    if content is not None:
        table.write_text(content)
    with pytest.raises(OSError):
        FileResolver(str(table)).resolve("hooks.example", 443)
