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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from dd0c_cost.events.models import CostAction, CostEvent
from dd0c_cost.scoring import recurrence
from dd0c_cost.scoring.baseline import LevelBaseline, composite_severity, severity_rank
from dd0c_cost.scoring.config import HOURS_PER_MONTH, ScoringConfig
from dd0c_cost.scoring.models import ScoreComponent, Severity

STATE_VERSION = 3

# Bad input. No single AWS resource costs more than ~$220/h (u-24tb1.metal); 1,000 leaves room.
MAX_UNIT_USD_PER_HOUR = 1_000.0
MAX_QUANTITY = 10_000.0  # the normaliser's clamp; above it a message is malformed
MAX_EVENT_USD_PER_HOUR = 250_000.0  # 10,000 resources x $25/h
# State bounds (the state is one JSON value per row; it must stay small).
MAX_PENDING_IDS = 200
MAX_PENDING_RESOURCES = 400
MAX_OPEN_BURSTS = 64

WEEK_SLOTS = 168  # seasonal[0:168]: hour of week (Monday 00:00 UTC = 0); seasonal[168:192]: hour of day
SEASONAL_SLOTS = WEEK_SLOTS + 24

COMPONENT_ORDER = ("zscore", "rate", "pattern", "novelty", "cold_start", "feedback")

_VERBS = {
    CostAction.CREATE: "launched",
    CostAction.START: "started",
    CostAction.MODIFY: "resized",
    CostAction.STOP: "stopped",
    CostAction.DELETE: "deleted",
}
_INCREASES = {CostAction.CREATE, CostAction.START}

# Novelty dimensions and their weights (combined by noisy-OR).
NOVELTY_WEIGHTS = {"region": 1.0, "family": 0.8, "service": 0.6, "principal": 0.6, "tier": 0.6}
# Unit price tiers ($/h per resource); only a tier above every tier the tenant has used is novel.
PRICE_TIERS = (0.05, 0.25, 1.0, 4.0, 16.0, 64.0)
_ACCELERATOR = re.compile(r"^(p|g|inf|trn|dl|f|vt)\d", re.IGNORECASE)
_SIZE = re.compile(r"^(\d+)xlarge$")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ------------------------------------------------------------------------------------ input
class Observation(NamedTuple):
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


class Ignored(NamedTuple):
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


@lru_cache(maxsize=4096)
def family_of(instance_type: str | None) -> str | None:
    if not instance_type or "." not in instance_type:
        return None
    return instance_type.rsplit(".", 1)[0].lower()


def _finite(v: Any) -> bool:
    # CostEvent's validation guarantees floats (or None); NaN and +-inf are still possible
    return v is not None and v - v == 0.0


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
    action = event.action
    # create/start add spend, stop/delete remove it; a modify is priced as the change (either sign)
    if action is not CostAction.MODIFY and ((x < 0) if action in _INCREASES else (x > 0)):
        return Ignored(
            "sign_mismatch",
            f"{action.value} with a {'negative' if x < 0 else 'positive'} "
            f"rate change ({x!r} $/h) contradicts itself: ignored",
        )
    if q > MAX_QUANTITY:
        # The normaliser clamps requests at 10,000; more than that here is a malformed message.
        return Ignored("absurd_quantity", f"quantity {q:g} exceeds {MAX_QUANTITY:g}: ignored")
    note = None
    unit = None
    quote = event.unit_price
    if quote is not None and _finite(quote.usd_per_hour):
        unit = abs(float(quote.usd_per_hour))
    elif q > 0:
        unit = abs(x) / q
    if unit is not None and unit > MAX_UNIT_USD_PER_HOUR:
        return Ignored("absurd_price", f"unit price ${unit:,.2f}/h exceeds ${MAX_UNIT_USD_PER_HOUR:,.0f}/h: ignored")
    if q > 0 and abs(x) > MAX_UNIT_USD_PER_HOUR * q:
        return Ignored(
            "absurd_price",
            f"${abs(x):,.2f}/h for {q:g} resources exceeds ${MAX_UNIT_USD_PER_HOUR:,.0f}/h each: ignored",
        )
    if abs(x) > MAX_EVENT_USD_PER_HOUR:
        x = math.copysign(MAX_EVENT_USD_PER_HOUR, x)
        note = f"rate change clamped to ${MAX_EVENT_USD_PER_HOUR:,.0f}/h"
    it = event.attributes.get("instance_type")
    it = it if isinstance(it, str) and it else None
    actor = event.actor
    return Observation(
        event.event_id,
        event_epoch(event.event_time),
        float(x),
        float(q),
        unit,
        event.account_id,
        event.region,
        event.service,
        event.resource_type,
        actor_key_of(event),
        actor.display_name,
        actor.principal_arn,
        it,
        family_of(it),
        tuple(event.resource_ids),
        _VERBS[action],
        note,
    )


