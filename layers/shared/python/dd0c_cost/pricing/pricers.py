"""Pricers: the price of one unit of a resource per hour, as a sum of parts, from the price book.

A pricer is a sum of parts; each part names the attributes it depends on. A create/start/stop/
delete is priced at the full rate of one unit. A modify is priced as the change: the sum over the
parts whose attributes changed of (new - old), so a storage-only change needs no instance class.
``price_source=False`` marks services with no licensed price source: the event is still a cost
event, with ``price_unknown=True``. Catalogue entries name their pricer (``dd0c_cost.catalogue``);
how to add one: docs/catalogue.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dd0c_cost.pricing.compute import (
    ebs_iops,
    ebs_snapshot,
    ebs_storage,
    ebs_throughput,
    ec2_instance,
    ec2_nodes,
    eks_cluster,
    lambda_provisioned_concurrency,
    load_balancer,
    nat_gateway,
    public_ipv4,
)
from dd0c_cost.pricing.data_services import (
    ddb_units,
    elasticache_nodes,
    kinesis_stream,
    msk_brokers,
    msk_storage,
    opensearch_data,
    opensearch_ebs,
    opensearch_master,
    opensearch_warm,
    rds_cluster_compute,
    rds_cluster_storage,
    rds_instance,
    rds_iops,
    rds_snapshot,
    rds_storage,
    redshift_nodes,
)
from dd0c_cost.pricing.gaps import BEDROCK_SHAPE, NO_PRICE_REASONS, NO_SOURCE, SAGEMAKER_SHAPE
from dd0c_cost.pricing.quote import ASSUMED_KEY, UNKNOWN, Part, Pricer, Quote, to_price_quote, zero

# What other modules import from here (the table's building blocks live in the modules above).
__all__ = ["ASSUMED_KEY", "NO_PRICE_REASONS", "PRICERS", "UNKNOWN", "Part", "Pricer", "Quote", "to_price_quote", "zero"]

PRICERS: Mapping[str, Pricer] = MappingProxyType(
    {
        p.name: p
        for p in (
            Pricer(
                "ec2_instance",
                (
                    Part(
                        ("instance_type", "tenancy", "platform", "market", "spot_max_price", "launch_template"),
                        ec2_instance,
                    ),
                ),
            ),
            Pricer("ec2_instance_resize", (Part(("instance_type",), ec2_instance),), change_applies_at_start=True),
            Pricer(
                "ebs_volume",
                (
                    Part(("volume_type", "size_gb"), ebs_storage),
                    Part(("volume_type", "iops"), ebs_iops),
                    Part(("volume_type", "throughput"), ebs_throughput),
                ),
            ),
            Pricer("ebs_snapshot", (Part(("size_gb",), ebs_snapshot),)),
            Pricer("public_ipv4", (Part(("pool",), public_ipv4),)),
            Pricer("nat_gateway", (Part((), nat_gateway),)),
            Pricer("load_balancer", (Part(("lb_type", "arn", "classic_name"), load_balancer),)),
            Pricer(
                "rds_instance",
                (
                    Part(("instance_type", "engine", "multi_az", "min_acu"), rds_instance),
                    Part(("engine", "instance_type", "storage_gb", "storage_type", "iops", "multi_az"), rds_storage),
                    Part(("engine", "storage_type", "iops", "multi_az"), rds_iops),
                ),
            ),
            # Start/stop: a stopped DB instance still pays for its storage.
            Pricer("rds_instance_hours", (Part(("instance_type", "engine", "multi_az", "min_acu"), rds_instance),)),
            Pricer(
                "rds_cluster",
                (
                    Part(("engine", "engine_mode", "instance_type"), rds_cluster_compute),
                    Part(("engine", "storage_gb", "storage_type", "iops"), rds_cluster_storage),
                ),
            ),
            Pricer("rds_cluster_hours", (Part(("engine", "engine_mode", "instance_type"), rds_cluster_compute),)),
            Pricer("rds_snapshot", (Part(("storage_gb",), rds_snapshot),)),
            Pricer(
                "dynamodb_table",
                (
                    Part(("billing_mode", "wcu", "gsi_wcu"), ddb_units("provisioned_wcu_hour", "wcu", "gsi_wcu")),
                    Part(("billing_mode", "rcu", "gsi_rcu"), ddb_units("provisioned_rcu_hour", "rcu", "gsi_rcu")),
                ),
            ),
            Pricer(
                "elasticache_nodes",
                (
                    Part(
                        (
                            "instance_type",
                            "engine",
                            "nodes",
                            "num_cache_clusters",
                            "shards",
                            "replicas",
                            "member_count",
                        ),
                        elasticache_nodes,
                    ),
                ),
            ),
            Pricer("redshift_nodes", (Part(("instance_type", "nodes"), redshift_nodes),)),
            Pricer(
                "opensearch_domain",
                (
                    Part(("instance_type", "instance_count"), opensearch_data),
                    Part(("master_enabled", "master_type", "master_count"), opensearch_master),
                    Part(("warm_enabled", "warm_type", "warm_count"), opensearch_warm),
                    Part(("ebs_enabled", "volume_type", "volume_size", "iops", "instance_count"), opensearch_ebs),
                ),
            ),
            Pricer("eks_cluster", (Part((), eks_cluster),)),
            Pricer("eks_nodegroup", (Part(("instance_type", "desired_size", "min_size", "capacity_type"), ec2_nodes),)),
            Pricer(
                "msk",
                (
                    Part(("instance_type", "brokers", "serverless"), msk_brokers),
                    Part(("volume_size", "brokers", "serverless"), msk_storage),
                ),
            ),
            Pricer("kinesis", (Part(("shard_count", "stream_mode"), kinesis_stream),)),
            Pricer(
                "lambda_provisioned_concurrency",
                (Part(("concurrency", "memory_mb"), lambda_provisioned_concurrency),),
            ),
            Pricer(
                "sagemaker_endpoint_config", (Part((), lambda b, r, a: zero("endpoint-config-bills-nothing-itself")),)
            ),
            # No licensed price source (NO_PRICE_REASONS): cost events with price_unknown, scored on their shape.
            Pricer("sagemaker", SAGEMAKER_SHAPE, price_source=False),
            Pricer("bedrock", BEDROCK_SHAPE, price_source=False),
            Pricer("transit_gateway", NO_SOURCE, price_source=False),
        )
    }
)
