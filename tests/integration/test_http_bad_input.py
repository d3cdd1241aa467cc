"""HTTP never fails silently: bodies that are not UTF-8, mis-encoded, nested too deep or too large
get a 4xx in the API's error shape, through the handler and through ``dd0c-cost serve``; one bad
record in ``POST /v1/ingest`` is rejected alone and the others are queued.

Reproduces issue 7: the deep record raised an unhandled ``PydanticSerializationError``, and a
non-UTF-8 body got no response at all from ``dd0c-cost serve``."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import HTTPServer

import pytest

from dd0c_cost_tools.local.runner import LambdaContext
from dd0c_cost_tools.local.serve import apigw_v2_event, make_handler_class
from tests.integration.test_api import bearer
from tests.records import run_instances

ACCOUNT = "111111111111"


def _deep_record(levels: int) -> str:
    record = run_instances(ACCOUNT)
    record["requestParameters"]["x"] = "NEST"
    return json.dumps(record).replace('"NEST"', '{"x": ' * levels + "{}" + "}" * levels)


def _is_error_shape(body) -> bool:
    return isinstance(body, dict) and {"error", "message"} <= set(body) <= {"error", "message", "detail"}


@pytest.mark.parametrize("levels", [300, 1500], ids=["past-pydantic", "past-orjson"])
def test_one_deep_record_is_rejected_alone_and_the_others_are_queued(api, tenants, local_pipeline, levels):
    _, key = tenants["a"]
    body = (
        "["
        + json.dumps(run_instances(ACCOUNT))
        + ","
        + _deep_record(levels)
        + ","
        + json.dumps(run_instances(ACCOUNT))
        + "]"
    )
    status, answer = api("POST", "/v1/ingest", body=body, headers=bearer(key))
    assert status == 202, answer
    assert answer["accepted"] == 2
    assert [(r["index"], r["reason"]) for r in answer["rejected"]] == [(1, "too_deep")]


def test_a_nul_record_among_valid_ones_is_queued_with_them(api, tenants, local_pipeline):
    from tests.outcome_tally import Tally

    _, key = tenants["a"]
    records = [run_instances(ACCOUNT) for _ in range(3)]
    records[1]["userAgent"] = "evil\u0000agent"
    with Tally() as tally:
        status, answer = api("POST", "/v1/ingest", body=json.dumps({"Records": records}), headers=bearer(key))
        local_pipeline.drain()
    assert (status, answer["accepted"], answer["rejected"]) == (202, 3, [])
    assert tally.count("normalize", "cost_event") == 3


def test_non_utf8_and_mis_encoded_bodies_get_a_4xx(api, tenants):
    _, key = tenants["a"]
    latin1 = json.dumps({"Records": [run_instances(ACCOUNT)]}).replace("alice", "ren\u00e9").encode("latin-1")
    for path in ("/v1/ingest", "/v1/anomalies/00000000-0000-0000-0000-000000000000/status", "/v1/accounts"):
        status, answer = api("POST", path, body=latin1, headers=bearer(key))
        assert (status, answer["error"]) == (400, "not_utf8"), path
        assert _is_error_shape(answer)


def test_bad_base64_over_deep_and_malformed_bodies_get_a_4xx_in_the_error_shape(api, tenants, local_pipeline):
    _, key = tenants["a"]
    handler = local_pipeline.handler("api")
    event = apigw_v2_event(
        "POST", "/v1/accounts", {"content-type": "application/json", **bearer(key)}, b"{}", "127.0.0.1"
    )
    event.update(body="!!! not base64 !!!", isBase64Encoded=True)
    result = handler(event, LambdaContext("api"))
    assert (result["statusCode"], json.loads(result["body"])["error"]) == (400, "bad_base64")

    deep = '{"status": ' + '{"a": ' * 2000 + "1" + "}" * 2000 + "}"
    status, answer = api(
        "POST", "/v1/anomalies/00000000-0000-0000-0000-000000000000/status", body=deep, headers=bearer(key)
    )
    assert (status, answer["error"]) == (400, "too_deep")
    status, answer = api(
        "POST", "/v1/anomalies/00000000-0000-0000-0000-000000000000/status", body="{not json", headers=bearer(key)
    )
    assert status in (400, 422) and _is_error_shape(answer) and answer["error"] == "invalid_request"
    status, answer = api("POST", "/v1/accounts", body="x" * 30_000, headers=bearer(key))
    assert (status, answer["error"]) == (413, "body_too_large")
    status, answer = api("GET", "/v1/no-such-thing", headers=bearer(key))
    assert status == 404 and _is_error_shape(answer)


@pytest.fixture
def live_server(local_pipeline):
    """``dd0c-cost serve``'s request handler on an ephemeral port, in a thread."""
    server = HTTPServer(("127.0.0.1", 0), make_handler_class(local_pipeline))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", server.server_port
    server.shutdown()
    server.server_close()


def _post(port: int, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_serve_answers_a_non_utf8_body(app_env, tenants, live_server):
    _, port = live_server
    _, key = tenants["a"]
    status, answer = _post(
        port,
        "/v1/ingest",
        b'{"Records": [{"userAgent": "caf\xe9"}]}',
        {"content-type": "application/json", **bearer(key)},
    )
    assert (status, answer["error"]) == (400, "not_utf8")
    status, answer = _post(
        port, "/v1/ingest", b"[]", {"content-type": "application/json", "content-length": "nope", **bearer(key)}
    )
    assert status == 400 and _is_error_shape(answer)
