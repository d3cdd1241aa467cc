"""The composite anomaly scorer's pure core: no I/O, no wall clock.

``step(obs, series, tenant, cfg, rules)`` scores one sanitised cost event (``Observation``)
against the state of its series (tenant, account, resource type) and of its tenant, updates both
exactly once, and says whether the event raises a new anomaly, grows an open one (a burst) or
neither. ``scorer.py`` loads and saves the state in PostgreSQL around it; the unit tests drive
it directly. The method and its defaults are in ``docs/scoring.md``.

Components (each a value in [0, 1] and a reason):

* evidence: ``zscore`` (new spend-rate level vs the series' and the tenant's usual level),
  ``rate`` (this burst vs the series' usual bursts), ``novelty`` (first region, instance family,
  service, principal or price tier for the tenant, weighted by cost), ``cold_start`` (absolute
  rules while a series or the tenant has < ``cold_start_days`` of event-time history);
* dampers: ``pattern`` (how far the increase is explained by a recurring hour-of-week /
  hour-of-day pattern of this series) and ``feedback`` (earlier "expected"/"false positive").

    p = pattern, f = feedback
    score = (1 - (1 - z(1-p)) (1 - r(1-p)) (1 - c(1-p)) (1 - n)) * (1 - f)

An alert needs ``score >= score_threshold`` AND the burst's $/h increase ``>= alert_floor``.
"""

from __future__ import annotations

import bisect
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dd0c_cost.events.models import CostAction, CostEvent
from dd0c_cost.scoring.baseline import LevelBaseline, composite_severity, severity_rank
from dd0c_cost.scoring.config import HOURS_PER_MONTH, ScoringConfig
from dd0c_cost.scoring.models import ScoreComponent, Severity

STATE_VERSION = 2

# Bad input. No single AWS resource costs more than ~$220/h (u-24tb1.metal); 1,000 leaves room.
MAX_UNIT_USD_PER_HOUR = 1_000.0
MAX_QUANTITY = 10_000.0  # the normaliser's clamp; above it a message is malformed
MAX_EVENT_USD_PER_HOUR = 250_000.0  # 10,000 resources x $25/h
# State bounds (the state is one JSON value per row; it must stay small).
MAX_PENDING_IDS = 500
MAX_PENDING_RESOURCES = 1_000
MAX_OPEN_BURSTS = 64
MAX_NOVELTY_KEYS = 1_000

COMPONENT_ORDER = ("zscore", "rate", "pattern", "novelty", "cold_start", "feedback")

_VERBS = {
    CostAction.CREATE: "launched",
    CostAction.START: "started",
    CostAction.MODIFY: "resized",
    CostAction.STOP: "stopped",
    CostAction.DELETE: "deleted",
}
_INCREASES = {CostAction.CREATE, CostAction.START, CostAction.MODIFY}

# Novelty dimensions and their weights (combined by noisy-OR).
NOVELTY_WEIGHTS = {"region": 1.0, "family": 0.8, "service": 0.6, "principal": 0.6, "tier": 0.6}
# Unit price tiers ($/h per resource); only a tier above every tier the tenant has used is novel.
PRICE_TIERS = (0.05, 0.25, 1.0, 4.0, 16.0, 64.0)
_ACCELERATOR = re.compile(r"^(p|g|inf|trn|dl|f|vt)\d", re.IGNORECASE)
_SIZE = re.compile(r"^(\d+)xlarge$")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ------------------------------------------------------------------------------------ input
@dataclass(frozen=True, slots=True)
class Observation:
    """A cost event after sanitising: finite numbers only, event time in epoch seconds."""

    event_id: str
    t: float
    x: float  # signed change of spend rate, $/h
    quantity: float
    unit_usd: float | None
    account_id: str
    region: str
    service: str
    resource_type: str
    actor_key: str  # role (session issuer) ARN, else principal ARN, else display name
    actor_name: str
    actor_arn: str | None
    instance_type: str | None
    family: str | None
    resource_ids: tuple[str, ...]
    verb: str
    note: str | None = None  # set when something was clamped

    @property
    def series_key(self) -> str:
        return f"{self.account_id}:{self.resource_type}"


