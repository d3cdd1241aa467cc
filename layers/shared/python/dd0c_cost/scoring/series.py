"""The scorer's state: per series (tenant, account, resource type) and per tenant, the bursts a
series has open, and the feedback rules; JSON in and out of PostgreSQL (``scorer.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from itertools import repeat
from operator import is_not
from typing import Any

from dd0c_cost.scoring import recurrence
from dd0c_cost.scoring.baseline import LevelBaseline
from dd0c_cost.scoring.config import ScoringConfig
from dd0c_cost.scoring.observation import Observation

STATE_VERSION = 3
# State bounds (the state is one JSON value per row; it must stay small).
MAX_PENDING_IDS = 200
MAX_PENDING_RESOURCES = 400
MAX_OPEN_BURSTS = 64
WEEK_SLOTS = 168  # seasonal[0:168]: hour of week (Monday 00:00 UTC = 0); seasonal[168:192]: hour of day
SEASONAL_SLOTS = WEEK_SLOTS + 24
# Novelty dimensions and their weights (combined by noisy-OR).
NOVELTY_WEIGHTS = {"region": 1.0, "family": 0.8, "service": 0.6, "principal": 0.6, "tier": 0.6}


def _ew(mean: float, var: float, x: float, a: float) -> tuple[float, float]:
    """Exponentially weighted mean/variance, West's form: variance never negative."""
    d = x - mean
    return mean + a * d, (1.0 - a) * (var + a * d * d)


class SeriesState(LevelBaseline):
    """One (tenant, account, resource type) series: level + statistics, seasonal profile of
    increases, open bursts per actor, statistics of closed bursts."""

    __slots__ = ("bstats", "bursts", "ignored", "occurrences", "seasonal", "unpriced")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # 168 hour-of-week slots then 24 hour-of-day slots, each None or [k earlier occurrences
        # (fading), usual $/h of one, day (epoch days) of the last occurrence, $/h of it so far]
        self.seasonal: list[list | None] = [None] * SEASONAL_SLOTS
        self.bursts: dict[str, dict[str, Any]] = {}
        self.bstats: list[float] = [0.0, 0.0, 0.0, 0.0, 0.0]  # n, mean q, var q, mean $, var $
        self.ignored = 0
        # recent bursts for calendar recurrence (scoring/recurrence.py)
        self.occurrences: list[list] = []
        # open unpriced bursts per actor (scoring/shape.py): {actor: {t0, t1, aid, s, q}}
        self.unpriced: dict[str, dict[str, Any]] = {}

    def state_json(self) -> dict[str, Any]:
        out = {"v": STATE_VERSION, "ss": self.seasonal, "b": self.bursts, "bs": self.bstats, "ig": self.ignored}
        if self.occurrences:
            out["oc"] = self.occurrences
        if self.unpriced:
            out["ub"] = self.unpriced
        return out

    def load_json(self, state: dict[str, Any] | None) -> bool:
        """Restore the JSON part; False (and a fresh state) if it is missing or of another version."""
        if not state or state.get("v") != STATE_VERSION:
            return False
        # Written only by this module; checked cheaply so that a damaged row restarts, never crashes.
        seasonal, bursts, bs = state.get("ss"), state.get("b"), state.get("bs")
        if not (
            isinstance(seasonal, list)
            and len(seasonal) == SEASONAL_SLOTS
            and isinstance(bursts, dict)
            and isinstance(bs, list)
            and len(bs) == 5
            and _slots_ok(seasonal)
            and all(map(isinstance, bursts.values(), repeat(dict)))
        ):
            return False
        self.seasonal, self.bursts, self.bstats = seasonal, bursts, bs
        self.ignored = int(state.get("ig", 0))
        self.occurrences = recurrence.valid(state.get("oc"))
        ub = state.get("ub")
        self.unpriced = {k: v for k, v in ub.items() if isinstance(v, dict)} if isinstance(ub, dict) else {}
        return True


def _slots_ok(seasonal: list) -> bool:
    """Every slot None or a list of 4 (read once per series and batch: built-in loops, not a Python one
    over the 192 slots; JSON makes no subclasses of list)."""
    kinds = set(map(type, seasonal))
    if not kinds <= _SLOT_KINDS:
        return False
    return list not in kinds or set(map(len, filter(partial(is_not, None), seasonal))) == {4}


_SLOT_KINDS = {type(None), list}


