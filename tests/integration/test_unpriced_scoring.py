"""Scenario: a change with no price is scored on its shape and alerts as "price unknown" past the
tenant's line, through the real normaliser (endpoint config joined from history) and the real
scorer on PostgreSQL. Records are written on the corpus's SageMaker CreateEndpoint envelope
(cost_relevant.jsonl line 149) with the API's documented request shapes."""

from __future__ import annotations

import uuid

import orjson

from dd0c_cost.db.connection import open_connection, tenant_transaction
from dd0c_cost.events.normalize import MemoryHistory, OutcomeKind, normalize_record
from dd0c_cost.events.store import insert_cost_event
from dd0c_cost.pricing import get_price_book
from dd0c_cost.scoring import store
from dd0c_cost.scoring.scorer import score_cost_events
from tests.conftest import shared_path
from tests.integration.test_scoring_scenarios import rows, tenant

ACCOUNT = "444455556666"


def _template() -> dict:
    lines = shared_path("corpora", "cloudtrail", "cost_relevant.jsonl").read_bytes().splitlines()
    return orjson.loads(lines[148])


def _call(name: str, request: dict, when: str, who: str = "intern") -> dict:
    r = _template()
    r.update(
        eventName=name, requestParameters=request, responseElements=None, eventTime=when, eventID=str(uuid.uuid4())
    )
    r["recipientAccountId"] = ACCOUNT
    r["userIdentity"] = {
        **r["userIdentity"],
        "accountId": ACCOUNT,
        "userName": who,
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{who}",
    }
    return r


def _events(tenant_id, records):
    history, out = MemoryHistory(), []
    for r in records:
        outcome = normalize_record(r, tenant_id, get_price_book(), history)
        assert outcome.kind is OutcomeKind.COST_EVENT, outcome
        out.append(outcome.cost_event)
    return out


def _score(db_url, tenant_id, events):
    conn = open_connection(db_url)
    with tenant_transaction(conn, tenant_id):
        for e in events:
            insert_cost_event(conn, e)
    results = score_cost_events(conn, events)
    conn.close()
    return results


def _gpu_endpoint(suffix: str, when: str) -> list[dict]:
    config = {
        "endpointConfigName": f"llm-{suffix}",
        "productionVariants": [{"variantName": "a", "instanceType": "ml.p4d.24xlarge", "initialInstanceCount": 2}],
    }
    return [
        _call("CreateEndpointConfig", config, when.replace(":00Z", ":00Z")),
        _call(
            "CreateEndpoint",
            {"endpointName": f"llm-{suffix}", "endpointConfigName": f"llm-{suffix}"},
            when.replace("00:00Z", "05:00Z"),
        ),
    ]


def test_two_eight_gpu_endpoints_alert_as_price_unknown(operator_conn, db_url):
    acme = tenant(operator_conn, accounts=(ACCOUNT,))
    notebook = _call(
        "CreateNotebookInstance",
        {"notebookInstanceName": "nb", "instanceType": "ml.t3.medium", "volumeSizeInGB": 5},
        "2026-11-02T09:00:00Z",
        who="dev",
    )
    events = _events(acme, [notebook, *_gpu_endpoint("a", "2026-11-02T10:00:00Z")])
    _notebook, config, endpoint = events
    assert endpoint.price_unknown and endpoint.attributes["instance_type"] == "ml.p4d.24xlarge"
    assert endpoint.attributes["instance_count"] == 2  # joined from CreateEndpointConfig
    assert config.estimated_usd_per_hour == 0.0  # a config bills nothing itself

    results = _score(db_url, acme, events)
    assert [r.outcome for r in results] == ["scored", "scored", "anomaly"]
    anomaly = results[2].anomaly
    assert anomaly.attributes["price_unknown"] is True
    assert "SageMaker" in anomaly.attributes["price_unknown_reason"]
    assert "price unknown" in anomaly.summary and "2 × ml.p4d.24xlarge" in anomaly.summary
    shape = next(c for c in anomaly.components if c.name == "shape")
    assert shape.value >= 0.6 and "accelerator family ml.p4d.24xlarge" in shape.reason
    # The cheap notebook was scored (not ignored), under the line.
    assert results[0].score is not None and results[0].score < 0.6
    (stored,) = rows(db_url, acme, "SELECT score FROM dd0c.cost_events WHERE event_id = %s", [endpoint.event_id])
    assert stored["score"] == anomaly.score


def test_the_tenant_line_decides(operator_conn, db_url):
    acme = tenant(operator_conn, accounts=(ACCOUNT,))
    conn = open_connection(db_url)
    with tenant_transaction(conn, acme):
        assert store.set_tenant_settings(conn, acme, by="test", unpriced_alert_score=0.99) == {
            "unpriced_alert_score": 0.99
        }
    conn.close()
    results = _score(db_url, acme, _events(acme, _gpu_endpoint("b", "2026-11-02T10:00:00Z")))
    assert [r.outcome for r in results] == ["scored", "scored"]
    assert results[1].score >= 0.6  # judged, and under this tenant's line


def test_a_stop_of_an_unsized_resource_is_a_decrease_never_an_alert(operator_conn, db_url):
    acme = tenant(operator_conn, accounts=(ACCOUNT,))
    stop = _call("StopNotebookInstance", {"notebookInstanceName": "never-seen"}, "2026-11-02T10:00:00Z")
    results = _score(db_url, acme, _events(acme, [stop]))
    assert results[0].outcome == "ignored" and results[0].reason == "price_unknown"


def test_bedrock_provisioned_throughput_is_accelerator_capacity(operator_conn, db_url):
    """Found by bench detect: 4 Bedrock model units (no instance type named) scored under the line;
    provisioned model units are dedicated accelerator capacity by definition."""
    acme = tenant(operator_conn, accounts=(ACCOUNT,))
    pt = _call(
        "CreateProvisionedModelThroughput",
        {"provisionedModelName": "chat-pt", "modelId": "anthropic.claude-v2", "modelUnits": 4},
        "2026-11-02T10:00:00Z",
    )
    pt.update(eventSource="bedrock.amazonaws.com", responseElements={"provisionedModelArn": "arn:aws:bedrock:x"})
    (result,) = _score(db_url, acme, _events(acme, [pt]))
    assert result.outcome == "anomaly"
    shape = next(c for c in result.anomaly.components if c.name == "shape")
    assert "accelerator capacity (Bedrock model units)" in shape.reason and shape.value >= 0.6
