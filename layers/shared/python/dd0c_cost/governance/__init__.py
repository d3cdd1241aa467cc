"""Governance: per-tenant (and per-rule) mode shadow | audit | enforce, panic (tenant and global),
and the append-only audit log that records every change and refusal with its reason.

The decision API (call inside the tenant's transaction, with ``at = decision_time(conn, ...)``):

* ``may_notify(conn, tenant_id, at, rule=None) -> Decision``
* ``may_remediate(conn, tenant_id, at, rule=None, automatic=False) -> Decision``

Changes: ``set_mode``, ``set_panic``, ``set_global_panic`` (operator), ``audit`` (any other entry).
"""

from dd0c_cost.governance.decisions import (
    decision_time,
    default_mode,
    may_notify,
    may_remediate,
    set_global_panic,
    set_mode,
    set_panic,
    state_at,
    withhold_notification,
)
from dd0c_cost.governance.models import Decision, GovernanceState, Mode
from dd0c_cost.governance.promotion import Policy, evaluate, load_policy, save_policy
from dd0c_cost.governance.store import AuditEntry, list_entries, tenant_clock
from dd0c_cost.governance.store import append as audit

__all__ = [
    "AuditEntry",
    "Decision",
    "GovernanceState",
    "Mode",
    "Policy",
    "audit",
    "decision_time",
    "default_mode",
    "evaluate",
    "list_entries",
    "load_policy",
    "may_notify",
    "may_remediate",
    "save_policy",
    "set_global_panic",
    "set_mode",
    "set_panic",
    "state_at",
    "tenant_clock",
    "withhold_notification",
]
