"""The web console's built assets (``console/`` in the repository, bundled by esbuild into
``dist/`` and committed): served by the API at ``/`` and ``/console/*``, locally and in AWS."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8", ".json": "application/json"}
ASSETS = ("index.html", "app.js", "app.css", "manifest.json")


@lru_cache(maxsize=8)
def asset(name: str) -> tuple[bytes, str] | None:
    """(bytes, content type) of one built asset, or None."""
    if name not in ASSETS:
        return None
    path = resources.files("dd0c_cost.console") / "dist" / name
    if not path.is_file():
        return None
    return path.read_bytes(), _TYPES[name[name.rfind("."):]]
