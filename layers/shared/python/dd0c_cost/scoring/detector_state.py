"""A streaming detector's state as JSON and back (the usage path stores it between polls):
``StreamingDetector.to_state`` / ``from_state`` are these two functions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dd0c_cost.scoring.detector_params import DetectorParams

if TYPE_CHECKING:
    from dd0c_cost.scoring.streaming import StreamingDetector

STATE_VERSION = 1


def to_state(det: StreamingDetector) -> dict[str, Any]:
    """JSON-serialisable state; ``from_state`` restores an identical detector."""
    return {
        "version": STATE_VERSION,
        "params": det.p.to_dict(),
        "allow_negative": det.allow_negative,
        "value_range": list(det.value_range) if det.value_range else None,
        "n": det.n,
        "n_ignored": det.n_ignored,
        "t_last": det.t_last,
        "origin": det.origin,
        "grid_span": det.grid_span,
        "range_seen": [det.lo_seen, det.hi_seen] if det.hi_seen >= det.lo_seen else None,
        "baseline": [det.b_mean, det.b_var, det.r_mean, det.r_var, det.u_prev],
        "seasonal": [[k, *v] for k, v in sorted(det.seasonal.items())],
        "grids": [
            {
                "prev": g.prev,
                "rows": [[pv, [[b, c] for b, c in sorted(row.items())]] for pv, row in sorted(g.rows.items())],
            }
            for g in det.grids
        ],
        "count_scale": det.inc,
        "ring": list(det.ring),
        "ring_i": det.ring_i,
        "ring_sum": det.ring_sum,
        "likelihood": [det.l_n, det.l_mean, det.l_m2, det.prev_red],
    }


def from_state(cls: type[StreamingDetector], state: dict[str, Any]) -> StreamingDetector:
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported detector state version {state.get('version')!r}")
    vr = state.get("value_range")
    det = cls(
        DetectorParams.from_dict(state["params"]),
        value_range=tuple(vr) if vr else None,
        allow_negative=bool(state["allow_negative"]),
    )
    det.n = int(state["n"])
    det.n_ignored = int(state["n_ignored"])
    det.t_last = state["t_last"]
    det.origin = state["origin"]
    det.grid_span = state["grid_span"]
    rs = state["range_seen"]
    if rs:
        det.lo_seen, det.hi_seen = float(rs[0]), float(rs[1])
    det.b_mean, det.b_var, det.r_mean, det.r_var, det.u_prev = state["baseline"]
    det.seasonal = {int(s[0]): [float(v) for v in s[1:]] for s in state["seasonal"]}
    for g, gs in zip(det.grids, state["grids"], strict=True):
        g.prev = gs["prev"]
        for pv, row in gs["rows"]:
            r = {int(b): float(c) for b, c in row}
            g.rows[int(pv)] = r
            g.rowmax[int(pv)] = max(r.values()) if r else 0.0
    det.inc = float(state["count_scale"])
    ring = [float(v) for v in state["ring"]]
    if len(ring) != det.p.avg_window:
        raise ValueError("ring length does not match avg_window")
    det.ring = ring
    det.ring_i = int(state["ring_i"])
    det.ring_sum = float(state["ring_sum"])
    det.l_n, det.l_mean, det.l_m2, det.prev_red = state["likelihood"]
    det.l_n = int(det.l_n)
    det.prev_red = bool(det.prev_red)
    return det
