"""Instance start-up: validate settings once and configure structured logging.

Called when ``main.py`` is imported, so a misconfigured instance (including one that would honour
an emulator variable in production) fails at start instead of serving requests.
"""

from __future__ import annotations

from genmedia.config import Settings, get_settings
from genmedia.logging import configure_logging


def boot() -> Settings:
    settings = get_settings()
    configure_logging(settings.function_name, settings.project_id, settings.log_level)
    return settings
