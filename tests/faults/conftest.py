"""What the fault tests share: a Slack that counts posts, replays as real processes, and the
database's own account of what was stored, scored and posted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from tests.fakes.slack_api import FakeSlackAPI

TENANT = "demo"


@pytest.fixture
def slack():
    with FakeSlackAPI() as fake:
        yield fake


def process_env(db_url: str, data_dir: Path, slack: FakeSlackAPI) -> dict[str, str]:
    """A replay process's environment: this test's database and data dir, Slack's env token
    serving ``TENANT`` through the fake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "SLACK_", "QUEUE_URL_"))}
    env.update(
        DATABASE_URL=db_url,
        DD0C_DATA_DIR=str(data_dir),
        SLACK_BOT_TOKEN=slack.token,
        SLACK_API_BASE_URL=slack.base_url,
        SLACK_TENANT=TENANT,
        SLACK_CHANNEL="#cost-alerts",
    )
    return env


def start_replay(env: dict[str, str], path: Path, *, kill_at: tuple[str, str, int] | None = None) -> subprocess.Popen:
    """``dd0c-cost replay PATH --tenant demo --json --via-queues`` as a process of its own (the
    queue path: its stages and in-memory queues are what these faults interrupt). ``kill_at=(stage,
    kind, n)``: the process SIGKILLs itself when the n-th such outcome is recorded (a fixed point
    in the work, so the test does not depend on timing)."""
    script = (
        "import os, signal, sys\n"
        "from dd0c_cost import outcomes\n"
        "from dd0c_cost_tools.cli import main\n"
        "kill = sys.argv[1]\n"
        "if kill:\n"
        "    stage, kind, n = kill.split(':'); seen = []\n"
        "    def listener(s, k, reason, origin):\n"
        "        if (s, k) == (stage, kind):\n"
        "            seen.append(1)\n"
        "            if len(seen) == int(n):\n"
        "                os.kill(os.getpid(), signal.SIGKILL)\n"
        "    outcomes.add_listener(listener)\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )
    kill = ":".join(map(str, kill_at)) if kill_at else ""
    args = [sys.executable, "-c", script, kill, "replay", str(path), "--tenant", TENANT, "--json", "--via-queues"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: int = 900) -> tuple[int, dict | None, str]:
    out, err = process.communicate(timeout=timeout)
    try:
        summary = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        summary = None
    return process.returncode, summary, err


def adds_up(summary: dict) -> bool:
    processed = summary["cost_events"] + summary["not_cost_relevant"]
    return summary["read"] == processed + sum(summary["rejected"].values()) + sum(summary["failed"].values())


@dataclass
class Ledger:
    cost_events: int
    distinct_events: int
    unscored: int
    anomalies: int
    unsent: int  # anomalies whose revision is above notified_revision


def ledger(db_url: str) -> Ledger:
    op = operator.open_operator_connection(db_url)
    tenant = operator.find_tenant(op, TENANT)
    op.close()
    assert tenant is not None
    conn = open_connection(db_url)
    try:
        with tenant_transaction(conn, tenant):
            events = conn.execute(
                """SELECT count(*) AS n, count(DISTINCT event_id) AS d, count(*) FILTER (WHERE scored_at IS NULL) AS u
                   FROM dd0c.cost_events"""
            ).fetchone()
            anomalies = conn.execute(
                """SELECT count(*) AS n, count(*) FILTER (WHERE revision > notified_revision) AS unsent
                   FROM dd0c.anomalies"""
            ).fetchone()
    finally:
        conn.close()
    return Ledger(events["n"], events["d"], events["u"], anomalies["n"], anomalies["unsent"])


def posts(slack: FakeSlackAPI) -> list:
    """Every anomaly message Slack accepted (a grown anomaly updates its message: not a post)."""
    return [c for c in slack.calls_to("chat.postMessage") if c.status == 200 and c.response.get("ok")]
