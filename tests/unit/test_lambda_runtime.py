"""The FIFO partial batch response: a failure holds back only its own group; all failed raises."""

from __future__ import annotations

import pytest

from dd0c_cost.lambda_runtime import BatchProcessingFailed, fifo_partial_response


def _record(message_id: str, group: str, body: str = "") -> dict:
    return {"messageId": message_id, "body": body or message_id, "attributes": {"MessageGroupId": group}}


def test_a_failure_skips_the_rest_of_its_group_only() -> None:
    seen: list[str] = []

    def handle(record: dict) -> None:
        seen.append(record["messageId"])
        if record["messageId"] == "a2":
            raise ValueError("bad")

    records = [_record("a1", "A"), _record("b1", "B"), _record("a2", "A"), _record("b2", "B"), _record("a3", "A")]
    response = fifo_partial_response(records, handle)
    assert response == {"batchItemFailures": [{"itemIdentifier": "a2"}, {"itemIdentifier": "a3"}]}
    assert seen == ["a1", "b1", "a2", "b2"]  # a3 was never handed over: order within A is kept


def test_every_record_failed_raises_so_lambda_retries_the_batch() -> None:
    def handle(record: dict) -> None:
        raise RuntimeError(record["messageId"])

    with pytest.raises(BatchProcessingFailed) as caught:
        fifo_partial_response([_record("a1", "A"), _record("b1", "B")], handle)
    assert [m for m, _ in caught.value.errors] == ["a1", "b1"]


def test_all_good_reports_nothing() -> None:
    assert fifo_partial_response([_record("a1", "A")], lambda r: None) == {"batchItemFailures": []}


class _SqsRecorder:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def change_message_visibility(self, **kwargs) -> None:
        self.calls.append(kwargs)


def _throttled_notify(monkeypatch: pytest.MonkeyPatch, error: Exception) -> tuple[dict, _SqsRecorder]:
    """The notify function's handler on one record whose post fails with ``error``."""
    from dd0c_cost import lambda_runtime, queues, settings
    from dd0c_cost.topology import queue_url_env_var

    recorder = _SqsRecorder()
    monkeypatch.setattr(queues, "sqs_client", lambda: recorder)
    monkeypatch.setenv(queue_url_env_var("notify"), "https://sqs.example/notify.fifo")
    settings.get_settings.cache_clear()

    def post(_body: str) -> None:
        raise error

    handler = lambda_runtime.sqs_fifo_handler("notify", post)
    record = {**_record("n1", "tenant-a"), "receiptHandle": "rh-1"}
    with pytest.raises(BatchProcessingFailed):  # the only record failed: Lambda retries the batch
        handler({"Records": [record]}, _LambdaContext())
    settings.get_settings.cache_clear()
    return record, recorder


class _LambdaContext:
    function_name = "notify"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:notify"
    aws_request_id = "req-1"


def test_a_slack_retry_after_longer_than_the_visibility_timeout_delays_the_message(monkeypatch) -> None:
    from dd0c_cost.notify.slack import SlackRateLimited
    from dd0c_cost.topology import TOPOLOGY

    visibility = TOPOLOGY.queue("notify").visibility_timeout_s
    _, recorder = _throttled_notify(monkeypatch, SlackRateLimited("chat.postMessage", retry_after=visibility + 210))
    assert recorder.calls == [
        {"QueueUrl": "https://sqs.example/notify.fifo", "ReceiptHandle": "rh-1", "VisibilityTimeout": visibility + 210}
    ]


def test_a_shorter_retry_after_or_another_failure_keeps_the_visibility_timeout(monkeypatch) -> None:
    from dd0c_cost.notify.slack import SlackRateLimited
    from dd0c_cost.topology import TOPOLOGY

    visibility = TOPOLOGY.queue("notify").visibility_timeout_s
    _, recorder = _throttled_notify(monkeypatch, SlackRateLimited("chat.postMessage", retry_after=visibility))
    _, other = _throttled_notify(monkeypatch, ConnectionError("slack unreachable"))
    assert recorder.calls == [] and other.calls == []


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_record_the_workers_get_reads_as_powertools_sqs_record() -> None:
    """tickets and remediate get an ``SqsRecord`` (no import of Powertools' data classes at cold
    start); what they read of it is what Powertools' ``SQSRecord`` gives, missing fields included."""
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from dd0c_cost.lambda_runtime import SqsRecord, sqs_fifo_record_handler
    from dd0c_cost_tools.local.runner import LambdaContext

    raw = {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": '{"x": 1}',
        "attributes": {"ApproximateReceiveCount": "3", "MessageGroupId": "g"},
    }
    ours, theirs = SqsRecord(raw), SQSRecord(raw)
    assert (ours.body, ours.message_id, ours.receipt_handle, ours.attributes.approximate_receive_count) == (
        theirs.body,
        theirs.message_id,
        theirs.receipt_handle,
        theirs.attributes.approximate_receive_count,
    )
    for missing in ({k: v for k, v in raw.items() if k != "attributes"}, {**raw, "attributes": {}}):
        for record in (SqsRecord(missing), SQSRecord(missing)):
            with pytest.raises(KeyError):
                _ = record.attributes.approximate_receive_count
    got: list[tuple[str, str]] = []
    handler = sqs_fifo_record_handler("tickets", lambda r: got.append((r.body, r.attributes.approximate_receive_count)))
    assert handler({"Records": [raw]}, LambdaContext("tickets")) == {"batchItemFailures": []}
    assert got == [('{"x": 1}', "3")]
