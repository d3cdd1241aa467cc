"""Every record's outcome is counted: as a CloudWatch metric in Lambda, and by any listener the
local runner registers (that is how ``replay`` reports its counts from the real handlers)."""

from __future__ import annotations

from collections.abc import Callable

from dd0c_cost import observability

Listener = Callable[[str, str, "str | None", "dict | None"], None]  # stage, kind, reason, origin
_listeners: list[Listener] = []


def add_listener(listener: Listener) -> None:
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def record(stage: str, kind: str, reason: str | None = None, origin: dict | None = None) -> None:
    observability.count(f"{stage}.{kind}" + (f".{reason}" if reason else ""))
    for listener in list(_listeners):
        listener(stage, kind, reason, origin)
