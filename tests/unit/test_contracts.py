"""Generated contracts are checked in and must match the models; the topology and the API agree."""

from __future__ import annotations

import json

from dd0c_cost.topology import TOPOLOGY
from dd0c_cost_tools import contracts


def test_checked_in_schemas_and_openapi_match_the_models():
    stale = contracts.stale()
    assert stale == [], f"regenerate with `dd0c-cost contracts`: {stale}"


def test_cost_event_schema_carries_the_v1_fields():
    schema = json.loads((contracts.repo_root() / "events" / "schemas" / "cost-event.v1.json").read_text())
    for field in (
        "tenant_id",
        "account_id",
        "region",
        "event_id",
        "event_time",
        "actor",
        "service",
        "resource_type",
        "resource_ids",
        "action",
        "quantity",
        "attributes",
        "estimated_usd_per_hour",
        "estimated_usd_per_month",
        "unit_price",
        "price_unknown",
    ):
        assert field in schema["properties"], field


def test_every_topology_route_is_served_by_the_api_and_nothing_else():
    document = json.loads(contracts.rendered()[contracts.repo_root() / "docs" / "openapi.json"])
    served = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    declared = {(r.method, r.path) for r in TOPOLOGY.routes if r.in_openapi}
    assert served == declared


def test_every_queue_has_one_consumer_and_producers_name_real_queues():
    names = {q.name for q in TOPOLOGY.queues}
    consumers = [f.source_queue for f in TOPOLOGY.functions if f.source_queue]
    assert sorted(consumers) == sorted(names)
    for function in TOPOLOGY.functions:
        assert set(function.output_queues) <= names, function.name
    for rule in TOPOLOGY.rules:
        assert rule.target_queue in names
