"""The bulk path (``dd0c-cost replay``) gives what the live path (the real handlers on emulated SQS
queues, ``replay --via-queues``) gives for the same streams: the same counts per outcome and
reject reason, the same cost events with the same scores, the same anomalies (content) and the
same anomalies announced in Slack, once each; the same baselines. Anomaly ids are random, so
anomalies are matched by their events. Streams: the demo sample, the shared CloudTrail corpus, and
a generated multi-week stream over eight files (the cross-file merge)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.conftest import shared_path

TENANT = "equivalence"


def _env(monkeypatch, url: str, data_dir: Path) -> None:
    from dd0c_cost.db.connection import close_connection
    from dd0c_cost.notify.slack import reset_notifier
    from dd0c_cost.settings import reset_settings

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DD0C_DATA_DIR", str(data_dir))
    for var in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(var, raising=False)
    close_connection()
    reset_settings()
    reset_notifier()


def _counts(summary) -> dict:
    return {
        "read": summary.read,
        "cost_events": summary.cost_events,
        "not_cost_relevant": summary.not_cost_relevant,
        "rejected": dict(sorted((k, v) for k, v in summary.rejected.items() if v)),
        "anomalies": summary.anomalies,
    }


def _snapshot(url: str, outbox: Path) -> dict:
    """Everything the two paths must agree on, with tenant and anomaly ids factored out."""
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:  # superuser: all rows
        events = conn.execute(
            """SELECT event_id, account_id, region, event_time, event_source, event_name, service, resource_type,
                      resource_ids, action, quantity, actor_arn, actor_name, estimated_usd_per_hour, price_unknown,
                      attributes, payload - 'tenant_id' AS payload, score, score_components,
                      scored_at IS NOT NULL AS scored
               FROM dd0c.cost_events ORDER BY event_id"""
        ).fetchall()
        anomalies = conn.execute(
            """SELECT id, account_id, region, service, resource_type, resource_ids, event_ids, actor, detected_at,
                      score, severity, estimated_hourly_usd, status, summary, components, attributes, snoozed_until,
                      notified_revision > 0 AS announced
               FROM dd0c.anomalies"""
        ).fetchall()
        series = conn.execute(
            """SELECT series_key, n, mean, m2, weight, level_usd_per_hour, first_event_at, last_event_at
               FROM dd0c.spend_baselines ORDER BY series_key"""
        ).fetchall()
        tenant = conn.execute(
            "SELECT n, mean, m2, weight, level_usd_per_hour, first_event_at, last_event_at FROM dd0c.tenant_baselines"
        ).fetchall()
        novelty = conn.execute(
            """SELECT dimension, key, first_seen_at, last_seen_at, max_usd_per_hour FROM dd0c.tenant_novelty
               ORDER BY dimension, key"""
        ).fetchall()
        accounts = conn.execute(
            "SELECT account_id, last_event_at FROM dd0c.connected_accounts ORDER BY account_id"
        ).fetchall()
    key_of = {str(a.pop("id")): tuple(a["event_ids"]) for a in anomalies}
    posts: dict[tuple, int] = {}
    if outbox.exists():
        for line in outbox.read_text().splitlines():
            entry = json.loads(line)
            if entry["kind"] == "post":
                key = key_of[entry["anomaly_id"]]
                posts[key] = posts.get(key, 0) + 1
    return {
        "events": events,
        "anomalies": sorted(anomalies, key=lambda a: a["event_ids"]),
        "series": series,
        "tenant": tenant,
        "novelty": novelty,
        "accounts": accounts,
        "posts": dict(sorted(posts.items())),
    }


def _both_ways(paths: list[Path], make_database, migrated_template, tmp_path, monkeypatch) -> tuple[dict, dict]:
    from dd0c_cost_tools.local.backfill import bulk_replay
    from dd0c_cost_tools.local.replay import replay

    results = {}
    for way in ("live", "bulk"):
        url = make_database(template=migrated_template)
        data = tmp_path / way
        _env(monkeypatch, url, data)
        if way == "live":
            summary = replay(paths, TENANT, url, rejects_path=data / "rejects.jsonl")
        else:
            summary = bulk_replay(paths, TENANT, url, batch_records=500)
        results[way] = {"counts": _counts(summary), **_snapshot(url, data / "slack-outbox.jsonl")}
    from dd0c_cost.db.connection import close_connection

    close_connection()
    return results["live"], results["bulk"]


def _assert_same(live: dict, bulk: dict) -> None:
    assert bulk["counts"] == live["counts"]
    for part in ("events", "anomalies", "series", "tenant", "novelty", "accounts", "posts"):
        assert bulk[part] == live[part], part
    assert all(n == 1 for n in live["posts"].values())  # each announced anomaly posted once


def test_demo_sample_both_ways(make_database, migrated_template, tmp_path, monkeypatch):
    from dd0c_cost_tools.local.sample import sample_path

    live, bulk = _both_ways([sample_path()], make_database, migrated_template, tmp_path, monkeypatch)
    assert live["counts"]["anomalies"] == 1 and len(live["posts"]) == 1
    _assert_same(live, bulk)


@pytest.mark.slow
def test_generated_multi_week_stream_over_eight_files_both_ways(
    make_database, migrated_template, tmp_path, monkeypatch
):
    from dd0c_cost_tools.bench.streams import write_stream

    paths = write_stream(tmp_path / "stream", 1_200, weeks=3, cost_share=0.25)
    live, bulk = _both_ways(paths, make_database, migrated_template, tmp_path, monkeypatch)
    assert live["counts"]["anomalies"] >= 3 and live["counts"]["cost_events"] > 200
    _assert_same(live, bulk)


@pytest.mark.slow
def test_shared_corpus_both_ways(make_database, migrated_template, tmp_path, monkeypatch):
    corpus = shared_path("corpora", "cloudtrail")
    paths = sorted(corpus.glob("*.jsonl")) + sorted((corpus / "negative").glob("*.jsonl"))
    live, bulk = _both_ways(paths, make_database, migrated_template, tmp_path, monkeypatch)
    assert live["counts"]["rejected"].get("duplicate", 0) > 0  # the corpus repeats records across files
    _assert_same(live, bulk)
