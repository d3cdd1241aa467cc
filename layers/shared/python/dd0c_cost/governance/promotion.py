"""Automatic promotion and demotion of a tenant's mode, on evidence, in event time.

* **Promotion** (shadow -> audit -> enforce, one step, never past ``promote_max_mode``): after
  ``promote_after_days`` in the current mode, when at least ``min_reviewed`` anomalies detected in
  that time were reviewed by people (any status but ``open``) and the share marked
  ``false_positive`` is at most ``fp_rate_ceiling``.
* **Demotion** (one step down): when, over the last ``demote_window_days`` of the current mode, at
  least ``demote_min_reviewed`` anomalies were reviewed and the false-positive share exceeds
  ``demote_fp_rate``.

Evaluated at decision time (the notify stage and every status change), at the tenant's clock, so
a replay promotes and demotes at the same event times. Nothing moves under panic. Every change is
an audit entry (source ``system``) whose reason states the evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from uuid import UUID

from dd0c_cost.db.connection import Connection
from dd0c_cost.governance import store
from dd0c_cost.governance.models import Mode

PROMOTION_ACTOR = "dd0c-cost governance"


@dataclass(frozen=True)
class Policy:
    auto_promote: bool = True
    promote_after_days: float = 14.0
    promote_max_mode: Mode = Mode.ENFORCE
    min_reviewed: int = 10
    fp_rate_ceiling: float = 0.2
    auto_demote: bool = True
    demote_window_days: float = 7.0
    demote_min_reviewed: int = 5
    demote_fp_rate: float = 0.5

    def as_dict(self) -> dict:
        values = asdict(self)
        values["promote_max_mode"] = self.promote_max_mode.value
        return values


POLICY_FIELDS = tuple(f.name for f in fields(Policy))
DEFAULT_POLICY = Policy()


def load_policy(conn: Connection, tenant_id: UUID) -> Policy:
    row = conn.execute(
        f"SELECT {', '.join(POLICY_FIELDS)} FROM dd0c.governance_settings WHERE tenant_id = %s", [tenant_id]
    ).fetchone()
    overrides = {k: v for k, v in (row or {}).items() if v is not None}
    if "promote_max_mode" in overrides:
        overrides["promote_max_mode"] = Mode(overrides["promote_max_mode"])
    return Policy(**{**asdict(DEFAULT_POLICY), **overrides})


def save_policy(conn: Connection, tenant_id: UUID, *, by: str, **values) -> Policy:
    """Set (a value) or reset (None) policy fields; validated by the table's CHECKs and here."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"not governance settings: {sorted(unknown)}")
    conn.execute("INSERT INTO dd0c.governance_settings (tenant_id) VALUES (%s) ON CONFLICT DO NOTHING", [tenant_id])
    if values:
        values = {k: (v.value if isinstance(v, Mode) else v) for k, v in values.items()}
        assignments = ", ".join(f"{name} = %s" for name in values)
        conn.execute(
            f"UPDATE dd0c.governance_settings SET {assignments}, updated_by = %s, updated_at = now() WHERE tenant_id = %s",
            [*values.values(), by, tenant_id],
        )
    return load_policy(conn, tenant_id)


@dataclass(frozen=True)
class Evidence:
    since: datetime
    until: datetime
    reviewed: int
    false_positives: int

    @property
    def fp_rate(self) -> float:
        return self.false_positives / self.reviewed if self.reviewed else 0.0

    def describe(self) -> str:
        return (
            f"{self.false_positives} false positive(s) of {self.reviewed} reviewed anomalies "
            f"({self.fp_rate:.0%}) detected {self.since:%Y-%m-%d %H:%M} – {self.until:%Y-%m-%d %H:%M} UTC"
        )


def evidence(conn: Connection, since: datetime, until: datetime) -> Evidence:
    row = conn.execute(
        """SELECT count(*) FILTER (WHERE status <> 'open') AS reviewed,
                  count(*) FILTER (WHERE status = 'false_positive') AS fp
           FROM dd0c.anomalies WHERE tenant_id = dd0c.current_tenant() AND detected_at >= %s AND detected_at <= %s""",
        [since, until],
    ).fetchone()
    return Evidence(since, until, int(row["reviewed"]), int(row["fp"]))


def _mode_started(conn: Connection, state_since: datetime | None) -> datetime | None:
    """When the current mode began: its entry's event time, or (the default, never set) the
    tenant's first event."""
    if state_since is not None:
        return state_since
    row = conn.execute(
        "SELECT min(event_time) AS t FROM dd0c.cost_events WHERE tenant_id = dd0c.current_tenant()"
    ).fetchone()
    return row["t"] if row else None


def evaluate(conn: Connection, tenant_id: UUID, at: datetime) -> store.AuditEntry | None:
    """Promote or demote the tenant's mode if the evidence at ``at`` says so; the entry, or None."""
    from dd0c_cost.governance.decisions import state_at

    state = state_at(conn, tenant_id, at)
    if state.panic:
        return None
    started = _mode_started(conn, state.tenant_mode_since)
    if started is None or started > at:
        return None
    policy = load_policy(conn, tenant_id)
    mode = state.tenant_mode
    target: Mode | None = None
    reason = ""
    seen = None
    if policy.auto_demote and mode.demoted() is not None:
        window_start = max(started, at - timedelta(days=policy.demote_window_days))
        seen = evidence(conn, window_start, at)
        if seen.reviewed >= policy.demote_min_reviewed and seen.fp_rate > policy.demote_fp_rate:
            target = mode.demoted()
            reason = f"automatic demotion: {seen.describe()}; above the {policy.demote_fp_rate:.0%} demotion threshold"
    if (
        target is None
        and policy.auto_promote
        and mode.promoted() is not None
        and mode.rank < policy.promote_max_mode.rank
    ) and at - started >= timedelta(days=policy.promote_after_days):
        seen = evidence(conn, started, at)
        if seen.reviewed >= policy.min_reviewed and seen.fp_rate <= policy.fp_rate_ceiling:
            target = mode.promoted()
            reason = (
                f"automatic promotion after {(at - started).total_seconds() / 86400:.1f} days in "
                f"{mode.value}: {seen.describe()}; within the {policy.fp_rate_ceiling:.0%} ceiling"
            )
    if target is None:
        return None
    # one transition per tenant at a time: serialise and look again
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('dd0c.governance:' || %s::text))", [str(tenant_id)])
    if state_at(conn, tenant_id, at).tenant_mode is not mode:
        return None
    return store.append(
        conn,
        tenant_id,
        store.MODE_ACTION,
        actor=PROMOTION_ACTOR,
        source="system",
        at=at,
        state=target.value,
        reason=reason,
        detail={
            "from": mode.value,
            "reviewed": seen.reviewed,
            "false_positives": seen.false_positives,
            "policy": policy.as_dict(),
        },
    )
