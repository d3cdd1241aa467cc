"""One anomaly as the notify path sees it, for the Slack message, posting and interaction tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from dd0c_cost.scoring.models import Anomaly, ScoreComponent

ANOMALY_ID = uuid.UUID("6f1c2a9e-3d4b-4c5a-9e8f-0a1b2c3d4e5f")
TENANT_ID = uuid.UUID("0c0ffee0-1111-4222-8333-444455556666")


def make_anomaly(**overrides: Any) -> Anomaly:
    data: dict[str, Any] = {
        "id": ANOMALY_ID,
        "tenant_id": TENANT_ID,
        "account_id": "123456789012",
        "region": "ap-southeast-2",
        "service": "ec2",
        "resource_type": "ec2:instance",
        "resource_ids": [f"i-0{n:016x}" for n in range(8)],
        "event_ids": ["3b6a7c1e-0000-4f00-8000-000000000001", "3b6a7c1e-0000-4f00-8000-000000000002"],
        "actor": "arn:aws:sts::123456789012:assumed-role/Developer/intern@acme",
        "detected_at": datetime(2024, 5, 1, 3, 12, 45, tzinfo=UTC),
        "score": 0.97,
        "severity": "critical",
        "estimated_hourly_usd": 175.0,
        "summary": "intern@acme launched 8 × p4d.24xlarge in ap-southeast-2, $175/h, never seen before",
        "components": [
            ScoreComponent(name="novelty", value=0.95, reason="p4d.24xlarge never launched in this account"),
            ScoreComponent(name="zscore", value=0.9, reason="8.2σ above the 30-day mean for ec2 in 123456789012"),
        ],
        "attributes": {"instance_type": "p4d.24xlarge", "quantity": 8},
    }
    data.update(overrides)
    return Anomaly(**data)
