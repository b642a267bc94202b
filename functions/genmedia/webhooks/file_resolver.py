"""A resolver that reads host names from a JSON file, for tests of the running stack only.

``GENMEDIA_TEST_RESOLVER_FILE`` (refused by config in production) names a file of
``{"host": ["address", ...]}``, read on every lookup, so a test can make a name resolve to a
public address at registration and to 127.0.0.1 at delivery without any DNS server. Names not
in the file do not resolve: no test ever sends a packet beyond loopback.
"""

from __future__ import annotations

import json
from pathlib import Path


class FileResolver:
    def __init__(self, path: str) -> None:
        self._path = Path(path)

    def resolve(self, host: str, port: int) -> list[str]:
        try:
            table = json.loads(self._path.read_text())
        except (OSError, ValueError) as exc:
            raise OSError(f"resolver file unreadable: {exc}") from None
        addresses = table.get(host.rstrip(".").lower())
        if not addresses:
            raise OSError(f"{host} does not resolve")
        return [str(a) for a in addresses]
