"""The 3 a.m. alert, one per resource family, against golden Block Kit files
(tests/golden/alerts/<family>.json). Regenerate after an intended change with
``DD0C_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_alert_golden.py`` and review the diff."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dd0c_cost.notify.message import MessageContext, build_anomaly_message
from dd0c_cost.scoring.models import Anomaly, ScoreComponent

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "alerts"
TENANT = uuid.UUID("0c0ffee0-1111-4222-8333-444455556666")

COMPONENTS = [
    ScoreComponent(name="novelty", value=0.95, reason="never launched in this account before"),
    ScoreComponent(name="zscore", value=0.9, reason="8.2σ above the 30-day mean for this series"),
    ScoreComponent(name="rate", value=0.7, reason="spend rate rose 40× within the hour"),
    ScoreComponent(name="seasonality", value=0.2, reason="unusual for a Tuesday night"),
    ScoreComponent(name="cold_start", value=0.0, reason="the account has 60 days of history"),
]

FAMILIES = {
    "ec2-gpu-instances": {
        "resource_type": "ec2:instance",
        "service": "ec2",
        "resource_ids": [f"i-0{n:016x}" for n in range(8)],
        "actor": "arn:aws:sts::123456789012:assumed-role/Developer/intern@acme",
        "hourly": 262.14,
        "attributes": {"instance_type": "p4d.24xlarge", "quantity": 8, "market": "on-demand"},
    },
    "ebs-io2-volume": {
        "resource_type": "ec2:volume",
        "service": "ec2",
        "resource_ids": ["vol-0abc1234def567890"],
        "actor": "arn:aws:iam::123456789012:user/alice",
        "hourly": 6.58,
        "attributes": {"volume_type": "io2", "size_gb": 16384, "iops": 64000, "quantity": 1},
    },
    "rds-instance": {
        "resource_type": "rds:db",
        "service": "rds",
        "resource_ids": ["orders-replica-3"],
        "actor": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DBA_1a2b3c/maria@acme",
        "hourly": 14.2,
        "attributes": {
            "instance_type": "db.r6g.8xlarge",
            "engine": "postgres",
            "multi_az": True,
            "storage_gb": 2000,
            "storage_type": "io1",
            "iops": 20000,
        },
    },
    "eks-nodegroup": {
        "resource_type": "eks:nodegroup",
        "service": "eks",
        "resource_ids": ["prod/gpu-workers"],
        "actor": "arn:aws:sts::123456789012:assumed-role/GitHubActionsDeploy/deploy-4812",
        "hourly": 98.3,
        "attributes": {"instance_type": "g5.12xlarge", "desired_size": 24, "min_size": 2, "max_size": 30},
    },
    "nat-gateway": {
        "resource_type": "ec2:natgateway",
        "service": "ec2",
        "resource_ids": ["nat-0123456789abcdef0"],
        "actor": "arn:aws:iam::123456789012:root",
        "hourly": 1.35,
        "attributes": {"quantity": 3, "subnet_id": "subnet-1"},
    },
    "elastic-ip": {
        "resource_type": "ec2:elastic-ip",
        "service": "ec2",
        "resource_ids": ["eipalloc-0123456789abcdef0"],
        "actor": "arn:aws:iam::123456789012:user/bob",
        "hourly": 0.5,
        "attributes": {"quantity": 100},
    },
    "asg-launched-instances": {
        "resource_type": "ec2:instance",
        "service": "ec2",
        "resource_ids": [f"i-0{n:016x}" for n in range(40)],
        "actor": "arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
        "hourly": 38.4,
        "attributes": {"instance_type": "c7i.4xlarge", "quantity": 40},
    },
    "elasticache": {
        "resource_type": "elasticache:replicationgroup",
        "service": "elasticache",
        "resource_ids": ["sessions"],
        "actor": "arn:aws:iam::123456789012:user/carol",
        "hourly": 22.1,
        "attributes": {"instance_type": "cache.r7g.4xlarge", "num_cache_clusters": 6, "engine": "redis"},
    },
    "redshift": {
        "resource_type": "redshift:cluster",
        "service": "redshift",
        "resource_ids": ["analytics"],
        "actor": "arn:aws:iam::123456789012:user/dave",
        "hourly": 52.0,
        "attributes": {"instance_type": "ra3.16xlarge", "nodes": 4},
    },
    "lambda-provisioned-concurrency": {
        "resource_type": "lambda:provisioned-concurrency",
        "service": "lambda",
        "resource_ids": ["checkout:live"],
        "actor": "arn:aws:sts::123456789012:assumed-role/Terraform/tf-apply",
        "hourly": 11.6,
        "attributes": {"concurrency": 2000},
    },
}


def anomaly_for(family: str) -> Anomaly:
    spec = FAMILIES[family]
    return Anomaly(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"https://dd0c.dev/golden/{family}"),
        tenant_id=TENANT,
        account_id="123456789012",
        region="ap-southeast-2",
        service=spec["service"],
        resource_type=spec["resource_type"],
        resource_ids=spec["resource_ids"],
        event_ids=["3b6a7c1e-0000-4f00-8000-000000000001"],
        actor=spec["actor"],
        detected_at=datetime(2026, 11, 17, 3, 12, 45, tzinfo=UTC),
        score=0.97,
        severity="critical",
        estimated_hourly_usd=spec["hourly"],
        summary=f"{family} at ${spec['hourly']}/h",
        components=COMPONENTS,
        attributes=spec["attributes"],
    )


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_alert_matches_its_golden_file(family: str) -> None:
    message = build_anomaly_message(
        anomaly_for(family),
        context=MessageContext(account_name="prod-payments", dashboard_url="https://app.dd0c.dev/anomalies/x"),
    )
    rendered = json.dumps(message, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    path = GOLDEN / f"{family}.json"
    if os.environ.get("DD0C_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with DD0C_UPDATE_GOLDEN=1 and review it"
    assert rendered == path.read_text(encoding="utf-8")


def test_the_words_a_person_reads() -> None:
    def facts(family: str) -> str:
        message = build_anomaly_message(anomaly_for(family), context=MessageContext(account_name="prod-payments"))
        return json.dumps(message, ensure_ascii=False)

    assert "8 × p4d.24xlarge (64 A100 GPUs)" in facts("ec2-gpu-instances")
    assert "EBS io2 volume, 16 TiB, 64,000 IOPS" in facts("ebs-io2-volume")
    assert "RDS db.r6g.8xlarge, postgres, Multi-AZ, 1,000 GiB io1" not in facts("rds-instance")
    assert "RDS db.r6g.8xlarge, postgres, Multi-AZ" in facts("rds-instance")
    assert "EKS node group, 24 × g5.12xlarge (96 A10G GPUs)" in facts("eks-nodegroup")
    assert "maria@acme (role AWSReservedSSO_DBA_1a2b3c)" in facts("rds-instance")
    assert "AutoScaling (AWS service)" in facts("asg-launched-instances")
    assert "the root user" in facts("nat-gateway")
    assert "prod-payments `123456789012`" in facts("nat-gateway")
    # Why: the three strongest components, strongest first; the rest behind a button
    why = next(
        b for b in build_anomaly_message(anomaly_for("ebs-io2-volume"))["blocks"] if b["block_id"] == "anomaly_why"
    )
    text = why["text"]["text"]
    assert text.index("novelty") < text.index("zscore") < text.index("rate") and "seasonality" not in text
    assert why["accessory"]["action_id"] == "anomaly_why" and why["accessory"]["text"]["text"] == "All 5 components"
