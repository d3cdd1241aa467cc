"""Services with no licensed price source (docs/pricing.md "Known gaps"): why, and the attributes
still read so that shape-based scoring can use them. Apart from the priced parts because the scorer
names only the reasons, and should not load every service's pricing for them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dd0c_cost.pricing.quote import UNKNOWN, Part, Quote


def unpriced(book, region: str, a: Mapping[str, Any]) -> Quote:
    """A service with no licensed price source: always unknown."""
    return UNKNOWN


NO_SOURCE = (Part((), unpriced),)
# SageMaker: the sizing is still read (and inherited) so that shape-based scoring can use it.
SAGEMAKER_SHAPE = (Part(("instance_type", "instance_count", "volume_size"), unpriced),)
BEDROCK_SHAPE = (Part(("model_units", "model_id"), unpriced),)

# Why each unpriced pricer has no price (docs/pricing.md "Known gaps"; listed by the corpus test).
NO_PRICE_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "sagemaker": "SageMaker ml.* instance rates are in no permissively licensed source we hold "
        "(shared/pricing, shared/pricing-extra); `pricing refresh` reads them from the AWS Price List API",
        "bedrock": "Bedrock provisioned throughput is priced per model and term on the console only; "
        "no public list-price source",
        "transit_gateway": "Transit Gateway attachment hours are in no permissively licensed source we hold",
    }
)