@dataclass(frozen=True, slots=True)
class Ignored:
    """A cost event the scorer cannot use: a reason code (metric) and a sentence (log)."""

    code: str
    detail: str


def event_epoch(when: datetime) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def actor_key_of(event: CostEvent) -> str:
    a = event.actor
    return a.session_issuer_arn or a.principal_arn or a.display_name


def family_of(instance_type: str | None) -> str | None:
    if not instance_type or "." not in instance_type:
        return None
    return instance_type.rsplit(".", 1)[0].lower()


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def sanitize(event: CostEvent) -> Observation | Ignored:
    """Explicit handling of bad numbers: ignored (with a reason) or clamped (noted), never raised."""
    x = event.estimated_usd_per_hour
    if x is None:
        return Ignored("price_unknown", "no price for this resource: nothing to score")
    if not _finite(x):
        return Ignored("non_finite_price", f"estimated_usd_per_hour is {x!r}: ignored")
    q = event.quantity
    if not _finite(q) or q < 0:
        return Ignored("bad_quantity", f"quantity is {q!r}: ignored")
    increase = event.action in _INCREASES
    if (increase and x < 0) or (not increase and x > 0):
        return Ignored("sign_mismatch", f"{event.action.value} with a {'negative' if x < 0 else 'positive'} "
                                        f"rate change ({x!r} $/h) contradicts itself: ignored")
    if q > MAX_QUANTITY:
        # The normaliser clamps requests at 10,000; more than that here is a malformed message.
        return Ignored("absurd_quantity", f"quantity {q:g} exceeds {MAX_QUANTITY:g}: ignored")
    notes = []
    unit = None
    if event.unit_price is not None and _finite(event.unit_price.usd_per_hour):
        unit = abs(float(event.unit_price.usd_per_hour))
    elif q > 0:
        unit = abs(x) / q
    if unit is not None and unit > MAX_UNIT_USD_PER_HOUR:
        return Ignored("absurd_price", f"unit price ${unit:,.2f}/h exceeds ${MAX_UNIT_USD_PER_HOUR:,.0f}/h: ignored")
    if q > 0 and abs(x) / q > MAX_UNIT_USD_PER_HOUR:
        return Ignored("absurd_price", f"${abs(x):,.2f}/h for {q:g} resources exceeds "
                                       f"${MAX_UNIT_USD_PER_HOUR:,.0f}/h each: ignored")
    if abs(x) > MAX_EVENT_USD_PER_HOUR:
        x = math.copysign(MAX_EVENT_USD_PER_HOUR, x)
        notes.append(f"rate change clamped to ${MAX_EVENT_USD_PER_HOUR:,.0f}/h")
    it = event.attributes.get("instance_type")
    it = it if isinstance(it, str) and it else None
    return Observation(
        event_id=event.event_id,
        t=event_epoch(event.event_time),
        x=float(x),
        quantity=float(q),
        unit_usd=unit,
        account_id=event.account_id,
        region=event.region,
        service=event.service,
        resource_type=event.resource_type,
        actor_key=actor_key_of(event),
        actor_name=event.actor.display_name,
        actor_arn=event.actor.principal_arn,
        instance_type=it,
        family=family_of(it),
        resource_ids=tuple(event.resource_ids),
        verb=_VERBS[event.action],
        note="; ".join(notes) or None,
    )


# ------------------------------------------------------------------------------------ state
def _ew(mean: float, var: float, x: float, a: float) -> tuple[float, float]:
    """Exponentially weighted mean/variance, West's form: variance never negative."""
    d = x - mean
    return mean + a * d, (1.0 - a) * (var + a * d * d)


