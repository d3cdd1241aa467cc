"""Governance values: modes, what is in force at an event time, and a decision with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Mode(StrEnum):
    """How far dd0c/cost may go for a tenant (or one rule).

    shadow: score and record, notify no one; audit: notify, never remediate; enforce: remediation
    allowed (automatic actions only where a rule says so explicitly)."""

    SHADOW = "shadow"
    AUDIT = "audit"
    ENFORCE = "enforce"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def promoted(self) -> Mode | None:
        return _ORDER[self.rank + 1] if self.rank + 1 < len(_ORDER) else None

    def demoted(self) -> Mode | None:
        return _ORDER[self.rank - 1] if self.rank > 0 else None


_ORDER = (Mode.SHADOW, Mode.AUDIT, Mode.ENFORCE)

# Where a change came from (audit_log.source).
SOURCES = ("api", "console", "slack", "cli", "system")


@dataclass(frozen=True)
class GovernanceState:
    """What is in force for a tenant (and optionally one rule) at event time ``at``."""

    at: datetime
    tenant_mode: Mode
    tenant_mode_since: datetime | None  # event time of the entry that set it (None: the default, never set)
    rule: str | None
    rule_mode: Mode | None  # the rule's own mode, None when it inherits the tenant's
    tenant_panic: bool
    global_panic: bool

    @property
    def mode(self) -> Mode:
        """The effective mode: the rule's own when it has one, else the tenant's."""
        return self.rule_mode or self.tenant_mode

    @property
    def panic(self) -> bool:
        return self.tenant_panic or self.global_panic


@dataclass(frozen=True)
class Decision:
    """The answer to "may we?", with the reason in words (kept in the audit log when refused)."""

    allowed: bool
    reason: str  # "allowed" | "shadow" | "audit" | "panic" | "global_panic" | "not_explicit"
    state: GovernanceState

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def mode(self) -> Mode:
        return self.state.mode
