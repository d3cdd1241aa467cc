"""Read one region's resources through the customer's read-only role: Describe/List calls only
(exactly ``onboarding.READER_ACTIONS``), turned into ``Resource`` descriptions.

The region is read in sections (EC2, snapshots, NAT, ELBv2, classic ELB, RDS, ElastiCache,
Redshift, OpenSearch, SageMaker; each in ``inventory_compute``, ``inventory_network`` or ``inventory_databases``,
all reading through ``inventory_reader.Reader``, which counts every request). A section that fails (access denied, throttled after botocore's
retries, an error) is recorded with its classification and its resource types count as unchecked:
the scan neither evaluates nor closes their findings. The other sections carry on.

Where moto (the tests' AWS) answers differently from AWS, the code follows AWS and says so:
- ELBv2 CloudWatch dimension ``LoadBalancer`` is ``app|net/<name>/<id>``, built from the load
  balancer's type, name and the ARN's last segment (moto's ARNs say ``app/`` for every type);
- ElastiCache ``CacheNodes`` (``ShowCacheNodeInfo``) is missing in moto: node ids then come from
  ``NumCacheNodes`` as AWS numbers them (``0001``, ``0002``, ...);
- DescribeTargetGroups is read once for the region (moto raises TargetGroupNotFound when asked
  for the groups of a load balancer that has none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dd0c_cost.zombies import inventory_compute, inventory_databases, inventory_network
from dd0c_cost.zombies.inventory_reader import DependsOn, Reader
from dd0c_cost.zombies.models import Resource, ResourceType

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthFailure",
        "AuthorizationError",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "OptInRequired",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
THROTTLED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)


def classify_error(exc: BaseException) -> str:
    """``access_denied`` | ``throttled`` | ``error`` for an AWS call's exception."""
    code = ""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
    if code in ACCESS_DENIED_CODES:
        return "access_denied"
    if code in THROTTLED_CODES:
        return "throttled"
    return "error"


def error_detail(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        err = response["Error"]
        return f"{err.get('Code', '')}: {err.get('Message', '')}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


@dataclass
class SectionError:
    kind: str  # access_denied | throttled | error
    detail: str


@dataclass
class Inventory:
    account_id: str
    region: str
    resources: list[Resource] = field(default_factory=list)
    errors: dict[str, SectionError] = field(default_factory=dict)  # section -> error
    calls: dict[str, int] = field(default_factory=dict)  # IAM action ("ec2:DescribeVolumes") -> requests

    def unchecked_types(self) -> set[ResourceType]:
        return {t for section in self.errors for t in SECTION_TYPES[section]}


# Which resource types each section yields (a type is complete only if all its sections are).
SECTION_TYPES: dict[str, tuple[ResourceType, ...]] = {
    "ec2": (ResourceType.EC2_INSTANCE, ResourceType.EBS_VOLUME, ResourceType.ELASTIC_IP),
    "snapshots": (ResourceType.EBS_SNAPSHOT,),
    "nat": (ResourceType.NAT_GATEWAY,),
    "elbv2": (ResourceType.LOAD_BALANCER,),
    "elb": (ResourceType.LOAD_BALANCER,),
    "rds": (ResourceType.RDS_INSTANCE,),
    "elasticache": (ResourceType.ELASTICACHE_CLUSTER,),
    "redshift": (ResourceType.REDSHIFT_CLUSTER,),
    "opensearch": (ResourceType.OPENSEARCH_DOMAIN,),
    "sagemaker": (ResourceType.SAGEMAKER_ENDPOINT,),
}


# The sections in the order they run (snapshots read the volume ids the EC2 section saw).
SECTIONS: dict[str, Callable[[Reader, Inventory, dict], list[Resource]]] = {
    "ec2": inventory_compute.read_ec2,
    "snapshots": inventory_compute.read_snapshots,
    "nat": inventory_network.read_nat,
    "elbv2": inventory_network.read_elbv2,
    "elb": inventory_network.read_elb,
    "rds": inventory_databases.read_rds,
    "elasticache": inventory_databases.read_elasticache,
    "redshift": inventory_databases.read_redshift,
    "opensearch": inventory_databases.read_opensearch,
    "sagemaker": inventory_compute.read_sagemaker,
}


def read_region(
    session, account_id: str, region: str, *, client_config=None, sections: Iterable[str] | None = None
) -> Inventory:
    """Describe every section of ``region`` with ``session`` (a boto3 Session for the customer's
    role); errors are recorded per section, never raised."""
    inv = Inventory(account_id, region)
    reader = Reader(session, region, inv, client_config)
    shared: dict = {}
    for name in sections or SECTIONS:
        try:
            inv.resources.extend(SECTIONS[name](reader, inv, shared))
        except DependsOn as exc:
            failed = inv.errors.get(exc.section)
            inv.errors[name] = SectionError(failed.kind if failed else "error", str(exc))
        except Exception as exc:  # noqa: BLE001 - recorded per section; the others carry on
            inv.errors[name] = SectionError(classify_error(exc), error_detail(exc))
    return inv
