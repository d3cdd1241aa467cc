"""Offline AWS on-demand prices: the price book.

Usage::

    from dd0c_cost.pricing import get_price_book

    book = get_price_book()                                  # no file I/O yet
    book.ec2_instance("us-east-1", "m5.large")               # PriceQuote(usd_per_hour=0.096, ...)
    book.rds_instance("us-east-1", "db.t3.large", "mysql", multi_az=True)
    book.elasticache_node("eu-west-1", "cache.m6g.large", engine="valkey")
    book.opensearch_instance("us-east-1", "m5.large.elasticsearch")
    book.rate("ebs", "gp3_gb_month", "us-east-1")            # per GB per hour: 0.08 / 730
    book.known_regions()

Every method returns a :class:`~dd0c_cost.events.models.PriceQuote` and never raises for
unknown input: an unknown region, type, engine or item gives ``usd_per_hour=None`` and
``source="unknown"``. ``estimated=True`` means the price was derived (see below), not listed.
Tables load lazily on first use and every answer is memoised, so repeated lookups are one dict get.

Data and derivations (details: docs/pricing.md, data/provenance.json, data/NOTICE)
--------------------------------------------------------------------------------------
- EC2 Linux on-demand, shared tenancy: us-east-1 + GovCloud from Karpenter (2026-07-20), other
  regions from ec2instances.info (2024-04-04); Local Zone locations (e.g. "us-west-2-lax-1") too.
  A type missing in a region = us-east-1 price x the region's price ratio (estimated).
- RDS: Single-AZ, 2021 data. Multi-AZ = 2 x Single-AZ (estimated; not applied to aurora-*).
  A class missing from the 2021 data (db.t4g, db.m6i, db.r7g ...) = EC2 price of the same size x
  the median RDS/EC2 markup for that engine, family letter and CPU architecture (estimated).
  Engines: mysql, postgres, mariadb, aurora-mysql (alias "aurora"), aurora-postgresql,
  oracle-se2 (alias "oracle-se2-cdb"), oracle-se1, sqlserver-se, sqlserver-ee, sqlserver-web.
- ElastiCache (redis, valkey, memcached) and OpenSearch: 2025-04-24 data.
- Region ratio = median of (region price / us-east-1 price) over the EC2 types listed in both;
  regions with no EC2 rows (ap-southeast-5, ap-southeast-7, mx-central-1) use the ElastiCache ratio.

Scalar rates: ``book.rate(service, item, region)``
--------------------------------------------------
``unit`` names one unit. Capacity units end in "hour": "hour" is one resource for one hour, and
"GB-hour", "IOPS-hour", ... are one GB/IOPS/... held for one hour (the per-month list price / 730).
Usage units ("GB", "1M requests", "GB-second", "WRU", "RRU") have no time dimension: there
``usd_per_hour`` holds USD per unit used. Listed source: Infracost golden files, us-east-1 only
(DynamoDB: us-east-2; data transfer: 28 regions). Other regions are estimated: rate x region
ratio, except EKS cluster hours, public IPv4 and intra-region transfer (same price everywhere)
and data transfer out (median of the listed regions in the same geography).

====================  ===================================  ============
service               item                                 unit
====================  ===================================  ============
ec2                   nat_gateway_hour                     hour
ec2                   nat_gateway_data_gb                  GB
ec2                   public_ipv4_hour (eip_hour,          hour
                      elastic_ip_hour)
ec2                   cpu_credits_vcpu_hour                vCPU-hour
elb                   alb_hour                             hour
elb                   alb_lcu_hour                         LCU-hour
elb                   nlb_hour                             hour
elb                   nlb_nlcu_hour                        NLCU-hour
elb                   clb_hour                             hour
elb                   clb_data_gb                          GB
ebs                   gp3_gb_month                         GB-hour
ebs                   gp2_gb_month                         GB-hour
ebs                   io1_gb_month                         GB-hour
ebs                   io2_gb_month                         GB-hour
ebs                   st1_gb_month                         GB-hour
ebs                   sc1_gb_month                         GB-hour
ebs                   standard_gb_month                    GB-hour
ebs                   gp3_iops_month                       IOPS-hour     (above the free 3,000)
ebs                   gp3_throughput_mibps_month           MiBps-hour    (above the free 125)
ebs                   io1_iops_month                       IOPS-hour
ebs                   io2_iops_month                       IOPS-hour     (tier 1, up to 32,000)
ebs                   standard_io_million_requests         1M requests
ebs                   snapshot_gb_month                    GB-hour
ebs                   fast_snapshot_restore_dsu_hour       DSU-hour
eks                   cluster_hour                         hour
eks                   cluster_extended_support_hour        hour
lambda                requests_million                     1M requests
lambda                duration_x86_gb_second               GB-second     (first 6B GB-s/month)
lambda                duration_x86_gb_second_next_9b       GB-second
lambda                duration_x86_gb_second_over_15b      GB-second
lambda                duration_arm_gb_second               GB-second     (first 7.5B GB-s/month)
lambda                duration_arm_gb_second_next_11_25b   GB-second
lambda                duration_arm_gb_second_over_18_75b   GB-second
lambda                ephemeral_storage_gb_second          GB-second
lambda                provisioned_concurrency_gb_second    GB-second     (pricing-extra; x86 or arm unstated)
dynamodb              provisioned_wcu_hour                 WCU-hour
dynamodb              provisioned_rcu_hour                 RCU-hour
dynamodb              on_demand_wru                        WRU
dynamodb              on_demand_rru                        RRU
dynamodb              storage_gb_month                     GB-hour
dynamodb              pitr_gb_month                        GB-hour
rds                   gp2_gb_month                         GB-hour
rds                   gp2_multi_az_gb_month                GB-hour
rds                   io1_gb_month                         GB-hour
rds                   io1_iops_month                       IOPS-hour
rds                   backup_gb_month                      GB-hour
rds                   aurora_serverless_v2_acu_hour        ACU-hour
elasticache           backup_gb_month                      GB-hour
redshift              dc2.large                            hour          (one node)
redshift              ra3.4xlarge                          hour          (one node)
redshift              ra3.16xlarge                         hour          (one node)
redshift              ds2.8xlarge                          hour          (one node)
redshift              managed_storage_gb_month             GB-hour
msk                   kafka.m5.24xlarge                    hour          (one broker; pricing-extra)
msk                   kafka.t3.small                       hour          (one broker; pricing-extra)
msk                   storage_gb_month                     GB-hour       (pricing-extra)
kinesis               shard_hour                           hour          (pricing-extra)
kinesis               on_demand_stream_hour                hour          (pricing-extra)
kinesis               put_payload_unit                     PUT payload unit
kinesis               on_demand_ingest_gb                  GB
kinesis               on_demand_retrieval_gb               GB
opensearch            gp2_gb_month                         GB-hour
opensearch            io1_gb_month                         GB-hour
opensearch            io1_iops_month                       IOPS-hour
opensearch            magnetic_gb_month                    GB-hour
vpc                   interface_endpoint_hour              hour          (per AZ)
vpc                   interface_endpoint_data_gb           GB
vpc                   gwlb_endpoint_hour                   hour
vpc                   gwlb_endpoint_data_gb                GB
data_transfer         internet_out_gb                      GB            (first 10 TB/month)
data_transfer         inter_region_out_gb                  GB
data_transfer         intra_region_gb                      GB
====================  ===================================  ============

MSK, Kinesis and Lambda provisioned concurrency come from ``shared/pricing-extra`` (Infracost
golden files, us-east-1; same regional derivation). A kafka broker type without a listed rate is
priced by the pricer as the listed broker of its family x the EC2 size ratio (estimated).

Not covered (unknown): SageMaker ml.* instances, Bedrock provisioned throughput, Redshift
Serverless / ra3.xlplus, MSK Serverless, ElastiCache/OpenSearch Serverless, Transit Gateway,
Windows/RHEL/SUSE, dedicated tenancy, spot, China regions.
"""

from dd0c_cost.pricing.book import UNKNOWN_SOURCE, PriceBook, get_price_book

__all__ = ["UNKNOWN_SOURCE", "PriceBook", "get_price_book"]
