"""The incidents of ``bench detect``'s stream, one function per catalogue service family: the calls
that create expensive resources (request and response shapes as in the catalogue tests), each
labelled with its incident. Calls and random draws come in the stream's order: a seed gives the
same records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dd0c_cost_tools.bench.detect_stream import ASSUMED_USD_PER_HOUR

if TYPE_CHECKING:
    from dd0c_cost_tools.bench.detect_stream import StreamBuilder


def _ec2(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "ec2", when, "8 x p4d.24xlarge in a new region")
    b.fleet(a, when, "p4d.24xlarge", 8, who, 30, kind="incident", incident=inc, region="ap-southeast-2")


def _ebs(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    E = "ec2.amazonaws.com"
    inc = b.incident(a, tenant, "ebs", when, "20 x 16 TiB io2 volumes at 64,000 IOPS")
    for _ in range(20):
        vol = b.new_id("vol")
        resp = {"volumeId": vol, "size": "16384", "volumeType": "io2", "iops": 64000, "zone": "us-east-1a"}
        req = {"size": "16384", "volumeType": "io2", "iops": 64000, "zone": "us-east-1a"}
        b.add(b.record(a, when, E, "CreateVolume", req, resp, who), "incident", inc, resource=("ebs", vol))
        when += timedelta(seconds=20)


def _nat(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    E = "ec2.amazonaws.com"
    inc = b.incident(a, tenant, "ec2", when, "40 NAT gateways")
    for _ in range(40):
        nat = b.new_id("nat")
        req = {"CreateNatGatewayRequest": {"SubnetId": "subnet-0abc", "AllocationId": "eipalloc-0abc"}}
        resp = {"CreateNatGatewayResponse": {"natGateway": {"natGatewayId": nat, "subnetId": "subnet-0abc"}}}
        b.add(b.record(a, when, E, "CreateNatGateway", req, resp, who), "incident", inc, resource=("ec2", nat))
        when += timedelta(seconds=15)


def _rds(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "rds", when, "4 x db.r5.8xlarge Multi-AZ")
    for _ in range(4):
        rec, ident = b.create_db(a, when, "db.r5.8xlarge", who, multi_az=True)
        b.add(rec, "incident", inc, resource=("rds", ident))
        when += timedelta(minutes=1)


def _elb(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "elb", when, "a loop creates 80 load balancers")
    for k in range(80):
        name = f"lb-{b.new_id('x')[-8:]}-{k}"
        req = {"name": name, "subnets": ["subnet-1", "subnet-2"], "scheme": "internet-facing"}
        resp = {
            "loadBalancers": [
                {
                    "type": "application",
                    "loadBalancerName": name,
                    "loadBalancerArn": f"arn:aws:elasticloadbalancing:us-east-1:{a}:loadbalancer/app/{name}/{k:016x}",
                }
            ]
        }
        b.add(
            b.record(a, when, "elasticloadbalancing.amazonaws.com", "CreateLoadBalancer", req, resp, who),
            "incident",
            inc,
            resource=("elb", name),
        )
        when += timedelta(seconds=5)


def _lambda_concurrency(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "lambda", when, "provisioned concurrency 3,000")
    req = {"functionName": "checkout", "qualifier": "live", "provisionedConcurrentExecutions": 3000}
    b.add(
        b.record(
            a,
            when,
            "lambda.amazonaws.com",
            "PutProvisionedConcurrencyConfig20190930",
            req,
            {"requestedProvisionedConcurrentExecutions": 3000, "status": "IN_PROGRESS"},
            who,
        ),
        "incident",
        inc,
        resource=("lambda", "checkout:live"),
    )


def _dynamodb(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "dynamodb", when, "table provisioned at 40,000 RCU / 40,000 WCU")
    table = b.new_id("table")
    pt = {"readCapacityUnits": 40000, "writeCapacityUnits": 40000}
    b.add(
        b.record(
            a,
            when,
            "dynamodb.amazonaws.com",
            "CreateTable",
            {"tableName": table, "provisionedThroughput": pt},
            {"tableDescription": {"tableName": table, "provisionedThroughput": pt}},
            who,
        ),
        "incident",
        inc,
        resource=("dynamodb", table),
    )


def _elasticache(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "elasticache", when, "12 x cache.r5.4xlarge")
    cid = b.new_id("cache")
    req = {
        "cacheClusterId": cid,
        "engine": "memcached",
        "numCacheNodes": 12,
        "cacheNodeType": "cache.r5.4xlarge",
    }
    b.add(
        b.record(a, when, "elasticache.amazonaws.com", "CreateCacheCluster", req, {"cacheClusterId": cid, **req}, who),
        "incident",
        inc,
        resource=("elasticache", cid),
    )


def _redshift(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "redshift", when, "8 x ra3.16xlarge warehouse")
    cid = b.new_id("wh")
    req = {
        "clusterIdentifier": cid,
        "nodeType": "ra3.16xlarge",
        "numberOfNodes": 8,
        "clusterType": "multi-node",
    }
    b.add(
        b.record(a, when, "redshift.amazonaws.com", "CreateCluster", req, {"clusterIdentifier": cid, **req}, who),
        "incident",
        inc,
        resource=("redshift", cid),
    )


def _opensearch(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "opensearch", when, "10 x r6g.4xlarge.search domain")
    name = b.new_id("logs")[-20:]
    req = {
        "domainName": name,
        "clusterConfig": {"instanceType": "r6g.4xlarge.search", "instanceCount": 10},
        "eBSOptions": {"eBSEnabled": True, "volumeType": "gp2", "volumeSize": 500},
    }
    b.add(
        b.record(a, when, "es.amazonaws.com", "CreateDomain", req, None, who),
        "incident",
        inc,
        resource=("opensearch", name),
    )


def _eks(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "eks", when, "node group of 30 x m5.4xlarge")
    ng = b.new_id("ng")
    req = {
        "clusterName": "prod",
        "nodegroupName": ng,
        "instanceTypes": ["m5.4xlarge"],
        "scalingConfig": {"minSize": 30, "maxSize": 40, "desiredSize": 30},
        "capacityType": "ON_DEMAND",
    }
    b.add(
        b.record(
            a,
            when,
            "eks.amazonaws.com",
            "CreateNodegroup",
            req,
            {"nodegroup": {"clusterName": "prod", "nodegroupName": ng, "status": "CREATING"}},
            who,
        ),
        "incident",
        inc,
        resource=("eks", ng),
    )


def _sagemaker(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "sagemaker", when, "2 x ml.p4d.24xlarge endpoint (unpriced: shape)")
    cfg, ep = b.new_id("cfg"), b.new_id("ep")
    variants = [{"variantName": "a", "instanceType": "ml.p4d.24xlarge", "initialInstanceCount": 2, "modelName": "m"}]
    b.add(
        b.record(
            a,
            when,
            "sagemaker.amazonaws.com",
            "CreateEndpointConfig",
            {"endpointConfigName": cfg, "productionVariants": variants},
            None,
            who,
        ),
        "incident",
        inc,
    )
    b.add(
        b.record(
            a,
            when + timedelta(minutes=3),
            "sagemaker.amazonaws.com",
            "CreateEndpoint",
            {"endpointName": ep, "endpointConfigName": cfg},
            {"endpointArn": f"arn:aws:sagemaker:us-east-1:{a}:endpoint/{ep}"},
            who,
        ),
        "incident",
        inc,
        resource=("sagemaker", ep),
        true_usd_per_hour=2 * ASSUMED_USD_PER_HOUR["ml.p4d.24xlarge"],
    )


def _msk(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "msk", when, "6 x kafka.m5.24xlarge brokers")
    name = b.new_id("events")[-20:]
    req = {
        "clusterName": name,
        "numberOfBrokerNodes": 6,
        "kafkaVersion": "3.5.1",
        "brokerNodeGroupInfo": {
            "instanceType": "kafka.m5.24xlarge",
            "storageInfo": {"ebsStorageInfo": {"volumeSize": 2000}},
        },
    }
    b.add(
        b.record(
            a,
            when,
            "kafka.amazonaws.com",
            "CreateCluster",
            req,
            {"clusterArn": f"arn:aws:kafka:us-east-1:{a}:cluster/{name}/x", "state": "CREATING"},
            who,
        ),
        "incident",
        inc,
        resource=("msk", name),
    )


def _kinesis(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "kinesis", when, "stream with 2,000 shards")
    name = b.new_id("clicks")
    b.add(
        b.record(
            a,
            when,
            "kinesis.amazonaws.com",
            "CreateStream",
            {"shardCount": 2000, "streamName": name},
            None,
            who,
        ),
        "incident",
        inc,
        resource=("kinesis", name),
    )


def _bedrock(b: StreamBuilder, a: str, tenant: str, when: datetime) -> None:
    who = "intern"
    inc = b.incident(a, tenant, "bedrock", when, "provisioned throughput, 4 model units (unpriced: shape)")
    name = b.new_id("pt")
    b.add(
        b.record(
            a,
            when,
            "bedrock.amazonaws.com",
            "CreateProvisionedModelThroughput",
            {"provisionedModelName": name, "modelId": "anthropic.claude-v2", "modelUnits": 4},
            {"provisionedModelArn": f"arn:aws:bedrock:us-east-1:{a}:provisioned-model/{name}"},
            who,
        ),
        "incident",
        inc,
        resource=("bedrock", name),
        true_usd_per_hour=4 * ASSUMED_USD_PER_HOUR["bedrock_model_unit"],
    )


# family -> its incident's calls (``detect_stream.FAMILIES`` lists the same families).
INCIDENT_CALLS = {
    "ec2": _ec2,
    "ebs": _ebs,
    "nat": _nat,
    "rds": _rds,
    "elb": _elb,
    "lambda": _lambda_concurrency,
    "dynamodb": _dynamodb,
    "elasticache": _elasticache,
    "redshift": _redshift,
    "opensearch": _opensearch,
    "eks": _eks,
    "sagemaker": _sagemaker,
    "msk": _msk,
    "kinesis": _kinesis,
    "bedrock": _bedrock,
}