class SeriesState(LevelBaseline):
    """One (tenant, account, resource type) series: level + statistics, seasonal profile of
    increases, open bursts per actor, statistics of closed bursts."""

    __slots__ = ("seasonal", "bursts", "bstats", "ignored")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # "w<hour of week>" / "d<hour of day>" -> [k, amount, day, current, t_last]
        self.seasonal: dict[str, list[float]] = {}
        self.bursts: dict[str, dict[str, Any]] = {}
        self.bstats: list[float] = [0.0, 0.0, 0.0, 0.0, 0.0]  # n, mean q, var q, mean $, var $
        self.ignored = 0

    def state_json(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "ss": self.seasonal, "b": self.bursts, "bs": self.bstats, "ig": self.ignored}

    def load_json(self, state: dict[str, Any] | None) -> bool:
        """Restore the JSON part; False (and a fresh state) if it is missing or of another version."""
        if not state or state.get("v") != STATE_VERSION:
            return False
        try:
            self.seasonal = {str(k): [float(v) for v in rec] for k, rec in state.get("ss", {}).items()}
            self.bursts = dict(state.get("b", {}))
            bs = [float(v) for v in state.get("bs", [0, 0, 0, 0, 0])]
            self.bstats = bs if len(bs) == 5 and all(map(math.isfinite, bs)) else [0.0] * 5
            self.ignored = int(state.get("ig", 0))
        except (TypeError, ValueError, AttributeError):
            self.seasonal, self.bursts, self.bstats = {}, {}, [0.0] * 5
            return False
        return True


class TenantState(LevelBaseline):
    """The tenant's total level + statistics and what it has seen (novelty sets)."""

    __slots__ = ("novelty", "ignored")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # dimension -> key -> [last seen (epoch s), largest burst $/h seen with it]
        self.novelty: dict[str, dict[str, list[float]]] = {d: {} for d in NOVELTY_WEIGHTS}
        self.ignored = 0

    def state_json(self) -> dict[str, Any]:
        return {"v": STATE_VERSION, "nov": self.novelty, "ig": self.ignored}

    def load_json(self, state: dict[str, Any] | None) -> bool:
        if not state or state.get("v") != STATE_VERSION:
            return False
        try:
            nov = state.get("nov", {})
            self.novelty = {d: {str(k): [float(a), float(b)] for k, (a, b) in nov.get(d, {}).items()}
                            for d in NOVELTY_WEIGHTS}
            self.ignored = int(state.get("ig", 0))
        except (TypeError, ValueError, AttributeError):
            self.novelty = {d: {} for d in NOVELTY_WEIGHTS}
            return False
        return True


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


# ------------------------------------------------------------------------------------ result
@dataclass(slots=True)
class Evaluation:
    score: float
    components: tuple[ScoreComponent, ...]
    action: str = "none"  # "none" | "create" | "grow"
    anomaly_id: str | None = None
    bump: bool = False  # the anomaly changed enough to be re-posted
    severity: Severity = Severity.LOW
    burst: dict[str, Any] | None = None  # snapshot for the anomaly row
    new_event_ids: list[str] = field(default_factory=list)
    new_resource_ids: list[str] = field(default_factory=list)

    @property
    def values(self) -> dict[str, float]:
        return {c.name: c.value for c in self.components}


def _c(name: str, value: float, reason: str) -> ScoreComponent:
    v = 0.0 if not math.isfinite(value) else min(1.0, max(0.0, value))
    return ScoreComponent(name=name, value=round(v, 4), reason=reason)


def _noisy_or(values) -> float:
    keep = 1.0
    for v in values:
        keep *= 1.0 - min(1.0, max(0.0, v))
    return 1.0 - keep


def _days(seconds: float) -> str:
    return f"{seconds / 86400.0:.1f} days"


def _money(v: float) -> str:
    return f"${v:,.2f}/h"


