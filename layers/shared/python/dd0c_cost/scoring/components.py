"""The score's components, each a value in [0, 1] with a reason: evidence (``zscore``, ``rate``,
``novelty``, ``cold_start``) and dampers (``pattern``, ``feedback``). ``docs/scoring.md`` explains each."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from dd0c_cost.scoring import recurrence
from dd0c_cost.scoring.config import ScoringConfig
from dd0c_cost.scoring.observation import Observation
from dd0c_cost.scoring.series import NOVELTY_WEIGHTS, WEEK_SLOTS, FeedbackRule, SeriesState, TenantState

COMPONENT_ORDER = ("zscore", "rate", "pattern", "novelty", "cold_start", "feedback")
# Unit price tiers ($/h per resource); only a tier above every tier the tenant has used is novel.
PRICE_TIERS = (0.05, 0.25, 1.0, 4.0, 16.0, 64.0)
_ACCELERATOR = re.compile(r"^(p|g|inf|trn|dl|f|vt)\d", re.IGNORECASE)
_SIZE = re.compile(r"^(\d+)xlarge$")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ------------------------------------------------------------------------------------ result
# A component while scoring: (name, value in [0, 1], reason). The reason is a zero-argument
# function of numbers captured when the value was computed: it is only rendered when someone
# needs it (an anomaly row, a test), which keeps scoring the other 99 % of events cheap.
Part = tuple[str, float, Callable[[], str]]


def make_part(name: str, value: float, reason: Callable[[], str]) -> Part:
    """The value clamped to [0, 1] and rounded to 4 decimals (0 and 1 are already: ``round`` costs a
    float-to-decimal conversion, and most parts of most events are 0)."""
    if not value > 0.0:  # also NaN
        return (name, 0.0, reason)
    if value >= 1.0:
        return (name, 1.0, reason)
    return (name, round(value, 4), reason)


def _days(seconds: float) -> str:
    return f"{seconds / 86400.0:.1f} days"


def _money(v: float) -> str:
    return f"${v:,.2f}/h"


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
        return make_part(
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

    return make_part("zscore", best, reason)


def rate_part(b: dict[str, Any], series: SeriesState, cfg: ScoringConfig) -> Part:
    """This burst against the series' usual bursts (mean + 2 sd of resources and of $/h)."""
    n, mq, vq, mu, vu = series.bstats
    q, u, minutes, who = b["q"], b["u"], (b["t1"] - b["t0"]) / 60.0, b["nm"]

    def here():
        return f"burst of {q:g} resources (+{_money(u)}) in {minutes:.1f} min by {who}"

    if n < cfg.burst_min_history:
        return make_part("rate", 0.0, lambda: f"{here()}; too few earlier bursts ({n:.0f}) to compare")
    typical_q = max(1.0, mq + 2.0 * math.sqrt(max(vq, 0.0)))
    typical_u = max(0.01, mu + 2.0 * math.sqrt(max(vu, 0.0)))
    ratio = max(q / typical_q, u / typical_u)
    value = (ratio - 1.0) / (ratio + 1.0) if ratio > 1.0 else 0.0
    return make_part(
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
        return make_part("pattern", calendar[0], calendar[1])
    if facts is None:
        return make_part(
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

    return make_part("pattern", best, reason)


def _tier(unit: float | None) -> int | None:
    return None if unit is None else bisect.bisect_right(PRICE_TIERS, unit)


def _tier_label(tier: int) -> str:
    lo = PRICE_TIERS[tier - 1] if tier > 0 else 0.0
    return f"${lo:g}+/h per resource" if tier >= len(PRICE_TIERS) else f"${lo:g}-{PRICE_TIERS[tier]:g}/h per resource"


def novelty_keys(obs: Observation) -> tuple[tuple[str, str | None], ...]:
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


def remember_novelty(obs: Observation, keys, burst_usd: float, tenant: TenantState) -> None:
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
        return make_part(
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
        return make_part(
            "novelty", 0.0, lambda: "nothing new for this tenant (region, family, service, principal, price tier)"
        )
    weight = u / (u + cfg.novelty_cost_scale_usd_per_hour) if u > 0 else 0.0
    return make_part("novelty", raw * weight, lambda: f"{why}; weighted by cost +{_money(u)} ({weight:.0%})")


@lru_cache(maxsize=1024)
def is_accelerator(family: str | None) -> bool:
    return bool(family and _ACCELERATOR.match(family))


@lru_cache(maxsize=4096)
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
        return make_part(
            "cold_start",
            0.0,
            lambda: (
                f"series has {_days(series_age_s)} and tenant {_days(tenant_age_s)} of history: cold-start rules off"
            ),
        )
    u, q = b["u"], b["q"]
    keep = 1.0 - (u / (u + cfg.cold_start_usd_per_hour) if u > 0 else 0.0)
    big = [f for f in b["fam"] if is_accelerator(f)]
    large_size = int(cfg.cold_start_large_size)
    large = [t for t in b["ty"] if is_very_large(t, large_size)]
    if big or large:
        floor = cfg.alert_floor_usd_per_hour
        keep *= 1.0 - (0.9 * min(1.0, u / floor) if floor > 0 else 0.9)
    if cfg.cold_start_resources > 0:
        keep *= 1.0 - q / (q + cfg.cold_start_resources)

    def reason() -> str:  # (only the numbers above: rendered when someone reads it)
        fired = []
        if u >= cfg.cold_start_usd_per_hour:
            fired.append(f"+{_money(u)} >= {_money(cfg.cold_start_usd_per_hour)}")
        if big or large:
            fired.append(("GPU/accelerator family " + ", ".join(big)) if big else ("very large " + ", ".join(large)))
        if cfg.cold_start_resources > 0 and q >= cfg.cold_start_resources:
            fired.append(f"{q:g} resources at once (>= {cfg.cold_start_resources:g})")
        who = "tenant" if tenant_age_s < limit else "series"
        age = min(tenant_age_s, series_age_s) if who == "tenant" else series_age_s
        young = f"{who} has {_days(age)} of history"
        if who == "series" and series_age_s >= limit:
            young = f"series has {_days(age)} but only {earlier_bursts:.0f} earlier burst(s)"
        return f"cold start ({young}): " + (
            "; ".join(fired) if fired else f"+{_money(u)}, {q:g} resources: under the absolute rules"
        )

    return make_part("cold_start", 1.0 - keep, reason)


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
        return make_part("feedback", 0.0, lambda: "no earlier feedback on similar activity")
    r, s = best_rule, best
    return make_part(
        "feedback",
        best,
        lambda: (
            f"{r.by} marked a similar +{_money(r.hourly_usd)} by this principal on "
            f"{datetime.fromtimestamp(r.t, UTC):%Y-%m-%d} {r.status.replace('_', ' ')}: score lowered by {s:.0%}"
        ),
    )


def decrease_parts(x: float) -> tuple[Part, ...]:
    def down():
        return f"spend went down ({_money(x)}) or did not change: decreases are never anomalies"

    def skipped():
        return "not evaluated for a decrease"

    return tuple((name, 0.0, down if name == "zscore" else skipped) for name in COMPONENT_ORDER)
