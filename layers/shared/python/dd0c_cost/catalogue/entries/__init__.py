"""The catalogue's entries, as data: one module per AWS service family; ``ENTRIES`` keeps the
order below (it is the order of the EventBridge patterns, so of the synthesised rules)."""

from __future__ import annotations

from dd0c_cost.catalogue.entries import (
    awslambda,
    dynamodb,
    ec2,
    eks,
    elasticache,
    elb,
    opensearch,
    rds,
    redshift,
    unpriced,
)
from dd0c_cost.catalogue.reader import CatalogueEntry

ENTRIES: tuple[CatalogueEntry, ...] = (
    *ec2.ENTRIES,
    *rds.ENTRIES,
    *elb.ENTRIES,
    *awslambda.ENTRIES,
    *dynamodb.ENTRIES,
    *elasticache.ENTRIES,
    *redshift.ENTRIES,
    *opensearch.ENTRIES,
    *eks.ENTRIES,
    *unpriced.ENTRIES,
)