class TenantState(LevelBaseline):
    """The tenant's total level + statistics and what it has seen (novelty sets).

    In PostgreSQL the novelty sets live in ``dd0c.tenant_novelty`` (one row per key): the scorer
    loads only the keys a batch can touch and writes back the ``dirty`` ones; in memory (tests,
    benchmarks) ``state_json()`` carries them whole."""

    __slots__ = ("dirty", "ignored", "novelty")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # dimension -> key -> [last seen (epoch s), largest burst $/h seen with it]
        self.novelty: dict[str, dict[str, list[float]]] = {d: {} for d in NOVELTY_WEIGHTS}
        self.ignored = 0
        self.dirty: dict[tuple[str, str], float] = {}  # (dimension, key) -> first seen in this batch

    def state_json(self, *, novelty: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"v": STATE_VERSION, "ig": self.ignored}
        if novelty:
            out["nov"] = self.novelty
        return out

    def load_json(self, state: dict[str, Any] | None) -> bool:
        if not state or state.get("v") != STATE_VERSION:
            return False
        nov = state.get("nov")
        if isinstance(nov, dict):
            try:
                self.novelty = {
                    d: {str(k): [float(a), float(b)] for k, (a, b) in nov.get(d, {}).items()} for d in NOVELTY_WEIGHTS
                }
            except (TypeError, ValueError, AttributeError):
                self.novelty = {d: {} for d in NOVELTY_WEIGHTS}
        self.ignored = int(state.get("ig", 0))
        return True

    def novelty_rows(self) -> list[dict[str, Any]]:
        """The keys this batch added or changed, for ``dd0c.tenant_novelty``."""
        rows = []
        for (dim, key), first in self.dirty.items():
            last, usd = self.novelty[dim][key]
            rows.append({"d": dim, "k": key, "f": first, "t": last, "u": usd})
        return rows


@dataclass(frozen=True, slots=True)
class FeedbackRule:
    """An anomaly someone marked "expected" or "false_positive" (dd0c.scoring_feedback)."""

    anomaly_id: str
    status: str
    account_id: str
    resource_type: str
    actor_key: str
    region: str
    families: tuple[str, ...]
    hourly_usd: float
    t: float  # event time of the anomaly
    by: str


def _close_burst(series: SeriesState, b: dict[str, Any]) -> None:
    n, mq, vq, mu, vu = series.bstats
    n += 1.0
    a = max(1.0 / n, 0.1)
    mq, vq = _ew(mq, vq, float(b["q"]), a) if n > 1 else (float(b["q"]), 0.0)
    mu, vu = _ew(mu, vu, float(b["u"]), a) if n > 1 else (float(b["u"]), 0.0)
    series.bstats = [n, mq, vq, mu, vu]


def expire_bursts(series: SeriesState, t: float, cfg: ScoringConfig) -> None:
    bursts = series.bursts
    if not bursts:
        return
    gap, span = cfg.burst_gap_s, cfg.burst_max_s
    # Closing updates the burst statistics by exponential weighting, which depends on order; the
    # order is the bursts' own (last event, then actor), never the dict's: a state read back from
    # PostgreSQL (jsonb orders keys its own way) then scores exactly as the one kept in memory.
    expired = [k for k, b in bursts.items() if t - b["t1"] > gap or t - b["t0"] > span]
    if expired:  # (most events close none)
        expired.sort(key=lambda k: (bursts[k]["t1"], k))
        for key in expired:
            _close_burst(series, bursts.pop(key))
    while len(bursts) > MAX_OPEN_BURSTS:
        oldest = min(bursts, key=lambda k: (bursts[k]["t1"], k))
        _close_burst(series, bursts.pop(oldest))


def join_burst(series: SeriesState, obs: Observation) -> dict[str, Any]:
    b = series.bursts.get(obs.actor_key)
    if b is None:
        b = series.bursts[obs.actor_key] = {
            "t0": obs.t,
            "t1": obs.t,
            "q": 0.0,
            "u": 0.0,
            "n": 0,
            "ids": [],
            "res": [],
            "nv": 0.0,
            "nvr": "",
            "aid": None,
            "un": 0.0,
            "sn": 0,
            "ty": {},
            "rg": [],
            "nm": obs.actor_name,
            "arn": obs.actor_arn,
            "vb": obs.verb,
            "fam": [],
        }
    if obs.t > b["t1"]:
        b["t1"] = obs.t
    b["q"] += obs.quantity
    b["u"] += obs.x
    b["n"] += 1
    if b["aid"] is None:
        if len(b["ids"]) < MAX_PENDING_IDS:
            b["ids"].append(obs.event_id)
        room = MAX_PENDING_RESOURCES - len(b["res"])
        if room > 0:
            b["res"].extend(obs.resource_ids[:room])
    what = obs.instance_type or obs.resource_type
    ty = b["ty"]
    ty[what] = ty.get(what, 0.0) + obs.quantity
    if obs.region not in b["rg"]:
        b["rg"].append(obs.region)
    if obs.family and obs.family not in b["fam"]:
        b["fam"].append(obs.family)
    return b
