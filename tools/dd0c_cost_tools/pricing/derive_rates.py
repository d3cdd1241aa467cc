"""The scalar rates of a refreshed snapshot (``rates.json``): the Price List's listed rates per
item and region, the other regions derived by each item's policy, and the items the Price List
mapping does not produce carried over from the base snapshot."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from dd0c_cost_tools.pricing.carry_over import BaseSnapshot
from dd0c_cost_tools.pricing.derive_tables import Derivation, newest_date
from dd0c_cost_tools.pricing.price_list import EKS_SURCHARGE, RATE_ALIASES, SOURCE, rate_spec
from dd0c_cost_tools.pricing.price_queries import RATE_QUERIES, Collector
from dd0c_cost_tools.pricing.refresh_report import RefreshReport
from dd0c_cost_tools.pricing.snapshot import BASE_REGION, HOURS_PER_MONTH, SCHEMA, derived_rates


def derive_rates(d: Derivation, collected: dict[str, Collector], ratios: dict, known: list[str]) -> None:
    rate_items, rate_prov = _build_rates(
        collected.get("rates") if d.refreshing("rates") else None, d.base, ratios, known, d.plan.run_date, d.report
    )
    base_rates = d.base.raw("rates")
    aliases = dict(base_rates.get("aliases", RATE_ALIASES)) if base_rates else dict(RATE_ALIASES)
    rates_header = {"schema": SCHEMA, "table": "rates", "hours_per_month": HOURS_PER_MONTH, "aliases": aliases}
    d.tables["rates"] = {"header": rates_header, "big": {"items": rate_items}}
    if rate_prov:
        d.prov_tables["rates"] = rate_prov
        if rate_prov["as_of_max"]:
            d.as_ofs.append(rate_prov["as_of_max"])


def _build_rates(
    c: Collector | None,
    base: BaseSnapshot,
    ratios: dict[str, dict],
    known: list[str],
    run_date: str,
    report: RefreshReport,
) -> tuple[dict[str, dict], dict]:
    base_items: dict[str, dict] = (base.raw("rates") or {}).get("items", {})
    items: dict[str, dict] = {}
    prov: dict = {}
    if c is not None:
        listed, published, units = _listed_rates(c, run_date)
        for item in sorted(listed):
            items[item] = _rate_item(item, listed[item], published[item], units[item], ratios, known, run_date)
        report.rate_items = len(items)
        report.rows["rates"] = sum(len(v["listed"]) for v in items.values())
        report.locations["rates"] = len({r for v in items.values() for r in v["listed"]})
        report.conflicts += len(c.conflicts)
        if not items:
            report.warnings.append("rates: no scalar rate came back from the API; all items carried over")
        prov = _rates_provenance(items, c)
    for name in sorted(base_items):
        if name not in items:
            items[name] = base_items[name]
            report.carried_over.append(name)
    return dict(sorted(items.items())), prov


def _listed_rates(
    c: Collector, run_date: str
) -> tuple[dict[str, dict[str, Decimal]], dict[str, set[str]], dict[str, set[str]]]:
    """Per rate item: the listed USD by region, the publication dates and the Price List units;
    EKS extended support = cluster hour + its surcharge, where both are listed."""
    listed: dict[str, dict[str, Decimal]] = defaultdict(dict)
    published: dict[str, set[str]] = defaultdict(set)
    units: dict[str, set[str]] = defaultdict(set)
    for (item, region), usd in c.values.items():
        listed[item][region] = usd
        published[item].add(c.published.get((item, region)) or run_date)
        units[item] |= c.units[(item, region)]
    surcharge = listed.pop(EKS_SURCHARGE, {})
    cluster = listed.get("eks/cluster_hour", {})
    ext = {r: cluster[r] + s for r, s in surcharge.items() if r in cluster}
    if ext:
        listed["eks/cluster_extended_support_hour"] = ext
        published["eks/cluster_extended_support_hour"] = published[EKS_SURCHARGE] | published["eks/cluster_hour"]
        units["eks/cluster_extended_support_hour"] = units[EKS_SURCHARGE]
    return listed, published, units


def _rate_item(
    item: str,
    listed: dict[str, Decimal],
    published: set[str],
    units: set[str],
    ratios: dict[str, dict],
    known: list[str],
    run_date: str,
) -> dict:
    """One rate item of rates.json: its listed regions, and the others derived by its policy."""
    spec = rate_spec(item)
    values = {r: float(usd * spec.scale) for r, usd in sorted(listed.items())}
    base_region = BASE_REGION if BASE_REGION in values else min(values)
    derived, _ = derived_rates(values, base_region, spec.policy, ratios, known)
    service_code = item.split("/", 1)[0]
    return {
        "unit": spec.unit,
        "native_unit": "|".join(sorted(u for u in units if u)) or "?",
        "divide_by": spec.divide_by,
        "policy": spec.policy,
        "base_region": base_region,
        "as_of": newest_date(published, run_date),
        "source": f"AWS Price List Query API ({service_code})"
        + ("; = cluster hour + extended-support surcharge" if item == "eks/cluster_extended_support_hour" else "")
        + (f"; x {spec.scale} per Price List unit" if spec.scale != 1 else ""),
        "listed_source": SOURCE,
        "listed": values,
        "derived": derived,
    }


def _rates_provenance(items: dict[str, dict], c: Collector) -> dict:
    """The rates table's entry in provenance.json."""
    return {
        "file": "rates.json",
        "source": SOURCE,
        "sources": {
            SOURCE: "AWS Price List Query API (pricing:GetProducts): per region, "
            + "; ".join(f"{code} {dict(extra) or ''}".strip() for code, extra in RATE_QUERIES)
        },
        "as_of": {k: v["as_of"] for k, v in sorted(items.items())},
        "as_of_max": max((v["as_of"] for v in items.values()), default=""),
        "items": len(items),
        "conflicts": sorted(c.conflicts),
        "decisions": {
            "scaled": "region without a listed rate: base-region rate x ratio(region) / ratio(base region), "
            "6 significant digits; estimated",
            "flat": "eks cluster hours and public IPv4: base-region rate unchanged; estimated",
            "eks_extended_support": "cluster hour + AmazonEKS-Hours:extendedSupport surcharge",
            "tiers": "first priced tier (lowest beginRange with a positive price; free tiers skipped)",
            "carried_over": "items the Price List mapping does not produce keep the base snapshot's values",
        },
    }
