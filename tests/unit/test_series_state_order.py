"""A series' state scores the same whatever order its open bursts come back in: PostgreSQL's jsonb
orders object keys its own way (shorter keys first), so a state read back between two scoring
transactions is not in the order the engine built it. Closing bursts updates the burst statistics
by exponential weighting, which depends on order; before the fix, scores differed (in the fourth
decimal) with where the transaction boundaries fell."""

from __future__ import annotations

from dd0c_cost.scoring.config import ScoringConfig
from dd0c_cost.scoring.series import SeriesState, expire_bursts


def _burst(t0: float, t1: float, q: float, usd: float) -> dict:
    return {"t0": t0, "t1": t1, "q": q, "u": usd, "n": 1}


def _series(order: list[str]) -> SeriesState:
    bursts = {
        "alice": _burst(0.0, 100.0, 2.0, 0.5),
        "bob-the-builder": _burst(10.0, 100.0, 40.0, 9.0),  # ends with alice: a tie on t1
        "carol": _burst(20.0, 50.0, 7.0, 3.0),
        "dave-ops": _burst(30.0, 70.0, 1.0, 0.1),
    }
    series = SeriesState()
    series.bstats = [5.0, 3.0, 1.0, 1.0, 0.5]  # earlier closed bursts
    series.bursts = {k: bursts[k] for k in order}
    return series


def test_expired_bursts_close_in_their_own_order_not_the_dicts() -> None:
    cfg = ScoringConfig()
    later = 100.0 + cfg.burst_gap_s + 1  # every burst has expired
    built = _series(["alice", "bob-the-builder", "carol", "dave-ops"])  # as the engine made it
    jsonb = _series(sorted(built.bursts, key=lambda k: (len(k), k)))  # as jsonb returns it
    reversed_ = _series(list(reversed(list(built.bursts))))
    for series in (built, jsonb, reversed_):
        expire_bursts(series, later, cfg)
        assert series.bursts == {}
    assert built.bstats == jsonb.bstats == reversed_.bstats