# ------------------------------------------------------------------------------------ bursts
def _close_burst(series: SeriesState, b: dict[str, Any]) -> None:
    n, mq, vq, mu, vu = series.bstats
    n += 1.0
    a = max(1.0 / n, 0.1)
    mq, vq = _ew(mq, vq, float(b["q"]), a) if n > 1 else (float(b["q"]), 0.0)
    mu, vu = _ew(mu, vu, float(b["u"]), a) if n > 1 else (float(b["u"]), 0.0)
    series.bstats = [n, mq, vq, mu, vu]


def _expire_bursts(series: SeriesState, t: float, cfg: ScoringConfig) -> None:
    for key in [k for k, b in series.bursts.items()
                if t - b["t1"] > cfg.burst_gap_s or t - b["t0"] > cfg.burst_max_s]:
        _close_burst(series, series.bursts.pop(key))
    while len(series.bursts) > MAX_OPEN_BURSTS:
        oldest = min(series.bursts, key=lambda k: series.bursts[k]["t1"])
        _close_burst(series, series.bursts.pop(oldest))


def _join_burst(series: SeriesState, obs: Observation) -> dict[str, Any]:
    b = series.bursts.get(obs.actor_key)
    if b is None:
        b = series.bursts[obs.actor_key] = {
            "t0": obs.t, "t1": obs.t, "q": 0.0, "u": 0.0, "n": 0, "ids": [], "res": [],
            "nv": 0.0, "nvr": "", "aid": None, "un": 0.0, "sn": 0, "ty": {}, "rg": [],
            "nm": obs.actor_name, "arn": obs.actor_arn, "vb": obs.verb, "fam": [],
        }
    b["t1"] = max(b["t1"], obs.t)
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
    b["ty"][what] = b["ty"].get(what, 0.0) + obs.quantity
    if obs.region not in b["rg"]:
        b["rg"].append(obs.region)
    if obs.family and obs.family not in b["fam"]:
        b["fam"].append(obs.family)
    return b


# ------------------------------------------------------------------------------------ components
def _z_value(z: float, half: float) -> float:
    if z <= 0:
        return 0.0
    return z * z / (z * z + half * half)


def zscore_component(obs: Observation, series: SeriesState, tenant: TenantState, cfg: ScoringConfig,
                     tenant_warm: bool) -> ScoreComponent:
    parts = []
    best, best_reason = 0.0, ""
    for label, base, ok in (("series", series, True), ("tenant", tenant, tenant_warm)):
        hours = base.history_hours(obs.t)
        if not ok or base.n < cfg.min_samples or hours < cfg.min_history_hours:
            parts.append(f"{label}: learning ({base.n} events over {hours:.0f} h)")
            continue
        new_level = base.level + obs.x
        z, sd = base.zscore(new_level, cfg.sd_floor_usd_per_hour, cfg.sd_floor_relative)
        v = _z_value(z, cfg.z_half)
        text = (f"{label} spend rate {_money(base.level)} -> {_money(new_level)} is {z:,.1f} sd above its usual "
                f"{_money(base.mean)} (sd {_money(sd)}, {_days(hours * 3600)} of history)")
        parts.append(text)
        if v > best or not best_reason:
            best, best_reason = v, text
    if not best_reason:
        return _c("zscore", 0.0, "; ".join(parts) + ": no z-score yet")
    return _c("zscore", best, best_reason)


def rate_component(b: dict[str, Any], series: SeriesState, cfg: ScoringConfig) -> ScoreComponent:
    n, mq, vq, mu, vu = series.bstats
    minutes = (b["t1"] - b["t0"]) / 60.0
    here = f"{b['q']:g} resources (+{_money(b['u'])}) in {minutes:.1f} min by {b['nm']}"
    if n < cfg.burst_min_history:
        return _c("rate", 0.0, f"burst of {here}; too few earlier bursts ({n:.0f}) to compare")
    typical_q = max(1.0, mq + 2.0 * math.sqrt(max(vq, 0.0)))
    typical_u = max(0.01, mu + 2.0 * math.sqrt(max(vu, 0.0)))
    ratio = max(b["q"] / typical_q, b["u"] / typical_u)
    value = (ratio - 1.0) / (ratio + 1.0) if ratio > 1.0 else 0.0
    return _c("rate", value, f"burst of {here}; usual bursts here: ~{mq:.1f} resources (+{_money(mu)}), "
                             f"{ratio:.1f}x the usual upper end")