# ------------------------------------------------------------------------------------ state
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
            and all(r is None or (isinstance(r, list) and len(r) == 4) for r in seasonal)
            and all(isinstance(b, dict) for b in bursts.values())
        ):
            return False
        self.seasonal, self.bursts, self.bstats = seasonal, bursts, bs
        self.ignored = int(state.get("ig", 0))
        self.occurrences = recurrence.valid(state.get("oc"))
        ub = state.get("ub")
        self.unpriced = {k: v for k, v in ub.items() if isinstance(v, dict)} if isinstance(ub, dict) else {}
        return True


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


# ------------------------------------------------------------------------------------ result
# A component while scoring: (name, value in [0, 1], reason). The reason is a zero-argument
# function of numbers captured when the value was computed: it is only rendered when someone
# needs it (an anomaly row, a test), which keeps scoring the other 99 % of events cheap.
Part = tuple[str, float, Callable[[], str]]


def _part(name: str, value: float, reason: Callable[[], str]) -> Part:
    if not value > 0.0:  # also NaN
        value = 0.0
    elif value > 1.0:
        value = 1.0
    return (name, round(value, 4), reason)


@dataclass(slots=True)
class Evaluation:
    score: float
    parts: tuple[Part, ...]
    action: str = "none"  # "none" | "create" | "grow"
    anomaly_id: str | None = None
    bump: bool = False  # the anomaly changed enough to be re-posted
    severity: Severity = Severity.LOW
    burst: dict[str, Any] | None = None  # the burst (live state) for the anomaly row
    new_event_ids: list[str] = field(default_factory=list)
    new_resource_ids: list[str] = field(default_factory=list)
    _components: tuple[ScoreComponent, ...] | None = None

    @property
    def values(self) -> dict[str, float]:
        return {name: value for name, value, _ in self.parts}

    @property
    def components(self) -> tuple[ScoreComponent, ...]:
        if self._components is None:
            self._components = tuple(
                ScoreComponent.model_construct(name=n, value=v, reason=r()) for n, v, r in self.parts
            )
        return self._components


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
    bursts = series.bursts
    if not bursts:
        return
    gap, span = cfg.burst_gap_s, cfg.burst_max_s
    expired = [k for k, b in bursts.items() if t - b["t1"] > gap or t - b["t0"] > span]
    for key in expired:
        _close_burst(series, bursts.pop(key))
    while len(bursts) > MAX_OPEN_BURSTS:
        oldest = min(bursts, key=lambda k: bursts[k]["t1"])
        _close_burst(series, bursts.pop(oldest))


def _join_burst(series: SeriesState, obs: Observation) -> dict[str, Any]:
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


# ------------------------------------------------------------------------------------ components
def _z_value(z: float, half: float) -> float:
    if z <= 0:
        return 0.0
    return z * z / (z * z + half * half)


def zscore_part(
    obs: Observation, series: SeriesState, tenant: TenantState, cfg: ScoringConfig, tenant_warm: bool
) -> Part:
    """Max over the series' and the tenant's baseline of z -> z^2 / (z^2 + z_half^2)."""
    best, facts, learning = -1.0, None, []
    for label, base, ok in (("series", series, True), ("tenant", tenant, tenant_warm)):
        hours = base.history_hours(obs.t)
        if not ok or base.n < cfg.min_samples or hours < cfg.min_history_hours:
            learning.append((label, base.n, hours))
            continue
        new_level = base.level + obs.x
        z, sd = base.zscore(new_level, cfg.sd_floor_usd_per_hour, cfg.sd_floor_relative)
        v = _z_value(z, cfg.z_half)
        if v > best:
            best, facts = v, (label, base.level, new_level, z, base.mean, sd, hours)
    note = f" (input: {obs.note})" if obs.note else ""
    if facts is None:
        return _part(
            "zscore",
            0.0,
            lambda: (
                "; ".join(f"{lb}: learning ({n} events over {h:.0f} h)" for lb, n, h in learning)
                + ": no z-score yet"
                + note
            ),
        )

    def reason(f=facts):
        label, level, new_level, z, mean, sd, hours = f
        return (
            f"{label} spend rate {_money(level)} -> {_money(new_level)} is {z:,.1f} sd above its usual "
            f"{_money(mean)} (sd {_money(sd)}, {_days(hours * 3600)} of history){note}"
        )

    return _part("zscore", best, reason)


