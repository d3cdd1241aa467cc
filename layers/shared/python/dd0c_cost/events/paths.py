"""Tiny path language for reading CloudTrail payloads, compiled once per catalogue entry.

``responseElements.instancesSet.items[*].instanceId`` walks dicts and fans out over lists.
EC2's newer APIs wrap payloads as ``{"CreateNatGatewayRequest": {...}}``; a step that misses
looks inside such a single ``…Request``/``…Response`` wrapper before giving up.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

_FANOUT = object()


@lru_cache(maxsize=None)
def compile_path(path: str) -> tuple:
    steps: list = []
    for part in path.split("."):
        if part.endswith("[*]"):
            steps.append(part[:-3])
            steps.append(_FANOUT)
        else:
            steps.append(part)
    return tuple(steps)


def _unwrapped(node: dict) -> dict | None:
    inner = None
    for key, value in node.items():
        if key == "xmlns":
            continue
        if inner is not None or not (key.endswith("Request") or key.endswith("Response")) or not isinstance(value, dict):
            return None
        inner = value
    return inner


def extract(record: Any, path: str) -> list[Any]:
    """All values at ``path`` (empty when absent, null or redacted along the way)."""
    nodes = [record]
    for step in compile_path(path):
        nxt: list[Any] = []
        if step is _FANOUT:
            for node in nodes:
                if isinstance(node, list):
                    nxt.extend(node)
                elif isinstance(node, dict) and isinstance(node.get("items"), list):
                    nxt.extend(node["items"])
        else:
            for node in nodes:
                if not isinstance(node, dict):
                    continue
                if step in node:
                    value = node[step]
                else:
                    inner = _unwrapped(node)
                    value = inner.get(step) if inner is not None else None
                if value is not None:
                    nxt.append(value)
        nodes = nxt
        if not nodes:
            return []
    return nodes


def first(record: Any, paths: tuple[str, ...]) -> Any:
    for path in paths:
        values = extract(record, path)
        if values:
            return values[0]
    return None


def all_of(record: Any, paths: tuple[str, ...]) -> list[Any]:
    """Values from the first path that yields any."""
    for path in paths:
        values = extract(record, path)
        if values:
            return values
    return []
