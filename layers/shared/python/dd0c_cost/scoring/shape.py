"""Shape-based scoring of a cost event whose price is unknown.

An unpriced change (SageMaker, Bedrock, a type the price book lacks, a stop/start of a resource
sized before the history began) cannot enter the $/h baselines, but it is never silently 0: it is
scored on what is known about its shape, and alerts as "price unknown" when that shape crosses the
tenant's line (``ScoringConfig.unpriced_alert_score``, per tenant in ``dd0c.tenant_settings``).

    shape = 1 - (1 - a)(1 - v)(1 - c)(1 - n)
    a = 0.7 for an accelerator family (p, g, inf, trn, dl ...; ``ml.``/``kafka.``/``db.`` prefixes
        dropped, so ml.p4d.24xlarge is p4d), or a resource that is accelerator capacity by definition
        (Bedrock provisioned throughput's model units)
    v = 0.5 for a very large size (>= cold_start_large_size xlarge, metal, u-*)
    c = count / (count + cold_start_resources): resources x instances/nodes/brokers/units each
    n = noisy-OR of a first region (0.5), service (0.4) or principal (0.3) for the tenant, once
        the tenant has cold_start_days of history (before that everything is new)

Only increases are scored (create, start, and a modify that does not lower the count); a stop or
delete is a decrease and never alerts. Events of one actor in one series within ``burst_gap_s``
of each other group into one anomaly, as priced bursts do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from dd0c_cost.events.models import CostAction, CostEvent
from dd0c_cost.pricing.gaps import NO_PRICE_REASONS
from dd0c_cost.scoring.combination import Evaluation
from dd0c_cost.scoring.components import is_accelerator, is_very_large, make_part
from dd0c_cost.scoring.config import ScoringConfig
from dd0c_cost.scoring.models import Severity
from dd0c_cost.scoring.observation import VERBS, Observation, actor_key_of, event_epoch, family_of
from dd0c_cost.scoring.series import SeriesState, TenantState

ACCELERATOR_WEIGHT = 0.7
LARGE_WEIGHT = 0.5
NOVELTY = {"region": 0.5, "service": 0.4, "principal": 0.3}
# Resources that are dedicated accelerator capacity whatever their attributes say: a Bedrock
# provisioned model unit reserves model-serving accelerators by the hour (no instance type is named).
ACCELERATOR_RESOURCE_TYPES = {"bedrock:provisioned-model": "dedicated accelerator capacity (Bedrock model units)"}
COUNT_KEYS = ("instance_count", "nodes", "brokers", "model_units", "desired_size", "shard_count")
_PREFIX = re.compile(r"^(ml|kafka|db|cache)\.", re.IGNORECASE)


def _bare_type(instance_type: str | None) -> str | None:
    if not instance_type:
        return None
    return _PREFIX.sub("", instance_type)


def _count(event: CostEvent) -> float:
    each = 1.0
    for key in COUNT_KEYS:
        v = event.attributes.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            each = float(v)
            break
    return max(event.quantity, 1.0) * each


def why_unpriced(event: CostEvent) -> str:
    """One sentence: why this event has no price."""
    if event.service in NO_PRICE_REASONS:
        return NO_PRICE_REASONS[event.service]
    if event.resource_type.startswith("ec2:transit-gateway"):
        return NO_PRICE_REASONS["transit_gateway"]
    if not event.attributes.get("instance_type") and event.action is not CostAction.CREATE:
        return "the resource's size is in no earlier event (sized before the history began) and the account did not say"
    return "the price book has no price for this type or region"


def observe(event: CostEvent) -> Observation:
    it = event.attributes.get("instance_type")
    it = it if isinstance(it, str) and it else None
    return Observation(
        event.event_id,
        event_epoch(event.event_time),
        0.0,
        float(event.quantity),
        None,
        event.account_id,
        event.region,
        event.service,
        event.resource_type,
        actor_key_of(event),
        event.actor.display_name,
        event.actor.principal_arn,
        it,
        family_of(_bare_type(it)),
        tuple(event.resource_ids),
        VERBS[event.action],
        None,
    )


def _increase(event: CostEvent) -> bool:
    # an unpriced modify counts too: the new shape is what matters (a lower count scores low)
    return event.action in (CostAction.CREATE, CostAction.START, CostAction.MODIFY)


def shape_parts(
    obs: Observation, event: CostEvent, tenant: TenantState, cfg: ScoringConfig, tenant_age_s: float
) -> tuple[float, str]:
    """(shape score, reason)."""
    keep, said = 1.0, []
    bare = _bare_type(obs.instance_type)
    if is_accelerator(obs.family):
        keep *= 1.0 - ACCELERATOR_WEIGHT
        said.append(f"accelerator family {obs.instance_type}")
    elif event.resource_type in ACCELERATOR_RESOURCE_TYPES:
        keep *= 1.0 - ACCELERATOR_WEIGHT
        said.append(ACCELERATOR_RESOURCE_TYPES[event.resource_type])
    if is_very_large(bare, int(cfg.cold_start_large_size)):
        keep *= 1.0 - LARGE_WEIGHT
        said.append(f"very large size {obs.instance_type}")
    n = _count(event)
    if cfg.cold_start_resources > 0:
        keep *= 1.0 - n / (n + cfg.cold_start_resources)
    said.append(f"{n:g} instance(s)/node(s)")
    if tenant_age_s >= cfg.cold_start_days * 86400.0:
        for dim, key in (("region", obs.region), ("service", obs.service), ("principal", obs.actor_key)):
            if key not in tenant.novelty[dim]:
                keep *= 1.0 - NOVELTY[dim]
                said.append(f"first {dim} {key if dim != 'principal' else obs.actor_name}")
    return round(1.0 - keep, 4), ", ".join(said)


def step_unpriced(
    event: CostEvent,
    series: SeriesState,
    tenant: TenantState,
    cfg: ScoringConfig,
    *,
    new_id: Callable[[], Any] = uuid.uuid4,
) -> tuple[Evaluation, Observation] | None:
    """Score an unpriced event on its shape; None for a decrease (nothing to score)."""
    if not _increase(event):
        return None
    obs = observe(event)
    t = obs.t
    tenant_age = t - tenant.first_t if tenant.first_t else 0.0
    score, why = shape_parts(obs, event, tenant, cfg, tenant_age)
    unpriced = why_unpriced(event)
    line = cfg.unpriced_alert_score
    for dim, key in (("region", obs.region), ("service", obs.service), ("principal", obs.actor_key)):
        if key not in tenant.novelty[dim]:
            tenant.novelty[dim][key] = [t, 0.0]
            tenant.dirty.setdefault((dim, key), t)

    what = obs.instance_type or obs.resource_type
    b = series.unpriced.get(obs.actor_key)
    if b is None or t - b["t1"] > cfg.burst_gap_s or t - b["t0"] > cfg.burst_max_s:
        b = {
            "t0": t,
            "t1": t,
            "q": 0.0,
            "u": 0.0,
            "n": 0,
            "ty": {},
            "rg": [],
            "nm": obs.actor_name,
            "arn": obs.actor_arn,
            "vb": obs.verb,
            "fam": [],
            "aid": None,
            "s": 0.0,
            "ids": [],
            "res": [],
            "pu": unpriced,
        }
        series.unpriced = {k: v for k, v in series.unpriced.items() if t - v["t1"] <= cfg.burst_max_s}
        series.unpriced[obs.actor_key] = b
    b["t1"] = max(b["t1"], t)
    b["n"] += 1
    n = _count(event)
    b["q"] += n
    b["ty"][what] = b["ty"].get(what, 0.0) + n
    if obs.region not in b["rg"]:
        b["rg"].append(obs.region)
    if obs.family and obs.family not in b["fam"]:
        b["fam"].append(obs.family)
    if b["aid"] is None:
        b["ids"].append(obs.event_id)
        b["res"].extend(obs.resource_ids[:50])
    score = max(score, b["s"])
    parts = (
        make_part("shape", score, lambda: f"price unknown, judged by its shape: {why} (alerts from {line:g})"),
        make_part("price_unknown", 0.0, lambda: f"price unknown: {unpriced}"),
    )
    ev = Evaluation(score, parts, burst=b)
    ev.severity = Severity.HIGH if score >= 0.9 else Severity.MEDIUM
    if b["aid"] is not None:
        ev.action, ev.anomaly_id = "grow", b["aid"]
        ev.new_event_ids, ev.new_resource_ids = [obs.event_id], list(obs.resource_ids)
        ev.bump = score > b["s"] + 0.05
    elif score >= line:
        b["aid"] = str(new_id())
        ev.action, ev.anomaly_id, ev.bump = "create", b["aid"], True
        ev.new_event_ids, ev.new_resource_ids = list(b["ids"]), list(b["res"])
        b["ids"], b["res"] = [], []
    b["s"] = score
    return ev, obs


def summary(b: dict[str, Any], account_id: str) -> str:
    types = sorted(b["ty"].items(), key=lambda kv: (-kv[1], kv[0]))  # ties by name, not dict order
    what = ", ".join(f"{n:g} × {t}" for t, n in types[:3]) + (", …" if len(types) > 3 else "")
    where = ", ".join(b["rg"][:3])
    return f"{b['nm']} {b['vb']} {what} in {where} (account {account_id}): price unknown ({b['pu']})"
