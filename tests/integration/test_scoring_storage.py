"""How the scoring state is stored (migration 029): a series' state past the toast threshold is
compressed with lz4, and scoring_load hands back exactly the text scoring_save stored."""

from __future__ import annotations

import json

import psycopg
import pytest

from dd0c_cost.db import operator


def test_a_large_series_state_is_stored_with_lz4_and_read_back_as_it_was(db_url):
    op = operator.open_operator_connection(db_url)
    tenant = operator.ensure_tenant(op, "storage")
    op.close()
    state = json.dumps({"v": 1, "slots": [[i, i / 7, "x" * (i % 5)] for i in range(400)]}, separators=(",", ":"))
    assert len(state) > 4_000
    with psycopg.connect(db_url) as admin:  # superuser: outside RLS
        admin.execute(
            "INSERT INTO dd0c.spend_baselines (tenant_id, series_key, state) VALUES (%s, 'a:ec2:instance', %s::json)",
            [tenant, state],
        )
        stored = admin.execute(
            "SELECT pg_column_compression(state) AS how, state::text AS text, pg_column_size(state) AS size "
            "FROM dd0c.spend_baselines WHERE tenant_id = %s",
            [tenant],
        ).fetchone()
        admin.execute("SELECT set_config('dd0c.tenant_id', %s, true)", [str(tenant)])
        loaded = admin.execute(
            "SELECT dd0c.scoring_load(%s::uuid, %s::json)",
            [
                tenant,
                json.dumps({"series": ["a:ec2:instance"], "events": [], "accounts": [], "types": [], "novelty": {}}),
            ],
        ).fetchone()[0]
    assert stored[0] == "lz4" and stored[2] < len(state)
    assert stored[1] == state
    assert state in loaded  # the stored text itself, not a re-serialisation
    assert json.loads(loaded)["series"][0]["state"] == json.loads(state)


# (table, column, a value it refuses, one it takes): migrations 031 and 033 keep these rules by domains
RULES = [
    ("cost_events", "score", "1.5", "1"),
    ("cost_events", "score", "-0.1", None),
    ("cost_events", "quantity", "-1", "0"),
    ("cost_events", "action", "'launch'", "'modify'"),
    ("spend_baselines", "n", "-1", "0"),
    ("spend_baselines", "m2", "-1e-9", "0"),
    ("spend_baselines", "weight", "-1", "2.5"),
    ("spend_baselines", "level_usd_per_hour", "-0.01", "3"),
    ("tenant_baselines", "n", "-1", "7"),
    ("tenant_baselines", "m2", "-1", "0"),
    ("tenant_baselines", "weight", "-1", "0"),
    ("tenant_baselines", "level_usd_per_hour", "-1", "0"),
    ("tenant_novelty", "dimension", "'planet'", "'family'"),
    ("tenant_novelty", "max_usd_per_hour", "-1", "0"),
    ("anomalies", "score", "1.01", "0.5"),
    ("anomalies", "score", "-0.1", "0"),
    ("anomalies", "severity", "'urgent'", "'critical'"),
    ("anomalies", "status", "'closed'", "'false_positive'"),
    ("anomalies", "delivery_status", "'email'", "'outbox'"),
    ("anomalies", "delivery_status", "'Slack'", "NULL"),
    ("anomalies", "notify_withheld", "'quiet'", "'shadow'"),
    ("anomalies", "notify_withheld", "''", "NULL"),
]
_ANOMALY = """INSERT INTO dd0c.anomalies (tenant_id, account_id, region, service, resource_type, event_ids, actor,
                  detected_at, score, severity, estimated_hourly_usd, status, summary)
              VALUES (%s, '111111111111', 'us-east-1', 'ec2', 'ec2:instance', '{ev-1}', 'dev', now(), %s, %s, 2.5,
                  %s, 'dev launched 3 x m5.large')"""


def test_the_scoring_tables_refuse_what_they_always_refused(db_url):
    op = operator.open_operator_connection(db_url)
    tenant = operator.ensure_tenant(op, "rules")
    op.close()
    with psycopg.connect(db_url) as admin:  # superuser: outside RLS
        admin.execute(
            """INSERT INTO dd0c.cost_events (tenant_id, event_id, account_id, region, event_time, event_source,
                   event_name, service, resource_type, action, quantity, actor_name, payload)
               VALUES (%s, 'ev-1', '111111111111', 'us-east-1', now(), 'ec2.amazonaws.com', 'RunInstances', 'ec2',
                   'ec2:instance', 'create', 1, 'dev', '{}')""",
            [tenant],
        )
        admin.execute(
            "INSERT INTO dd0c.spend_baselines (tenant_id, series_key) VALUES (%s, 'a:ec2:instance')", [tenant]
        )
        admin.execute("INSERT INTO dd0c.tenant_baselines (tenant_id) VALUES (%s)", [tenant])
        admin.execute(
            "INSERT INTO dd0c.tenant_novelty (tenant_id, dimension, key, first_seen_at, last_seen_at) "
            "VALUES (%s, 'region', 'us-east-1', now(), now())",
            [tenant],
        )
        admin.execute(_ANOMALY, [tenant, 0.9, "high", "open"])
        for table, column, refused, taken in RULES:
            update = f"UPDATE dd0c.{table} SET {column} = {{}} WHERE tenant_id = %s"
            with pytest.raises(psycopg.errors.CheckViolation), admin.transaction():
                admin.execute(update.format(refused), [tenant])
            if taken is not None:
                assert admin.execute(update.format(taken), [tenant]).rowcount == 1, (table, column)
        bad_insert = "INSERT INTO dd0c.tenant_novelty (tenant_id, dimension, key, first_seen_at, last_seen_at) "
        with pytest.raises(psycopg.errors.CheckViolation), admin.transaction():
            admin.execute(bad_insert + "VALUES (%s, 'planet', 'x', now(), now())", [tenant])
        for values in ([1.5, "high", "open"], [0.5, "severe", "open"], [0.5, "low", "new"]):
            with pytest.raises(psycopg.errors.CheckViolation), admin.transaction():
                admin.execute(_ANOMALY, [tenant, *values])
        # the rules live in the domains (parsed once per session), not in table CHECKs (parsed per statement)
        tables = [f"dd0c.{t}" for t in sorted({r[0] for r in RULES})]
        checks = admin.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'c' AND conrelid = ANY(%s::regclass[])",
            [tables],
        ).fetchall()
        assert checks == []
