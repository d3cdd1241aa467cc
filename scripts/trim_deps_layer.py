"""Trim what the deps layer's packages do at import time and never use (docs/decisions.md: "The deps
layer is trimmed at build time").

Run by ``scripts/build_deps_layer.sh`` on the freshly installed layer, before it is compiled:
``python scripts/trim_deps_layer.py LAYER/python``. Each edit replaces one exact piece of text that
must occur exactly once in its file; if a package upgrade changes the text, the build fails here and
the edit must be looked at again (never applied blindly). Behaviour does not change:

- ``psycopg`` and ``psycopg_binary`` look up their own version with ``importlib.metadata`` on import
  (importing it and its email/zipfile/csv parsers, then scanning every distribution on ``sys.path``);
  the layer writes the version that lookup returns, read from the same ``.dist-info``, as a literal.
- ``psycopg.pq.misc`` imports ``ctypes.util`` (and through it ``subprocess``/``tempfile``) for
  ``find_libpq_full_path``, which only the pure-Python libpq wrapper calls; the binary wrapper the
  layer ships never does. The import moves into that function.
- pydantic imports ``importlib.metadata`` at module level in ``plugin._loader`` (used by
  ``get_plugins`` only when plugins are enabled: the functions run with
  ``PYDANTIC_DISABLE_PLUGINS=__all__``, and the layer has no pydantic plugin) and in ``networks``
  (used only to check the version of ``email-validator``, which the layer does not have). Both
  imports move into the functions that use them.
- ``slack_sdk``'s package and its ``web`` package import ``WebClient`` (one wrapper per Web API
  method, with the views, streaming and webhook modules, ≈ 22 M instructions) on any import of a
  submodule, e.g. the Block Kit models or ``web.base_client``, which is all the functions use to
  post. Both names are resolved on first access instead (a module ``__getattr__``, PEP 562):
  ``from slack_sdk import WebClient`` works as before.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class Edit:
    path: str  # relative to the layer's python/ directory
    old: str
    new: str


def _version_file(distribution: str, version: str) -> Edit:
    module = distribution.replace("-", "_")
    old = (
        "from importlib import metadata\n\n"
        "try:\n"
        f'    __version__ = metadata.version("{distribution}")\n'
        "except metadata.PackageNotFoundError:\n"
        '    __version__ = "0.0.0.0"\n'
    )
    new = f'# Written by scripts/trim_deps_layer.py: what metadata.version("{distribution}") returns.\n__version__ = "{version}"\n'
    return Edit(f"{module}/version.py", old, new)


def layer_versions(layer: Path) -> dict[str, str]:
    """Each distribution's version in the layer, by its normalised name (what metadata.version says)."""
    return {d.metadata["Name"].lower().replace("_", "-"): d.version for d in metadata.distributions(path=[str(layer)])}


def edits(versions: dict[str, str]) -> list[Edit]:
    return [
        _version_file("psycopg", versions.get("psycopg", "")),
        _version_file("psycopg-binary", versions.get("psycopg-binary", "")),
        Edit(
            "psycopg/pq/misc.py",
            "import ctypes.util\n",
            "",
        ),
        Edit(
            "psycopg/pq/misc.py",
            "def find_libpq_full_path() -> str | None:\n",
            "def find_libpq_full_path() -> str | None:\n    import ctypes.util\n\n",
        ),
        Edit(
            "pydantic/plugin/_loader.py",
            "from importlib.metadata import entry_points\n",
            "",
        ),
        Edit(
            "pydantic/plugin/_loader.py",
            "        try:\n            for entry_point in entry_points(group=PYDANTIC_ENTRY_POINT_GROUP):\n",
            "        try:\n            from importlib.metadata import entry_points\n\n"
            "            for entry_point in entry_points(group=PYDANTIC_ENTRY_POINT_GROUP):\n",
        ),
        Edit(
            "pydantic/networks.py",
            "from importlib.metadata import version\n",
            "",
        ),
        Edit(
            "pydantic/networks.py",
            "    if not version('email-validator').partition('.')[0] == '2':\n",
            "    from importlib.metadata import version\n\n    if not version('email-validator').partition('.')[0] == '2':\n",
        ),
        Edit(
            "slack_sdk/__init__.py",
            "from .web import WebClient\nfrom .webhook import WebhookClient\n",
            _LAZY_SLACK_SDK,
        ),
        Edit(
            "slack_sdk/web/__init__.py",
            "from .client import WebClient\nfrom .slack_response import SlackResponse\n",
            _LAZY_SLACK_SDK_WEB,
        ),
    ]


# Written by this script into slack_sdk's two package modules: the same names, imported on first access.
_LAZY_SLACK_SDK = """# Written by scripts/trim_deps_layer.py: WebClient and WebhookClient are imported on first access.


def __getattr__(name):
    if name == "WebClient":
        from .web import WebClient

        return WebClient
    if name == "WebhookClient":
        from .webhook import WebhookClient

        return WebhookClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
"""
_LAZY_SLACK_SDK_WEB = """from .slack_response import SlackResponse

# Written by scripts/trim_deps_layer.py: WebClient is imported on first access.


def __getattr__(name):
    if name == "WebClient":
        from .client import WebClient

        return WebClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
"""


def apply(layer: Path) -> list[str]:
    """Apply every edit to the layer at ``layer`` (its python/ directory); the files changed."""
    changed: list[str] = []
    versions = layer_versions(layer)
    if not {"psycopg", "psycopg-binary"} <= set(versions):
        raise SystemExit(f"trim_deps_layer: no psycopg / psycopg-binary distribution in {layer}")
    for edit in edits(versions):
        target = layer / edit.path
        text = target.read_text()
        if text.count(edit.old) != 1:
            raise SystemExit(
                f"trim_deps_layer: {edit.path} does not contain this text exactly once (the package changed; "
                f"review the edit in scripts/trim_deps_layer.py):\n{edit.old}"
            )
        target.write_text(text.replace(edit.old, edit.new, 1))
        if edit.path not in changed:
            changed.append(edit.path)
    return changed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: trim_deps_layer.py LAYER_PYTHON_DIR", file=sys.stderr)
        return 2
    for path in apply(Path(argv[0])):
        print(f"  trimmed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
