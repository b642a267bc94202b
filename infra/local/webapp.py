"""The web studio on the gateway's origin: the files Vite built into ``web/dist`` and the
Firebase configuration the app starts from (``/config.json``), as the production hosting serves
them. Only regular files under the build directory, with a known type, are ever answered:
no directory listings, no dotfiles, no path that leaves the directory however it is spelled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
# Vite names every built file under assets/ after its content hash: a name never changes content.
IMMUTABLE = "public, max-age=31536000, immutable"


def content_security_policy(media_origin: str, auth_origin: str | None) -> str:
    """No inline script or style anywhere; images and videos come from signed Storage URLs,
    and the Firebase SDK talks to Google's Identity Toolkit (or, locally, the Auth emulator)."""
    connect = ["'self'", auth_origin] if auth_origin else [
        "'self'", "https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com",
    ]  # fmt: skip
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' {media_origin}",
            f"media-src 'self' {media_origin}",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class WebApp:
    root: Path
    config: dict[str, object]
    csp: str

    def headers(self, file: StaticFile) -> dict[str, str]:
        return {
            "Content-Type": file.content_type,
            "Cache-Control": file.cache_control,
            "Content-Security-Policy": self.csp,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
            "Cross-Origin-Opener-Policy": "same-origin",
        }

    def find(self, raw_path: str) -> StaticFile | None:
        """The answer for a GET of ``raw_path`` (no query), or None when there is none."""
        if raw_path == "/config.json":
            return StaticFile(json.dumps(self.config).encode(), "application/json", "no-store")
        relative = "index.html" if raw_path == "/" else unquote(raw_path).removeprefix("/")
        file = self._file(relative)
        if file is None:
            return None
        cache = IMMUTABLE if relative.startswith("assets/") else "no-cache"
        return StaticFile(file.read_bytes(), CONTENT_TYPES[file.suffix], cache)

    def _file(self, relative: str) -> Path | None:
        parts = relative.split("/")
        # Every segment a plain name: no "", ".", "..", dotfiles, backslashes or NULs, so
        # nothing names a directory, a parent, or a hidden file, whatever the encoding was.
        if any(not p or p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
            return None
        root = self.root.resolve()
        try:
            file = root.joinpath(*parts).resolve()
        except (OSError, ValueError):
            return None
        if not file.is_relative_to(root) or not file.is_file() or file.suffix not in CONTENT_TYPES:
            return None
        return file


def local_webapp(project_id: str, auth_host: str, storage_origin: str, root: Path = DIST) -> WebApp:
    """The app as the local stack serves it: Firebase pointed at the Auth emulator."""
    auth_origin = f"http://{auth_host}"
    config: dict[str, object] = {
        "apiKey": "local-emulator-key",  # the emulator accepts any key
        "projectId": project_id,
        "authEmulatorUrl": auth_origin,
    }
    return WebApp(root, config, content_security_policy(storage_origin, auth_origin))
