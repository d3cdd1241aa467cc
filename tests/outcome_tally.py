"""Counting the pipeline's per-record outcomes (dd0c_cost.outcomes) in a test."""

from __future__ import annotations

from dd0c_cost import outcomes


class Tally:
    def __init__(self):
        self.seen: list[tuple[str, str, str | None]] = []

    def __call__(self, stage, kind, reason, origin):
        self.seen.append((stage, kind, reason))

    def __enter__(self):
        outcomes.add_listener(self)
        return self

    def __exit__(self, *exc):
        outcomes.remove_listener(self)

    def count(self, stage, kind, reason=None):
        return sum(1 for s, k, r in self.seen if s == stage and k == kind and (reason is None or r == reason))
