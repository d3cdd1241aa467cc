"""Per-record isolation in replay: one record that cannot be processed is rejected alone, with a
specific reason, and every other record of its file (and batch) is processed.

Each case reproduces a failure measured on the old code (issue 7): a NUL character in one
record lost all 8 records of its batch; a directory, a truncated .gz, a 50 MB line or a record
nested 500+ levels deep ended the replay with a traceback."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest

from dd0c_cost.db import operator
from dd0c_cost.db.connection import open_connection, tenant_transaction
from tests.records import run_instances

ACCOUNT = "111122223333"


def _replay(paths, db_url, tmp_path, tenant="acme"):
    from dd0c_cost_tools.local.replay import replay

    return replay([Path(p) for p in paths], tenant, db_url, rejects_path=tmp_path / "rejects" / f"{tenant}.jsonl")


def _cost_event_ids(db_url, tenant_name="acme"):
    op = operator.open_operator_connection(db_url)
    try:
        tenant_id = operator.find_tenant(op, tenant_name)
    finally:
        op.close()
    conn = open_connection(db_url)
    try:
        with tenant_transaction(conn, tenant_id):
            return {r["event_id"]: r for r in conn.execute("SELECT * FROM dd0c.cost_events").fetchall()}
    finally:
        conn.close()


def _deep(levels: int) -> str:
    """A RunInstances record (JSON text) whose requestParameters nest ``levels`` deep (built as
    text: Python's own encoder stops at about 1,000 levels)."""
    record = run_instances(ACCOUNT)
    record["requestParameters"]["x"] = "NEST"
    return json.dumps(record).replace('"NEST"', '{"x": ' * levels + "{}" + "}" * levels)


def _adds_up(summary) -> None:
    assert summary.read == summary.cost_events + summary.not_cost_relevant + sum(summary.rejected.values())


def test_a_nul_character_in_one_record_loses_none_of_its_batch(app_env, db_url, tmp_path):
    records = [run_instances(ACCOUNT, user=f"dev{i}") for i in range(8)]
    records[3]["userAgent"] = "aws-cli/2.15.0\u0000hidden"
    records[5]["requestParameters"]["instanceType"] = "m5.large"
    records[5]["requestParameters"]["tag\u0000key"] = "v\u0000"
    path = tmp_path / "nul.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))

    summary = _replay([path], db_url, tmp_path)

    assert (summary.read, summary.cost_events, dict(summary.rejected)) == (8, 8, {})
    stored = _cost_event_ids(db_url)
    assert set(stored) == {r["eventID"] for r in records}
    # Stored on purpose: the NUL is escaped as the six characters \u0000, the meaning kept.
    actor = stored[records[3]["eventID"]]["payload"]["actor"]
    assert actor["user_agent"] == "aws-cli/2.15.0\\u0000hidden"


def test_an_event_id_with_a_nul_character_is_rejected_alone(app_env, db_url, tmp_path):
    records = [run_instances(ACCOUNT) for _ in range(3)]
    records[1]["eventID"] = "abc\u0000def"
    path = tmp_path / "nul-id.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = _replay([path], db_url, tmp_path)
    assert (summary.cost_events, dict(summary.rejected)) == (2, {"nul_character": 1})
    _adds_up(summary)


def test_bad_lines_are_rejected_by_name_and_the_rest_of_the_file_is_processed(app_env, db_url, tmp_path):
    good = [run_instances(ACCOUNT) for _ in range(4)]
    huge = run_instances(ACCOUNT)
    huge["userAgent"] = "x" * (1024 * 1024)  # stands in for the 50 MB line: over SQS's 256 KB
    lines = [
        json.dumps(good[0]).encode(),
        b'{"eventSource": "ec2.amazonaws.com", "userAgent": "caf\xe9"}',  # Latin-1, not UTF-8
        json.dumps(good[1]).encode(),
        _deep(600).encode(),  # parses, but pydantic cannot serialise it
        _deep(1500).encode(),  # past orjson's own limit
        json.dumps(huge).encode(),
        json.dumps(good[2]).encode(),
    ]
    path = tmp_path / "bad-lines.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    # A CloudTrail log file (one JSON object, Records) with one record nested past every limit.
    log = tmp_path / "AWSLogs_log.json"
    log.write_text('{"Records": [' + json.dumps(good[3]) + "," + _deep(1500) + "]}")

    summary = _replay([path, log], db_url, tmp_path)

    assert dict(summary.rejected) == {"not_utf8": 1, "too_deep": 3, "too_large": 1}
    assert summary.cost_events == 4
    _adds_up(summary)
    rejects = [json.loads(line) for line in (tmp_path / "rejects" / "acme.jsonl").read_text().splitlines()]
    assert sorted((r["file"].rsplit("/", 1)[1], r["line"], r["reason"]) for r in rejects) == [
        ("AWSLogs_log.json", 2, "too_deep"),
        ("bad-lines.jsonl", 2, "not_utf8"),
        ("bad-lines.jsonl", 4, "too_deep"),
        ("bad-lines.jsonl", 5, "too_deep"),
        ("bad-lines.jsonl", 6, "too_large"),
    ]
    assert set(_cost_event_ids(db_url)) == {r["eventID"] for r in good}


@pytest.mark.parametrize("layout", ["records", "jsonl"])
def test_a_truncated_gzip_file_gives_every_record_before_the_cut(app_env, db_url, tmp_path, layout):
    records = [run_instances(ACCOUNT) for _ in range(6)]
    if layout == "records":
        text = json.dumps({"Records": records}).encode()
    else:
        text = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    whole = gzip.compress(text, mtime=0)
    # Cut inside the last record's compressed bytes: the first five are complete.
    cut_at = len(text) - len(json.dumps(records[-1])) // 2
    size = len(whole) - 8  # without the trailer
    while len(zlib.decompressobj(wbits=31).decompress(whole[:size])) >= cut_at:
        size -= 16
    path = tmp_path / f"cut-{layout}.json.gz"
    path.write_bytes(whole[:size])

    summary = _replay([path], db_url, tmp_path)

    assert summary.rejected == {"truncated_gzip": 1}
    complete = summary.read - 1
    assert complete >= 4 and summary.cost_events == complete
    assert set(_cost_event_ids(db_url)) == {r["eventID"] for r in records[:complete]}
    _adds_up(summary)


def test_a_directory_is_replayed_file_by_file(app_env, db_url, tmp_path):
    folder = tmp_path / "trail"
    (folder / "2026" / "11").mkdir(parents=True)
    records = [run_instances(ACCOUNT) for _ in range(3)]
    (folder / "a.jsonl").write_text(json.dumps(records[0]) + "\n")
    (folder / "2026" / "11" / "b.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": records[1:]}).encode(), mtime=0)
    )
    summary = _replay([folder], db_url, tmp_path)
    assert (summary.read, summary.cost_events) == (3, 3)
