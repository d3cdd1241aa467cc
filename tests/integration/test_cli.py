"""The CLI as an operator runs it: real subprocesses, a real PostgreSQL, the bundled sample and
the licensed corpus in ../shared/corpora/cloudtrail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_path

CLI = [sys.executable, "-m", "dd0c_cost_tools.cli"]
ANOMALY_KEYS = {
    "id",
    "account_id",
    "region",
    "service",
    "resource_type",
    "resource_ids",
    "event_ids",
    "actor",
    "detected_at",
    "score",
    "severity",
    "estimated_hourly_usd",
    "status",
}


def run_cli(args: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"dd0c-cost {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def cli_env(db_url: str | None, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "SLACK_", "QUEUE_URL_"))}
    env["DD0C_DATA_DIR"] = str(data_dir)
    if db_url:
        env["DATABASE_URL"] = db_url
    return env


def test_replay_of_the_whole_corpus_adds_up_and_rejects_every_lookalike(db_url, tmp_path):
    corpus = shared_path("corpora", "cloudtrail")
    files = sorted(str(p) for p in corpus.glob("*.jsonl")) + [
        str(corpus / "negative" / "non_cloudtrail_lookalikes.jsonl")
    ]
    env = cli_env(db_url, tmp_path)
    summary = json.loads(run_cli(["replay", *files, "--tenant", "corpus", "--json"], env).stdout)
    assert set(summary) == {
        "read",
        "cost_events",
        "not_cost_relevant",
        "rejected",
        "failed",
        "scoring_failed",
        "alerts_failed",
        "alerts_resent",
        "anomalies",
    }
    assert summary["failed"] == summary["scoring_failed"] == summary["alerts_failed"] == {}
    expected_records = sum(1 for f in files for line in Path(f).read_text().splitlines() if line.strip())
    assert summary["read"] == expected_records
    rejected = sum(summary["rejected"].values())
    assert summary["read"] == summary["cost_events"] + summary["not_cost_relevant"] + rejected
    assert summary["cost_events"] > 0
    # Every lookalike is rejected, and rejects are kept with their file and line.
    rejects = [json.loads(line) for line in (tmp_path / "rejects" / "corpus.jsonl").read_text().splitlines()]
    assert len(rejects) == rejected - summary["rejected"].get("duplicate", 0)
    lookalike_rejects = [r for r in rejects if r.get("file", "").endswith("non_cloudtrail_lookalikes.jsonl")]
    assert len(lookalike_rejects) == 32
    assert {r["reason"] for r in lookalike_rejects} == {"not_cloudtrail"}
    assert all(isinstance(r.get("line"), int) for r in rejects)


def test_replay_accepts_eventbridge_envelopes_and_s3_log_files(db_url, tmp_path):
    import gzip

    envelopes = shared_path("corpora", "cloudtrail", "eventbridge_envelopes.jsonl")
    records = [
        json.loads(line)
        for line in shared_path("corpora", "cloudtrail", "cost_relevant.jsonl").read_text().splitlines()[:20]
    ]
    log_file = tmp_path / "123456789012_CloudTrail_us-east-1_20230710T0000Z_abc.json.gz"
    log_file.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    env = cli_env(db_url, tmp_path)
    summary = json.loads(run_cli(["replay", str(envelopes), str(log_file), "--tenant", "mixed", "--json"], env).stdout)
    assert summary["read"] == 16 + 20
    assert summary["read"] == summary["cost_events"] + summary["not_cost_relevant"] + sum(summary["rejected"].values())
    assert summary["not_cost_relevant"] >= 13  # envelopes are real CloudTrail, mostly not billable
    assert summary["cost_events"] > 0


def test_replay_reports_a_malformed_line_with_its_reason_and_keeps_going(db_url, tmp_path):
    from tests.records import run_instances

    path = tmp_path / "input.jsonl"
    path.write_text(
        json.dumps(run_instances())
        + "\n"
        + '{"eventSource": "ec2.amazonaws.com", "eventName": "Run'
        + "\n"
        + json.dumps(run_instances())
        + "\n"
    )
    env = cli_env(db_url, tmp_path)
    summary = json.loads(run_cli(["replay", str(path), "--tenant", "acme", "--json"], env).stdout)
    assert summary == {
        "read": 3,
        "cost_events": 2,
        "not_cost_relevant": 0,
        "rejected": {"malformed_json": 1},
        "failed": {},
        "scoring_failed": {},
        "alerts_failed": {},
        "alerts_resent": 0,
        "anomalies": 0,
    }
    reject = json.loads((tmp_path / "rejects" / "acme.jsonl").read_text())
    assert reject["reason"] == "malformed_json" and reject["line"] == 2 and reject["file"] == str(path)


def test_anomalies_json_carries_the_documented_fields(db_url, tmp_path):
    from dd0c_cost_tools.local.sample import sample_path

    env = cli_env(db_url, tmp_path)
    summary = json.loads(run_cli(["replay", str(sample_path()), "--tenant", "demo", "--json"], env).stdout)
    assert summary["anomalies"] >= 1
    anomalies = json.loads(run_cli(["anomalies", "--tenant", "demo", "--json"], env).stdout)
    assert len(anomalies) == summary["anomalies"]
    for anomaly in anomalies:
        assert set(anomaly) >= ANOMALY_KEYS
        assert 0 <= anomaly["score"] <= 1
        assert anomaly["event_ids"]
    gpu = [a for a in anomalies if "p4d.24xlarge" in json.dumps(a)]
    assert gpu and gpu[0]["region"] == "ap-southeast-2" and gpu[0]["detected_at"].startswith("2026-11-16")


def test_replaying_the_same_history_twice_gives_the_same_anomalies(make_database, migrated_template, tmp_path):
    from dd0c_cost_tools.local.sample import sample_path

    results = []
    for run in range(2):
        env = cli_env(make_database(template=migrated_template), tmp_path / str(run))
        run_cli(["replay", str(sample_path()), "--tenant", "demo", "--json"], env)
        anomalies = json.loads(run_cli(["anomalies", "--tenant", "demo", "--json"], env).stdout)
        results.append(
            [
                (a["event_ids"], a["score"], a["severity"], a["detected_at"], a["estimated_hourly_usd"])
                for a in anomalies
            ]
        )
    assert results[0] == results[1]


def test_demo_on_the_embedded_default_database(tmp_path):
    """The README's first command: no DATABASE_URL, so the CLI starts its own PostgreSQL."""
    from dd0c_cost_tools.local.embedded_pg import stop_default_server

    env = cli_env(None, tmp_path)
    try:
        result = run_cli(["demo"], env)
        zombies = json.loads(run_cli(["zombies", "--tenant", "demo", "--json"], env).stdout)
    finally:
        stop_default_server(tmp_path, remove=True)
    assert "p4d.24xlarge" in result.stdout
    assert "critical" in result.stdout
    # After the anomalies: the demo account's zombies, priced, largest waste first; busy ones absent.
    assert result.stdout.index("critical") < result.stdout.index("zombie resources in the demo account")
    found = {(z["resource_type"], z["criterion"], z["verdict"]) for z in zombies}
    assert {
        ("rds_instance", "rds_no_connections", "zombie"),
        ("ec2_instance", "ec2_idle", "zombie"),
        ("ebs_volume", "ebs_unattached", "zombie"),
        ("nat_gateway", "nat_no_traffic", "zombie"),
        ("elastic_ip", "eip_unassociated", "zombie"),
        ("ebs_snapshot", "snapshot_orphaned", "zombie"),
        ("load_balancer", "lb_no_target_groups", "zombie"),
        ("sagemaker_endpoint", "sagemaker_no_invocations", "zombie"),
    } == found
    priced = [z["monthly_waste_usd"] for z in zombies if z["monthly_waste_usd"] is not None]
    assert priced == sorted(priced, reverse=True) and len(priced) == len(zombies) - 1  # SageMaker: unpriced
    assert "unpriced" in result.stdout
    outbox = tmp_path / "slack-outbox.jsonl"
    assert outbox.exists() and json.loads(outbox.read_text().splitlines()[0])["blocks"]


