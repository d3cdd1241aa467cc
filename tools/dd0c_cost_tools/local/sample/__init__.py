"""The demo's bundled CloudTrail sample (built by scripts/make_demo_sample.py)."""

from importlib import resources
from pathlib import Path


def sample_path() -> Path:
    return Path(str(resources.files(__name__) / "demo_cloudtrail.jsonl"))
