"""Tiny path language for reading CloudTrail payloads, compiled once per catalogue entry.

``responseElements.instancesSet.items[*].instanceId`` walks dicts and fans out over lists (a
``[*]`` step on a dict fans out over its ``items`` list, EC2's ``{"items": [...]}`` sets).

EC2's newer APIs wrap payloads as ``{"CreateNatGatewayRequest": {...}}``; a step that misses
looks inside such a single ``…Request``/``…Response`` wrapper before giving up (also the
abbreviated ``…Req``/``…Resp`` seen in the wild: ``{"DelTGwVpcAttachReq": {...}}``).

Redaction markers (``HIDDEN_DUE_TO_SECURITY_REASONS``, ``<sensitiveDataRemoved>``, ``****``,
``...``) are read as absent: a redacted value is not a value.

Besides a plain path string, a catalogue entry may use three value specs:

- ``Sum(path)``: the sum of the numbers at ``path`` (e.g. the sizes of all EBS volumes in a
  block-device mapping); absent when there are none.
- ``Count(path)``: how many values ``path`` yields (e.g. member clusters); absent when none.
- ``Join(sep, path, path, ...)``: one string made of the first value of each path (e.g.
  ``function:alias``); absent unless every part is present.

``compile_path``/``compile_spec`` turn these into plain functions once, so the hot path is a few
dict lookups per value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

REDACTED = frozenset({"HIDDEN_DUE_TO_SECURITY_REASONS", "<sensitiveDataRemoved>", "****", "...", ""})
_WRAPPER_SUFFIXES = ("Request", "Response", "Req", "Resp")

Reader = Callable[[Any], list]


@dataclass(frozen=True, slots=True)
class Sum:
    path: str


@dataclass(frozen=True, slots=True)
class Count:
    path: str


@dataclass(frozen=True, slots=True)
class Join:
    sep: str
    paths: tuple[str, ...]

    def __init__(self, sep: str, *paths: str):
        object.__setattr__(self, "sep", sep)
        object.__setattr__(self, "paths", paths)


Spec = str | Sum | Count | Join


def _unwrapped(node: dict) -> dict | None:
    inner = None
    for key, value in node.items():
        if key == "xmlns":
            continue
        if inner is not None or not isinstance(value, dict) or not key.endswith(_WRAPPER_SUFFIXES):
            return None
        inner = value
    return inner


def _get(node: Any, key: str) -> Any:
    if not isinstance(node, dict):
        return None
    value = node.get(key)
    if value is None and key not in node:
        inner = _unwrapped(node)
        if inner is not None:
            value = inner.get(key)
    return value


def _keep(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value in REDACTED)


@cache
def compile_path(path: str) -> Reader:  # noqa: C901 - a small path compiler: one branch per path syntax element, kept together for speed
    """A function returning every value at ``path`` (empty when absent, null or redacted)."""
    steps: list[tuple[str, bool]] = []
    for part in path.split("."):
        if part.endswith("[*]"):
            steps.append((part[:-3], True))
        else:
            steps.append((part, False))

    if all(not fan for _, fan in steps):
        keys = tuple(key for key, _ in steps)

        def read_scalar_path(record: Any) -> list:
            node = record
            for key in keys:
                node = node[key] if isinstance(node, dict) and key in node else _get(node, key)
                if node is None:
                    return []
            return [node] if _keep(node) else []

        return read_scalar_path

    frozen_steps = tuple(steps)

    def read_fanout_path(record: Any) -> list:
        nodes = [record]
        for key, fan in frozen_steps:
            nxt: list = []
            for node in nodes:
                value = _get(node, key) if key else node
                if value is None:
                    continue
                if not fan:
                    nxt.append(value)
                elif isinstance(value, list):
                    nxt.extend(value)
                elif isinstance(value, dict):
                    items = value.get("items", value.get("item"))
                    if isinstance(items, list):
                        nxt.extend(items)
                    elif isinstance(items, dict):
                        nxt.append(items)
            nodes = nxt
            if not nodes:
                return []
        return [n for n in nodes if _keep(n)]

    return read_fanout_path


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@cache
def compile_spec(spec: Spec) -> Reader:
    if isinstance(spec, str):
        return compile_path(spec)
    if isinstance(spec, Sum):
        inner = compile_path(spec.path)

        def read_sum(record: Any) -> list:
            numbers = [n for n in map(_number, inner(record)) if n is not None]
            return [sum(numbers)] if numbers else []

        return read_sum
    if isinstance(spec, Count):
        inner = compile_path(spec.path)

        def read_count(record: Any) -> list:
            n = len(inner(record))
            return [n] if n else []

        return read_count
    if isinstance(spec, Join):
        parts = tuple(compile_path(p) for p in spec.paths)
        sep = spec.sep

        def read_join(record: Any) -> list:
            out = []
            for read in parts:
                values = [v for v in read(record) if isinstance(v, (str, int)) and not isinstance(v, bool)]
                if not values:
                    return []
                out.append(str(values[0]))
            return [sep.join(out)]

        return read_join
    raise TypeError(f"not a path spec: {spec!r}")


def compile_first(specs: tuple[Spec, ...]) -> Callable[[Any], Any]:
    """A function returning the first scalar (not dict/list) value over ``specs``, or None."""
    readers = tuple(compile_spec(s) for s in specs)

    def read_first(record: Any) -> Any:
        for read in readers:
            for value in read(record):
                if not isinstance(value, (dict, list)):
                    return value
        return None

    return read_first


def compile_all(specs: tuple[Spec, ...]) -> Reader:
    """A function returning the values of the first spec that yields any."""
    readers = tuple(compile_spec(s) for s in specs)

    def read_all(record: Any) -> list:
        for read in readers:
            values = read(record)
            if values:
                return values
        return []

    return read_all
