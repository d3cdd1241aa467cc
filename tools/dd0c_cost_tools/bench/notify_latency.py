"""Time from a cost event entering the notification queue to the Slack call
(``dd0c-cost bench notify``).

Setup (not timed): an ephemeral embedded PostgreSQL, the local pipeline (moto queues), the local
Slack fake (``tests/fakes/slack_api.py`` of this checkout) in single-workspace mode, and
``--events`` anomalies raised through the real normalize and score handlers; their notify
messages are taken off the queue.

Timed, one anomaly at a time: send its notify message to the notify queue (t0), deliver it to the
real notify handler as Lambda's event source would, and stop when the fake Slack receives
``chat.postMessage`` (the alert) — and, with the LLM, ``chat.update`` (the explanation). Reported:
p50 and p99 per configuration, each the median of ``--repeat`` runs with the best run next to it,
without and with an OpenAI-compatible fake that answers after ``--llm-delay-ms``. The machine's load
average is printed with the figures: other work on a shared machine moves them.

``--json`` prints ``{"without_llm": {...}, "with_llm": {...}, "load": [...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _fakes():
    from dd0c_cost_tools import REPO_ROOT

    if str(REPO_ROOT) not in sys.path:  # the fakes live with the tests of this checkout
        sys.path.insert(0, str(REPO_ROOT))
    from tests.fakes.openai_api import API_KEY, FakeOpenAI
    from tests.fakes.slack_api import FakeSlackAPI
    from tests.records import run_instances

    return FakeSlackAPI, FakeOpenAI, API_KEY, run_instances


def _one_run(n: int, *, llm_delay_s: float | None) -> dict[str, list[float]]:
    """One run on a fresh PostgreSQL: ``n`` alerts raised, their notify messages held back, then
    each sent alone and timed to Slack's post (and update, with the LLM's explanation)."""
    fake_slack, fake_openai, api_key, run_instances = _fakes()
    with ExitStack() as stack:
        url, tenant = _database(stack)
        slack = stack.enter_context(fake_slack())
        env = {
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_TENANT": "bench",
            "SLACK_TEAM_ID": "T0FAKE",
            "SLACK_API_BASE_URL": slack.base_url,
            "DD0C_LLM_BASE_URL": "",
        }
        if llm_delay_s is not None:
            llm = stack.enter_context(fake_openai())
            llm.delay_s = llm_delay_s
            env.update({"DD0C_LLM_BASE_URL": llm.base_url, "DD0C_LLM_MODEL": "fake", "DD0C_LLM_API_KEY": api_key})
        from dd0c_cost.explain import reset_explainers
        from dd0c_cost_tools.local.runner import LocalPipeline

        reset_explainers()
        pipeline = stack.enter_context(LocalPipeline(extra_env=env))
        waiting = _notify_messages(pipeline, tenant, n, run_instances)
        return _time_notify(pipeline, slack, waiting)


def _database(stack: ExitStack) -> tuple[str, object]:
    """A migrated embedded PostgreSQL (stopped when ``stack`` closes) with the bench tenant and its account."""
    from dd0c_cost.db import operator
    from dd0c_cost.db.migrate import migrate
    from dd0c_cost_tools.local.embedded_pg import EmbeddedPostgres

    server = EmbeddedPostgres.ephemeral(prefix="dd0c-bench-notify-")
    url = server.start()
    stack.callback(server.stop)
    migrate(url)
    op = operator.open_operator_connection(url)
    tenant = operator.ensure_tenant(op, "bench")
    operator.attach_accounts(op, tenant, {"111122223333"})
    op.close()
    return url, tenant


def _notify_messages(pipeline, tenant, n: int, run_instances) -> list[dict]:
    """``n`` GPU launches through normalise and score; the notify messages they queue, taken off the queue."""
    from dd0c_cost.events.models import IngestMessage, Origin
    from dd0c_cost.topology import NOTIFY, TOPOLOGY

    bodies = [
        (
            "111122223333",
            IngestMessage(
                tenant_id=tenant,
                origin=Origin(source="replay"),
                record=run_instances("111122223333", instance_type="p4d.24xlarge", count=8, user=f"user{i}"),
            ).model_dump_json(),
        )
        for i in range(n)
    ]
    pipeline.send_ingest(bodies)
    for name in ("normalize", "score"):
        while pipeline.pump_once(TOPOLOGY.function(name)):
            pass
    queue = pipeline.queues[NOTIFY].url
    waiting: list[dict] = []
    while True:
        got = pipeline.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])
        messages = got.get("Messages", [])
        if not messages:
            return waiting
        waiting += messages
        pipeline.sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )


def _time_notify(pipeline, slack, waiting: list[dict]) -> dict[str, list[float]]:
    """Each message sent alone and the notify function run: seconds to Slack's post and update."""
    from dd0c_cost.topology import NOTIFY, TOPOLOGY

    queue = pipeline.queues[NOTIFY].url
    notify = TOPOLOGY.function("notify")
    to_post: list[float] = []
    to_update: list[float] = []
    for index, message in enumerate(waiting):
        before = len(slack.calls)
        t0 = time.perf_counter()
        pipeline.sqs.send_message(
            QueueUrl=queue,
            MessageBody=message["Body"],
            MessageGroupId=f"bench-{index}",
            MessageDeduplicationId=f"bench-{index}-{t0}",
        )
        pipeline.pump_once(notify)
        calls = slack.calls[before:]
        post = next(c for c in calls if c.method == "chat.postMessage")
        to_post.append(post.at - t0)
        update = next((c for c in calls if c.method == "chat.update"), None)
        if update is not None:
            to_update.append(update.at - t0)
    return {"to_post": to_post, "to_update": to_update}


