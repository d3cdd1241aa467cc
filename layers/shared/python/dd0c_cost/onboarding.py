"""Connecting a customer's AWS account: the database side, and what the customer launches.

The customer launches the onboarding template (``docs/onboarding/dd0c-cost-customer.template.json``,
built from ``cdk/dd0c_cost_cdk/customer_stack.py``) once per region they use. It forwards the
cost-relevant CloudTrail events of that region to the central bus and, in one region only
(``CreateReaderRole=true``), creates the ``dd0c-reader`` role dd0c assumes with the account's
ExternalId. The names below are shared by the template and ``connect_account``: declared once.
"""

from __future__ import annotations

import re
from urllib.parse import quote
from uuid import UUID

import psycopg

from dd0c_cost.db import operator
from dd0c_cost.db.connection import Connection

# The customer template's contract (read by cdk/dd0c_cost_cdk/customer_stack.py).
PARAM_CENTRAL_BUS_ARN = "CentralBusArn"
PARAM_DD0C_ACCOUNT_ID = "DD0CAccountId"
PARAM_EXTERNAL_ID = "ExternalId"
PARAM_CREATE_READER_ROLE = "CreateReaderRole"
PARAM_ENABLE_REMEDIATION = "EnableRemediation"
READER_ROLE_NAME = "dd0c-reader"
# The opt-in role dd0c assumes to remediate from Slack (template parameter EnableRemediation).
REMEDIATOR_ROLE_NAME = "dd0c-remediator"
FORWARDING_RULE_PREFIX = "dd0c-cost-forward"  # rules dd0c-cost-forward-1, -2, ... (one per pattern)
CUSTOMER_STACK_NAME = "dd0c-cost"
TEMPLATE_FILE_NAME = "dd0c-cost-customer.template.json"
EXTERNAL_ID_PATTERN = r"^[\w+=,.@:/-]{16,1224}$"  # IAM's ExternalId alphabet; dd0c issues 32 characters

# What dd0c-reader may do: exactly the read-only control-plane calls the zombie scan and the usage
# poller make, listed one by one: no wildcards, no data-plane reads. Resource "*": these
# Describe/List/metric/cost calls either have no resource-level permissions (EC2, ELB,
# CloudWatch, Cost Explorer) or must see every resource of the account.
#
# The zombie scan (dd0c_cost.zombies.inventory and its batched cloudwatch:GetMetricData). A test
# scans an account holding every resource type and checks the calls made are this list, no more
# and no less.
ZOMBIE_SCAN_ACTIONS: tuple[str, ...] = (
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeAddresses",
    "ec2:DescribeSnapshots",
    "ec2:DescribeImages",
    "ec2:DescribeNatGateways",
    "ec2:DescribeRouteTables",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "rds:DescribeDBInstances",
    "elasticache:DescribeCacheClusters",
    "elasticache:ListTagsForResource",
    "redshift:DescribeClusters",
    "es:ListDomainNames",
    "es:DescribeDomains",
    "es:ListTags",
    "sagemaker:ListEndpoints",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:ListTags",
    "cloudwatch:GetMetricData",
)
# The usage poller (dd0c_cost.usage.sources): the account's per-service AWS/Billing EstimatedCharges
# metrics (ListMetrics finds them, GetMetricData reads them) and, where the tenant enables it, Cost
# Explorer's hourly cost by service and usage type. A test checks a poll calls exactly these.
USAGE_POLL_ACTIONS: tuple[str, ...] = (
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricData",
    "ce:GetCostAndUsage",
)
# Sizing resources sized before the history began (dd0c_cost.sizing.describers.SIZING_ACTIONS,
# checked equal in tests): already in the zombie scan's list, so the template does not change.
SIZING_ACTIONS: tuple[str, ...] = ("ec2:DescribeInstances", "ec2:DescribeVolumes", "rds:DescribeDBInstances")
READER_ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(ZOMBIE_SCAN_ACTIONS + USAGE_POLL_ACTIONS + SIZING_ACTIONS))

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_BUS_ARN = re.compile(
    r"^arn:(aws[a-z-]*):events:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):event-bus/[A-Za-z0-9._\-/]{1,256}$"
)
_CONSOLE = {
    "aws": "console.aws.amazon.com",
    "aws-us-gov": "console.amazonaws-us-gov.com",
    "aws-cn": "console.amazonaws.cn",
}

# Placeholders left in quick_create_url_format; the operator's template URL (an S3 https URL
# where the template is published) fills {template_url}, URL-encoded.
TEMPLATE_URL_PLACEHOLDER = "{template_url}"


EVENT_PATTERN_MAX_CHARS = 2048  # EventBridge's default quota for one rule's pattern


