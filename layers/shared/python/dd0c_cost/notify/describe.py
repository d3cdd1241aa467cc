"""What was bought, in the resource's own words: "8 × p4d.24xlarge (64 A100 GPUs)", "EBS io2
volume, 16 TiB, 64,000 IOPS", "RDS db.r6g.4xlarge, postgres, Multi-AZ", not "1 × ec2:volume".

One describer per resource family, from the attributes the catalogue extracted (quantity,
instance_type, volume_type, size_gb, iops, …). Anything unknown falls back to a plain, honest
"<quantity> × <resource type>".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Accelerators per instance size (the well-known GPU/ML families; the rest have none).
ACCELERATORS: dict[str, tuple[int, str]] = {
    "p5.48xlarge": (8, "H100 GPU"),
    "p5e.48xlarge": (8, "H200 GPU"),
    "p5en.48xlarge": (8, "H200 GPU"),
    "p4d.24xlarge": (8, "A100 GPU"),
    "p4de.24xlarge": (8, "A100 80GB GPU"),
    "p3.2xlarge": (1, "V100 GPU"),
    "p3.8xlarge": (4, "V100 GPU"),
    "p3.16xlarge": (8, "V100 GPU"),
    "p3dn.24xlarge": (8, "V100 GPU"),
    "g4dn.xlarge": (1, "T4 GPU"),
    "g4dn.2xlarge": (1, "T4 GPU"),
    "g4dn.4xlarge": (1, "T4 GPU"),
    "g4dn.8xlarge": (1, "T4 GPU"),
    "g4dn.12xlarge": (4, "T4 GPU"),
    "g4dn.16xlarge": (1, "T4 GPU"),
    "g4dn.metal": (8, "T4 GPU"),
    "g5.xlarge": (1, "A10G GPU"),
    "g5.2xlarge": (1, "A10G GPU"),
    "g5.4xlarge": (1, "A10G GPU"),
    "g5.8xlarge": (1, "A10G GPU"),
    "g5.12xlarge": (4, "A10G GPU"),
    "g5.16xlarge": (1, "A10G GPU"),
    "g5.24xlarge": (4, "A10G GPU"),
    "g5.48xlarge": (8, "A10G GPU"),
    "g6.xlarge": (1, "L4 GPU"),
    "g6.12xlarge": (4, "L4 GPU"),
    "g6.48xlarge": (8, "L4 GPU"),
    "g6e.xlarge": (1, "L40S GPU"),
    "g6e.12xlarge": (4, "L40S GPU"),
    "g6e.48xlarge": (8, "L40S GPU"),
    "trn1.2xlarge": (1, "Trainium chip"),
    "trn1.32xlarge": (16, "Trainium chip"),
    "trn1n.32xlarge": (16, "Trainium chip"),
    "inf2.xlarge": (1, "Inferentia2 chip"),
    "inf2.24xlarge": (6, "Inferentia2 chip"),
    "inf2.48xlarge": (12, "Inferentia2 chip"),
    "dl1.24xlarge": (8, "Gaudi accelerator"),
}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            return float(str(value)) if value not in (None, "") else None
        except ValueError:
            return None
    return float(value)


def _count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def _plural(n: float, word: str) -> str:
    return f"{_count(n)} {word}{'' if n == 1 else 's'}"


def size(gb: float) -> str:
    """16 TiB, 500 GiB (EBS sizes are GiB)."""
    if gb >= 1024 and gb % 1024 == 0:
        return f"{_count(gb / 1024)} TiB"
    if gb >= 1024:
        return f"{gb / 1024:,.1f} TiB"
    return f"{_count(gb)} GiB"


def _quantity(attrs: dict, default: float = 1) -> float:
    return _num(attrs.get("quantity")) or default


def _instances(attrs: dict, resource_type: str) -> str:
    kind = attrs.get("instance_type")
    n = _quantity(attrs)
    if not kind:
        return f"{_plural(n, 'EC2 instance')}"
    text = f"{_count(n)} × {kind}"
    accel = ACCELERATORS.get(str(kind))
    extras = []
    if accel:
        extras.append(_plural(accel[0] * n, accel[1]))
    if attrs.get("market") == "spot":
        extras.append("Spot")
    if attrs.get("tenancy") in ("dedicated", "host"):
        extras.append(f"{attrs['tenancy']} tenancy")
    return text + (f" ({', '.join(extras)})" if extras else "")


def _volume(attrs: dict, resource_type: str) -> str:
    parts = [f"EBS {attrs.get('volume_type') or ''} volume".replace("  ", " ")]
    if _num(attrs.get("size_gb")):
        parts.append(size(_num(attrs["size_gb"])))  # type: ignore[arg-type]
    if _num(attrs.get("iops")):
        parts.append(f"{_count(_num(attrs['iops']))} IOPS")  # type: ignore[arg-type]
    if _num(attrs.get("throughput")):
        parts.append(f"{_count(_num(attrs['throughput']))} MiB/s")  # type: ignore[arg-type]
    n = _quantity(attrs)
    text = ", ".join(parts)
    return f"{_count(n)} × {text}" if n > 1 else text


def _snapshot(attrs: dict, resource_type: str) -> str:
    gb = _num(attrs.get("size_gb") or attrs.get("storage_gb"))
    what = "RDS snapshot" if resource_type.startswith("rds:") else "EBS snapshot"
    return f"{what}, {size(gb)}" if gb else what


def _rds(attrs: dict, resource_type: str) -> str:
    what = "Aurora cluster" if resource_type == "rds:cluster" else "RDS"
    parts = [f"{what} {attrs.get('instance_type') or ''}".strip()]
    if attrs.get("engine"):
        parts.append(str(attrs["engine"]))
    if attrs.get("multi_az") in (True, "true", "True"):
        parts.append("Multi-AZ")
    gb = _num(attrs.get("storage_gb"))
    if gb:
        parts.append(f"{size(gb)} {attrs.get('storage_type') or ''}".strip())
    if _num(attrs.get("iops")):
        parts.append(f"{_count(_num(attrs['iops']))} IOPS")  # type: ignore[arg-type]
    return ", ".join(parts)


def _nodegroup(attrs: dict, resource_type: str) -> str:
    n = _num(attrs.get("desired_size")) or _quantity(attrs)
    kind = attrs.get("instance_type")
    text = f"EKS node group, {_count(n)} × {kind}" if kind else f"EKS node group, {_plural(n, 'node')}"
    accel = ACCELERATORS.get(str(kind)) if kind else None
    return text + (f" ({_plural(accel[0] * n, accel[1])})" if accel else "")


def _nat(attrs: dict, resource_type: str) -> str:
    n = _quantity(attrs)
    return _plural(n, "NAT gateway") + (" (private)" if attrs.get("connectivity") == "private" else "")


def _eip(attrs: dict, resource_type: str) -> str:
    return _plural(_quantity(attrs), "Elastic IP address")


def _sized_cluster(label: str, count_key: str, unit: str) -> Callable[[dict, str], str]:
    def describe(attrs: dict, resource_type: str) -> str:
        n = _num(attrs.get(count_key))
        kind = attrs.get("instance_type")
        text = label
        if n and kind:
            text += f", {_count(n)} × {kind}"
        elif kind:
            text += f" {kind}"
        elif n:
            text += f", {_plural(n, unit)}"
        return text

    return describe


DESCRIBERS: dict[str, Callable[[dict, str], str]] = {
    "ec2:instance": _instances,
    "ec2:volume": _volume,
    "ec2:snapshot": _snapshot,
    "rds:snapshot": _snapshot,
    "rds:db": _rds,
    "rds:cluster": _rds,
    "eks:nodegroup": _nodegroup,
    "ec2:natgateway": _nat,
    "ec2:elastic-ip": _eip,
    "elasticache:cluster": _sized_cluster("ElastiCache cluster", "nodes", "node"),
    "elasticache:replicationgroup": _sized_cluster("ElastiCache replication group", "num_cache_clusters", "node"),
    "redshift:cluster": _sized_cluster("Redshift cluster", "nodes", "node"),
    "es:domain": _sized_cluster("OpenSearch domain", "instance_count", "node"),
    "kafka:cluster": _sized_cluster("MSK cluster", "brokers", "broker"),
    "sagemaker:training-job": _sized_cluster("SageMaker training job", "instance_count", "instance"),
    "sagemaker:notebook-instance": _sized_cluster("SageMaker notebook", "instance_count", "instance"),
    "dynamodb:table": lambda a, t: (
        "DynamoDB table"
        + (f", {_count(_num(a['wcu']))} WCU / {_count(_num(a.get('rcu')) or 0)} RCU" if _num(a.get("wcu")) else "")
    ),
    "kinesis:stream": lambda a, t: (
        "Kinesis stream" + (f", {_plural(_num(a['shard_count']), 'shard')}" if _num(a.get("shard_count")) else "")
    ),
    "lambda:provisioned-concurrency": lambda a, t: (
        "Lambda provisioned concurrency" + (f", {_count(_num(a['concurrency']))}" if _num(a.get("concurrency")) else "")
    ),
    "bedrock:provisioned-model": lambda a, t: (
        "Bedrock provisioned throughput"
        + (f", {_plural(_num(a['model_units']), 'model unit')}" if _num(a.get("model_units")) else "")
    ),
}


def describe(resource_type: str, attributes: dict) -> str:
    """What was bought, as a person says it."""
    describer = DESCRIBERS.get(resource_type)
    if describer is not None:
        try:
            return describer(attributes, resource_type)
        except (TypeError, ValueError, KeyError):
            pass
    n = _quantity(attributes)
    size_hint = attributes.get("instance_type") or attributes.get("instance_class") or attributes.get("node_type")
    if size_hint:
        return f"{_count(n)} × {size_hint} ({resource_type})"
    return f"{_count(n)} × {resource_type}" if n != 1 else resource_type


__all__ = ["ACCELERATORS", "DESCRIBERS", "describe", "size"]
