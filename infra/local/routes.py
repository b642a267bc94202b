"""The public routing table (functions/routes.json), shared by the gateway and Terraform."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROUTES_FILE = Path(__file__).resolve().parents[2] / "functions" / "routes.json"


@dataclass(frozen=True)
class Route:
    match: str
    path: str
    function: str

    def matches(self, path: str) -> bool:
        if self.match == "exact":
            return path == self.path
        if self.match == "prefix":
            return path.startswith(self.path)
        return re.fullmatch(self.path, path) is not None


@dataclass(frozen=True)
class RoutingTable:
    functions: dict[str, dict[str, object]]
    routes: tuple[Route, ...]

    def resolve(self, path: str) -> str | None:
        """Function serving ``path``; the first matching rule wins, as in the URL map."""
        return next((r.function for r in self.routes if r.matches(path)), None)

    @property
    def public_functions(self) -> set[str]:
        return {r.function for r in self.routes}


def load_routes(path: Path = ROUTES_FILE) -> RoutingTable:
    data = json.loads(path.read_text())
    routes = tuple(Route(r["match"], r["path"], r["function"]) for r in data["routes"])
    for route in routes:
        if route.match not in ("exact", "prefix", "regex"):
            raise ValueError(f"{path}: unknown match type {route.match!r}")
        if route.function not in data["functions"]:
            raise ValueError(f"{path}: route {route.path} names unknown function {route.function}")
    return RoutingTable(functions=data["functions"], routes=routes)
