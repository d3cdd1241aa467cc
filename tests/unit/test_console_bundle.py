"""The committed console bundle is built from the committed sources (``console/``): a source
change without ``npm run build`` (console/build.mjs) fails here, with no Node needed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
DIST = ROOT / "layers" / "shared" / "python" / "dd0c_cost" / "console" / "dist"


def _sources_digest() -> str:  # the same digest as console/build.mjs sourceDigest()
    h = hashlib.sha256()
    files = [
        "package.json",
        "package-lock.json",
        "build.mjs",
        *(f"src/{p.name}" for p in sorted((CONSOLE / "src").iterdir())),
    ]
    for name in files:
        h.update(name.encode() + b"\0")
        h.update((CONSOLE / name).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def test_bundle_matches_its_sources():
    manifest = json.loads((DIST / "manifest.json").read_text())
    assert manifest["sources_sha256"] == _sources_digest(), (
        "console sources changed: run `cd console && npm ci && npm run build`"
    )
    for name, size in manifest["bundle"].items():
        assert (DIST / name).stat().st_size == size, name


def test_nothing_is_loaded_from_another_origin():
    for page in (DIST / "index.html", DIST / "docs" / "index.html"):
        html = page.read_text()
        assert "http://" not in html and "https://" not in html and "//" not in html.replace("<!doctype", "")


def test_the_console_never_renders_markup_from_data():
    source = (CONSOLE / "src" / "main.jsx").read_text()
    assert "dangerouslySetInnerHTML" not in source and "innerHTML" not in source.replace(
        "nothing here sets innerHTML", ""
    )