def forwarding_event_patterns() -> list[dict]:
    """The customer's forwarding rules' patterns, one rule each: the event catalogue's
    (``catalogue.event_patterns``: the catalogue's sources and names, Lambda's
    API-version-suffixed names by prefix), split to fit EventBridge's default pattern size."""
    from dd0c_cost.catalogue import event_patterns

    return event_patterns(EVENT_PATTERN_MAX_CHARS)


class OnboardingError(ValueError):
    """The request cannot be honoured as given; the message says what to change."""


def _validate(
    account_id: str, regions: list[str] | tuple[str, ...], central_bus_arn: str, dd0c_account_id: str
) -> tuple[list[str], str]:
    if not isinstance(account_id, str) or not _ACCOUNT.match(account_id):
        raise OnboardingError(f"account id {account_id!r} is not a 12-digit AWS account id")
    if not isinstance(dd0c_account_id, str) or not _ACCOUNT.match(dd0c_account_id):
        raise OnboardingError(f"dd0c account id {dd0c_account_id!r} is not a 12-digit AWS account id")
    if account_id == dd0c_account_id:
        raise OnboardingError("the customer account cannot be the dd0c account itself")
    wanted = list(dict.fromkeys(r.strip() for r in regions if isinstance(r, str) and r.strip()))
    if not wanted:
        raise OnboardingError("give at least one region the customer uses (their events are regional)")
    bad = [r for r in wanted if not _REGION.match(r)]
    if bad:
        raise OnboardingError(f"not region names: {', '.join(bad)}")
    match = _BUS_ARN.match(central_bus_arn or "")
    if not match:
        raise OnboardingError(
            f"central bus ARN {central_bus_arn!r} is not an EventBridge bus ARN "
            "(arn:aws:events:<region>:<account>:event-bus/<name>; the stack's EventBusArn output)"
        )
    partition, _bus_region, bus_account = match.groups()
    if bus_account != dd0c_account_id:
        raise OnboardingError(
            f"the central bus belongs to account {bus_account}, not to the dd0c account {dd0c_account_id}"
        )
    return wanted, partition


def quick_create_url_format(partition: str, parameters: dict[str, str], stack_name: str = CUSTOMER_STACK_NAME) -> str:
    """The CloudFormation console's quick-create link with every parameter filled in, and
    ``{region}``, ``{create_reader_role}`` and ``{template_url}`` left as placeholders."""
    host = _CONSOLE.get(partition, _CONSOLE["aws"])
    params = "".join(f"&param_{name}={quote(value, safe='')}" for name, value in parameters.items())
    return (
        f"https://{host}/cloudformation/home?region={{region}}#/stacks/quickcreate"
        f"?templateURL={TEMPLATE_URL_PLACEHOLDER}&stackName={quote(stack_name, safe='')}{params}"
        f"&param_{PARAM_CREATE_READER_ROLE}={{create_reader_role}}"
    )


def connect_account(
    conn_operator: Connection,
    tenant_name: str,
    account_id: str,
    regions: list[str] | tuple[str, ...],
    central_bus_arn: str,
    dd0c_account_id: str,
    *,
    template_url: str | None = None,
) -> dict:
    """Connect ``account_id`` to the tenant (created if new, like ``dd0c-cost accounts``) and
    say what the customer launches.

    Idempotent: connecting again returns the same ExternalId and adds any new regions.
    ``template_url`` (where the operator published the template, an S3 https URL) fills the
    quick-create links; without it they keep the ``{template_url}`` placeholder.

    Raises OnboardingError for malformed input or an account another tenant owns.

    Returns a JSON-serialisable dict:
      tenant, tenant_id, account_id, created, external_id, regions, home_region,
      reader_role_arn, stack_name, template_parameters (CentralBusArn, DD0CAccountId,
      ExternalId), quick_create_url_format (placeholders {region}, {create_reader_role},
      {template_url}), template_url, stacks (one per region: region, parameters incl.
      CreateReaderRole — "true" only in the home region — and quick_create_url), next_steps.
    """
    wanted, partition = _validate(account_id, regions, central_bus_arn, dd0c_account_id)
    if not isinstance(tenant_name, str) or not tenant_name.strip():
        raise OnboardingError("tenant name is empty")
    tenant_id: UUID = operator.ensure_tenant(conn_operator, tenant_name)
    try:
        connection = operator.connect_account(conn_operator, tenant_id, account_id, wanted)
    except operator.AccountOwnedByAnotherTenant as exc:
        raise OnboardingError(str(exc)) from None

    return describe_onboarding(
        tenant_id,
        account_id,
        connection.external_id,
        connection.regions,
        partition,
        central_bus_arn,
        dd0c_account_id,
        tenant_name=tenant_name,
        created=connection.created,
        approved=True,
        template_url=template_url,
    )


