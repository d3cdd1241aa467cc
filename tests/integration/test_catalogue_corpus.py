"""The catalogue against the whole licensed CloudTrail corpus (../shared/corpora/cloudtrail).

- Every record of cost_relevant.jsonl that is a successful call (parse succeeds, no errorCode)
  becomes a cost event with a price, except for reasons listed here by name.
- Every record of every corpus file goes through cloudtrail.parse + catalogue +
  build_cost_event (``normalize_record``, no database) without a crash and ends as a cost event,
  not cost-relevant or rejected, each with a named reason; the counts add up.
- Every non-CloudTrail lookalike is rejected, also when fed as a ``{"Records": [...]}`` file.
- One chain through the real normaliser and PostgreSQL: sizing inherited from the database.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from dd0c_cost import catalogue
from dd0c_cost.events.cloudtrail import (
    RecordRejected,
    RejectReason,
    event_time_or_none,
    iter_file,
    parse,
)
from dd0c_cost.events.models import CostAction, CostEvent, IngestMessage
from dd0c_cost.events.normalize import (
    FAILED_CALL,
    NO_BILLABLE_CHANGE,
    NOT_IN_CATALOGUE,
    MemoryHistory,
    OutcomeKind,
    normalize,
    normalize_record,
)
from dd0c_cost.pricing import get_price_book
from dd0c_cost.pricing.pricers import NO_PRICE_REASONS, PRICERS
from tests.conftest import shared_path

TENANT = uuid.UUID("11111111-2222-4333-8444-555555555555")
BOOK = get_price_book()
SOURCE_FILES = (
    "invictus_aws_dataset",
    "panther_analysis",
    "stratus_red_team",
    "otrf_security_datasets",
    "awsdocs",
    "cloud_custodian",
    "streamalert",
)

# (eventSource, eventName) in cost_relevant.jsonl that are deliberately not cost events.
NOT_PRICED = {
    (
        "lambda.amazonaws.com",
        "CreateFunction",
    ): "Lambda functions bill per request and GB-second; creating one adds no standing hourly spend",
    (
        "lambda.amazonaws.com",
        "UpdateFunctionConfiguration",
    ): "memory/layers change the per-invocation price only; no standing hourly spend",
    ("lambda.amazonaws.com", "DeleteFunction"): "removes no standing hourly spend (usage-billed)",
    (
        "ec2.amazonaws.com",
        "DeregisterImage",
    ): "the AMI's snapshots stay and bill until DeleteSnapshot, which is catalogued",
    (
        "batch.amazonaws.com",
        "CreateComputeEnvironment",
    ): "Batch bills the EC2/Fargate capacity it launches; those launches arrive as their own RunInstances",
    ("cloudhsm.amazonaws.com", "CreateCluster"): "a CloudHSM cluster bills per HSM (CreateHsm), not per cluster",
    (
        "rds.amazonaws.com",
        "CopyDBClusterSnapshot",
    ): "an Aurora cluster snapshot's size is the cluster volume's used bytes, stated in no CloudTrail record",
    ("rds.amazonaws.com", "DeleteDBClusterSnapshot"): "same: cluster snapshot size unknowable from CloudTrail",
}

# Services whose price has no licensed source (docs/pricing.md "Known gaps", pricers.NO_PRICE_REASONS):
# cost events with price_unknown=True, never dropped, scored on their shape.
NO_PRICE_SOURCE = dict(NO_PRICE_REASONS)


def _lines(name: str) -> list[bytes]:
    return [line for line in shared_path("corpora", "cloudtrail", name).read_bytes().splitlines() if line.strip()]


def _time(record) -> datetime:
    return event_time_or_none(record) or datetime.min.replace(tzinfo=UTC)


def _why_unknown(entry: catalogue.CatalogueEntry, event: CostEvent, history_had_sizing: bool) -> str | None:
    """The named reason this cost event may lack a price, or None (then it must have one)."""
    pricer = PRICERS[entry.pricer]
    if not pricer.price_source:
        return NO_PRICE_SOURCE[entry.pricer]
    if event.region not in BOOK.known_regions():
        return f"region {event.region!r} is not an AWS region the price book knows (anonymised/placeholder)"
    if entry.inherit_attributes and not history_had_sizing:
        return "the sizing is only in an earlier event of the resource, which the corpus does not contain"
    return None


def test_every_successful_cost_relevant_call_is_a_priced_cost_event() -> None:
    records = [(n, orjson.loads(line)) for n, line in enumerate(_lines("cost_relevant.jsonl"), start=1)]
    assert len(records) == 174
    records.sort(key=lambda nr: (_time(nr[1]), nr[0]))  # event-time order, like a replay
    history = MemoryHistory()
    tally: Counter = Counter()
    unknown_reasons: Counter = Counter()
    for n, record in records:
        try:
            event = parse(record)
        except RecordRejected as rejected:  # placeholder account/region/time in doc samples
            tally[f"rejected:{rejected.reason.value}"] += 1
            continue
        outcome_kind = None
        entry = catalogue.lookup(event.event_source, event.event_name)
        if event.failed:
            outcome = normalize_record(record, TENANT, BOOK, history)
            assert (outcome.kind, outcome.reason) == (OutcomeKind.NOT_COST_RELEVANT, FAILED_CALL), n
            tally["failed_call"] += 1
            continue
        if entry is None:
            assert (event.event_source, event.event_name) in NOT_PRICED, f"line {n}: {event.event_name} not catalogued"
            assert normalize_record(record, TENANT, BOOK, history).reason == NOT_IN_CATALOGUE
            tally["not_priced:listed"] += 1
            continue
        had_sizing = bool(
            entry.inherit_attributes
            and history(entry.inherits_from_type, entry.read(record).inherit_ids, event.event_time)
        )
        outcome = normalize_record(record, TENANT, BOOK, history)
        outcome_kind = outcome.kind
        if outcome_kind is OutcomeKind.NOT_COST_RELEVANT:
            # A modify that touched no priced attribute (deletion protection, access policy ...).
            assert outcome.reason == NO_BILLABLE_CHANGE and entry.action is CostAction.MODIFY, n
            tally[NO_BILLABLE_CHANGE] += 1
            continue
        assert outcome_kind is OutcomeKind.COST_EVENT, (n, outcome)
        cost_event = outcome.cost_event
        assert CostEvent.model_validate_json(cost_event.model_dump_json()) == cost_event
        if cost_event.price_unknown:
            reason = _why_unknown(entry, cost_event, had_sizing)
            assert reason is not None, f"line {n}: {event.event_name} in {event.region} has no price"
            unknown_reasons[reason] += 1
            tally["cost_event:price_unknown"] += 1
        else:
            assert cost_event.unit_price.usd_per_hour is not None and cost_event.estimated_usd_per_hour is not None
            tally["cost_event:priced"] += 1

    assert sum(tally.values()) == 174
    # Most successful billable calls are priced; the rest have a reason named above.
    assert tally["cost_event:priced"] >= 80, (tally, unknown_reasons)
    assert {k for k in tally if k.startswith("rejected:")} <= {
        f"rejected:{r.value}"
        for r in (RejectReason.BAD_ACCOUNT_ID, RejectReason.BAD_REGION, RejectReason.BAD_EVENT_TIME)
    }


def test_the_not_priced_list_names_only_calls_outside_the_catalogue() -> None:
    for key in NOT_PRICED:
        assert key not in catalogue.CATALOGUE, key
    assert set(NO_PRICE_SOURCE) == {name for name, p in PRICERS.items() if not p.price_source}


NOT_COST_RELEVANT_REASONS = {FAILED_CALL, NOT_IN_CATALOGUE, NO_BILLABLE_CHANGE}
REJECT_REASONS = {r.value for r in RejectReason}


def _outcomes(values) -> Counter:
    tally: Counter = Counter()
    history = MemoryHistory()
    for value in sorted(values, key=_time):
        outcome = normalize_record(value, TENANT, BOOK, history)
        if outcome.kind is OutcomeKind.COST_EVENT:
            assert outcome.cost_event is not None and outcome.reason is None
            CostEvent.model_validate(outcome.cost_event.model_dump())
        elif outcome.kind is OutcomeKind.NOT_COST_RELEVANT:
            assert outcome.reason in NOT_COST_RELEVANT_REASONS, outcome
        else:
            assert outcome.reason in REJECT_REASONS and outcome.detail, outcome
        tally[(outcome.kind.value, outcome.reason)] += 1
    return tally


@pytest.mark.parametrize("name", [*SOURCE_FILES, "cost_relevant", "eventbridge_envelopes"])
def test_every_corpus_record_ends_with_a_named_outcome(name: str) -> None:
    values = [orjson.loads(line) for line in _lines(f"{name}.jsonl")]
    tally = _outcomes(values)
    assert sum(tally.values()) == len(values)
    kinds = Counter()
    for (kind, _), count in tally.items():
        kinds[kind] += count
    assert kinds["cost_event"] + kinds["not_cost_relevant"] + kinds["rejected"] == len(values)


def test_whole_corpus_counts_add_up() -> None:
    values = [orjson.loads(line) for name in SOURCE_FILES for line in _lines(f"{name}.jsonl")]
    assert len(values) == 4266
    tally = _outcomes(values)
    assert sum(tally.values()) == 4266
    cost_events = sum(c for (kind, _), c in tally.items() if kind == "cost_event")
    assert cost_events > 100  # the corpus holds ~110 successful catalogued calls
    # Garbage in the rule-fixture files is rejected by name, never crashes.
    assert tally[("rejected", "bad_region")] > 0 and tally[("rejected", "bad_event_time")] > 0


def test_non_cloudtrail_lookalikes_are_all_rejected(tmp_path) -> None:
    values = [orjson.loads(line) for line in _lines("negative/non_cloudtrail_lookalikes.jsonl")]
    assert len(values) == 32
    for value in values:
        outcome = normalize_record(value, TENANT, BOOK)
        assert outcome.kind is OutcomeKind.REJECTED and outcome.reason == "not_cloudtrail", value
    # Fed the way a normaliser meets them: inside a {"Records": [...]} payload.
    path = tmp_path / "lookalikes.json"
    path.write_bytes(orjson.dumps({"Records": values}))
    items = list(iter_file(path))
    assert len(items) == 32
    assert all(normalize_record(item.value, TENANT, BOOK).kind is OutcomeKind.REJECTED for item in items)


# --- through the real normaliser and PostgreSQL ---------------------------------------------


def test_database_inheritance_prices_deletes_modifies_and_snapshots(db_url, operator_conn) -> None:
    from dd0c_cost.db import operator
    from dd0c_cost.db.connection import NORMALIZER_ROLE, open_connection

    account = "123837392027"  # the invictus log's account
    tenant = operator.ensure_tenant(operator_conn, "catalogue-corpus")
    operator.attach_accounts(operator_conn, tenant, {account})
    conn = open_connection(db_url, NORMALIZER_ROLE)  # the normaliser resolves accounts (migration 008)
    lines = {n: orjson.loads(line) for n, line in enumerate(_lines("cost_relevant.jsonl"), start=1)}

    def call(record):
        return normalize(IngestMessage(record=record), conn, BOOK)

    def variant(n, name, request, response, when):
        record = dict(
            lines[n],
            eventName=name,
            requestParameters=request,
            responseElements=response,
            eventTime=when,
            eventID=str(uuid.uuid4()),
        )
        record.pop("errorCode", None)
        return record

    try:
        created = call(lines[29]).cost_event  # invictus CreateDBInstance db.t3.micro, 10 GiB gp2
        db = "terraform-20230710121504061500000001"
        # ModifyDBInstance with a redacted response: the old class comes from the database.
        resized = call(
            variant(
                29,
                "ModifyDBInstance",
                {"dBInstanceIdentifier": db, "dBInstanceClass": "db.m5.large"},
                None,
                "2023-07-10T12:16:00Z",
            )
        ).cost_event
        up = (
            BOOK.rds_instance("us-east-1", "db.m5.large", "mysql").usd_per_hour
            - BOOK.rds_instance("us-east-1", "db.t3.micro", "mysql").usd_per_hour
        )
        assert resized.estimated_usd_per_hour == pytest.approx(round(up, 6))
        assert resized.attributes["instance_type"] == "db.m5.large" and resized.attributes["storage_gb"] == 10
        # CreateDBSnapshot with no response: the size comes from the DB instance (another resource type).
        snap = call(
            variant(
                30,
                "CreateDBSnapshot",
                {"dBInstanceIdentifier": db, "dBSnapshotIdentifier": "s1"},
                None,
                "2023-07-10T12:17:00Z",
            )
        ).cost_event
        assert snap.attributes == {"db_instance": db, "storage_gb": 10}
        assert snap.estimated_usd_per_hour == pytest.approx(
            round(10 * BOOK.rate("rds", "backup_gb_month", "us-east-1").usd_per_hour, 6)
        )
        # DeleteDBInstance with a redacted response: priced at the resized class.
        deleted = call(
            variant(43, "DeleteDBInstance", {"dBInstanceIdentifier": db}, None, "2023-07-10T12:30:00Z")
        ).cost_event
        assert deleted.estimated_usd_per_hour == pytest.approx(
            -(created.estimated_usd_per_hour + resized.estimated_usd_per_hour), abs=1e-6
        )
        # Failed calls and no-change modifies are not stored.
        assert call(lines[31]).reason == FAILED_CALL
        assert (
            call(
                variant(
                    29,
                    "ModifyDBInstance",
                    {"dBInstanceIdentifier": db, "deletionProtection": True},
                    None,
                    "2023-07-10T12:20:00Z",
                )
            ).reason
            == NO_BILLABLE_CHANGE
        )
    finally:
        conn.close()
