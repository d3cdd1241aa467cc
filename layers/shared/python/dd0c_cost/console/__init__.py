"""The web console's built assets (``console/`` in the repository, bundled by esbuild into
``dist/`` and committed) and the vendored API viewer (``dist/docs/``): served by the API at
``/``, ``/console/*`` and ``/docs``, locally and in AWS."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    "": "text/plain; charset=utf-8",
}
ASSETS = frozenset(
    {
        "index.html",
        "app.js",
        "app.css",
        "manifest.json",
        "docs/index.html",
        "docs/init.js",
        "docs/swagger-ui-bundle.js",
        "docs/swagger-ui.css",
        "docs/LICENSE",
        "docs/NOTICE",
    }
)


@lru_cache(maxsize=16)
def asset(name: str) -> tuple[bytes, str] | None:
    """(bytes, content type) of one built asset, or None (only the names above are served)."""
    if name not in ASSETS:
        return None
    path = resources.files("dd0c_cost.console").joinpath("dist", *name.split("/"))
    if not path.is_file():
        return None
    leaf = name.rsplit("/", 1)[-1]
    return path.read_bytes(), _TYPES[leaf[leaf.rfind(".") :] if "." in leaf else ""]
