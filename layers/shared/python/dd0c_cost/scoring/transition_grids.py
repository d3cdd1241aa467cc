"""The sequence-novelty component's memory: per quantisation grid, how often one bin followed
another (``StreamingDetector._novelty`` reads and counts them), and the two rare rewrites of
those counts: merging bins when the value range outgrows the grid, and rescaling the lazily
forgotten counts before they overflow."""

from __future__ import annotations


class Grid:
    """Transition counts on one quantisation grid: rows[prev][bin] -> count."""

    __slots__ = ("bins", "prev", "rowmax", "rows")

    def __init__(self, bins: int) -> None:
        self.bins = bins
        self.rows: dict[int, dict[int, float]] = {}
        self.rowmax: dict[int, float] = {}
        self.prev: int | None = None


def coarsen(grids: list[Grid]) -> None:
    """Merge bin pairs (b -> b // 2) on every grid, as if the grid span had doubled."""
    for g in grids:
        rows: dict[int, dict[int, float]] = {}
        for pv, row in g.rows.items():
            merged = rows.setdefault(pv // 2, {})
            for b, c in row.items():
                merged[b // 2] = merged.get(b // 2, 0.0) + c
        g.rows = rows
        g.rowmax = {pv: max(r.values()) for pv, r in rows.items()}
        if g.prev is not None:
            g.prev //= 2


def rescale_counts(grids: list[Grid], inc: float) -> None:
    """Divide every count by ``inc`` (the lazy forgetting's increment, about to overflow)."""
    for g in grids:
        for prev, row in g.rows.items():
            for j in row:
                row[j] /= inc
            g.rowmax[prev] /= inc
