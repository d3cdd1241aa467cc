"""Reading CloudTrail: shapes, time formats, lookalikes and the reasons for rejection."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest

from dd0c_cost.events.cloudtrail import RecordRejected, iter_file, normalise_event_name, parse, parse_event_time
from dd0c_cost.events.paths import compile_path
from tests.records import envelope, run_instances


@pytest.mark.parametrize(
    "text",
    [
        "2021-01-01T00:00:00Z",
        "2021-01-01 00:00:00",
        "2021-01-01 00:00:00.000000000",
        "2021-01-01 00:00:00.000",
        "2021-01-01 00:00:00Z",
    ],
)
def test_event_time_variants_seen_in_the_wild(text):
    assert parse_event_time(text) == datetime(2021, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "name", ["CreateFunction20150331", "UpdateFunctionConfiguration20150331v2", " CreateFunction "]
)
def test_lambda_api_version_suffixes_and_whitespace_are_removed(name):
    assert normalise_event_name(name) in {"CreateFunction", "UpdateFunctionConfiguration"}


def test_envelope_and_bare_record_parse_to_the_same_event():
    record = run_instances("111122223333")
    assert parse(record) == parse(envelope(record))


def test_account_falls_back_to_the_envelope_when_the_record_lacks_it():
    env = envelope(run_instances("111122223333"))
    env["detail"].pop("recipientAccountId")  # eventVersion <= 1.05 records have none
    env["detail"]["userIdentity"]["accountId"] = "999999999999"  # the caller's account, not the owner's
    assert parse(env).account_id == "111122223333"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: r.update(eventSource="aws:s3"), "not_cloudtrail"),
        (lambda r: r.update(eventSource="ecs-cn-hangzhou.aliyuncs.com"), "not_cloudtrail"),
        (lambda r: r.update(eventTime="..."), "bad_event_time"),
        (lambda r: r.update(recipientAccountId="12345", userIdentity={}), "bad_account_id"),
        (lambda r: r.update(awsRegion="<region-code>"), "bad_region"),
        (lambda r: r.update(eventID=12), "missing_event_id"),
    ],
)
def test_rejections_name_their_reason(mutate, reason):
    record = run_instances()
    mutate(record)
    with pytest.raises(RecordRejected) as caught:
        parse(record)
    assert caught.value.reason.value == reason


def test_missing_event_id_gets_a_stable_digest():
    record = run_instances()
    del record["eventID"]
    first, second = parse(record), parse(json.loads(json.dumps(record)))
    assert first.event_id == second.event_id and first.event_id.startswith("sha256:")


def test_non_cloudtrail_eventbridge_events_are_rejected():
    event = envelope(run_instances())
    event["detail-type"] = "EC2 Instance State-change Notification"
    with pytest.raises(RecordRejected) as caught:
        parse(event)
    assert caught.value.reason.value == "not_cloudtrail"


def test_iter_file_reads_s3_log_files_gzip_and_json_lines(tmp_path):
    records = [run_instances(), run_instances()]
    s3 = tmp_path / "log.json.gz"
    s3.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps(records[0]) + "\n\n" + "{broken\n" + json.dumps(envelope(records[1])) + "\n")
    from_s3 = list(iter_file(s3))
    assert [i.value["eventID"] for i in from_s3] == [r["eventID"] for r in records]
    from_lines = list(iter_file(lines))
    assert [i.origin.line for i in from_lines] == [1, 3, 4]
    assert from_lines[1].rejected.reason.value == "malformed_json"


def test_paths_unwrap_request_and_response_wrappers():
    record = {
        "requestParameters": {"CreateNatGatewayRequest": {"SubnetId": "subnet-1"}},
        "responseElements": {"CreateNatGatewayResponse": {"xmlns": "x", "natGateway": {"natGatewayId": "nat-1"}}},
    }
    assert compile_path("requestParameters.SubnetId")(record) == ["subnet-1"]
    assert compile_path("responseElements.natGateway.natGatewayId")(record) == ["nat-1"]
    assert compile_path("a.items[*].id")({"a": {"items": [{"id": 1}, {"id": 2}]}}) == [1, 2]
    assert compile_path("a.b")({"a": None}) == []
