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
