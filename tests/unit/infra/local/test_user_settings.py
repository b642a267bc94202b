"""`make dev` function settings: GENMEDIA_* from .env and the environment, wiring kept."""

from __future__ import annotations

from pathlib import Path

from infra.local.stack import user_settings


def test_settings_come_from_the_file_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# my local quotas\n"
        "GENMEDIA_QUOTA_IMAGES_PER_DAY=5\n"
        'GENMEDIA_IMAGE_PROVIDER="local"\n'
        "GENMEDIA_RATE_LIMIT_BURST=3\n"
        "OTHER=ignored\n"
    )
    settings, ignored = user_settings(
        {"GENMEDIA_RATE_LIMIT_BURST": "7", "PATH": "/usr/bin", "GENMEDIA_PORT_GATEWAY": "9000"},
        env_file,
    )
    assert settings == {
        "GENMEDIA_QUOTA_IMAGES_PER_DAY": "5",
        "GENMEDIA_IMAGE_PROVIDER": "local",
        "GENMEDIA_RATE_LIMIT_BURST": "7",
    }
    assert ignored == []


def test_what_the_stack_wires_itself_is_ignored_and_named(tmp_path: Path) -> None:
    settings, ignored = user_settings(
        {"GENMEDIA_MEDIA_BUCKET": "mine", "GENMEDIA_PAGE_TOKEN_KEY": "x" * 40},
        tmp_path / "missing.env",
    )
    assert settings == {}
    assert ignored == ["GENMEDIA_MEDIA_BUCKET", "GENMEDIA_PAGE_TOKEN_KEY"]
