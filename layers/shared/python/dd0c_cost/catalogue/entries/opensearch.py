"""OpenSearch / Elasticsearch domains: both event sources and both API generations."""

from __future__ import annotations

from typing import Any

from dd0c_cost.catalogue.entries._build import C, D, M
from dd0c_cost.catalogue.reader import CatalogueEntry

_ES = "es.amazonaws.com"
_OPENSEARCH = "opensearch.amazonaws.com"


# OpenSearch / Elasticsearch: the same fields under clusterConfig (OpenSearch API) or
# elasticsearchClusterConfig (legacy API); responses carry them under domainStatus, and an
# Update*DomainConfig response under domainConfig.<option>.options.
def _domain_paths(
    field_name: str, *, ebs: bool = False, request: bool = True, status: bool = True, config: bool = False
) -> tuple[str, ...]:
    groups = ("eBSOptions",) if ebs else ("clusterConfig", "elasticsearchClusterConfig")
    out: list[str] = []
    if request:
        out += [f"requestParameters.{g}.{field_name}" for g in groups]
    if status:
        out += [f"responseElements.domainStatus.{g}.{field_name}" for g in groups]
    if config:
        out += [f"responseElements.domainConfig.{g}.options.{field_name}" for g in groups]
    return tuple(out)


def _domain_attrs(**where: bool) -> dict[str, tuple[str, ...]]:
    return {
        "instance_type": _domain_paths("instanceType", **where),
        "instance_count": _domain_paths("instanceCount", **where),
        "master_enabled": _domain_paths("dedicatedMasterEnabled", **where),
        "master_type": _domain_paths("dedicatedMasterType", **where),
        "master_count": _domain_paths("dedicatedMasterCount", **where),
        "warm_enabled": _domain_paths("warmEnabled", **where),
        "warm_type": _domain_paths("warmType", **where),
        "warm_count": _domain_paths("warmCount", **where),
        "ebs_enabled": _domain_paths("eBSEnabled", ebs=True, **where),
        "volume_type": _domain_paths("volumeType", ebs=True, **where),
        "volume_size": _domain_paths("volumeSize", ebs=True, **where),
        "iops": _domain_paths("iops", ebs=True, **where),
    }


_DOMAIN_ID = ("requestParameters.domainName", "responseElements.domainStatus.domainName")
_DOMAIN_CREATE = _domain_attrs()
_DOMAIN_DELETE = _domain_attrs(request=False)
_DOMAIN_UPDATE = _domain_attrs(status=False)
_DOMAIN_UPDATE_PREVIOUS = _domain_attrs(request=False, status=False, config=True)


def _domain_entries(source: str) -> list[CatalogueEntry]:
    common: dict[str, Any] = {
        "service": "opensearch",
        "resource_type": "es:domain",
        "resource_ids": _DOMAIN_ID,
        "pricer": "opensearch_domain",
    }
    creates = ("CreateDomain", "CreateElasticsearchDomain") if source == _ES else ("CreateDomain",)
    deletes = ("DeleteDomain", "DeleteElasticsearchDomain") if source == _ES else ("DeleteDomain",)
    updates = ("UpdateDomainConfig", "UpdateElasticsearchDomainConfig") if source == _ES else ("UpdateDomainConfig",)
    out = [CatalogueEntry(source, n, action=C, attributes=_DOMAIN_CREATE, **common) for n in creates]
    out += [
        CatalogueEntry(source, n, action=D, attributes=_DOMAIN_DELETE, inherit_attributes=True, **common)
        for n in deletes
    ]
    out += [
        CatalogueEntry(
            source,
            n,
            action=M,
            attributes=_DOMAIN_UPDATE,
            previous=_DOMAIN_UPDATE_PREVIOUS,
            inherit_attributes=True,
            **common,
        )
        for n in updates
    ]
    return out


ENTRIES = (
    # --- OpenSearch / Elasticsearch (both event sources and both API generations) -----------------
    *_domain_entries(_ES),
    *_domain_entries(_OPENSEARCH),
)
