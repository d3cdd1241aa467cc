"""How the scoring state is stored (migration 029): a series' state past the toast threshold is
compressed with lz4, and scoring_load hands back exactly the text scoring_save stored."""

from __future__ import annotations

import json

import psycopg

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