def _slot_keys(t: float) -> tuple[int, int, int]:
    days = int(t // 86400)
    hour = int((t % 86400) // 3600)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    return weekday * 24 + hour, hour, days


def _effective(rec: list[float], day: int, t: float, halflife_days: float) -> tuple[float, float]:
    """(k, amount) of earlier occurrences in a slot, counting an unrolled one from an earlier day."""
    k, amt, rday, cur, t_last = rec
    if cur > 0 and int(rday) != day:
        a = max(1.0 / (k + 1.0), 0.3)
        amt = cur if k <= 0 else amt + a * (cur - amt)
        k += 1.0
    if k > 0 and halflife_days > 0:
        k *= 2.0 ** (-max(0.0, t - t_last) / (halflife_days * 86400.0))
    return k, amt


def _roll(rec: list[float], day: int, t: float, halflife_days: float) -> None:
    if int(rec[2]) != day:
        k, amt = _effective(rec, day, t, halflife_days)
        rec[0], rec[1], rec[2], rec[3] = min(k, 50.0), amt, float(day), 0.0
    rec[4] = max(rec[4], t)


def pattern_component(obs: Observation, b: dict[str, Any], series: SeriesState, cfg: ScoringConfig) -> ScoreComponent:
    """Familiarity of this increase in its hour-of-week / hour-of-day slot (slot of the burst's start)."""
    week_slot, hour, day = _slot_keys(b["t0"])
    profiles = (("w", week_slot, 168, cfg.weekly_confidence_half, cfg.weekly_halflife_days),
                ("d", hour, 24, cfg.daily_confidence_half, cfg.daily_halflife_days))
    best, best_reason = 0.0, ""
    occurrence = obs.x
    for prefix, slot, period, half, halflife in profiles:
        key = f"{prefix}{slot}"
        rec = series.seasonal.get(key)
        if rec is None:
            rec = series.seasonal[key] = [0.0, 0.0, float(day), 0.0, obs.t]
        _roll(rec, day, obs.t, halflife)
        rec[3] += obs.x
        if prefix == "w":
            occurrence = rec[3]
        for offset, weight in ((0, 1.0), (-1, 0.8), (1, 0.8)):
            other = series.seasonal.get(f"{prefix}{(slot + offset) % period}") if offset else rec
            if other is None:
                continue
            # the slot itself was rolled above (its k is decayed to now); neighbours are read as is
            k, amt = _effective(other, day, obs.t, halflife) if offset else (rec[0], rec[1])
            if k <= 0 or amt <= 0:
                continue
            confidence = k / (k + half)
            explained = min(1.0, cfg.pattern_slack * amt / max(rec[3], 1e-9))
            fam = weight * confidence * explained
            if fam > best:
                when = (f"{_DAYS[((slot + offset) % period) // 24]} {((slot + offset) % period) % 24:02d}:00 UTC"
                        if prefix == "w" else f"{(slot + offset) % period:02d}:00 UTC on any day")
                best = fam
                best_reason = (f"recurring: {when} saw ~+{_money(amt)} on {k:.1f} earlier "
                               f"{'weeks' if prefix == 'w' else 'days'}; this one is +{_money(rec[3])} so far "
                               f"({explained:.0%} explained, confidence {confidence:.0%})")
    if not best_reason:
        week_slot_name = f"{_DAYS[week_slot // 24]} {hour:02d}:00 UTC"
        return _c("pattern", 0.0, f"no recurring increase of this series at {week_slot_name} "
                                  f"(+{_money(occurrence)} so far)")
    return _c("pattern", best, best_reason)


def _tier(unit: float | None) -> int | None:
    return None if unit is None else bisect.bisect_right(PRICE_TIERS, unit)


def _tier_label(tier: int) -> str:
    lo = PRICE_TIERS[tier - 1] if tier > 0 else 0.0
    return f"${lo:g}+/h per resource" if tier >= len(PRICE_TIERS) else f"${lo:g}-{PRICE_TIERS[tier]:g}/h per resource"


def _novelty_keys(obs: Observation) -> dict[str, str | None]:
    tier = _tier(obs.unit_usd)
    return {"region": obs.region, "family": obs.family, "service": obs.service, "principal": obs.actor_key,
            "tier": None if tier is None else str(tier)}


def novelty_raw(obs: Observation, burst_usd: float, tenant: TenantState, cfg: ScoringConfig) -> tuple[float, str]:
    """(noisy-OR of new dimensions, reason) before cost weighting."""
    news, weights = [], []
    for dim, key in _novelty_keys(obs).items():
        if key is None:
            continue
        seen = tenant.novelty[dim]
        if dim == "tier":
            top = max((int(k) for k in seen), default=-1)
            if int(key) > top:
                news.append(f"first resource in price tier {_tier_label(int(key))}")
                weights.append(NOVELTY_WEIGHTS[dim])
            continue
        rec = seen.get(key)
        label = {"region": "use of region", "family": "instance family", "service": "use of service",
                 "principal": "spend by principal"}[dim]
        if rec is None:
            news.append(f"first {label} {key}")
            weights.append(NOVELTY_WEIGHTS[dim])
        elif burst_usd > cfg.novelty_scale_factor * max(rec[1], 0.05):
            news.append(f"{label} {key} seen before only up to {_money(rec[1])}")
            weights.append(0.5 * NOVELTY_WEIGHTS[dim])
    return _noisy_or(weights), ", ".join(news)


def _remember(obs: Observation, burst_usd: float, tenant: TenantState) -> None:
    for dim, key in _novelty_keys(obs).items():
        if key is None:
            continue
        seen = tenant.novelty[dim]
        rec = seen.get(key)
        if rec is None:
            seen[key] = [obs.t, max(burst_usd, 0.0)]
            if len(seen) > MAX_NOVELTY_KEYS:
                del seen[min(seen, key=lambda k: seen[k][0])]
        else:
            rec[0] = max(rec[0], obs.t)
            rec[1] = max(rec[1], burst_usd)


def novelty_component(b: dict[str, Any], cfg: ScoringConfig, tenant_age_s: float) -> ScoreComponent:
    if tenant_age_s < cfg.cold_start_days * 86400.0:
        return _c("novelty", 0.0, f"tenant has {_days(tenant_age_s)} of history: everything is new, "
                                  f"novelty counts from {cfg.cold_start_days:g} days (cold-start rules apply)")
    raw = b["nv"]
    if raw <= 0:
        return _c("novelty", 0.0, "nothing new for this tenant (region, family, service, principal, price tier)")
    weight = b["u"] / (b["u"] + cfg.novelty_cost_scale_usd_per_hour) if b["u"] > 0 else 0.0
    return _c("novelty", raw * weight, f"{b['nvr']}; weighted by cost +{_money(b['u'])} ({weight:.0%})")


def is_accelerator(family: str | None) -> bool:
    return bool(family and _ACCELERATOR.match(family))


def is_very_large(instance_type: str | None, min_size: int) -> bool:
    if not instance_type or "." not in instance_type:
        return False
    size = instance_type.rsplit(".", 1)[1].lower()
    if size == "metal" or size.startswith("metal-"):
        return True
    m = _SIZE.match(size)
    return bool(m and int(m.group(1)) >= min_size) or instance_type.lower().startswith("u-")


def cold_start_component(b: dict[str, Any], obs: Observation, cfg: ScoringConfig, series_age_s: float,
                         tenant_age_s: float) -> ScoreComponent:
    limit = cfg.cold_start_days * 86400.0
    if series_age_s >= limit and tenant_age_s >= limit:
        return _c("cold_start", 0.0, f"series has {_days(series_age_s)} and tenant {_days(tenant_age_s)} of "
                                     f"history: cold-start rules off")
    u, q = b["u"], b["q"]
    fired, values = [], []
    v = u / (u + cfg.cold_start_usd_per_hour) if u > 0 else 0.0
    values.append(v)
    if u >= cfg.cold_start_usd_per_hour:
        fired.append(f"+{_money(u)} >= {_money(cfg.cold_start_usd_per_hour)}")
    big = [f for f in b["fam"] if is_accelerator(f)]
    large = [t for t in b["ty"] if is_very_large(t, int(cfg.cold_start_large_size))]
    if big or large:
        values.append(0.9 * min(1.0, u / cfg.alert_floor_usd_per_hour) if cfg.alert_floor_usd_per_hour > 0 else 0.9)
        fired.append(("GPU/accelerator family " + ", ".join(big)) if big else ("very large " + ", ".join(large)))
    if cfg.cold_start_resources > 0:
        values.append(q / (q + cfg.cold_start_resources))
        if q >= cfg.cold_start_resources:
            fired.append(f"{q:g} resources at once (>= {cfg.cold_start_resources:g})")
    who = "tenant" if tenant_age_s < limit else "series"
    age = min(tenant_age_s, series_age_s) if who == "tenant" else series_age_s
    reason = (f"cold start ({who} has {_days(age)} of history): "
              + ("; ".join(fired) if fired else f"+{_money(u)}, {q:g} resources: under the absolute rules"))
    return _c("cold_start", _noisy_or(values), reason)


def feedback_component(obs: Observation, b: dict[str, Any], rules: list[FeedbackRule],
                       cfg: ScoringConfig) -> ScoreComponent:
    best, best_reason = 0.0, ""
    for r in rules:
        if r.actor_key != obs.actor_key or r.resource_type != obs.resource_type or r.account_id != obs.account_id:
            continue
        base = cfg.feedback_expected if r.status == "expected" else cfg.feedback_false_positive
        amount = min(1.0, cfg.pattern_slack * r.hourly_usd / b["u"]) if b["u"] > 0 else 1.0
        where = 1.0 if obs.region == r.region else 0.5
        what = 1.0 if not b["fam"] or not r.families or set(b["fam"]) <= set(r.families) else 0.5
        age = max(0.0, obs.t - r.t)
        decay = 2.0 ** (-age / (cfg.feedback_halflife_days * 86400.0)) if cfg.feedback_halflife_days > 0 else 1.0
        s = base * amount * where * what * decay
        if s > best:
            best = s
            when = datetime.fromtimestamp(r.t, UTC).strftime("%Y-%m-%d")
            best_reason = (f"{r.by} marked a similar +{_money(r.hourly_usd)} by this principal on {when} "
                           f"{r.status.replace('_', ' ')}: score lowered by {s:.0%}")
    if not best_reason:
        return _c("feedback", 0.0, "no earlier feedback on similar activity")
    return _c("feedback", best, best_reason)


def combine(values: dict[str, float]) -> float:
    """The documented combination (module docstring)."""
    p = values.get("pattern", 0.0)
    keep = 1.0 - p
    evidence = _noisy_or((values.get("zscore", 0.0) * keep, values.get("rate", 0.0) * keep,
                          values.get("cold_start", 0.0) * keep, values.get("novelty", 0.0)))
    return min(1.0, max(0.0, evidence * (1.0 - values.get("feedback", 0.0))))


# ------------------------------------------------------------------------------------ step
def decrease_components(obs: Observation) -> tuple[ScoreComponent, ...]:
    reason = f"spend went down ({_money(obs.x)}) or did not change: decreases are never anomalies"
    return tuple(_c(name, 0.0, reason if name == "zscore" else "not evaluated for a decrease")
                 for name in COMPONENT_ORDER)


def step(obs: Observation, series: SeriesState, tenant: TenantState, cfg: ScoringConfig,
         rules: list[FeedbackRule] | None = None, *, new_id=uuid.uuid4) -> Evaluation:
    """Score one observation and update ``series`` and ``tenant`` (exactly once per call)."""
    halflife_h = cfg.baseline_halflife_days * 24.0
    series.fold_to(obs.t, halflife_h)
    tenant.fold_to(obs.t, halflife_h)
    series_age = obs.t - series.first_t
    tenant_age = obs.t - tenant.first_t
    _expire_bursts(series, obs.t, cfg)

    if obs.x <= 0:
        series.apply(obs.x)
        tenant.apply(obs.x)
        return Evaluation(0.0, decrease_components(obs))

    tenant_warm = tenant_age >= cfg.cold_start_days * 86400.0
    b = _join_burst(series, obs)
    raw, why = novelty_raw(obs, b["u"], tenant, cfg)
    if raw > b["nv"]:
        b["nv"], b["nvr"] = raw, why

    comps = {
        "zscore": zscore_component(obs, series, tenant, cfg, tenant_warm),
        "rate": rate_component(b, series, cfg),
        "pattern": pattern_component(obs, b, series, cfg),
        "novelty": novelty_component(b, cfg, tenant_age),
        "cold_start": cold_start_component(b, obs, cfg, series_age, tenant_age),
        "feedback": feedback_component(obs, b, rules or [], cfg),
    }
    if obs.note:
        comps["zscore"] = _c("zscore", comps["zscore"].value, comps["zscore"].reason + f" (input: {obs.note})")
    components = tuple(comps[n] for n in COMPONENT_ORDER)
    score = round(combine({c.name: c.value for c in components}), 4)

    series.apply(obs.x)
    tenant.apply(obs.x)
    _remember(obs, b["u"], tenant)

    ev = Evaluation(score, components, burst=b)
    severity = composite_severity(b["u"], score, cfg.score_threshold)
    if b["aid"] is not None:
        ev.action, ev.anomaly_id = "grow", b["aid"]
        ev.new_event_ids, ev.new_resource_ids = [obs.event_id], list(obs.resource_ids)
        rank = max(severity_rank(severity), int(b["sn"]))
        severity = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL][rank]
        if b["u"] >= cfg.revision_growth * b["un"] or rank > b["sn"]:
            ev.bump = True
            b["un"], b["sn"] = b["u"], rank
    elif score >= cfg.score_threshold and b["u"] >= cfg.alert_floor_usd_per_hour:
        b["aid"] = str(new_id())
        ev.action, ev.anomaly_id, ev.bump = "create", b["aid"], True
        ev.new_event_ids, ev.new_resource_ids = list(b["ids"]), list(b["res"])
        b["ids"], b["res"] = [], []  # now in the anomaly row
        b["un"], b["sn"] = b["u"], severity_rank(severity)
    ev.severity = severity
    return ev


def burst_summary(b: dict[str, Any], account_id: str) -> str:
    types = sorted(b["ty"].items(), key=lambda kv: -kv[1])
    q = b["q"]
    if len(types) == 1:
        what = f"{q:g} × {types[0][0]}" if q != 1 else types[0][0]
    else:
        what = f"{q:g} resources (" + ", ".join(f"{n:g} × {t}" for t, n in types[:3]) + (", …" if len(types) > 3 else "") + ")"
    where = ", ".join(b["rg"][:3]) + (" …" if len(b["rg"]) > 3 else "")
    minutes = (b["t1"] - b["t0"]) / 60.0
    span = f" in {b['n']} calls over {minutes:.0f} min" if b["n"] > 1 else ""
    return (f"{b['nm']} {b['vb']} {what} in {where} (account {account_id}){span}: +${b['u']:,.2f}/h "
            f"(~${b['u'] * HOURS_PER_MONTH:,.0f}/month)")
