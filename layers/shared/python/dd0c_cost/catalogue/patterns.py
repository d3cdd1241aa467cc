"""The EventBridge patterns that forward only what the catalogue prices (central bus rules and
the customer template's forwarding rules)."""

from __future__ import annotations

from dd0c_cost.catalogue.entries import ENTRIES
from dd0c_cost.catalogue.entries.awslambda import LAMBDA

# Event sources whose CloudTrail eventName carries an API-version suffix
# (PutProvisionedConcurrencyConfig20190930, ...): EventBridge must match these by prefix.
VERSION_SUFFIXED_SOURCES = frozenset({LAMBDA})
CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail"


def cost_relevant_event_names() -> dict[str, list[str]]:
    """eventSource -> eventNames, for the EventBridge rules that forward only what we price.

    Names are the base names. For the sources in :data:`VERSION_SUFFIXED_SOURCES` (Lambda)
    CloudTrail appends an API version (``…20150331``, ``…20150331v2``): match those by prefix
    (:func:`event_patterns` does).
    """
    out: dict[str, list[str]] = {}
    for entry in ENTRIES:
        names = out.setdefault(entry.event_source, [])
        if entry.event_name not in names:
            names.append(entry.event_name)
    return out


def _name_matchers(source: str, names: list[str]) -> list:
    if source in VERSION_SUFFIXED_SOURCES:
        return [{"prefix": n} for n in names]
    return list(names)


def event_patterns(max_chars: int = 2048) -> list[dict]:
    """The EventBridge patterns that match every catalogue entry, each at most ``max_chars``
    (compact JSON; EventBridge's default limit is 2,048, adjustable to 4,096), grouping event
    sources; one EventBridge rule per pattern.

    eventSource and eventName are matched independently within a pattern (a cross product), so a
    rule also lets through a few (source, name) pairs that are not in the catalogue; the
    normaliser drops those as ``not_in_catalogue``.
    """
    import json

    def pattern(group: dict[str, list[str]]) -> dict:
        exact = sorted({n for s, ns in group.items() if s not in VERSION_SUFFIXED_SOURCES for n in ns})
        prefixes = [{"prefix": n} for s, ns in group.items() if s in VERSION_SUFFIXED_SOURCES for n in ns]
        return {
            "source": sorted({"aws." + s.split(".", 1)[0] for s in group}),
            "detail-type": [CLOUDTRAIL_API_CALL],
            "detail": {"eventSource": sorted(group), "eventName": exact + prefixes},
        }

    def size(p: dict) -> int:
        return len(json.dumps(p, separators=(",", ":")))

    out: list[dict] = []
    group: dict[str, list[str]] = {}
    for source, names in cost_relevant_event_names().items():
        trial = {**group, source: names}
        if group and size(pattern(trial)) > max_chars:
            out.append(pattern(group))
            group = {source: names}
        else:
            group = trial
        if size(pattern(group)) > max_chars:
            raise ValueError(f"the names of {source} alone exceed {max_chars} characters")
    if group:
        out.append(pattern(group))
    return out
