"""Lambda: provisioned concurrency (priced per GB-second of configured memory; see pricers)."""

from __future__ import annotations

from dd0c_cost.catalogue.entries._build import C, D, e
from dd0c_cost.events.paths import Join

LAMBDA = "lambda.amazonaws.com"

_LAMBDA_PC_ID = (
    Join(":", "requestParameters.functionName", "requestParameters.qualifier"),
    "requestParameters.functionName",
)

ENTRIES = (
    # --- Lambda ----------------------------------------------------------------------------------
    e(
        LAMBDA,
        "PutProvisionedConcurrencyConfig",
        "lambda",
        "lambda:provisioned-concurrency",
        C,
        resource_ids=_LAMBDA_PC_ID,
        attributes={
            "concurrency": (
                "requestParameters.provisionedConcurrentExecutions",
                "responseElements.requestedProvisionedConcurrentExecutions",
            )
        },
        pricer="lambda_provisioned_concurrency",
    ),
    e(
        LAMBDA,
        "DeleteProvisionedConcurrencyConfig",
        "lambda",
        "lambda:provisioned-concurrency",
        D,
        resource_ids=_LAMBDA_PC_ID,
        pricer="lambda_provisioned_concurrency",
        inherit_attributes=True,
    ),
)
