"""DynamoDB: provisioned tables."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, M, e
from dd0c_cost.events.paths import Sum

_DDB = "dynamodb.amazonaws.com"

# DynamoDB
_TABLE_ID = ("requestParameters.tableName", "responseElements.tableDescription.tableName")
_TABLE_ATTRS = {
    "billing_mode": (
        "requestParameters.billingMode",
        "responseElements.tableDescription.billingModeSummary.billingMode",
    ),
    "wcu": (
        "requestParameters.provisionedThroughput.writeCapacityUnits",
        "responseElements.tableDescription.provisionedThroughput.writeCapacityUnits",
    ),
    "rcu": (
        "requestParameters.provisionedThroughput.readCapacityUnits",
        "responseElements.tableDescription.provisionedThroughput.readCapacityUnits",
    ),
    "gsi_wcu": (
        Sum("requestParameters.globalSecondaryIndexes[*].provisionedThroughput.writeCapacityUnits"),
        Sum("responseElements.tableDescription.globalSecondaryIndexes[*].provisionedThroughput.writeCapacityUnits"),
    ),
    "gsi_rcu": (
        Sum("requestParameters.globalSecondaryIndexes[*].provisionedThroughput.readCapacityUnits"),
        Sum("responseElements.tableDescription.globalSecondaryIndexes[*].provisionedThroughput.readCapacityUnits"),
    ),
}
_TABLE_PREVIOUS = {
    "billing_mode": ("responseElements.tableDescription.billingModeSummary.billingMode",),
    "wcu": ("responseElements.tableDescription.provisionedThroughput.writeCapacityUnits",),
    "rcu": ("responseElements.tableDescription.provisionedThroughput.readCapacityUnits",),
    "gsi_wcu": (
        Sum("responseElements.tableDescription.globalSecondaryIndexes[*].provisionedThroughput.writeCapacityUnits"),
    ),
    "gsi_rcu": (
        Sum("responseElements.tableDescription.globalSecondaryIndexes[*].provisionedThroughput.readCapacityUnits"),
    ),
}

ENTRIES = (
    # --- DynamoDB --------------------------------------------------------------------------------
    e(
        _DDB,
        "CreateTable",
        "dynamodb",
        "dynamodb:table",
        C,
        resource_ids=_TABLE_ID,
        attributes=_TABLE_ATTRS,
        pricer="dynamodb_table",
        note="provisioned WCU/RCU incl. GSIs; on-demand tables have no standing charge",
    ),
    e(
        _DDB,
        "UpdateTable",
        "dynamodb",
        "dynamodb:table",
        M,
        resource_ids=_TABLE_ID,
        attributes={
            "billing_mode": ("requestParameters.billingMode",),
            "wcu": ("requestParameters.provisionedThroughput.writeCapacityUnits",),
            "rcu": ("requestParameters.provisionedThroughput.readCapacityUnits",),
        },
        previous=_TABLE_PREVIOUS,
        pricer="dynamodb_table",
        inherit_attributes=True,
    ),
    e(
        _DDB,
        "DeleteTable",
        "dynamodb",
        "dynamodb:table",
        D,
        resource_ids=_TABLE_ID,
        attributes=_TABLE_PREVIOUS,
        pricer="dynamodb_table",
        inherit_attributes=True,
    ),
)