def request_account_connection(
    conn: Connection,
    tenant_id: UUID,
    account_id: str,
    regions: list[str] | tuple[str, ...],
    central_bus_arn: str,
    dd0c_account_id: str,
    *,
    template_url: str | None = None,
) -> dict:
    """A tenant asks for an account (``POST /v1/accounts``), on the runtime role: the account is
    recorded as pending until an operator approves it (``dd0c-cost accounts connect``), and its
    events resolve to no tenant until then. Same answer shape as ``connect_account``, plus
    ``approved``. Raises OnboardingError for malformed input or another tenant's account."""
    from dd0c_cost.db.connection import tenant_transaction

    wanted, partition = _validate(account_id, regions, central_bus_arn, dd0c_account_id)
    try:
        with tenant_transaction(conn, tenant_id):
            row = conn.execute("SELECT * FROM dd0c.request_account(%s, %s)", [account_id, wanted]).fetchone()
    except psycopg.errors.UniqueViolation:
        raise OnboardingError(f"account {account_id} is already connected to another tenant") from None
    return describe_onboarding(
        tenant_id,
        account_id,
        row["external_id"],
        tuple(row["regions"]),
        partition,
        central_bus_arn,
        dd0c_account_id,
        created=row["created"],
        approved=row["approved"],
        template_url=template_url,
    )


def describe_onboarding(
    tenant_id: UUID,
    account_id: str,
    external_id: str,
    regions: tuple[str, ...],
    partition: str,
    central_bus_arn: str,
    dd0c_account_id: str,
    *,
    tenant_name: str | None = None,
    created: bool,
    approved: bool,
    template_url: str | None = None,
) -> dict:
    """What the customer launches, per region, for one connected (or requested) account."""
    # The reader role is global (IAM): created by the stack in the first region recorded.
    home = regions[0]
    parameters = {
        PARAM_CENTRAL_BUS_ARN: central_bus_arn,
        PARAM_DD0C_ACCOUNT_ID: dd0c_account_id,
        PARAM_EXTERNAL_ID: external_id,
        # Opt-in: the customer sets it to true (console or StackSet) to allow remediation from Slack.
        PARAM_ENABLE_REMEDIATION: "false",
    }
    url_format = quick_create_url_format(partition, parameters)
    filled_template = quote(template_url, safe="") if template_url else TEMPLATE_URL_PLACEHOLDER
    stacks = []
    for region in regions:
        create_role = "true" if region == home else "false"
        url = url_format.replace("{region}", region).replace("{create_reader_role}", create_role)
        stacks.append(
            {
                "region": region,
                "parameters": {**parameters, PARAM_CREATE_READER_ROLE: create_role},
                "quick_create_url": url.replace(TEMPLATE_URL_PLACEHOLDER, filled_template),
            }
        )
    return {
        "tenant": tenant_name,
        "tenant_id": str(tenant_id),
        "account_id": account_id,
        "created": created,
        "approved": approved,
        "external_id": external_id,
        "regions": list(regions),
        "home_region": home,
        "reader_role_arn": f"arn:{partition}:iam::{account_id}:role/{READER_ROLE_NAME}",
        "stack_name": CUSTOMER_STACK_NAME,
        "template_parameters": parameters,
        "quick_create_url_format": url_format,
        "template_url": template_url,
        "stacks": stacks,
        "next_steps": (
            []
            if approved
            else [
                f"Waiting for an operator to approve account {account_id} (dd0c-cost accounts connect {account_id} "
                f"--tenant <tenant> --regions {' '.join(regions)}); until then its events are not attributed to you.",
            ]
        )
        + [
            f"Allow account {account_id} to put events on the central bus: add it to the dd0c stack's "
            "connectedAccountIds (or deploy with its organizationId) and redeploy.",
            f"The customer launches stack {CUSTOMER_STACK_NAME!r} in each region listed, with the parameters "
            f"shown ({PARAM_CREATE_READER_ROLE}=true only in {home}), or as a StackSet with {PARAM_CREATE_READER_ROLE}"
            f" overridden to true for {home} only.",
            "The account needs a CloudTrail trail that logs management events: EventBridge only receives "
            "'AWS API Call via CloudTrail' events while a trail is logging.",
        ],
    }


__all__ = [
    "CUSTOMER_STACK_NAME",
    "EXTERNAL_ID_PATTERN",
    "FORWARDING_RULE_PREFIX",
    "PARAM_CENTRAL_BUS_ARN",
    "PARAM_CREATE_READER_ROLE",
    "PARAM_DD0C_ACCOUNT_ID",
    "PARAM_ENABLE_REMEDIATION",
    "PARAM_EXTERNAL_ID",
    "READER_ACTIONS",
    "READER_ROLE_NAME",
    "REMEDIATOR_ROLE_NAME",
    "TEMPLATE_FILE_NAME",
    "OnboardingError",
    "connect_account",
    "describe_onboarding",
    "forwarding_event_patterns",
    "quick_create_url_format",
    "request_account_connection",
]
