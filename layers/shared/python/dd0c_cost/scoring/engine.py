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

import uuid
from typing import Any

from dd0c_cost.scoring import recurrence
from dd0c_cost.scoring.baseline import composite_severity, severity_rank
from dd0c_cost.scoring.combination import SEVERITIES, Evaluation, score_of
from dd0c_cost.scoring.components import (
    cold_start_part,
    decrease_parts,
    feedback_part,
    novelty_keys,
    novelty_part,
    novelty_raw,
    pattern_part,
    rate_part,
    remember_novelty,
    zscore_part,
)
from dd0c_cost.scoring.config import HOURS_PER_MONTH, ScoringConfig
from dd0c_cost.scoring.observation import Observation
from dd0c_cost.scoring.series import FeedbackRule, SeriesState, TenantState, expire_bursts, join_burst


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
    expire_bursts(series, t, cfg)

    if x <= 0:
        series.apply(x)
        tenant.apply(x)
        return Evaluation(0.0, decrease_parts(x))

    tenant_warm = tenant_age >= cfg.cold_start_days * 86400.0
    b = join_burst(series, obs)
    keys = novelty_keys(obs)
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
    score = score_of(parts)

    series.apply(x)
    tenant.apply(x)
    remember_novelty(obs, keys, b["u"], tenant)
    series.occurrences = recurrence.remember(series.occurrences, b, obs.actor_key)
    return _decide(Evaluation(score, parts, burst=b), obs, b, cfg, new_id)


def _decide(ev: Evaluation, obs: Observation, b: dict[str, Any], cfg: ScoringConfig, new_id) -> Evaluation:
    """What the score means for the burst's anomaly: grow the open one (re-post it when it grew by
    ``revision_growth`` or its severity rose), raise a new one (score and $/h over their
    thresholds), or nothing."""
    score = ev.score
    severity = composite_severity(b["u"], score, cfg.score_threshold)
    if b["aid"] is not None:
        ev.action, ev.anomaly_id = "grow", b["aid"]
        ev.new_event_ids, ev.new_resource_ids = [obs.event_id], list(obs.resource_ids)
        rank = max(severity_rank(severity), int(b["sn"]))
        severity = SEVERITIES[rank]
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
    types = sorted(b["ty"].items(), key=lambda kv: (-kv[1], kv[0]))  # ties by name, not dict order
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
