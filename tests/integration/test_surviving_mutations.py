"""Tests that kill the three mutations the whole suite used to let through (issue 7), plus the
scorer batch's per-event isolation:

- a tenant's own ``score_threshold`` ignored (the default used instead);
- a scorer error in the SQS path swallowed (not reported as a batch item failure);
- RLS ``WITH CHECK`` weakened (see tests/integration/test_isolation_doors.py: plain INSERT and
  UPDATE of tenant_id into another tenant, and the policy catalogue check).

Each was proven by applying the mutation and watching these tests fail (docs in the issue note)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.events.models import Actor, CostAction, CostEvent, PriceQuote
from dd0c_cost.events.store import insert_cost_event
from dd0c_cost.scoring import store
from dd0c_cost_tools.local.runner import LambdaContext
from tests.integration.test_scoring_scenarios import MONDAY, rows, score_of, send
from tests.records import run_instances

ACCOUNT_A, ACCOUNT_B = "111122223333", "444455556666"


def test_a_tenants_own_score_threshold_decides(local_pipeline, operator_conn, db_url):
    """The same launch on two tenants: the default threshold raises an anomaly; a tenant whose
    own threshold sits above that score gets none (ignoring it would raise one)."""
    plain = operator.ensure_tenant(operator_conn, "plain")
    strict = operator.ensure_tenant(operator_conn, "strict")
    operator.attach_accounts(operator_conn, plain, {ACCOUNT_A})
    operator.attach_accounts(operator_conn, strict, {ACCOUNT_B})
    first = run_instances(ACCOUNT_A, instance_type="p4d.24xlarge", count=8, when=MONDAY)
    send(local_pipeline, plain, [first])
    local_pipeline.drain()
    score, _ = score_of(db_url, plain, first["eventID"])
    assert rows(db_url, plain, "SELECT count(*) AS n FROM dd0c.anomalies")[0]["n"] == 1
    assert 0.5 <= score < 1, f"this test needs a score between the default threshold and 1, got {score}"

    threshold = score + (1 - score) / 2
    conn = open_connection(db_url)
    with tenant_transaction(conn, strict):
        store.set_tenant_settings(conn, strict, by="test", score_threshold=threshold)
    conn.close()
    second = run_instances(ACCOUNT_B, instance_type="p4d.24xlarge", count=8, when=MONDAY)
    send(local_pipeline, strict, [second])
    local_pipeline.drain()
    assert score_of(db_url, strict, second["eventID"])[0] == score  # the same situation, the same score
    assert rows(db_url, strict, "SELECT count(*) AS n FROM dd0c.anomalies")[0]["n"] == 0


def _event(tenant_id, event_id: str, account: str = ACCOUNT_A, service_region: str = "us-east-1") -> CostEvent:
    return CostEvent(
        tenant_id=tenant_id,
        account_id=account,
        region=service_region,
        event_id=event_id,
        event_time=datetime(2026, 11, 2, 9, tzinfo=UTC),
        event_source="ec2.amazonaws.com",
        event_name="RunInstances",
        actor=Actor(display_name="alice"),
        service="ec2",
        resource_type="ec2:instance",
        resource_ids=[f"i-{event_id}"],
        action=CostAction.CREATE,
        quantity=1,
        attributes={"instance_type": "m5.large"},
        unit_price=PriceQuote(usd_per_hour=0.096, source="test", as_of="2026-01-01"),
        estimated_usd_per_hour=0.096,
    )


def _sqs_event(bodies: list[tuple[str, str, str]]) -> dict:
    """(message id, message group, body) -> the SQS event Lambda delivers."""
    return {
        "Records": [
            {
                "messageId": mid,
                "receiptHandle": f"rh-{mid}",
                "body": body,
                "md5OfBody": "-",
                "attributes": {
                    "MessageGroupId": group,
                    "MessageDeduplicationId": mid,
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "0",
                    "SenderId": "test",
                    "ApproximateFirstReceiveTimestamp": "0",
                    "SequenceNumber": str(n),
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:dd0c-local-cost-events.fifo",
            }
            for n, (mid, group, body) in enumerate(bodies)
        ]
    }


def _stored(db_url, tenant_id, events):
    conn = open_connection(db_url)
    with tenant_transaction(conn, tenant_id):
        for e in events:
            insert_cost_event(conn, e)
    conn.close()


def test_a_scorer_error_in_the_sqs_path_is_reported_as_a_batch_item_failure(local_pipeline, operator_conn, db_url):
    acme = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, acme, {ACCOUNT_A})
    good = _event(acme, "good-1")
    _stored(db_url, acme, [good])
    orphan = _event(uuid.UUID(int=7), "orphan-1")  # a tenant that does not exist: the database refuses it
    event = _sqs_event(
        [("m-good", good.series_key, good.model_dump_json()), ("m-orphan", orphan.series_key, orphan.model_dump_json())]
    )

    result = local_pipeline.handler("score")(event, LambdaContext("score"))

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-orphan"}]}
    assert rows(db_url, acme, "SELECT scored_at IS NOT NULL AS done FROM dd0c.cost_events") == [{"done": True}]


def test_one_failing_event_holds_back_only_its_own_group(local_pipeline, operator_conn, db_url, monkeypatch):
    from dd0c_cost.scoring import scorer

    acme = operator.ensure_tenant(operator_conn, "acme")
    operator.attach_accounts(operator_conn, acme, {ACCOUNT_A, ACCOUNT_B})
    first = _event(acme, "e1")
    poison = _event(acme, "poison", account=ACCOUNT_B)
    behind = _event(acme, "e3", account=ACCOUNT_B)  # same group as the poison, after it
    other = _event(acme, "e4").model_copy(update={"service": "rds", "resource_type": "rds:db"})
    _stored(db_url, acme, [first, poison, behind, other])
    real_step = scorer.step

    def step(obs, *args, **kwargs):
        if obs.event_id == "poison":
            raise RuntimeError("a bug this one event trips")
        return real_step(obs, *args, **kwargs)

    monkeypatch.setattr(scorer, "step", step)
    event = _sqs_event([(f"m-{e.event_id}", e.series_key, e.model_dump_json()) for e in (first, poison, behind, other)])

    result = local_pipeline.handler("score")(event, LambdaContext("score"))

    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["m-e3", "m-poison"]
    done = {
        r["event_id"]: r["done"]
        for r in rows(db_url, acme, "SELECT event_id, scored_at IS NOT NULL AS done FROM dd0c.cost_events")
    }
    assert done == {"e1": True, "poison": False, "e3": False, "e4": True}
