"""The event catalogue: every entry read and priced from a record.

Records come from the licensed corpus (../shared/corpora/cloudtrail/cost_relevant.jsonl, cited
as ``cr:<line>``) wherever it has the call; otherwise they are hand-written on a corpus record's
envelope and payload conventions (``hand(<template line>, ...)``; each says which shape it
follows). Expected prices are computed from the price book, never typed in, except the
documented sanity prices in ``test_documented_sanity_prices``.
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import orjson
import pytest

from dd0c_cost import catalogue
from dd0c_cost.catalogue import CATALOGUE, ENTRIES
from dd0c_cost.events.cloudtrail import parse
from dd0c_cost.events.models import CostAction, CostEvent
from dd0c_cost.events.normalize import (
    MAX_QUANTITY,
    MemoryHistory,
    OutcomeKind,
    build_cost_event,
    normalize_record,
)
from dd0c_cost.events.paths import Count, Join, Sum, compile_first, compile_path
from dd0c_cost.pricing import get_price_book
from dd0c_cost.pricing.pricers import NO_PRICE_REASONS, PRICERS
from tests.conftest import shared_path

TENANT = uuid.UUID("11111111-2222-4333-8444-555555555555")
BOOK = get_price_book()

EC2, RDS, ELB = "ec2.amazonaws.com", "rds.amazonaws.com", "elasticloadbalancing.amazonaws.com"
LAMBDA, DDB, CACHE = "lambda.amazonaws.com", "dynamodb.amazonaws.com", "elasticache.amazonaws.com"
REDSHIFT, ES, OPENSEARCH = "redshift.amazonaws.com", "es.amazonaws.com", "opensearch.amazonaws.com"
SAGEMAKER, EKS, KAFKA = "sagemaker.amazonaws.com", "eks.amazonaws.com", "kafka.amazonaws.com"
KINESIS, BEDROCK = "kinesis.amazonaws.com", "bedrock.amazonaws.com"


@lru_cache(maxsize=1)
def _corpus() -> list[dict]:
    path = shared_path("corpora", "cloudtrail", "cost_relevant.jsonl")
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def cr(line: int) -> dict:
    """Record ``line`` (1-based) of cost_relevant.jsonl, as published."""
    return copy.deepcopy(_corpus()[line - 1])


def hand(
    template: int, source: str, name: str, request, response, *, when: str | None = None, region: str | None = None
) -> dict:
    """A hand-written call on the envelope of corpus record ``template`` (userIdentity, time,
    account, region ...), with our own eventSource/eventName/requestParameters/responseElements."""
    record = cr(template)
    record.update(
        eventSource=source,
        eventName=name,
        requestParameters=request,
        responseElements=response,
        eventID=str(uuid.uuid4()),
    )
    record.pop("errorCode", None)
    record.pop("errorMessage", None)
    if when is not None:
        record["eventTime"] = when
    if region is not None:
        record["awsRegion"] = region
    return record


# --- expected prices, from the price book --------------------------------------------------------

Price = Callable[[object, str], float]


def ec2(t: str) -> Price:
    return lambda b, r: b.ec2_instance(r, t).usd_per_hour


def rds(cls: str, engine: str, multi_az: bool = False) -> Price:
    return lambda b, r: b.rds_instance(r, cls, engine, multi_az=multi_az).usd_per_hour


def node(t: str, engine: str = "redis") -> Price:
    return lambda b, r: b.elasticache_node(r, t, engine).usd_per_hour


def search(t: str) -> Price:
    return lambda b, r: b.opensearch_instance(r, t).usd_per_hour


def rate(service: str, item: str) -> Price:
    return lambda b, r: b.rate(service, item, r).usd_per_hour


def mul(p: Price, k: float) -> Price:
    return lambda b, r: p(b, r) * k


def add(*ps: Price) -> Price:
    return lambda b, r: sum(p(b, r) for p in ps)


def sub(p: Price, q: Price) -> Price:
    return lambda b, r: p(b, r) - q(b, r)


ZERO: Price = lambda b, r: 0.0  # noqa: E731
UNKNOWN = None


@dataclass
class Case:
    key: tuple[str, str]  # the catalogue entry exercised
    record: dict
    ids: list[str]
    price: Price | None  # expected unit price ($/h; the change for a modify); None = unknown
    quantity: float = 1.0
    attrs: dict = field(default_factory=dict)  # expected subset of the attributes
    estimated: bool | None = None  # None: not asserted
    history: tuple[dict, ...] = ()  # earlier calls, fed first (inherited sizing)
    id: str = ""


def case(source: str, name: str, record: dict, ids, price, **kw) -> Case:
    return Case((source, name), record, list(ids), price, **kw)


# Shared hand-written history.
# CreateEndpointConfig: no corpus record; written on cr:149's (CreateEndpoint) envelope with the
# API's documented request shape (productionVariants[].instanceType/initialInstanceCount).
ENDPOINT_CONFIG = hand(
    149,
    SAGEMAKER,
    "CreateEndpointConfig",
    {
        "endpointConfigName": "ExampleEndpointConfig",
        "productionVariants": [
            {"variantName": "a", "instanceType": "ml.p4d.24xlarge", "initialInstanceCount": 2, "modelName": "m"},
            {"variantName": "b", "instanceType": "ml.p4d.24xlarge", "initialInstanceCount": 1, "modelName": "m"},
        ],
    },
    {"endpointConfigArn": "arn:aws:sagemaker:us-west-2:444455556666:endpoint-config/exampleendpointconfig"},
    when="2018-01-02T13:30:00Z",
)
RUN_I_EBEAF9E2 = hand(
    155,
    EC2,
    "RunInstances",
    cr(155)["requestParameters"],
    {
        **cr(155)["responseElements"],
        "instancesSet": {
            "items": [{**cr(155)["responseElements"]["instancesSet"]["items"][0], "instanceId": "i-ebeaf9e2"}]
        },
    },
    when="2014-03-06T20:00:00Z",
    region="us-east-2",
)  # awsdocs RunInstances shape, id of cr:152
PRIMARY_DB = hand(
    29,
    RDS,
    "CreateDBInstance",  # invictus CreateDBInstance shape (cr:29)
    {
        "dBInstanceIdentifier": "primary-instance",
        "engine": "mysql",
        "dBInstanceClass": "db.r5.large",
        "allocatedStorage": 100,
        "multiAZ": True,
    },
    {
        "dBInstanceIdentifier": "primary-instance",
        "dBInstanceClass": "db.r5.large",
        "engine": "mysql",
        "allocatedStorage": 100,
        "storageType": "gp2",
        "multiAZ": True,
    },
    when="2024-01-01T00:00:00Z",
)
DEV_DB = hand(
    29,
    RDS,
    "CreateDBInstance",
    {
        "dBInstanceIdentifier": "dev-database",
        "engine": "postgres",
        "dBInstanceClass": "db.m5.large",
        "allocatedStorage": 20,
    },
    {
        "dBInstanceIdentifier": "dev-database",
        "dBInstanceClass": "db.m5.large",
        "engine": "postgres",
        "allocatedStorage": 20,
        "storageType": "gp2",
        "multiAZ": False,
    },
    when="2024-01-01T00:00:00Z",
)
AURORA_CLUSTER = hand(
    29,
    RDS,
    "CreateDBCluster",  # CreateDBCluster: no licensed sample; cr:87's field names
    {
        "dBClusterIdentifier": "aurora-cluster-prod",
        "engine": "aurora-postgresql",
        "engineVersion": "15.4",
        "masterUsername": "admin",
    },
    {
        "dBClusterIdentifier": "aurora-cluster-prod",
        "engine": "aurora-postgresql",
        "engineMode": "provisioned",
        "status": "creating",
        "allocatedStorage": 1,
    },
    when="2024-01-01T00:00:00Z",
)
MULTI_AZ_CLUSTER = hand(
    29,
    RDS,
    "CreateDBCluster",
    {
        "dBClusterIdentifier": "orders",
        "engine": "mysql",
        "dBClusterInstanceClass": "db.r6g.large",
        "allocatedStorage": 100,
        "storageType": "io1",
        "iops": 1000,
    },
    {
        "dBClusterIdentifier": "orders",
        "engine": "mysql",
        "dBClusterInstanceClass": "db.r6g.large",
        "allocatedStorage": 100,
        "storageType": "io1",
        "iops": 1000,
        "status": "creating",
    },
)
REDIS_GROUP = hand(
    135,
    CACHE,
    "CreateReplicationGroup",  # awsdocs CreateCacheCluster shape (cr:135)
    {
        "replicationGroupId": "sessions",
        "replicationGroupDescription": "sessions",
        "cacheNodeType": "cache.r6g.large",
        "engine": "redis",
        "numNodeGroups": 2,
        "replicasPerNodeGroup": 1,
    },
    {
        "replicationGroupId": "sessions",
        "status": "creating",
        "cacheNodeType": "cache.r6g.large",
        "memberClusters": ["sessions-0001-001", "sessions-0001-002", "sessions-0002-001", "sessions-0002-002"],
    },
)
RA3_CLUSTER = hand(
    147,
    REDSHIFT,
    "CreateCluster",  # awsdocs Redshift CreateCluster shape (cr:147)
    {
        "clusterIdentifier": "warehouse",
        "nodeType": "ra3.4xlarge",
        "numberOfNodes": 2,
        "clusterType": "multi-node",
        "masterUserPassword": "****",
    },
    {"clusterIdentifier": "warehouse", "nodeType": "ra3.4xlarge", "numberOfNodes": 2, "clusterStatus": "creating"},
)
SEARCH_DOMAIN = hand(
    143,
    ES,
    "CreateDomain",  # awsdocs OpenSearch CreateDomain shape (cr:143)
    {
        "domainName": "logs",
        "engineVersion": "OpenSearch_2.11",
        "clusterConfig": {
            "instanceType": "r6g.large.search",
            "instanceCount": 3,
            "dedicatedMasterEnabled": True,
            "dedicatedMasterType": "m6g.large.search",
            "dedicatedMasterCount": 3,
        },
        "eBSOptions": {"eBSEnabled": True, "volumeType": "gp2", "volumeSize": 100},
    },
    None,
)
NODEGROUP = hand(
    133,
    EKS,
    "CreateNodegroup",  # awsdocs EKS CreateCluster shape (cr:133)
    {
        "clusterName": "test",
        "nodegroupName": "workers",
        "instanceTypes": ["m5.large"],
        "scalingConfig": {"minSize": 1, "maxSize": 6, "desiredSize": 3},
        "capacityType": "ON_DEMAND",
        "subnets": ["subnet-a670c2df"],
    },
    {"nodegroup": {"clusterName": "test", "nodegroupName": "workers", "status": "CREATING"}},
)
NOTEBOOK = hand(
    149,
    SAGEMAKER,
    "CreateNotebookInstance",  # awsdocs SageMaker CreateEndpoint shape (cr:149)
    {
        "notebookInstanceName": "research",
        "instanceType": "ml.t3.medium",
        "volumeSizeInGB": 5,
        "roleArn": "arn:aws:iam::444455556666:role/sm",
    },
    {"notebookInstanceArn": "arn:aws:sagemaker:us-west-2:444455556666:notebook-instance/research"},
)
PC_CONFIG = hand(
    37,
    LAMBDA,
    "PutProvisionedConcurrencyConfig20190930",  # invictus CreateFunction20150331 shape (cr:37)
    {"functionName": "checkout", "qualifier": "live", "provisionedConcurrentExecutions": 50},
    {"requestedProvisionedConcurrentExecutions": 50, "status": "IN_PROGRESS"},
)
BEDROCK_PT = hand(
    1,
    BEDROCK,
    "CreateProvisionedModelThroughput",  # on invictus's envelope (cr:1); bedrock field names
    {"provisionedModelName": "chat-pt", "modelId": "anthropic.claude-v2", "modelUnits": 2},
    {"provisionedModelArn": "arn:aws:bedrock:us-east-1:123837392027:provisioned-model/abc"},
)
TGW_ATTACH = hand(
    2,
    EC2,
    "CreateTransitGatewayVpcAttachment",  # EC2 wrapped shape of cr:2 / cr:170
    {
        "CreateTransitGatewayVpcAttachmentRequest": {
            "TransitGatewayId": "tgw-008fe7d47ebe2dbeb",
            "VpcId": "vpc-0e2a18296548d753e",
        }
    },
    {
        "CreateTransitGatewayVpcAttachmentResponse": {
            "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
            "transitGatewayVpcAttachment": {
                "transitGatewayAttachmentId": "tgw-attach-0814a77755bf02f0e",
                "transitGatewayId": "tgw-008fe7d47ebe2dbeb",
                "state": "pending",
            },
        }
    },
)
ORIGINAL_SNAPSHOT = hand(
    30,
    RDS,
    "CreateDBSnapshot",  # invictus CreateDBSnapshot shape (cr:30)
    {"dBInstanceIdentifier": "prod", "dBSnapshotIdentifier": "original-snapshot"},
    {"dBSnapshotIdentifier": "original-snapshot", "allocatedStorage": 50, "status": "creating"},
    when="2024-01-01T00:00:00Z",
)


def _domain(source: str, name: str, request, response, **kw) -> dict:
    return hand(143, source, name, request, response, **kw)


CASES: list[Case] = [
    # --- EC2 instances -------------------------------------------------------------------------
    case(
        EC2,
        "RunInstances",
        cr(5),
        ["i-0dbc91f429e48eeed"],
        ec2("t3.micro"),
        attrs={"instance_type": "t3.micro", "tenancy": "default"},
        estimated=False,
        id="cr:5 invictus t3.micro",
    ),
    case(
        EC2,
        "RunInstances",
        cr(169),
        ["i-784cdacd", "i-7b4cdace"],
        ec2("t2.micro"),
        quantity=2,
        attrs={"instance_type": "t2.micro"},
        id="cr:169 custodian two instances",
    ),
    case(
        EC2,
        "RunInstances",
        cr(57),
        ["i-07d06021b0da55115"],
        ec2("p2.xlarge"),
        attrs={"instance_type": "p2.xlarge"},
        id="cr:57 instanceType as {value}",
    ),
    case(
        EC2,
        "RunInstances",
        cr(117),
        ["i-1234567890abcdef0"],
        ec2("m1.small"),
        estimated=True,
        attrs={"instance_type": "m1.small", "assumed": ["instance_type"]},
        id="cr:117 no type: API default m1.small",
    ),
    case(
        EC2,
        "RunInstances",
        hand(
            5,
            EC2,
            "RunInstances",  # invictus RunInstances shape (cr:5), spot with a MaxPrice
            {
                "instancesSet": {"items": [{"imageId": "ami-029eb80bc237bec6f", "minCount": 1, "maxCount": 1}]},
                "instanceType": "c5.xlarge",
                "instanceMarketOptions": {"marketType": "spot", "spotOptions": {"maxPrice": "0.05"}},
            },
            {
                "instancesSet": {
                    "items": [
                        {
                            "instanceId": "i-0spot",
                            "instanceType": "c5.xlarge",
                            "placement": {"availabilityZone": "us-east-1a", "tenancy": "default"},
                        }
                    ]
                }
            },
        ),
        ["i-0spot"],
        lambda b, r: min(0.05, b.ec2_instance(r, "c5.xlarge").usd_per_hour),
        estimated=True,
        attrs={"market": "spot", "spot_max_price": 0.05},
        id="spot: MaxPrice upper bound",
    ),
    case(
        EC2,
        "RunInstances",
        hand(
            5,
            EC2,
            "RunInstances",
            {
                "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 3, "maxCount": 3}]},
                "instanceType": "m5.large",
                "instanceMarketOptions": {"marketType": "spot"},
            },
            None,
        ),
        [],
        ec2("m5.large"),
        quantity=3,
        estimated=True,
        id="spot without MaxPrice, response redacted: minCount",
    ),
    case(
        EC2,
        "RunInstances",
        hand(
            5,
            EC2,
            "RunInstances",
            {
                "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 1}]},
                "instanceType": "m5.large",
                "placement": {"tenancy": "dedicated"},
            },
            {
                "instancesSet": {
                    "items": [
                        {
                            "instanceId": "i-0ded",
                            "instanceType": "m5.large",
                            "platform": "windows",
                            "placement": {"tenancy": "dedicated"},
                        }
                    ]
                }
            },
        ),
        ["i-0ded"],
        ec2("m5.large"),
        estimated=True,
        attrs={"tenancy": "dedicated", "platform": "windows"},
        id="dedicated Windows: Linux shared price as lower bound",
    ),
    case(
        EC2,
        "RunInstances",
        hand(
            5,
            EC2,
            "RunInstances",
            {
                "instancesSet": {"items": [{"minCount": 1, "maxCount": 1}]},
                "launchTemplate": {"launchTemplateId": "lt-0622a7ff26539376a", "version": "4"},
            },
            None,
        ),
        [],
        UNKNOWN,
        attrs={"launch_template": "lt-0622a7ff26539376a"},
        id="launch template, no type: unknown",
    ),
    case(
        EC2,
        "StartInstances",
        cr(152),
        ["i-ebeaf9e2"],
        ec2("m3.medium"),
        history=(RUN_I_EBEAF9E2,),
        attrs={"instance_type": "m3.medium"},
        id="cr:152 inherits the type",
    ),
    case(
        EC2,
        "StartInstances",
        cr(64),
        ["i-EXAMPLE56126103cb", "i-EXAMPLEaff4840c22"],
        UNKNOWN,
        quantity=2,
        id="cr:64 no history: unknown",
    ),
    case(
        EC2,
        "StopInstances",
        cr(153),
        ["i-ebeaf9e2"],
        ec2("m3.medium"),
        history=(RUN_I_EBEAF9E2,),
        id="cr:153 inherits the type",
    ),
    case(
        EC2,
        "StopInstances",
        cr(119),
        ["i-1234567890abcdef0"],
        ec2("m1.small"),
        history=(cr(117),),
        estimated=True,
        id="cr:119 instanceIds shape, inherits the assumed default",
    ),
    case(
        EC2,
        "TerminateInstances",
        cr(11),
        ["i-0dbc91f429e48eeed"],
        ec2("t3.micro"),
        history=(cr(5),),
        estimated=False,
        id="cr:11 after cr:5 (same invictus log)",
    ),
    case(
        EC2,
        "ModifyInstanceAttribute",
        hand(
            15,
            EC2,
            "ModifyInstanceAttribute",  # invictus shape (cr:15), {"value": ...} attribute form
            {"instanceId": "i-0dbc91f429e48eeed", "instanceType": {"value": "m5.large"}},
            {"requestId": "6920dcec", "_return": True},
        ),
        ["i-0dbc91f429e48eeed"],
        ZERO,
        history=(cr(5),),
        attrs={"instance_type": "m5.large", "tenancy": "default"},
        id="type change: $0 now, priced at the next start",
    ),
    # --- EBS -------------------------------------------------------------------------------------
    case(
        EC2,
        "CreateVolume",
        cr(21),
        ["vol-0a2e548958718390d"],
        mul(rate("ebs", "gp2_gb_month"), 1),
        attrs={"volume_type": "gp2", "size_gb": 1, "iops": 100},
        estimated=False,
        id="cr:21 gp2 1 GiB",
    ),
    case(
        EC2,
        "CreateVolume",
        cr(165),
        ["vol-97c02b3e"],
        mul(rate("ebs", "standard_gb_month"), 100),
        attrs={"volume_type": "standard", "size_gb": 100},
        id="cr:165 magnetic from a snapshot",
    ),
    case(
        EC2,
        "CreateVolume",
        hand(
            21,
            EC2,
            "CreateVolume",  # invictus CreateVolume shape (cr:21)
            {"size": "200", "zone": "us-east-1a", "volumeType": "gp3", "iops": 6000, "throughput": 250},
            {
                "volumeId": "vol-0gp3",
                "size": "200",
                "zone": "us-east-1a",
                "volumeType": "gp3",
                "iops": 6000,
                "throughput": 250,
            },
        ),
        ["vol-0gp3"],
        add(
            mul(rate("ebs", "gp3_gb_month"), 200),
            mul(rate("ebs", "gp3_iops_month"), 3000),
            mul(rate("ebs", "gp3_throughput_mibps_month"), 125),
        ),
        attrs={"size_gb": 200, "iops": 6000, "throughput": 250},
        id="gp3 with extra IOPS and throughput",
    ),
    case(
        EC2,
        "ModifyVolume",
        hand(
            2,
            EC2,
            "ModifyVolume",  # EC2 wrapped Request/Response shape (cr:2 CreateNatGateway)
            {
                "ModifyVolumeRequest": {
                    "VolumeId": "vol-0a2e548958718390d",
                    "Size": 100,
                    "VolumeType": "io2",
                    "Iops": 5000,
                }
            },
            {
                "ModifyVolumeResponse": {
                    "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
                    "volumeModification": {
                        "volumeId": "vol-0a2e548958718390d",
                        "modificationState": "modifying",
                        "targetSize": 100,
                        "originalSize": 1,
                        "targetVolumeType": "io2",
                        "originalVolumeType": "gp2",
                        "targetIops": 5000,
                        "originalIops": 100,
                    },
                }
            },
        ),
        ["vol-0a2e548958718390d"],
        sub(
            add(mul(rate("ebs", "io2_gb_month"), 100), mul(rate("ebs", "io2_iops_month"), 5000)),
            mul(rate("ebs", "gp2_gb_month"), 1),
        ),
        attrs={"volume_type": "io2", "size_gb": 100, "iops": 5000},
        id="gp2 1 GiB -> io2 100 GiB 5000 IOPS",
    ),
    case(
        EC2,
        "DeleteVolume",
        cr(27),
        ["vol-0fc2e34e74650e145"],
        rate("ebs", "gp2_gb_month"),
        history=(cr(26),),
        id="cr:27 after cr:26",
    ),
    case(
        EC2,
        "CreateSnapshot",
        cr(17),
        ["snap-083d3b857c13988bc"],
        rate("ebs", "snapshot_gb_month"),
        estimated=True,
        attrs={"size_gb": 1, "volume_id": "vol-0fc2e34e74650e145"},
        id="cr:17",
    ),
    case(
        EC2,
        "DeleteSnapshot",
        cr(19),
        ["snap-083d3b857c13988bc"],
        rate("ebs", "snapshot_gb_month"),
        history=(cr(17),),
        id="cr:19 after cr:17",
    ),
    case(
        EC2,
        "CreateImage",
        cr(172),
        ["ami-6eb72111"],
        mul(rate("ebs", "snapshot_gb_month"), 8),
        estimated=True,
        attrs={"size_gb": 8},
        id="cr:172 block-device mapping",
    ),
    # --- EC2 networking --------------------------------------------------------------------------
    case(
        EC2,
        "AllocateAddress",
        cr(1),
        ["eipalloc-08a083beb7e83dbc0"],
        rate("ec2", "public_ipv4_hour"),
        attrs={"pool": "amazon", "domain": "vpc"},
        estimated=False,
        id="cr:1",
    ),
    case(
        EC2,
        "AllocateAddress",
        hand(
            1,
            EC2,
            "AllocateAddress",
            {"domain": "vpc", "publicIpv4Pool": "ipv4pool-ec2-012345"},
            {"allocationId": "eipalloc-0byoip", "publicIpv4Pool": "ipv4pool-ec2-012345", "domain": "vpc"},
        ),
        ["eipalloc-0byoip"],
        ZERO,
        id="BYOIP address: no IPv4 charge",
    ),
    case(
        EC2,
        "ReleaseAddress",
        cr(18),
        ["eipalloc-08a083beb7e83dbc0"],
        rate("ec2", "public_ipv4_hour"),
        history=(cr(1),),
        id="cr:18 after cr:1",
    ),
    case(
        EC2,
        "CreateNatGateway",
        cr(2),
        ["nat-03575abbac42080d9"],
        rate("ec2", "nat_gateway_hour"),
        attrs={"connectivity": "public"},
        estimated=False,
        id="cr:2 wrapped request/response",
    ),
    case(
        EC2,
        "DeleteNatGateway",
        cr(13),
        ["nat-03575abbac42080d9"],
        rate("ec2", "nat_gateway_hour"),
        history=(cr(2),),
        id="cr:13 after cr:2",
    ),
    case(
        EC2,
        "CreateTransitGatewayVpcAttachment",
        TGW_ATTACH,
        ["tgw-attach-0814a77755bf02f0e"],
        UNKNOWN,
        attrs={"transit_gateway_id": "tgw-008fe7d47ebe2dbeb"},
        id="no licensed price",
    ),
    case(
        EC2,
        "DeleteTransitGatewayVpcAttachment",
        cr(170),
        ["tgw-attach-0814a77755bf02f0e"],
        UNKNOWN,
        id="cr:170 DelTGwVpcAttachReq wrapper",
    ),
    # --- RDS instances ---------------------------------------------------------------------------
    case(
        RDS,
        "CreateDBInstance",
        cr(29),
        ["terraform-20230710121504061500000001"],
        add(rds("db.t3.micro", "mysql"), mul(rate("rds", "gp2_gb_month"), 10)),
        estimated=False,
        attrs={"instance_type": "db.t3.micro", "engine": "mysql", "storage_gb": 10, "multi_az": False},
        id="cr:29 invictus",
    ),
    case(
        RDS,
        "CreateDBInstance",
        cr(164),
        ["onenessdb"],
        add(rds("db.t2.micro", "mysql"), mul(rate("rds", "gp2_gb_month"), 5)),
        estimated=True,
        attrs={"storage_type": "standard"},
        id="cr:164 magnetic priced as gp2 (estimated)",
    ),
    case(
        RDS,
        "CreateDBInstance",
        hand(
            29,
            RDS,
            "CreateDBInstance",  # invictus shape (cr:29)
            {
                "dBInstanceIdentifier": "ledger",
                "engine": "postgres",
                "dBInstanceClass": "db.m5.large",
                "allocatedStorage": 400,
                "storageType": "io1",
                "iops": 3000,
                "multiAZ": True,
            },
            None,
        ),
        ["ledger"],
        add(
            rds("db.m5.large", "postgres", multi_az=True),
            mul(rate("rds", "io1_gb_month"), 800),
            mul(rate("rds", "io1_iops_month"), 6000),
        ),
        estimated=True,
        id="Multi-AZ io1 with IOPS",
    ),
    case(
        RDS,
        "CreateDBInstance",
        hand(
            29,
            RDS,
            "CreateDBInstance",
            {
                "dBInstanceIdentifier": "aurora-1",
                "engine": "aurora-postgresql",
                "dBInstanceClass": "db.r5.large",
                "dBClusterIdentifier": "aurora-cluster-prod",
            },
            None,
        ),
        ["aurora-1"],
        rds("db.r5.large", "aurora-postgresql"),
        attrs={"cluster": "aurora-cluster-prod"},
        id="Aurora instance: no storage of its own",
    ),
    case(
        RDS,
        "CreateDBInstance",
        hand(
            29,
            RDS,
            "CreateDBInstance",
            {
                "dBInstanceIdentifier": "aurora-sl",
                "engine": "aurora-postgresql",
                "dBInstanceClass": "db.serverless",
                "dBClusterIdentifier": "aurora-cluster-prod",
            },
            None,
        ),
        ["aurora-sl"],
        mul(rate("rds", "aurora_serverless_v2_acu_hour"), 0.5),
        estimated=True,
        id="Serverless v2: minimum 0.5 ACU",
    ),
    case(
        RDS,
        "RestoreDBInstanceFromDBSnapshot",
        cr(103),
        ["test-instance"],
        add(rds("db.m1.small", "mysql"), mul(rate("rds", "gp2_gb_month"), 20)),
        id="cr:103",
    ),
    case(
        RDS,
        "RestoreDBInstanceToPointInTime",
        hand(
            103,
            RDS,
            "RestoreDBInstanceToPointInTime",  # panther restore shape (cr:103)
            {
                "sourceDBInstanceIdentifier": "test-instance",
                "targetDBInstanceIdentifier": "test-instance-pitr",
                "dBInstanceClass": "db.m5.large",
            },
            {
                "dBInstanceIdentifier": "test-instance-pitr",
                "dBInstanceClass": "db.m5.large",
                "engine": "mysql",
                "allocatedStorage": 20,
                "storageType": "gp2",
                "multiAZ": False,
            },
        ),
        ["test-instance-pitr"],
        add(rds("db.m5.large", "mysql"), mul(rate("rds", "gp2_gb_month"), 20)),
        id="point-in-time restore",
    ),
    case(
        RDS,
        "CreateDBInstanceReadReplica",
        cr(77),
        ["replica-instance"],
        add(rds("db.r5.large", "mysql"), mul(rate("rds", "gp2_gb_month"), 100)),
        history=(PRIMARY_DB,),
        attrs={"instance_type": "db.r5.large", "multi_az": False, "storage_gb": 100},
        id="cr:77 inherits the source's class and storage, not its Multi-AZ",
    ),
    case(
        RDS,
        "ModifyDBInstance",
        cr(100),
        ["my-database"],
        mul(rate("rds", "gp2_gb_month"), 2),
        attrs={"storage_gb": 22, "instance_type": "db.t3.micro"},
        id="cr:100 20 -> 22 GiB, old size from the response",
    ),
    case(
        RDS,
        "ModifyDBInstance",
        hand(
            100,
            RDS,
            "ModifyDBInstance",  # panther ModifyDBInstance shape (cr:100)
            {"dBInstanceIdentifier": "my-database", "dBInstanceClass": "db.m5.large", "applyImmediately": True},
            {
                "dBInstanceIdentifier": "my-database",
                "dBInstanceClass": "db.t3.micro",
                "engine": "mysql",
                "allocatedStorage": 20,
                "storageType": "gp2",
                "multiAZ": False,
                "pendingModifiedValues": {"dBInstanceClass": "db.m5.large"},
            },
        ),
        ["my-database"],
        sub(rds("db.m5.large", "mysql"), rds("db.t3.micro", "mysql")),
        attrs={"instance_type": "db.m5.large", "storage_gb": 20},
        id="class change: new - old instance",
    ),
    case(
        RDS,
        "StartDBInstance",
        cr(95),
        ["dev-database"],
        rds("db.m5.large", "postgres"),
        history=(DEV_DB,),
        id="cr:95 instance hours only",
    ),
    case(
        RDS,
        "StopDBInstance",
        hand(95, RDS, "StopDBInstance", {"dBInstanceIdentifier": "dev-database"}, None),
        ["dev-database"],
        rds("db.m5.large", "postgres"),
        history=(DEV_DB,),
        id="storage keeps billing",
    ),
    case(
        RDS,
        "DeleteDBInstance",
        cr(43),
        ["terraform-20230710121504061500000001"],
        add(rds("db.t3.micro", "mysql"), mul(rate("rds", "gp2_gb_month"), 10)),
        id="cr:43 sizing in the response",
    ),
    # --- RDS clusters ----------------------------------------------------------------------------
    case(
        RDS,
        "CreateDBCluster",
        AURORA_CLUSTER,
        ["aurora-cluster-prod"],
        ZERO,
        estimated=False,
        id="Aurora: billed per instance",
    ),
    case(
        RDS,
        "CreateDBCluster",
        MULTI_AZ_CLUSTER,
        ["orders"],
        add(
            mul(rds("db.r6g.large", "mysql"), 3),
            mul(rate("rds", "io1_gb_month"), 100),
            mul(rate("rds", "io1_iops_month"), 1000),
        ),
        estimated=True,
        id="Multi-AZ DB cluster: 3 instances",
    ),
    case(
        RDS,
        "RestoreDBClusterFromSnapshot",
        hand(
            29,
            RDS,
            "RestoreDBClusterFromSnapshot",
            {"dBClusterIdentifier": "aurora-restored", "snapshotIdentifier": "snap", "engine": "aurora-mysql"},
            {"dBClusterIdentifier": "aurora-restored", "engine": "aurora-mysql", "status": "creating"},
        ),
        ["aurora-restored"],
        ZERO,
        id="Aurora restore",
    ),
    case(
        RDS,
        "ModifyDBCluster",
        hand(
            80,
            RDS,
            "ModifyDBCluster",  # panther ModifyDBCluster shape (cr:80)
            {"dBClusterIdentifier": "orders", "dBClusterInstanceClass": "db.r6g.xlarge", "applyImmediately": True},
            {"dBClusterIdentifier": "orders", "status": "modifying"},
        ),
        ["orders"],
        mul(sub(rds("db.r6g.xlarge", "mysql"), rds("db.r6g.large", "mysql")), 3),
        history=(MULTI_AZ_CLUSTER,),
        estimated=True,
        id="Multi-AZ cluster class change",
    ),
    case(
        RDS,
        "StartDBCluster",
        hand(87, RDS, "StartDBCluster", {"dBClusterIdentifier": "aurora-cluster-prod"}, None),
        ["aurora-cluster-prod"],
        ZERO,
        history=(AURORA_CLUSTER,),
        id="Aurora start",
    ),
    case(
        RDS,
        "StopDBCluster",
        hand(87, RDS, "StopDBCluster", {"dBClusterIdentifier": "aurora-cluster-prod"}, None),
        ["aurora-cluster-prod"],
        ZERO,
        history=(AURORA_CLUSTER,),
        id="Aurora stop",
    ),
    case(RDS, "DeleteDBCluster", cr(87), ["aurora-cluster-prod"], ZERO, history=(AURORA_CLUSTER,), id="cr:87"),
    # --- RDS snapshots ---------------------------------------------------------------------------
    case(
        RDS,
        "CreateDBSnapshot",
        cr(30),
        ["exfiltration"],
        mul(rate("rds", "backup_gb_month"), 10),
        estimated=True,
        attrs={"storage_gb": 10},
        id="cr:30",
    ),
    case(
        RDS,
        "CreateDBSnapshot",
        cr(113),
        ["my-snapshot"],
        mul(rate("rds", "backup_gb_month"), 20),
        history=(
            hand(
                29,
                RDS,
                "CreateDBInstance",
                {
                    "dBInstanceIdentifier": "my-db-instance",
                    "engine": "mysql",
                    "dBInstanceClass": "db.t3.micro",
                    "allocatedStorage": 20,
                },
                None,
                when="2024-01-01T00:00:00Z",
            ),
        ),
        attrs={"storage_gb": 20},
        id="cr:113 size inherited from the DB instance (only priced names)",
    ),
    case(
        RDS,
        "CopyDBSnapshot",
        cr(107),
        ["copy-of-snapshot"],
        mul(rate("rds", "backup_gb_month"), 50),
        history=(ORIGINAL_SNAPSHOT,),
        id="cr:107 size from the source snapshot",
    ),
    case(RDS, "DeleteDBSnapshot", cr(44), ["exfiltration"], mul(rate("rds", "backup_gb_month"), 10), id="cr:44"),
    # --- ELB -------------------------------------------------------------------------------------
    case(
        ELB,
        "CreateLoadBalancer",
        cr(159),
        ["arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-load-balancer/ffcddace1759e1d0"],
        rate("elb", "alb_hour"),
        attrs={"lb_type": "application"},
        id="cr:159 ALB",
    ),
    case(
        ELB,
        "CreateLoadBalancer",
        cr(161),
        ["arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/net/my-load-balancer/ffcddace1759e1d0"],
        rate("elb", "nlb_hour"),
        attrs={"lb_type": "network"},
        id="cr:161 NLB",
    ),
    case(
        ELB,
        "CreateLoadBalancer",
        hand(
            159,
            ELB,
            "CreateLoadBalancer",  # ELB v1 (2012-06-01) on the awsdocs ELB envelope (cr:159)
            {
                "loadBalancerName": "legacy-web",
                "listeners": [
                    {"protocol": "HTTP", "loadBalancerPort": 80, "instanceProtocol": "HTTP", "instancePort": 80}
                ],
                "availabilityZones": ["us-west-2a"],
            },
            {"dNSName": "legacy-web-1234567890.us-west-2.elb.amazonaws.com"},
        ),
        ["legacy-web"],
        rate("elb", "clb_hour"),
        attrs={"classic_name": "legacy-web"},
        id="ELB v1 classic",
    ),
    case(
        ELB,
        "DeleteLoadBalancer",
        cr(160),
        ["arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-load-balancer/ffcddace1759e1d0"],
        rate("elb", "alb_hour"),
        history=(cr(159),),
        id="cr:160 after cr:159",
    ),
    case(
        ELB,
        "DeleteLoadBalancer",
        cr(162),
        ["arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/net/my-load-balancer/ffcddace1759e1d0"],
        rate("elb", "nlb_hour"),
        id="cr:162 type from the ARN, no history",
    ),
    # --- Lambda ----------------------------------------------------------------------------------
    case(
        LAMBDA,
        "PutProvisionedConcurrencyConfig",
        PC_CONFIG,
        ["checkout:live"],
        # memory not in the record: 128 MB (the API default) as a lower bound, estimated
        mul(rate("lambda", "provisioned_concurrency_gb_second"), 50 * 128 / 1024 * 3600),
        attrs={"concurrency": 50},
        estimated=True,
        id="suffixed name, memory unknown: 128 MB lower bound",
    ),
    case(
        LAMBDA,
        "DeleteProvisionedConcurrencyConfig",
        hand(
            37,
            LAMBDA,
            "DeleteProvisionedConcurrencyConfig20190930",
            {"functionName": "checkout", "qualifier": "live"},
            None,
        ),
        ["checkout:live"],
        mul(rate("lambda", "provisioned_concurrency_gb_second"), 50 * 128 / 1024 * 3600),
        history=(PC_CONFIG,),
        attrs={"concurrency": 50},
        id="inherits the concurrency",
    ),
    # --- DynamoDB --------------------------------------------------------------------------------
    case(
        DDB,
        "CreateTable",
        cr(125),
        ["Music"],
        add(mul(rate("dynamodb", "provisioned_wcu_hour"), 10), mul(rate("dynamodb", "provisioned_rcu_hour"), 10)),
        attrs={"wcu": 10, "rcu": 10},
        id="cr:125 provisioned",
    ),
    case(
        DDB,
        "CreateTable",
        hand(
            125,
            DDB,
            "CreateTable",  # awsdocs CreateTable shape (cr:125)
            {
                "tableName": "Events",
                "billingMode": "PROVISIONED",
                "provisionedThroughput": {"writeCapacityUnits": 100, "readCapacityUnits": 200},
                "globalSecondaryIndexes": [
                    {
                        "indexName": "byUser",
                        "provisionedThroughput": {"writeCapacityUnits": 50, "readCapacityUnits": 20},
                    },
                    {"indexName": "byDay", "provisionedThroughput": {"writeCapacityUnits": 5, "readCapacityUnits": 5}},
                ],
            },
            None,
        ),
        ["Events"],
        add(mul(rate("dynamodb", "provisioned_wcu_hour"), 155), mul(rate("dynamodb", "provisioned_rcu_hour"), 225)),
        attrs={"gsi_wcu": 55, "gsi_rcu": 25},
        id="GSIs add their capacity",
    ),
    case(
        DDB,
        "CreateTable",
        hand(125, DDB, "CreateTable", {"tableName": "Sessions", "billingMode": "PAY_PER_REQUEST"}, None),
        ["Sessions"],
        ZERO,
        estimated=False,
        id="on-demand: no standing charge",
    ),
    case(
        DDB,
        "UpdateTable",
        cr(123),
        ["Music"],
        add(mul(rate("dynamodb", "provisioned_wcu_hour"), 15), mul(rate("dynamodb", "provisioned_rcu_hour"), 15)),
        attrs={"wcu": 25, "rcu": 25},
        id="cr:123 10 -> 25 units, old from the response",
    ),
    case(
        DDB,
        "DeleteTable",
        cr(124),
        ["Music"],
        add(mul(rate("dynamodb", "provisioned_wcu_hour"), 25), mul(rate("dynamodb", "provisioned_rcu_hour"), 25)),
        id="cr:124 sizing in the response",
    ),
    # --- ElastiCache -----------------------------------------------------------------------------
    case(
        CACHE,
        "CreateCacheCluster",
        cr(135),
        ["test-memcached"],
        mul(node("cache.m1.small", "memcached"), 2),
        attrs={"instance_type": "cache.m1.small", "engine": "memcached", "nodes": 2},
        id="cr:135",
    ),
    case(
        CACHE,
        "ModifyCacheCluster",
        cr(134),
        ["test-memcached"],
        node("cache.m1.small", "memcached"),
        attrs={"nodes": 3},
        id="cr:134 2 -> 3 nodes",
    ),
    case(
        CACHE,
        "DeleteCacheCluster",
        hand(
            135,
            CACHE,
            "DeleteCacheCluster",
            {"cacheClusterId": "test-memcached"},
            {**cr(135)["responseElements"], "cacheClusterStatus": "deleting"},
        ),
        ["test-memcached"],
        mul(node("cache.m1.small", "memcached"), 2),
        id="sizing in the response (cr:135 shape)",
    ),
    case(
        CACHE,
        "CreateReplicationGroup",
        REDIS_GROUP,
        ["sessions"],
        mul(node("cache.r6g.large"), 4),
        attrs={"shards": 2, "replicas": 1, "member_count": 4},
        id="2 shards x (1 + 1 replica)",
    ),
    case(
        CACHE,
        "ModifyReplicationGroup",
        hand(
            135,
            CACHE,
            "ModifyReplicationGroup",
            {"replicationGroupId": "sessions", "cacheNodeType": "cache.r6g.xlarge", "applyImmediately": True},
            {
                "replicationGroupId": "sessions",
                "status": "modifying",
                "cacheNodeType": "cache.r6g.large",
                "memberClusters": ["a", "b", "c", "d"],
            },
        ),
        ["sessions"],
        mul(sub(node("cache.r6g.xlarge"), node("cache.r6g.large")), 4),
        history=(REDIS_GROUP,),
        id="scale up all 4 nodes",
    ),
    case(
        CACHE,
        "DeleteReplicationGroup",
        hand(135, CACHE, "DeleteReplicationGroup", {"replicationGroupId": "sessions"}, None),
        ["sessions"],
        mul(node("cache.r6g.large"), 4),
        history=(REDIS_GROUP,),
        id="inherited",
    ),
    # --- Redshift --------------------------------------------------------------------------------
    case(
        REDSHIFT,
        "CreateCluster",
        cr(147),
        ["my-dw-instance"],
        rate("redshift", "dc2.large"),
        estimated=True,
        attrs={"instance_type": "dc1.large", "nodes": 1},
        id="cr:147 dc1.large priced as dc2.large",
    ),
    case(
        REDSHIFT,
        "RestoreFromClusterSnapshot",
        hand(
            147,
            REDSHIFT,
            "RestoreFromClusterSnapshot",
            {
                "clusterIdentifier": "restored",
                "snapshotIdentifier": "s1",
                "nodeType": "ra3.4xlarge",
                "numberOfNodes": 2,
            },
            None,
        ),
        ["restored"],
        mul(rate("redshift", "ra3.4xlarge"), 2),
        id="restore",
    ),
    case(
        REDSHIFT,
        "ModifyCluster",
        hand(
            147,
            REDSHIFT,
            "ModifyCluster",
            {"clusterIdentifier": "warehouse", "numberOfNodes": 4},
            {
                "clusterIdentifier": "warehouse",
                "nodeType": "ra3.4xlarge",
                "numberOfNodes": 2,
                "pendingModifiedValues": {"numberOfNodes": 4},
            },
        ),
        ["warehouse"],
        mul(rate("redshift", "ra3.4xlarge"), 2),
        id="2 -> 4 nodes, old from the response",
    ),
    case(
        REDSHIFT,
        "ResizeCluster",
        hand(
            147,
            REDSHIFT,
            "ResizeCluster",
            {"clusterIdentifier": "warehouse", "nodeType": "ra3.16xlarge", "numberOfNodes": 2},
            None,
        ),
        ["warehouse"],
        mul(sub(rate("redshift", "ra3.16xlarge"), rate("redshift", "ra3.4xlarge")), 2),
        history=(RA3_CLUSTER,),
        id="resize with history",
    ),
    case(
        REDSHIFT,
        "PauseCluster",
        hand(147, REDSHIFT, "PauseCluster", {"clusterIdentifier": "warehouse"}, None),
        ["warehouse"],
        mul(rate("redshift", "ra3.4xlarge"), 2),
        history=(RA3_CLUSTER,),
        id="pause",
    ),
    case(
        REDSHIFT,
        "ResumeCluster",
        hand(147, REDSHIFT, "ResumeCluster", {"clusterIdentifier": "warehouse"}, None),
        ["warehouse"],
        mul(rate("redshift", "ra3.4xlarge"), 2),
        history=(RA3_CLUSTER,),
        id="resume",
    ),
    case(
        REDSHIFT,
        "DeleteCluster",
        cr(148),
        ["my-dw-instance"],
        rate("redshift", "dc2.large"),
        history=(cr(147),),
        id="cr:148 after cr:147",
    ),
    # --- OpenSearch / Elasticsearch --------------------------------------------------------------
    case(
        ES,
        "CreateDomain",
        cr(143),
        ["test-domain"],
        add(search("m4.large.search"), mul(rate("opensearch", "gp2_gb_month"), 10)),
        attrs={"instance_type": "m4.large.search", "instance_count": 1, "volume_size": 10},
        id="cr:143",
    ),
    case(
        ES,
        "CreateElasticsearchDomain",
        cr(144),
        ["test-domain"],
        add(search("m4.large.elasticsearch"), mul(rate("opensearch", "gp2_gb_month"), 10)),
        id="cr:144 legacy API",
    ),
    case(
        ES,
        "CreateElasticsearchDomain",
        cr(146),
        ["your-domain-name"],
        search("m3.medium.elasticsearch"),
        attrs={"ebs_enabled": False},
        id="cr:146 type only in the response, no EBS",
    ),
    case(
        ES,
        "UpdateElasticsearchDomainConfig",
        _domain(
            ES,
            "UpdateElasticsearchDomainConfig",  # awsdocs shape; response as in streamalert cr:174
            {"domainName": "test-domain", "elasticsearchClusterConfig": {"instanceCount": 3}},
            {
                "domainConfig": {
                    "elasticsearchClusterConfig": {
                        "options": {"instanceType": "m4.large.elasticsearch", "instanceCount": 1}
                    },
                    "eBSOptions": {"options": {"eBSEnabled": True, "volumeType": "gp2", "volumeSize": 10}},
                }
            },
        ),
        ["test-domain"],
        add(mul(search("m4.large.elasticsearch"), 2), mul(rate("opensearch", "gp2_gb_month"), 20)),
        attrs={"instance_count": 3},
        id="1 -> 3 data nodes (and their EBS)",
    ),
    case(
        ES,
        "UpdateDomainConfig",
        _domain(
            ES,
            "UpdateDomainConfig",
            {"domainName": "logs", "clusterConfig": {"instanceType": "r6g.xlarge.search"}},
            None,
        ),
        ["logs"],
        mul(sub(search("r6g.xlarge.search"), search("r6g.large.search")), 3),
        history=(SEARCH_DOMAIN,),
        id="instance type change, with history",
    ),
    case(
        ES,
        "DeleteElasticsearchDomain",
        _domain(ES, "DeleteElasticsearchDomain", {"domainName": "test-domain"}, cr(144)["responseElements"]),
        ["test-domain"],
        add(search("m4.large.elasticsearch"), mul(rate("opensearch", "gp2_gb_month"), 10)),
        id="sizing in the response",
    ),
    case(
        ES,
        "DeleteDomain",
        _domain(ES, "DeleteDomain", {"domainName": "logs"}, None),
        ["logs"],
        add(
            mul(search("r6g.large.search"), 3),
            mul(search("m6g.large.search"), 3),
            mul(rate("opensearch", "gp2_gb_month"), 300),
        ),
        history=(SEARCH_DOMAIN,),
        id="dedicated masters",
    ),
    case(
        OPENSEARCH,
        "CreateDomain",
        _domain(
            OPENSEARCH,
            "CreateDomain",
            {
                "domainName": "metrics",
                "clusterConfig": {
                    "instanceType": "r6g.large.search",
                    "instanceCount": 2,
                    "warmEnabled": True,
                    "warmType": "ultrawarm1.medium.search",
                    "warmCount": 2,
                },
                "eBSOptions": {"eBSEnabled": True, "volumeType": "gp3", "volumeSize": 50},
            },
            None,
        ),
        ["metrics"],
        add(
            mul(search("r6g.large.search"), 2),
            mul(search("ultrawarm1.medium.search"), 2),
            mul(rate("opensearch", "gp2_gb_month"), 100),
        ),
        estimated=True,
        attrs={"warm_count": 2},
        id="opensearch source, warm nodes, gp3 at the gp2 rate",
    ),
    case(
        OPENSEARCH,
        "UpdateDomainConfig",
        _domain(OPENSEARCH, "UpdateDomainConfig", {"domainName": "logs", "clusterConfig": {"instanceCount": 5}}, None),
        ["logs"],
        add(mul(search("r6g.large.search"), 2), mul(rate("opensearch", "gp2_gb_month"), 200)),
        history=(SEARCH_DOMAIN,),
        id="3 -> 5 data nodes",
    ),
    case(
        OPENSEARCH,
        "DeleteDomain",
        _domain(OPENSEARCH, "DeleteDomain", {"domainName": "logs"}, None),
        ["logs"],
        add(
            mul(search("r6g.large.search"), 3),
            mul(search("m6g.large.search"), 3),
            mul(rate("opensearch", "gp2_gb_month"), 300),
        ),
        history=(SEARCH_DOMAIN,),
        id="opensearch delete",
    ),
    # --- EKS -------------------------------------------------------------------------------------
    case(EKS, "CreateCluster", cr(133), ["test"], rate("eks", "cluster_hour"), attrs={"version": "1.10"}, id="cr:133"),
    case(
        EKS,
        "DeleteCluster",
        hand(133, EKS, "DeleteCluster", {"name": "test"}, None),
        ["test"],
        rate("eks", "cluster_hour"),
        id="delete",
    ),
    case(
        EKS,
        "CreateNodegroup",
        NODEGROUP,
        ["test/workers"],
        mul(ec2("m5.large"), 3),
        attrs={"instance_type": "m5.large", "desired_size": 3},
        id="3 x m5.large",
    ),
    case(
        EKS,
        "UpdateNodegroupConfig",
        hand(
            133,
            EKS,
            "UpdateNodegroupConfig",
            {"clusterName": "test", "nodegroupName": "workers", "scalingConfig": {"desiredSize": 5}},
            None,
        ),
        ["test/workers"],
        mul(ec2("m5.large"), 2),
        history=(NODEGROUP,),
        id="3 -> 5 nodes",
    ),
    case(
        EKS,
        "DeleteNodegroup",
        hand(133, EKS, "DeleteNodegroup", {"clusterName": "test", "nodegroupName": "workers"}, None),
        ["test/workers"],
        mul(ec2("m5.large"), 3),
        history=(NODEGROUP,),
        id="inherited",
    ),
    # --- SageMaker (no licensed price) -----------------------------------------------------------
    case(
        SAGEMAKER,
        "CreateEndpoint",
        cr(149),
        ["ExampleEndpoint"],
        UNKNOWN,
        attrs={"endpoint_config": "ExampleEndpointConfig"},
        id="cr:149",
    ),
    case(
        SAGEMAKER,
        "CreateEndpointConfig",
        ENDPOINT_CONFIG,
        ["ExampleEndpointConfig"],
        ZERO,
        attrs={"instance_type": "ml.p4d.24xlarge", "instance_count": 3, "variants": 2},
        id="config on cr:149's envelope: bills nothing itself",
    ),
    case(
        SAGEMAKER,
        "CreateEndpoint",
        cr(149),
        ["ExampleEndpoint"],
        UNKNOWN,
        history=(ENDPOINT_CONFIG,),
        attrs={"endpoint_config": "ExampleEndpointConfig", "instance_type": "ml.p4d.24xlarge", "instance_count": 3},
        id="cr:149 joined with its endpoint config",
    ),
    case(
        SAGEMAKER,
        "DeleteEndpoint",
        hand(149, SAGEMAKER, "DeleteEndpoint", {"endpointName": "ExampleEndpoint"}, None),
        ["ExampleEndpoint"],
        UNKNOWN,
        history=(cr(149),),
        id="delete",
    ),
    case(
        SAGEMAKER,
        "CreateNotebookInstance",
        NOTEBOOK,
        ["research"],
        UNKNOWN,
        attrs={"instance_type": "ml.t3.medium", "volume_size": 5},
        id="notebook",
    ),
    case(
        SAGEMAKER,
        "StartNotebookInstance",
        hand(149, SAGEMAKER, "StartNotebookInstance", {"notebookInstanceName": "research"}, None),
        ["research"],
        UNKNOWN,
        history=(NOTEBOOK,),
        attrs={"instance_type": "ml.t3.medium"},
        id="start",
    ),
    case(
        SAGEMAKER,
        "StopNotebookInstance",
        hand(149, SAGEMAKER, "StopNotebookInstance", {"notebookInstanceName": "research"}, None),
        ["research"],
        UNKNOWN,
        history=(NOTEBOOK,),
        id="stop",
    ),
    case(
        SAGEMAKER,
        "DeleteNotebookInstance",
        hand(149, SAGEMAKER, "DeleteNotebookInstance", {"notebookInstanceName": "research"}, None),
        ["research"],
        UNKNOWN,
        history=(NOTEBOOK,),
        id="delete",
    ),
    case(
        SAGEMAKER,
        "CreateTrainingJob",
        hand(
            149,
            SAGEMAKER,
            "CreateTrainingJob",
            {
                "trainingJobName": "bert-ft",
                "resourceConfig": {"instanceType": "ml.p4d.24xlarge", "instanceCount": 2, "volumeSizeInGB": 100},
            },
            {"trainingJobArn": "arn:aws:sagemaker:us-west-2:444455556666:training-job/bert-ft"},
        ),
        ["bert-ft"],
        UNKNOWN,
        attrs={"instance_type": "ml.p4d.24xlarge", "instance_count": 2},
        id="training job",
    ),
    case(
        SAGEMAKER,
        "StopTrainingJob",
        hand(149, SAGEMAKER, "StopTrainingJob", {"trainingJobName": "bert-ft"}, None),
        ["bert-ft"],
        UNKNOWN,
        id="stop training",
    ),
    # --- MSK, Kinesis (priced), Bedrock (no licensed price) -------------------------------------
    case(
        KAFKA,
        "CreateCluster",
        hand(
            142,
            KAFKA,
            "CreateCluster",  # awsdocs MSK DeleteCluster shape (cr:142)
            {
                "clusterName": "events",
                "numberOfBrokerNodes": 3,
                "kafkaVersion": "3.5.1",
                "brokerNodeGroupInfo": {
                    "instanceType": "kafka.m5.large",
                    "storageInfo": {"ebsStorageInfo": {"volumeSize": 1000}},
                },
            },
            {"clusterArn": "arn:aws:kafka:us-east-1:012345678901:cluster/events/abc", "state": "CREATING"},
        ),
        ["arn:aws:kafka:us-east-1:012345678901:cluster/events/abc"],
        # kafka.m5.large is not listed: kafka.m5.24xlarge x EC2 (m5.large / m5.24xlarge); storage per broker
        add(
            mul(
                lambda b, r: (
                    b.rate("msk", "kafka.m5.24xlarge", r).usd_per_hour
                    * b.ec2_instance(r, "m5.large").usd_per_hour
                    / b.ec2_instance(r, "m5.24xlarge").usd_per_hour
                ),
                3,
            ),
            mul(rate("msk", "storage_gb_month"), 3 * 1000),
        ),
        attrs={"instance_type": "kafka.m5.large", "brokers": 3, "volume_size": 1000},
        estimated=True,
        id="MSK: broker by size ratio within kafka.m5",
    ),
    case(
        KAFKA,
        "CreateCluster",
        hand(
            142,
            KAFKA,
            "CreateCluster",
            {
                "clusterName": "small",
                "numberOfBrokerNodes": 2,
                "brokerNodeGroupInfo": {
                    "instanceType": "kafka.t3.small",
                    "storageInfo": {"ebsStorageInfo": {"volumeSize": 100}},
                },
            },
            {"clusterArn": "arn:aws:kafka:us-east-1:012345678901:cluster/small/abc", "state": "CREATING"},
        ),
        ["arn:aws:kafka:us-east-1:012345678901:cluster/small/abc"],
        add(mul(rate("msk", "kafka.t3.small"), 2), mul(rate("msk", "storage_gb_month"), 2 * 100)),
        attrs={"instance_type": "kafka.t3.small", "brokers": 2},
        estimated=False,
        id="MSK: listed broker (the golden file's kafka.t3.small x 2)",
    ),
    case(
        KAFKA,
        "CreateClusterV2",
        hand(
            142,
            KAFKA,
            "CreateClusterV2",
            {
                "clusterName": "events2",
                "provisioned": {"numberOfBrokerNodes": 3, "brokerNodeGroupInfo": {"instanceType": "kafka.m7g.large"}},
            },
            {"clusterArn": "arn:aws:kafka:us-east-1:012345678901:cluster/events2/def", "state": "CREATING"},
        ),
        ["arn:aws:kafka:us-east-1:012345678901:cluster/events2/def"],
        UNKNOWN,
        attrs={"instance_type": "kafka.m7g.large", "brokers": 3},
        id="MSK v2: no listed broker of the m7g family",
    ),
    case(
        KAFKA,
        "DeleteCluster",
        cr(142),
        ["arn:aws:kafka:us-east-1:012345678901:cluster/examplecluster/01234567-abcd-0123-abcd-abcd0123efa-2"],
        UNKNOWN,
        id="cr:142",
    ),
    case(
        KINESIS,
        "CreateStream",
        cr(140),
        ["GoodStream"],
        rate("kinesis", "shard_hour"),
        attrs={"shard_count": 1},
        id="cr:140",
    ),
    case(
        KINESIS,
        "CreateStream",
        hand(
            140, KINESIS, "CreateStream", {"streamName": "od", "streamModeDetails": {"streamMode": "ON_DEMAND"}}, None
        ),
        ["od"],
        rate("kinesis", "on_demand_stream_hour"),
        attrs={"stream_mode": "ON_DEMAND"},
        id="on-demand stream hour",
    ),
    case(
        KINESIS,
        "UpdateShardCount",
        hand(
            140,
            KINESIS,
            "UpdateShardCount",
            {"streamName": "GoodStream", "targetShardCount": 4, "scalingType": "UNIFORM_SCALING"},
            {"streamName": "GoodStream", "currentShardCount": 1, "targetShardCount": 4},
        ),
        ["GoodStream"],
        mul(rate("kinesis", "shard_hour"), 3),  # 1 -> 4 shards
        attrs={"shard_count": 4},
        id="reshard",
    ),
    case(
        KINESIS,
        "DeleteStream",
        cr(141),
        ["GoodStream"],
        rate("kinesis", "shard_hour"),
        history=(cr(140),),
        attrs={"shard_count": 1},
        id="cr:141 after cr:140",
    ),
    case(
        BEDROCK,
        "CreateModelCustomizationJob",
        {**cr(163), "eventTime": "2023-11-15T18:49:20Z"},  # cr:163 has no eventTime at all; one added
        ["arn:aws:bedrock:us-east-1:644160558196:model-customization-job/cohere.command-text-v14:7:4k/q4ad8z8tioq8"],
        UNKNOWN,
        id="cr:163 + eventTime",
    ),
    case(
        BEDROCK,
        "CreateProvisionedModelThroughput",
        BEDROCK_PT,
        ["arn:aws:bedrock:us-east-1:123837392027:provisioned-model/abc"],
        UNKNOWN,
        attrs={"model_units": 2},
        id="provisioned throughput",
    ),
    case(
        BEDROCK,
        "DeleteProvisionedModelThroughput",
        hand(1, BEDROCK, "DeleteProvisionedModelThroughput", {"provisionedModelId": "chat-pt"}, None),
        ["chat-pt"],
        UNKNOWN,
        id="delete",
    ),
]


def _run(c: Case):
    history = MemoryHistory()
    for earlier in c.history:
        normalize_record(earlier, TENANT, BOOK, history)
    return normalize_record(c.record, TENANT, BOOK, history)


@pytest.mark.parametrize("c", CASES, ids=[f"{c.key[0].split('.')[0]}:{c.key[1]}:{c.id}" for c in CASES])
def test_entry_reads_and_prices_the_record(c: Case) -> None:
    outcome = _run(c)
    assert outcome.kind is OutcomeKind.COST_EVENT, (outcome.reason, outcome.detail)
    event = outcome.cost_event
    entry = CATALOGUE[c.key]
    assert (event.event_source, event.event_name) == c.key
    assert event.resource_type == entry.resource_type and event.action is entry.action
    assert event.resource_ids == c.ids
    assert event.quantity == c.quantity
    for name, value in c.attrs.items():
        assert event.attributes.get(name) == value, name

    if c.price is None:
        assert event.price_unknown and event.estimated_usd_per_hour is None
        assert event.unit_price is None or event.unit_price.usd_per_hour is None
    else:
        expected = c.price(BOOK, event.region)
        assert not event.price_unknown, event.unit_price
        assert event.unit_price.usd_per_hour == pytest.approx(expected, rel=1e-9, abs=1e-12)
        sign = -1 if entry.action in (CostAction.STOP, CostAction.DELETE) else 1
        assert event.estimated_usd_per_hour == pytest.approx(round(sign * c.quantity * expected, 6), abs=1e-6)
        assert event.estimated_usd_per_month == pytest.approx(round(event.estimated_usd_per_hour * 730, 2), abs=0.01)
        if c.estimated is not None:
            assert event.unit_price.estimated is c.estimated, event.unit_price.source
    # The event survives the scorer's own validation unchanged.
    assert CostEvent.model_validate_json(event.model_dump_json()) == event


def test_every_entry_has_a_case() -> None:
    exercised = {c.key for c in CASES}
    missing = [(e.event_source, e.event_name) for e in ENTRIES if (e.event_source, e.event_name) not in exercised]
    assert not missing


def test_modify_entries_without_a_sizing_change_are_not_cost_events() -> None:
    # cr:15/22 disableApiTermination, cr:79/81/82/90/92 deletion protection / public access,
    # cr:78/80/91 cluster settings, cr:174 access policy only.
    for line in (15, 22, 79, 81, 82, 90, 92, 78, 80, 91, 174):
        outcome = normalize_record(cr(line), TENANT, BOOK)
        assert (outcome.kind, outcome.reason) == (OutcomeKind.NOT_COST_RELEVANT, "no_billable_change"), line


def test_resize_is_priced_at_the_next_start() -> None:
    history = MemoryHistory()
    run = cr(5)
    stop = hand(
        5,
        EC2,
        "StopInstances",
        {"instancesSet": {"items": [{"instanceId": "i-0dbc91f429e48eeed"}]}},
        None,
        when="2023-07-10T11:56:00Z",
    )
    resize = hand(
        15,
        EC2,
        "ModifyInstanceAttribute",
        {"instanceId": "i-0dbc91f429e48eeed", "instanceType": {"value": "m5.large"}},
        None,
        when="2023-07-10T11:57:00Z",
    )
    start = hand(
        5,
        EC2,
        "StartInstances",
        {"instancesSet": {"items": [{"instanceId": "i-0dbc91f429e48eeed"}]}},
        None,
        when="2023-07-10T11:58:00Z",
    )
    hourly = [
        normalize_record(r, TENANT, BOOK, history).cost_event.estimated_usd_per_hour for r in (run, stop, resize, start)
    ]
    small, large = ec2("t3.micro")(BOOK, "us-east-1"), ec2("m5.large")(BOOK, "us-east-1")
    assert hourly == pytest.approx([small, -small, 0.0, large])


# --- failed calls and hostile quantities -----------------------------------------------------


@pytest.mark.parametrize("line", [3, 4, 10, 14, 16, 20, 60, 75, 31, 84, 88, 94, 108, 111, 65])
def test_failed_calls_are_never_cost_events(line: int) -> None:
    record = cr(line)
    outcome = normalize_record(record, TENANT, BOOK)
    assert outcome.kind is not OutcomeKind.COST_EVENT
    if outcome.kind is OutcomeKind.NOT_COST_RELEVANT:
        assert (outcome.reason, outcome.detail) == ("failed_call", record["errorCode"])


def test_dry_run_is_a_failed_call() -> None:
    outcome = normalize_record(cr(60), TENANT, BOOK)  # Client.DryRunOperation: would have succeeded
    assert (outcome.kind, outcome.reason, outcome.detail) == (
        OutcomeKind.NOT_COST_RELEVANT,
        "failed_call",
        "Client.DryRunOperation",
    )


def _run_instances_without_response(min_count) -> dict:
    return hand(
        5,
        EC2,
        "RunInstances",
        {
            "instancesSet": {"items": [{"imageId": "ami-1", "minCount": min_count, "maxCount": 100000}]},
            "instanceType": "m5.large",
        },
        None,
    )


def test_absurd_quantity_is_clamped_with_a_warning() -> None:
    event = normalize_record(_run_instances_without_response(100000), TENANT, BOOK).cost_event
    assert event.quantity == MAX_QUANTITY
    assert any("clamped" in w for w in event.attributes["input_warnings"])
    assert event.estimated_usd_per_hour == pytest.approx(round(MAX_QUANTITY * ec2("m5.large")(BOOK, "us-east-1"), 6))


@pytest.mark.parametrize("bad", ["NaN", "inf", "-inf", -5, "lots", True, {"n": 1}, 1e400])
def test_invalid_quantity_falls_back_to_one_with_a_warning(bad) -> None:
    event = normalize_record(_run_instances_without_response(bad), TENANT, BOOK).cost_event
    assert event.quantity == 1.0
    assert math.isfinite(event.estimated_usd_per_hour) and event.estimated_usd_per_hour > 0
    if not isinstance(bad, dict):  # a dict is not a scalar: the path yields nothing to warn about
        assert any("quantity" in w for w in event.attributes["input_warnings"])


@pytest.mark.parametrize(
    "size, kept, warned",
    [("NaN", None, True), (-1, None, True), ("1e9", 1_048_576, True), ("12", 12, False), ("nope", None, True)],
)
def test_numeric_attributes_are_coerced_clamped_or_dropped(size, kept, warned) -> None:
    record = hand(
        21,
        EC2,
        "CreateVolume",
        {"size": size, "zone": "us-east-1a", "volumeType": "gp2"},
        {"volumeId": "vol-x", "size": size, "volumeType": "gp2"},
    )
    event = normalize_record(record, TENANT, BOOK).cost_event
    assert event.attributes.get("size_gb") == kept
    assert ("input_warnings" in event.attributes) is warned
    assert event.price_unknown is (kept is None)
    if kept is not None:
        assert event.unit_price.usd_per_hour == pytest.approx(kept * rate("ebs", "gp2_gb_month")(BOOK, "us-east-1"))


def test_redacted_values_are_absent() -> None:
    record = hand(
        29,
        RDS,
        "CreateDBInstance",
        {
            "dBInstanceIdentifier": "x",
            "engine": "mysql",
            "dBInstanceClass": "HIDDEN_DUE_TO_SECURITY_REASONS",
            "allocatedStorage": 10,
        },
        None,
    )
    event = normalize_record(record, TENANT, BOOK).cost_event
    assert "instance_type" not in event.attributes and event.price_unknown


# --- pricers ---------------------------------------------------------------------------------


def test_documented_sanity_prices() -> None:
    # Documented in ../shared/pricing/README.md ("Sanity checks"), us-east-1.
    def hourly(record):
        return normalize_record(record, TENANT, BOOK).cost_event.unit_price.usd_per_hour

    m5 = hand(5, EC2, "RunInstances", {"instancesSet": {"items": [{"minCount": 1}]}, "instanceType": "m5.large"}, None)
    assert hourly(m5) == pytest.approx(0.096)
    assert hourly(cr(2)) == pytest.approx(0.045)  # NAT gateway
    assert hourly(cr(1)) == pytest.approx(0.005)  # public IPv4
    gp3 = hand(
        21,
        EC2,
        "CreateVolume",
        {"size": "100", "volumeType": "gp3"},
        {"volumeId": "v", "size": "100", "volumeType": "gp3"},
    )
    assert hourly(gp3) * 730 == pytest.approx(8.0)  # 100 GiB x $0.08/GB-month
    eks = {**cr(133), "awsRegion": "us-east-1"}
    assert hourly(eks) == pytest.approx(0.10)


def test_unpriced_services_are_the_documented_ones() -> None:
    unpriced = {name for name, p in PRICERS.items() if not p.price_source}
    assert unpriced == {"sagemaker", "bedrock", "transit_gateway"} == set(NO_PRICE_REASONS)
    for entry in ENTRIES:
        assert entry.pricer is not None, entry.event_name  # every entry prices (or knowingly cannot)


def test_part_wise_change_needs_only_the_changed_dimensions() -> None:
    pricer = PRICERS["rds_instance"]
    before = {"storage_gb": 100, "storage_type": "gp2"}  # no class, no engine: the instance part is unknown
    after = {"storage_gb": 150, "storage_type": "gp2"}
    q = pricer.change(BOOK, "us-east-1", before, after)
    assert q.usd == pytest.approx(50 * rate("rds", "gp2_gb_month")(BOOK, "us-east-1"))
    q = pricer.change(BOOK, "us-east-1", before, {**after, "instance_type": "db.m5.large"})
    assert q.usd is None  # the class changed from unknown: the change cannot be priced


def test_entries_are_well_formed() -> None:
    for entry in ENTRIES:
        assert entry.event_source.endswith(".amazonaws.com")
        assert entry.resource_ids, entry.event_name
        assert entry.resource_type.split(":", 1)[0], entry.event_name
        if entry.action is CostAction.MODIFY:
            assert entry.attributes and entry.inherit_attributes, entry.event_name
        if entry.action in (CostAction.STOP, CostAction.DELETE, CostAction.START):
            assert entry.inherit_attributes, entry.event_name


def test_build_cost_event_without_db_or_history_does_not_inherit() -> None:
    event = parse(cr(11))
    cost_event = build_cost_event(TENANT, event, CATALOGUE[(EC2, "TerminateInstances")], BOOK, None)
    assert cost_event.price_unknown and cost_event.attributes == {}


# --- EventBridge rule --------------------------------------------------------------------------


def test_cost_relevant_event_names_lists_every_entry() -> None:
    names = catalogue.cost_relevant_event_names()
    assert isinstance(names, dict) and all(isinstance(v, list) for v in names.values())
    assert {(s, n) for s, ns in names.items() for n in ns} == set(CATALOGUE)
    assert names[ES] == [
        "CreateDomain",
        "CreateElasticsearchDomain",
        "DeleteDomain",
        "DeleteElasticsearchDomain",
        "UpdateDomainConfig",
        "UpdateElasticsearchDomainConfig",
    ]
    assert names[OPENSEARCH] == ["CreateDomain", "DeleteDomain", "UpdateDomainConfig"]


def _matches(pattern: dict, source: str, detail_type: str, event_source: str, event_name: str) -> bool:
    def one(matchers, value):
        return any(m == value if isinstance(m, str) else value.startswith(m["prefix"]) for m in matchers)

    d = pattern["detail"]
    return (
        one(pattern["source"], source)
        and one(pattern["detail-type"], detail_type)
        and one(d["eventSource"], event_source)
        and one(d["eventName"], event_name)
    )


def test_event_patterns_match_every_entry_and_suffixed_lambda_names() -> None:
    patterns = catalogue.event_patterns()
    for pattern in patterns:
        assert set(pattern) == {"source", "detail-type", "detail"}
        assert set(pattern["detail"]) == {"eventSource", "eventName"}
        assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]

    def matched(*event) -> bool:
        return any(_matches(p, *event) for p in patterns)

    for entry in ENTRIES:
        source = "aws." + entry.event_source.split(".")[0]
        assert matched(source, "AWS API Call via CloudTrail", entry.event_source, entry.event_name)
    assert any({"prefix": "PutProvisionedConcurrencyConfig"} in p["detail"]["eventName"] for p in patterns)
    assert matched("aws.lambda", "AWS API Call via CloudTrail", LAMBDA, "PutProvisionedConcurrencyConfig20190930")
    assert not matched("aws.ec2", "AWS API Call via CloudTrail", EC2, "DescribeInstances")


@pytest.mark.parametrize("limit", [2048, 4096])
def test_event_patterns_split_under_the_size_limit_with_the_same_coverage(limit: int) -> None:
    patterns = catalogue.event_patterns(limit)
    assert all(len(orjson.dumps(p)) <= limit for p in patterns)
    for entry in ENTRIES:
        source = "aws." + entry.event_source.split(".")[0]
        assert any(
            _matches(p, source, "AWS API Call via CloudTrail", entry.event_source, entry.event_name) for p in patterns
        )


def extract(record, path):
    return compile_path(path)(record)


def first(record, specs):
    return compile_first(tuple(specs))(record)


# --- paths ---------------------------------------------------------------------------------------


def test_paths_unwrap_single_request_response_wrappers() -> None:
    assert extract(cr(2), "requestParameters.SubnetId") == ["subnet-01ed430875cff578d"]
    assert extract(cr(2), "responseElements.natGateway.natGatewayId") == ["nat-03575abbac42080d9"]
    assert extract(cr(170), "requestParameters.TransitGatewayAttachmentId") == ["tgw-attach-0814a77755bf02f0e"]
    assert extract(cr(2), "requestParameters.Missing") == []


def test_paths_fan_out_and_specs() -> None:
    record = cr(169)
    assert extract(record, "responseElements.instancesSet.items[*].instanceId") == ["i-784cdacd", "i-7b4cdace"]
    assert first(record, (Sum("requestParameters.blockDeviceMapping.items[*].ebs.volumeSize"),)) == 16
    assert first(record, (Count("responseElements.instancesSet.items[*]"),)) == 2
    assert first(record, (Join("/", "eventSource", "eventName"),)) == "ec2.amazonaws.com/RunInstances"
    assert first(record, (Join("/", "eventSource", "nope"),)) is None
    assert first({"a": {"b": "HIDDEN_DUE_TO_SECURITY_REASONS"}, "c": "x"}, ("a.b", "c")) == "x"
    assert first({"a": {"value": "m5.large"}}, ("a", "a.value")) == "m5.large"  # dicts are skipped
