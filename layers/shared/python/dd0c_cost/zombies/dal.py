"""PostgreSQL for the zombie hunter (``005_zombies.sql``). Every function runs inside the caller's
``tenant_transaction``: row-level security scopes it to that tenant.

Applying a scan is idempotent and ordered by scan time: a redelivered scan finds its rows already
at that scan time, and an older scan arriving after a newer one changes nothing it has seen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from dd0c_cost.db.connection import Connection
from dd0c_cost.zombies.models import (
    CLOSED_STATUSES,
    LIVE_STATUSES,
    SETTABLE_STATUSES,
    FindingStatus,
    Verdict,
    ZombieFinding,
    utc,
)
from dd0c_cost.zombies.scan import RegionScan

_COLUMNS = """id, tenant_id, account_id, region, resource_type, resource_id, resource_name, criterion, verdict,
    evidence, first_seen_idle, last_scanned_at, monthly_waste_usd, waste_so_far_usd, price_components,
    unpriced_reason, owner_kind, owner_name, status, snoozed_until, status_changed_by, closed_at"""


def _finding(row: dict) -> ZombieFinding:
    return ZombieFinding(**{k: row[k] for k in ZombieFinding.model_fields if k in row})


# --- scans --------------------------------------------------------------------------------------


def scan_record(conn: Connection, account_id: str, region: str, scan_time: datetime) -> dict | None:
    return conn.execute(
        "SELECT * FROM dd0c.zombie_scans WHERE account_id = %s AND region = %s AND scan_time = %s",
        [account_id, region, scan_time],
    ).fetchone()


def account_external_id(conn: Connection, account_id: str) -> tuple[str | None, list[str]] | None:
    """(ExternalId, regions) of the tenant's connected account; None if it is not the tenant's."""
    row = conn.execute(
        "SELECT external_id, regions FROM dd0c.connected_accounts WHERE account_id = %s", [account_id]
    ).fetchone()
    return None if row is None else (row["external_id"], list(row["regions"] or []))


def prior_idle_since(conn: Connection, account_id: str, region: str) -> dict[tuple[str, str], datetime]:
    rows = conn.execute(
        """SELECT resource_type, resource_id, first_seen_idle FROM dd0c.zombie_findings
           WHERE account_id = %s AND region = %s AND status = ANY(%s)""",
        [account_id, region, [s.value for s in LIVE_STATUSES]],
    ).fetchall()
    return {(r["resource_type"], r["resource_id"]): r["first_seen_idle"] for r in rows}


def record_scan(conn: Connection, tenant_id: UUID, scan: RegionScan, findings: int | None = None) -> int:
    """Insert or update the scan's row; returns its attempt number."""
    row = conn.execute(
        """INSERT INTO dd0c.zombie_scans AS s (tenant_id, account_id, region, scan_time, status, errors, resources,
               findings, metric_queries, metric_calls)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tenant_id, account_id, region, scan_time) DO UPDATE SET
               status = EXCLUDED.status, errors = EXCLUDED.errors, attempts = s.attempts + 1,
               resources = EXCLUDED.resources, findings = EXCLUDED.findings,
               metric_queries = EXCLUDED.metric_queries, metric_calls = EXCLUDED.metric_calls, updated_at = now()
           RETURNING attempts""",
        [
            tenant_id,
            scan.account_id,
            scan.region,
            scan.scan_time,
            scan.status,
            json.dumps(scan.errors, sort_keys=True),
            scan.resources,
            len(scan.findings) if findings is None else findings,
            scan.metric_queries,
            scan.metric_calls,
        ],
    ).fetchone()
    return int(row["attempts"])


def scans(conn: Connection, *, limit: int = 100) -> list[dict]:
    return conn.execute(
        "SELECT * FROM dd0c.zombie_scans ORDER BY scan_time DESC, account_id, region LIMIT %s", [limit]
    ).fetchall()


# --- applying a scan ----------------------------------------------------------------------------