def _summary(runs: list[dict[str, list[float]]], key: str) -> dict | None:
    per_run = [(_percentile(r[key], 0.5), _percentile(r[key], 0.99)) for r in runs if r[key]]
    if not per_run:
        return None
    p50s, p99s = [p[0] * 1000 for p in per_run], [p[1] * 1000 for p in per_run]
    return {
        "p50_ms": {"median": round(statistics.median(p50s), 1), "best": round(min(p50s), 1)},
        "p99_ms": {"median": round(statistics.median(p99s), 1), "best": round(min(p99s), 1)},
        "samples": sum(len(r[key]) for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dd0c-cost bench notify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40, help="anomalies per run (default 40)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (default 3)")
    parser.add_argument("--llm-delay-ms", type=float, default=400.0, help="the fake model's answer time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    load_before = os.getloadavg()
    without = [_one_run(args.events, llm_delay_s=None) for _ in range(args.repeat)]
    with_llm = [_one_run(args.events, llm_delay_s=args.llm_delay_ms / 1000) for _ in range(args.repeat)]
    result = {
        "without_llm": {"to_slack_post": _summary(without, "to_post")},
        "with_llm": {"to_slack_post": _summary(with_llm, "to_post"), "to_explanation": _summary(with_llm, "to_update")},
        "llm_delay_ms": args.llm_delay_ms,
        "events": args.events,
        "repeat": args.repeat,
        "load": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"notify latency: cost event enters the notify queue -> Slack call ({args.events} anomalies x {args.repeat} runs)"
    )
    print(
        f"machine load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, "
        f"after {result['load'][3]:.1f}/{result['load'][4]:.1f}/{result['load'][5]:.1f} on {os.cpu_count()} cores"
    )
    rows = [
        ("without LLM -> alert posted", result["without_llm"]["to_slack_post"]),
        ("with LLM    -> alert posted", result["with_llm"]["to_slack_post"]),
        (f"with LLM    -> explanation ({args.llm_delay_ms:.0f} ms model)", result["with_llm"]["to_explanation"]),
    ]
    print(f"{'':48} {'p50 median':>11} {'p50 best':>9} {'p99 median':>11} {'p99 best':>9}")
    for label, s in rows:
        if s:
            print(
                f"{label:48} {s['p50_ms']['median']:>9.1f}ms {s['p50_ms']['best']:>7.1f}ms "
                f"{s['p99_ms']['median']:>9.1f}ms {s['p99_ms']['best']:>7.1f}ms"
            )
    a, b = result["without_llm"]["to_slack_post"], result["with_llm"]["to_slack_post"]
    if a and b:
        print(
            f"alert p50 with/without LLM: {b['p50_ms']['median'] / a['p50_ms']['median']:.2f} (median), "
            f"{b['p50_ms']['best'] / a['p50_ms']['best']:.2f} (best)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