def test_accounts_connect_hands_out_a_stable_external_id_and_template_parameters(db_url, tmp_path):
    env = cli_env(db_url, tmp_path)
    run_cli(["tenants", "create", "acme"], env)
    run_cli(["tenants", "create", "other"], env)
    args = [
        "accounts",
        "connect",
        "210987654321",
        "--tenant",
        "acme",
        "--regions",
        "us-east-1",
        "eu-west-1",
        "--central-bus-arn",
        "arn:aws:events:us-east-1:123456789012:event-bus/dd0c-cost",
        "--dd0c-account-id",
        "123456789012",
        "--json",
    ]
    first = json.loads(run_cli(args, env).stdout)
    again = json.loads(run_cli(args, env).stdout)
    assert first["external_id"] == again["external_id"] and len(first["external_id"]) >= 16
    assert first["template_parameters"] == {
        "CentralBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/dd0c-cost",
        "DD0CAccountId": "123456789012",
        "ExternalId": first["external_id"],
        "EnableRemediation": "false",
    }
    assert [s["region"] for s in first["stacks"]] == ["us-east-1", "eu-west-1"]
    refused = subprocess.run(
        CLI
        + [
            "accounts",
            "connect",
            "210987654321",
            "--tenant",
            "other",
            "--regions",
            "us-east-1",
            "--central-bus-arn",
            "arn:aws:events:us-east-1:123456789012:event-bus/dd0c-cost",
            "--dd0c-account-id",
            "123456789012",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "another tenant" in refused.stderr


def test_a_changed_applied_migration_is_a_clear_error(db_url, tmp_path):
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE public.dd0c_schema_migrations SET checksum = 'tampered' WHERE version = 1")
    result = subprocess.run(CLI + ["migrate"], env=cli_env(db_url, tmp_path), capture_output=True, text=True)
    assert result.returncode == 2
    assert "001_tenants.sql was changed after it was applied" in result.stderr and "Traceback" not in result.stderr


def test_per_tenant_dollar_floor_set_by_the_operator_changes_what_alerts(db_url, tmp_path):
    from dd0c_cost_tools.local.sample import sample_path

    env = cli_env(db_url, tmp_path)
    run_cli(["tenants", "create", "frugal"], env)
    shown = run_cli(["tenants", "configure", "frugal", "--alert-floor-usd-per-hour", "1000"], env).stdout
    assert "alert_floor_usd_per_hour  1000.0" in shown
    # The sample's $220/h GPU launch is under this floor (with defaults it alerts: see
    # test_anomalies_json_carries_the_documented_fields).
    frugal = json.loads(run_cli(["replay", str(sample_path()), "--tenant", "frugal", "--json"], env).stdout)
    assert frugal["anomalies"] == 0 and frugal["cost_events"] > 0
    bad = subprocess.run(
        CLI + ["tenants", "configure", "frugal", "--score-threshold", "7"], env=env, capture_output=True, text=True
    )
    assert bad.returncode != 0 and "score_threshold must be in (0, 1]" in bad.stderr


BUS = [
    "--central-bus-arn",
    "arn:aws:events:us-east-1:123456789012:event-bus/dd0c-cost",
    "--dd0c-account-id",
    "123456789012",
]


def run_failing(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result


def test_no_command_but_replay_creates_a_tenant_and_errors_name_the_fix(db_url, tmp_path):
    env = cli_env(db_url, tmp_path)
    typo = run_failing(["accounts", "connect", "210987654321", "--tenant", "typo", "--regions", "us-east-1", *BUS], env)
    assert "no tenant named 'typo'" in typo.stderr and "dd0c-cost tenants create typo" in typo.stderr
    assert "typo" not in run_cli(["tenants", "list"], env).stdout
    bad = run_failing(["tenants", "configure", "typo", "--score-threshold", "abc"], env)
    assert "'abc' is not a number" in bad.stderr
    missing = run_failing(["accounts", "connect", "210987654321", "--tenant", "x", "--regions", "us-east-1"], env)
    assert "--central-bus-arn" in missing.stderr and "DD0C_CENTRAL_BUS_ARN" in missing.stderr
    assert "no such file or folder" in run_failing(["replay", str(tmp_path / "nope"), "--tenant", "t"], env).stderr
    debug = subprocess.run(
        CLI + ["--debug", "replay", str(tmp_path / "nope"), "--tenant", "t"], env=env, capture_output=True, text=True
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_replay_reads_a_cloudtrail_folder_and_names_the_owner_of_foreign_accounts(db_url, tmp_path):
    """An S3 copy of a trail (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz) replays as a
    folder; digest files are skipped; accounts another tenant owns are named with the command to use."""
    import gzip

    from tests.records import run_instances

    env = cli_env(db_url, tmp_path)
    trail = tmp_path / "bucket" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "16"
    trail.mkdir(parents=True)
    records = [run_instances("111122223333", event_id=f"00000000-0000-4000-8000-00000000000{i}") for i in range(3)]
    (trail / "111122223333_CloudTrail_us-east-1_20261116T0900Z_a.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)
    )
    digest = tmp_path / "bucket" / "AWSLogs" / "111122223333" / "CloudTrail-Digest" / "us-east-1"
    digest.mkdir(parents=True)
    (digest / "digest.json.gz").write_bytes(gzip.compress(b"{}", mtime=0))

    first = subprocess.run(
        CLI + ["replay", str(tmp_path / "bucket"), "--tenant", "owner", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["read"] == 3
    assert "created tenant 'owner'" in first.stderr
    second = subprocess.run(
        CLI + ["replay", str(tmp_path / "bucket" / "**" / "*.json.gz"), "--tenant", "newcomer", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["rejected"] == {"account_not_connected": 3}
    assert "111122223333 belongs to tenant 'owner'" in second.stderr and "--tenant owner" in second.stderr


def test_anomaly_show_status_accounts_list_and_db_status(db_url, tmp_path):
    from dd0c_cost_tools.local.sample import sample_path

    env = cli_env(db_url, tmp_path)
    run_cli(["replay", str(sample_path()), "--tenant", "demo", "--json"], env)
    [anomaly] = [
        a
        for a in json.loads(run_cli(["anomalies", "--tenant", "demo", "--json"], env).stdout)
        if "p4d" in json.dumps(a)
    ]
    listed = run_cli(["anomalies", "--tenant", "demo"], env).stdout
    assert anomaly["id"] in listed and "open" in listed
    shown = run_cli(["anomalies", "show", anomaly["id"], "--tenant", "demo"], env).stdout
    assert "p4d.24xlarge" in shown and "novelty" in shown and "zscore" in shown
    run_cli(["anomalies", "false-positive", anomaly["id"], "--tenant", "demo", "--by", "alice"], env)
    again = json.loads(run_cli(["anomalies", "show", anomaly["id"], "--tenant", "demo", "--json"], env).stdout)
    assert again["status"] == "false_positive"
    accounts = run_cli(["accounts", "list", "--tenant", "demo"], env).stdout
    assert "111122223333" in accounts and "connected" in accounts
    status = json.loads(run_cli(["db", "status", "--json"], env).stdout)
    assert status["database"].startswith("DATABASE_URL") and status["migrations_pending"] == []
    assert "demo" in status["tenants"]


def test_group_help_works_for_commands_that_pass_options_on(tmp_path):
    env = cli_env(None, tmp_path)
    for group in (
        ["pricing", "--help"],
        ["bench", "--help"],
        ["pricing", "refresh", "--help"],
        ["bench", "nab", "--help"],
    ):
        assert run_cli(group, env).stdout.startswith("usage: dd0c-cost " + " ".join(group[:-1]))