def rate_part(b: dict[str, Any], series: SeriesState, cfg: ScoringConfig) -> Part:
    """This burst against the series' usual bursts (mean + 2 sd of resources and of $/h)."""
    n, mq, vq, mu, vu = series.bstats
    q, u, minutes, who = b["q"], b["u"], (b["t1"] - b["t0"]) / 60.0, b["nm"]

    def here():
        return f"burst of {q:g} resources (+{_money(u)}) in {minutes:.1f} min by {who}"

    if n < cfg.burst_min_history:
        return _part("rate", 0.0, lambda: f"{here()}; too few earlier bursts ({n:.0f}) to compare")
    typical_q = max(1.0, mq + 2.0 * math.sqrt(max(vq, 0.0)))
    typical_u = max(0.01, mu + 2.0 * math.sqrt(max(vu, 0.0)))
    ratio = max(q / typical_q, u / typical_u)
    value = (ratio - 1.0) / (ratio + 1.0) if ratio > 1.0 else 0.0
    return _part(
        "rate",
        value,
        lambda: f"{here()}; usual bursts here: ~{mq:.1f} resources (+{_money(mu)}), {ratio:.1f}x the usual upper end",
    )


def _slot_keys(t: float) -> tuple[int, int, int]:
    days = int(t // 86400)
    hour = int((t % 86400) // 3600)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    return weekday * 24 + hour, hour, days


def _effective(rec: list, day: int, halflife_days: float) -> tuple[float, float]:
    """(k, amount) of earlier occurrences in a slot as of ``day``: an occurrence still open from an
    earlier day counts, and k fades with the days since the last occurrence."""
    k, amt, rday, cur = rec
    if cur > 0 and rday != day:
        a = max(1.0 / (k + 1.0), 0.3)
        amt = cur if k <= 0 else amt + a * (cur - amt)
        k += 1.0
    if k > 0 and halflife_days > 0 and day > rday:
        k *= 2.0 ** (-(day - rday) / halflife_days)
    return k, amt


def _roll(rec: list, day: int, halflife_days: float) -> None:
    if rec[2] != day:
        k, amt = _effective(rec, day, halflife_days)
        rec[0], rec[1], rec[2], rec[3] = round(min(k, 50.0), 4), round(amt, 4), day, 0.0


def _slot_name(base: int, slot: int) -> str:
    return f"{slot:02d}:00 UTC on any day" if base else f"{_DAYS[slot // 24]} {slot % 24:02d}:00 UTC"


def pattern_part(obs: Observation, b: dict[str, Any], series: SeriesState, cfg: ScoringConfig) -> Part:
    """Familiarity of this increase in its hour-of-week / hour-of-day slot (slot of the burst's
    start; the neighbouring hours count at 0.8): confidence(k earlier occurrences) x the share
    of this occurrence's $/h that the usual amount explains."""
    week_slot, hour, day = _slot_keys(b["t0"])
    seasonal = series.seasonal
    x = obs.x
    best, facts = 0.0, None
    week_total = x
    for base, slot, period, half, halflife in (
        (0, week_slot, WEEK_SLOTS, cfg.weekly_confidence_half, cfg.weekly_halflife_days),
        (WEEK_SLOTS, hour, 24, cfg.daily_confidence_half, cfg.daily_halflife_days),
    ):
        rec = seasonal[base + slot]
        if rec is None:
            rec = seasonal[base + slot] = [0.0, 0.0, day, 0.0]
        elif rec[2] != day:
            _roll(rec, day, halflife)
        current = rec[3] = round(rec[3] + x, 6)
        if not base:
            week_total = current
        for offset, weight in ((0, 1.0), (-1, 0.8), (1, 0.8)):
            if offset:
                other = seasonal[base + (slot + offset) % period]
                if other is None:
                    continue
                k, amt = _effective(other, day, halflife)
            else:
                k, amt = rec[0], rec[1]  # rolled above: decayed to now, earlier occurrences only
            if k <= 0 or amt <= 0:
                continue
            confidence = k / (k + half)
            explained = cfg.pattern_slack * amt / current if current > 0 else 1.0
            if explained > 1.0:
                explained = 1.0
            fam = weight * confidence * explained
            if fam > best:
                best, facts = fam, (base, (slot + offset) % period, amt, k, current, explained, confidence)
    calendar = recurrence.match(series.occurrences, b["t0"], obs.actor_key, b["ty"], b["q"], b["u"], cfg.pattern_slack)
    if calendar is not None and calendar[0] > best:
        return _part("pattern", calendar[0], calendar[1])
    if facts is None:
        return _part(
            "pattern",
            0.0,
            lambda: (
                f"no recurring increase of this series at {_slot_name(0, week_slot)} (+{_money(week_total)} so far)"
            ),
        )

    def reason(f=facts):
        base, slot, amt, k, current, explained, confidence = f
        return (
            f"recurring: {_slot_name(base, slot)} saw ~+{_money(amt)} on {k:.1f} earlier "
            f"{'days' if base else 'weeks'}; this one is +{_money(current)} so far "
            f"({explained:.0%} explained, confidence {confidence:.0%})"
        )

    return _part("pattern", best, reason)


def _tier(unit: float | None) -> int | None:
    return None if unit is None else bisect.bisect_right(PRICE_TIERS, unit)


def _tier_label(tier: int) -> str:
    lo = PRICE_TIERS[tier - 1] if tier > 0 else 0.0
    return f"${lo:g}+/h per resource" if tier >= len(PRICE_TIERS) else f"${lo:g}-{PRICE_TIERS[tier]:g}/h per resource"


def _novelty_keys(obs: Observation) -> tuple[tuple[str, str | None], ...]:
    tier = _tier(obs.unit_usd)
    return (
        ("region", obs.region),
        ("family", obs.family),
        ("service", obs.service),
        ("principal", obs.actor_key),
        ("tier", None if tier is None else str(tier)),
    )


_NOVELTY_LABELS = {
    "region": "use of region",
    "family": "instance family",
    "service": "use of service",
    "principal": "spend by principal",
}


def novelty_raw(keys, burst_usd: float, tenant: TenantState, cfg: ScoringConfig) -> tuple[float, str]:
    """(noisy-OR of new dimensions, reason) before cost weighting. A price tier is new only if
    it is above every tier the tenant has used (a cheaper tier is no risk)."""
    news, keep = None, 1.0
    for dim, key in keys:
        if key is None:
            continue
        seen = tenant.novelty[dim]
        if dim == "tier":
            if key not in seen and int(key) > max((int(k) for k in seen), default=-1):
                news = (news or []) + [f"first resource in price tier {_tier_label(int(key))}"]
                keep *= 1.0 - NOVELTY_WEIGHTS[dim]
            continue
        rec = seen.get(key)
        if rec is None:
            news = (news or []) + [f"first {_NOVELTY_LABELS[dim]} {key}"]
            keep *= 1.0 - NOVELTY_WEIGHTS[dim]
        elif burst_usd > cfg.novelty_scale_factor * max(rec[1], 0.05):
            news = (news or []) + [f"{_NOVELTY_LABELS[dim]} {key} seen before only up to {_money(rec[1])}"]
            keep *= 1.0 - 0.5 * NOVELTY_WEIGHTS[dim]
    return 1.0 - keep, ", ".join(news) if news else ""


def _remember(obs: Observation, keys, burst_usd: float, tenant: TenantState) -> None:
    dirty = tenant.dirty
    for dim, key in keys:
        if key is None:
            continue
        seen = tenant.novelty[dim]
        rec = seen.get(key)
        if rec is None:
            seen[key] = [obs.t, max(burst_usd, 0.0)]
            dirty.setdefault((dim, key), obs.t)
        elif burst_usd > rec[1] or obs.t > rec[0] + 86400.0:  # last seen: to the day, to keep writes rare
            rec[0], rec[1] = max(rec[0], obs.t), max(rec[1], burst_usd)
            dirty.setdefault((dim, key), rec[0])


def novelty_part(b: dict[str, Any], cfg: ScoringConfig, tenant_age_s: float) -> Part:
    """The burst's novelty (noisy-OR of new dimensions) x cost weight u / (u + scale)."""
    if tenant_age_s < cfg.cold_start_days * 86400.0:
        return _part(
            "novelty",
            0.0,
            lambda: (
                f"tenant has {_days(tenant_age_s)} of history: everything is new, "
                f"novelty counts from {cfg.cold_start_days:g} days "
                f"(cold-start rules apply)"
            ),
        )
    raw, why, u = b["nv"], b["nvr"], b["u"]
    if raw <= 0:
        return _part(
            "novelty", 0.0, lambda: "nothing new for this tenant (region, family, service, principal, price tier)"
        )
    weight = u / (u + cfg.novelty_cost_scale_usd_per_hour) if u > 0 else 0.0
    return _part("novelty", raw * weight, lambda: f"{why}; weighted by cost +{_money(u)} ({weight:.0%})")


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


def cold_start_part(
    b: dict[str, Any], cfg: ScoringConfig, series_age_s: float, tenant_age_s: float, earlier_bursts: float = math.inf
) -> Part:
    """While the series or the tenant is young, or the series has too few earlier bursts for the
    rate rule to judge (an old series with one tiny burst is no evidence): noisy-OR of absolute
    rules on the burst."""
    limit = cfg.cold_start_days * 86400.0
    thin = earlier_bursts < cfg.burst_min_history
    if series_age_s >= limit and tenant_age_s >= limit and not thin:
        return _part(
            "cold_start",
            0.0,
            lambda: (
                f"series has {_days(series_age_s)} and tenant {_days(tenant_age_s)} of history: cold-start rules off"
            ),
        )
    u, q = b["u"], b["q"]
    fired, keep = [], 1.0
    keep *= 1.0 - (u / (u + cfg.cold_start_usd_per_hour) if u > 0 else 0.0)
    if u >= cfg.cold_start_usd_per_hour:
        fired.append(f"+{_money(u)} >= {_money(cfg.cold_start_usd_per_hour)}")
    big = [f for f in b["fam"] if is_accelerator(f)]
    large = [t for t in b["ty"] if is_very_large(t, int(cfg.cold_start_large_size))]
    if big or large:
        floor = cfg.alert_floor_usd_per_hour
        keep *= 1.0 - (0.9 * min(1.0, u / floor) if floor > 0 else 0.9)
        fired.append(("GPU/accelerator family " + ", ".join(big)) if big else ("very large " + ", ".join(large)))
    if cfg.cold_start_resources > 0:
        keep *= 1.0 - q / (q + cfg.cold_start_resources)
        if q >= cfg.cold_start_resources:
            fired.append(f"{q:g} resources at once (>= {cfg.cold_start_resources:g})")
    who = "tenant" if tenant_age_s < limit else "series"
    age = min(tenant_age_s, series_age_s) if who == "tenant" else series_age_s
    young = f"{who} has {_days(age)} of history"
    if who == "series" and series_age_s >= limit:
        young = f"series has {_days(age)} but only {earlier_bursts:.0f} earlier burst(s)"
    return _part(
        "cold_start",
        1.0 - keep,
        lambda: (
            f"cold start ({young}): "
            + ("; ".join(fired) if fired else f"+{_money(u)}, {q:g} resources: under the absolute rules")
        ),
    )


def feedback_part(obs: Observation, b: dict[str, Any], rules: list[FeedbackRule], cfg: ScoringConfig) -> Part:
    """The strongest matching feedback rule (see feedback.py for the matching)."""
    best, best_rule = 0.0, None
    u = b["u"]
    for r in rules:
        if r.actor_key != obs.actor_key or r.resource_type != obs.resource_type or r.account_id != obs.account_id:
            continue
        base = cfg.feedback_expected if r.status == "expected" else cfg.feedback_false_positive
        amount = min(1.0, cfg.pattern_slack * r.hourly_usd / u) if u > 0 else 1.0
        where = 1.0 if obs.region == r.region else 0.5
        what = 1.0 if not b["fam"] or not r.families or set(b["fam"]) <= set(r.families) else 0.5
        age = max(0.0, obs.t - r.t)
        decay = 2.0 ** (-age / (cfg.feedback_halflife_days * 86400.0)) if cfg.feedback_halflife_days > 0 else 1.0
        s = base * amount * where * what * decay
        if s > best:
            best, best_rule = s, r
    if best_rule is None:
        return _part("feedback", 0.0, lambda: "no earlier feedback on similar activity")
    r, s = best_rule, best
    return _part(
        "feedback",
        best,
        lambda: (
            f"{r.by} marked a similar +{_money(r.hourly_usd)} by this principal on "
            f"{datetime.fromtimestamp(r.t, UTC):%Y-%m-%d} {r.status.replace('_', ' ')}: score lowered by {s:.0%}"
        ),
    )


def combine(values: dict[str, float]) -> float:
    """The documented combination (module docstring)."""
    p = values.get("pattern", 0.0)
    keep = 1.0 - p
    evidence = _noisy_or(
        (
            values.get("zscore", 0.0) * keep,
            values.get("rate", 0.0) * keep,
            values.get("cold_start", 0.0) * keep,
            values.get("novelty", 0.0),
        )
    )
    return min(1.0, max(0.0, evidence * (1.0 - values.get("feedback", 0.0))))


# ------------------------------------------------------------------------------------ step
def _decrease_parts(x: float) -> tuple[Part, ...]:
    def down():
        return f"spend went down ({_money(x)}) or did not change: decreases are never anomalies"

    def skipped():
        return "not evaluated for a decrease"

    return tuple((name, 0.0, down if name == "zscore" else skipped) for name in COMPONENT_ORDER)


_SEVERITIES = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


def step(
    obs: Observation,
    series: SeriesState,
    tenant: TenantState,
    cfg: ScoringConfig,
    rules: list[FeedbackRule] | None = None,
    *,
    new_id=uuid.uuid4,
) -> Evaluation:
    """Score one observation and update ``series`` and ``tenant`` (exactly once per call)."""
    halflife_h = cfg.baseline_halflife_days * 24.0
    t, x = obs.t, obs.x
    series.fold_to(t, halflife_h)
    tenant.fold_to(t, halflife_h)
    series_age = t - series.first_t
    tenant_age = t - tenant.first_t
    _expire_bursts(series, t, cfg)

    if x <= 0:
        series.apply(x)
        tenant.apply(x)
        return Evaluation(0.0, _decrease_parts(x))

    tenant_warm = tenant_age >= cfg.cold_start_days * 86400.0
    b = _join_burst(series, obs)
    keys = _novelty_keys(obs)
    raw, why = novelty_raw(keys, b["u"], tenant, cfg)
    if raw > b["nv"]:
        b["nv"], b["nvr"] = raw, why

    parts = (
        zscore_part(obs, series, tenant, cfg, tenant_warm),
        rate_part(b, series, cfg),
        pattern_part(obs, b, series, cfg),
        novelty_part(b, cfg, tenant_age),
        cold_start_part(b, cfg, series_age, tenant_age, series.bstats[0]),
        feedback_part(obs, b, rules or [], cfg),
    )
    z, r, p, nv, c, f = (v for _, v, _ in parts)
    keep = 1.0 - p
    score = round((1.0 - (1.0 - z * keep) * (1.0 - r * keep) * (1.0 - c * keep) * (1.0 - nv)) * (1.0 - f), 4)

    series.apply(x)
    tenant.apply(x)
    _remember(obs, keys, b["u"], tenant)
    series.occurrences = recurrence.remember(series.occurrences, b, obs.actor_key)

    ev = Evaluation(score, parts, burst=b)
    severity = composite_severity(b["u"], score, cfg.score_threshold)
    if b["aid"] is not None:
        ev.action, ev.anomaly_id = "grow", b["aid"]
        ev.new_event_ids, ev.new_resource_ids = [obs.event_id], list(obs.resource_ids)
        rank = max(severity_rank(severity), int(b["sn"]))
        severity = _SEVERITIES[rank]
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
    if b.get("pu"):  # an unpriced burst (scoring/shape.py)
        from dd0c_cost.scoring.shape import summary

        return summary(b, account_id)
    types = sorted(b["ty"].items(), key=lambda kv: -kv[1])
    q = b["q"]
    if len(types) == 1:
        what = f"{q:g} × {types[0][0]}" if q != 1 else types[0][0]
    else:
        what = (
            f"{q:g} resources ("
            + ", ".join(f"{n:g} × {t}" for t, n in types[:3])
            + (", …" if len(types) > 3 else "")
            + ")"
        )
    where = ", ".join(b["rg"][:3]) + (" …" if len(b["rg"]) > 3 else "")
    minutes = (b["t1"] - b["t0"]) / 60.0
    span = f" in {b['n']} calls over {minutes:.0f} min" if b["n"] > 1 else ""
    return (
        f"{b['nm']} {b['vb']} {what} in {where} (account {account_id}){span}: +${b['u']:,.2f}/h "
        f"(~${b['u'] * HOURS_PER_MONTH:,.0f}/month)"
    )