def _history(conn, tenant_id, finding_id, at, from_status, to_status, verdict, by, note=None) -> None:
    conn.execute(
        """INSERT INTO dd0c.zombie_finding_history (finding_id, tenant_id, at, from_status, to_status, verdict, changed_by, note)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        [finding_id, tenant_id, at, from_status, to_status, verdict, by, note],
    )


def apply_scan(conn: Connection, tenant_id: UUID, scan: RegionScan) -> dict[str, int]:
    """Store what a scan found and close what it proved gone or busy again; returns counts
    (opened, updated, reopened, gone, in_use, ignored, unchanged_unchecked, stale)."""
    at = scan.scan_time
    counts = dict.fromkeys(("opened", "updated", "reopened", "gone", "in_use", "ignored", "unchecked", "stale"), 0)
    existing = {
        (r["resource_type"], r["resource_id"]): r
        for r in conn.execute(
            """SELECT id, resource_type, resource_id, status, verdict, first_seen_idle, last_scanned_at, snoozed_until
               FROM dd0c.zombie_findings WHERE account_id = %s AND region = %s FOR UPDATE""",
            [scan.account_id, scan.region],
        ).fetchall()
    }
    found = set()
    for f in scan.findings:
        found.add(f.resource.key)
        row = existing.get(f.resource.key)
        if row is not None and utc(row["last_scanned_at"]) > at:
            counts["stale"] += 1  # a newer scan already spoke about it
        elif row is None:
            _open_finding(conn, tenant_id, scan, f)
            counts["opened"] += 1
        else:
            counts[_update_finding(conn, tenant_id, at, f, row)] += 1
    excluded = {r.key: e for r, e in scan.exclusions}
    for key, row in existing.items():
        if key not in found and FindingStatus(row["status"]) in LIVE_STATUSES:
            counts[_close_unfound(conn, tenant_id, scan, key, row, excluded)] += 1
    return counts


def _finding_values(f, idle_since: datetime, at: datetime) -> dict:
    """The columns a scan writes of a finding it made."""
    ev = f.evaluation
    return {
        "resource_name": f.resource.name,
        "criterion": ev.criterion,
        "verdict": ev.verdict.value,
        "evidence": json.dumps(dict(ev.evidence), sort_keys=True, default=str),
        "first_seen_idle": idle_since,
        "last_scanned_at": at,
        "monthly_waste_usd": f.waste.monthly_usd,
        "waste_so_far_usd": f.waste.so_far_usd(idle_since, at),
        "price_components": json.dumps([c.as_json() for c in f.waste.components]),
        "unpriced_reason": f.waste.unpriced_reason,
        "owner_kind": ev.owner_kind,
        "owner_name": ev.owner_name,
    }


def _open_finding(conn: Connection, tenant_id: UUID, scan: RegionScan, f) -> None:
    """A resource no scan has named before: a new open finding."""
    at, ev, key = scan.scan_time, f.evaluation, f.resource.key
    values = _finding_values(f, ev.idle_since, at)
    new = conn.execute(
        f"""INSERT INTO dd0c.zombie_findings (tenant_id, account_id, region, resource_type, resource_id,
                {", ".join(values)}, status, status_changed_by, status_changed_at)
            VALUES (%s, %s, %s, %s, %s, {", ".join(["%s"] * len(values))}, 'open', 'scan', %s) RETURNING id""",
        [tenant_id, scan.account_id, scan.region, key[0], key[1], *values.values(), at],
    ).fetchone()
    _history(conn, tenant_id, new["id"], at, None, "open", ev.verdict.value, "scan", ev.criterion)


def _update_finding(conn: Connection, tenant_id: UUID, at: datetime, f, row) -> str:
    """A finding the scan names again: its values refreshed; a closed one reopens, a snooze that ran
    out (event time) ends. Which count it adds to."""
    ev = f.evaluation
    status = FindingStatus(row["status"])
    reopen = status in CLOSED_STATUSES
    idle_since = ev.idle_since if reopen else min(utc(row["first_seen_idle"]), ev.idle_since)
    values = _finding_values(f, idle_since, at)
    new_status = status
    if reopen:
        new_status = FindingStatus.OPEN
    elif status is FindingStatus.SNOOZED and row["snoozed_until"] is not None and utc(row["snoozed_until"]) <= at:
        new_status = FindingStatus.OPEN  # the snooze ran out (event time)
    changed = new_status != status
    conn.execute(
        f"""UPDATE dd0c.zombie_findings SET {", ".join(f"{k} = %s" for k in values)}, status = %s, closed_at = NULL,
                snoozed_until = CASE WHEN %s = 'snoozed' THEN snoozed_until END,
                status_changed_by = CASE WHEN %s THEN 'scan' ELSE status_changed_by END,
                status_changed_at = CASE WHEN %s THEN %s ELSE status_changed_at END,
                updated_at = now()
            WHERE id = %s""",
        [*values.values(), new_status.value, new_status.value, changed, changed, at, row["id"]],
    )
    if changed:
        note = "reopened: idle again" if reopen else "snooze ended"
        _history(conn, tenant_id, row["id"], at, status.value, new_status.value, ev.verdict.value, "scan", note)
        return "reopened" if reopen else "updated"
    if row["verdict"] != ev.verdict.value:
        note = f"verdict {row['verdict']} -> {ev.verdict.value}"
        _history(conn, tenant_id, row["id"], at, status.value, status.value, ev.verdict.value, "scan", note)
    return "updated"


def _close_unfound(conn: Connection, tenant_id: UUID, scan: RegionScan, key, row, excluded: dict) -> str:
    """A live finding the scan did not name: ignored if now excluded, gone if its type's inventory
    was complete and the resource absent, in use if it was checked; else left as it is. Which count
    it adds to."""
    at = scan.scan_time
    if utc(row["last_scanned_at"]) > at:
        return "stale"
    status = FindingStatus(row["status"])
    if key in excluded:
        to, note, by = FindingStatus.IGNORED, excluded[key].reason, f"scan: {excluded[key].reason}"
        count = "ignored"
    elif key not in scan.present and any(t.value == key[0] for t in scan.complete_types):
        to, note, by, count = FindingStatus.GONE, "the resource no longer exists", "scan", "gone"
    elif key in scan.checked:
        to, note, by, count = FindingStatus.IN_USE, "no criterion matches any more", "scan", "in_use"
    else:
        return "unchecked"  # this scan could not check it: leave it as it is
    closed = to in CLOSED_STATUSES
    conn.execute(
        """UPDATE dd0c.zombie_findings SET status = %s, status_changed_by = %s, status_changed_at = %s,
               closed_at = CASE WHEN %s THEN %s ELSE closed_at END, last_scanned_at = %s, snoozed_until = NULL,
               updated_at = now()
           WHERE id = %s""",
        [to.value, by, at, closed, at, at, row["id"]],
    )
    _history(conn, tenant_id, row["id"], at, status.value, to.value, row["verdict"], by, note)
    return count


# --- reading and acting -------------------------------------------------------------------------


def list_findings(
    conn: Connection,
    *,
    statuses: Iterable[str] | None = None,
    verdicts: Iterable[str] | None = None,
    resource_type: str | None = None,
    account_id: str | None = None,
    region: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ZombieFinding]:
    """The tenant's findings, largest monthly waste first (unpriced last), then by resource."""
    where, args = [], []
    for column, value in (("resource_type", resource_type), ("account_id", account_id), ("region", region)):
        if value is not None:
            where.append(f"{column} = %s")
            args.append(value)
    if statuses is not None:
        where.append("status = ANY(%s)")
        args.append([str(s) for s in statuses])
    if verdicts is not None:
        where.append("verdict = ANY(%s)")
        args.append([str(v) for v in verdicts])
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM dd0c.zombie_findings {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY monthly_waste_usd DESC NULLS LAST, account_id, region, resource_type, resource_id
            LIMIT %s OFFSET %s""",
        [*args, limit, offset],
    ).fetchall()
    return [_finding(r) for r in rows]


def get_finding(conn: Connection, finding_id: UUID) -> ZombieFinding | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM dd0c.zombie_findings WHERE id = %s", [finding_id]).fetchone()
    return _finding(row) if row else None


def history(conn: Connection, finding_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT at, from_status, to_status, verdict, changed_by, note FROM dd0c.zombie_finding_history
           WHERE finding_id = %s ORDER BY id""",
        [finding_id],
    ).fetchall()


class StatusChangeRefused(ValueError):
    """The status cannot be set (not settable by a person, or the finding is closed)."""


def set_status(
    conn: Connection,
    finding_id: UUID,
    status: FindingStatus | str,
    *,
    by: str,
    at: datetime,
    snoozed_until: datetime | None = None,
    note: str | None = None,
) -> ZombieFinding | None:
    """A person's status change (Slack button, API). ``at`` is event time (the tenant's newest
    scan or event), never wall time. None if the finding is not the tenant's."""
    status = FindingStatus(status)
    if status not in SETTABLE_STATUSES:
        raise StatusChangeRefused(f"status {status.value!r} is set by scans only")
    if status is FindingStatus.SNOOZED and snoozed_until is None:
        raise StatusChangeRefused("snoozing needs snoozed_until")
    row = conn.execute(
        "SELECT status, verdict FROM dd0c.zombie_findings WHERE id = %s FOR UPDATE", [finding_id]
    ).fetchone()
    if row is None:
        return None
    current = FindingStatus(row["status"])
    if current in CLOSED_STATUSES:
        raise StatusChangeRefused(f"the finding is closed ({current.value}): the resource is gone or busy again")
    conn.execute(
        """UPDATE dd0c.zombie_findings SET status = %s, snoozed_until = %s, status_changed_by = %s,
               status_changed_at = %s, updated_at = now() WHERE id = %s""",
        [status.value, snoozed_until if status is FindingStatus.SNOOZED else None, by, at, finding_id],
    )
    if status != current:
        _history(conn, _tenant(conn), finding_id, at, current.value, status.value, row["verdict"], by, note)
    return get_finding(conn, finding_id)


def _tenant(conn: Connection) -> UUID:
    return conn.execute("SELECT dd0c.current_tenant() AS t").fetchone()["t"]


def newest_scan_time(conn: Connection) -> datetime | None:
    """The tenant's event clock for person-made changes: its newest scan (or event) time."""
    row = conn.execute(
        """SELECT greatest((SELECT max(scan_time) FROM dd0c.zombie_scans),
                           (SELECT max(last_event_at) FROM dd0c.connected_accounts)) AS t"""
    ).fetchone()
    return row["t"] if row else None


def set_slack_message(conn: Connection, finding_ids: Iterable[UUID], channel: str, ts: str) -> None:
    conn.execute(
        "UPDATE dd0c.zombie_findings SET slack_channel = %s, slack_ts = %s WHERE id = ANY(%s)",
        [channel, ts, list(finding_ids)],
    )


# --- the weekly digest --------------------------------------------------------------------------


def digest_posted(conn: Connection, week_start) -> bool:
    return conn.execute("SELECT 1 FROM dd0c.zombie_digests WHERE week_start = %s", [week_start]).fetchone() is not None


def record_digest(
    conn, tenant_id: UUID, week_start, findings: int, monthly_waste: float | None, channel: str | None, ts: str | None
) -> bool:
    """Record the digest as posted; False if it already was (a redelivered message)."""
    row = conn.execute(
        """INSERT INTO dd0c.zombie_digests (tenant_id, week_start, findings, monthly_waste_usd, slack_channel, slack_ts)
           VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING week_start""",
        [tenant_id, week_start, findings, monthly_waste, channel, ts],
    ).fetchone()
    return row is not None


def digest_candidates(conn: Connection, at: datetime, limit: int = 50) -> list[ZombieFinding]:
    """Open findings (and snoozed ones whose snooze ran out by ``at``) that are zombies or
    suspects, largest waste first."""
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM dd0c.zombie_findings
            WHERE verdict = ANY(%s)
              AND (status = 'open' OR (status = 'snoozed' AND snoozed_until <= %s))
            ORDER BY monthly_waste_usd DESC NULLS LAST, account_id, region, resource_type, resource_id
            LIMIT %s""",
        [[Verdict.ZOMBIE.value, Verdict.IDLE_SUSPECT.value], at, limit],
    ).fetchall()
    return [_finding(r) for r in rows]
