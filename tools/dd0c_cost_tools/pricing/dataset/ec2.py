"""The EC2 and Local Zone tables from the data set, where its two EC2 sources are reconciled row
by row: .metal rows take ec2instances' price (Karpenter's carries an uplift), GPU rows priced
before AWS's 2025 cut are scaled by their family's cut ratio, and Karpenter's current GPU rows are
kept; region ratios come only from unflagged rows."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from dd0c_cost_tools.pricing.dataset.rows import BuildError, family_of, one, read_csv
from dd0c_cost_tools.pricing.snapshot import BASE_REGION, SCHEMA, median_ratios, parent_ratios, ratio4, sig6

EC2_METAL_FLAG = "karpenter_metal_price_differs_from_ec2instances_2024(dedicated-tenancy-like uplift)"
EC2_GPU_CURRENT_FLAG = "gpu_price_cut_2025(karpenter_current)"
EC2_GPU_STALE_FLAG = "stale_pre_2025_gpu_price_cut"
PAIR_METHOD = "pair: karpenter (post-cut) / ec2instances 2024 (pre-cut)"


def gpu_cut_ratios(rows: list[dict[str, str]]) -> dict[str, dict]:
    """The 2025 GPU price cut's ratio per family, from rows that carry both the pre-cut (alt,
    ec2instances 2024) and the post-cut (karpenter 2026) price for the same region and type."""
    pairs: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for r in rows:
        if r["flag"] == EC2_GPU_CURRENT_FLAG:
            pairs[family_of(r["instance_type"])].append(
                (r["region"], float(r["usd_per_hour"]) / float(r["alt_usd_per_hour"]))
            )
    if not pairs:
        raise BuildError("no GPU price-cut pairs found")
    all_pair_ratios = sorted(x for v in pairs.values() for _, x in v)
    stale_families = sorted({family_of(r["instance_type"]) for r in rows if r["flag"] == EC2_GPU_STALE_FLAG})
    gpu_cut: dict[str, dict] = {}
    for fam in sorted(set(stale_families) | set(pairs)):
        ps = sorted(pairs.get(fam, []))
        in_base = [x for reg, x in ps if reg == BASE_REGION]
        if in_base:
            ratio, method = statistics.median(in_base), f"{BASE_REGION} {PAIR_METHOD}"
        elif ps:
            ratio = statistics.median([x for _, x in ps])
            method = f"{'/'.join(reg for reg, _ in ps)} {PAIR_METHOD}"
        else:
            ratio = statistics.median(all_pair_ratios)
            method = "no pre/post pair in the data: median of the other families' ratios (AWS's cut for this family may differ)"
        gpu_cut[fam] = {"ratio": ratio4(ratio), "method": method}
    return gpu_cut


class Ec2Prices:
    """The EC2 prices as the snapshot keeps them: per region the listed source (its basis), the
    rows priced on another basis, and every reconciliation decision."""

    def __init__(self) -> None:
        self.prices: dict[str, dict[str, float]] = defaultdict(dict)
        self.overrides: dict[str, dict[str, str]] = defaultdict(dict)
        self.region_basis: dict[str, str] = {}
        self.decisions: dict[str, list] = {"metal_use_ec2instances": [], "gpu_keep_karpenter": [], "gpu_scaled": []}

    def add(self, r: dict[str, str], gpu_cut: dict[str, dict]) -> None:
        region, itype = r["region"], r["instance_type"]
        price, basis = float(r["usd_per_hour"]), r["source"]
        self.region_basis.setdefault(region, basis)
        if self.region_basis[region] != basis:
            raise BuildError(f"mixed sources in {region}")
        row_basis = basis
        if r["flag"] == EC2_METAL_FLAG:
            # README: the ec2instances value equals the virtualised size with the same vCPUs; the
            # karpenter value carries a ~6-10% uplift. Trust ec2instances.
            price, row_basis = float(r["alt_usd_per_hour"]), "ec2instances"
            self.decisions["metal_use_ec2instances"].append([region, itype, float(r["usd_per_hour"]), price])
        elif r["flag"] == EC2_GPU_CURRENT_FLAG:  # karpenter is current (post June 2025 cut)
            self.decisions["gpu_keep_karpenter"].append([region, itype, price, float(r["alt_usd_per_hour"])])
        elif r["flag"] == EC2_GPU_STALE_FLAG:
            ratio = gpu_cut[family_of(itype)]["ratio"]
            new = sig6(price * ratio)
            self.decisions["gpu_scaled"].append([region, itype, price, ratio, new])
            price, row_basis = new, "ec2instances_gpu_cut"
        elif r["flag"]:
            raise BuildError(f"unknown flag {r['flag']!r}")
        if itype in self.prices[region]:
            raise BuildError(f"duplicate {region} {itype}")
        self.prices[region][itype] = price
        if row_basis != basis:
            self.overrides[region][itype] = row_basis


def _p4d_check(rows: list[dict[str, str]], prices: dict[str, dict[str, float]], gpu_cut: dict) -> dict[str, bool]:
    """us-east-2's p4d (2024, = us-east-1's pre-cut price) x the cut ratio == karpenter's us-east-1 p4d."""
    if "p4d.24xlarge" not in prices.get(BASE_REGION, {}):
        return {}
    stale = next(
        (float(r["usd_per_hour"]) for r in rows if r["region"] == "us-east-2" and r["instance_type"] == "p4d.24xlarge"),
        None,
    )
    if stale is None:
        return {}
    return {
        "p4d_us-east-2_2024_x_cut_ratio_equals_us-east-1_2026": (
            abs(stale * gpu_cut["p4d"]["ratio"] - prices[BASE_REGION]["p4d.24xlarge"]) < 1e-4
        )
    }


def build_ec2(src: Path, prov: dict) -> tuple[dict, dict[str, dict[str, float]], dict]:
    """ec2.json's header and prices, and what the other tables derive from: the region ratios,
    the GPU cut ratios and the unflagged ("clean") prices."""
    rows = read_csv(src / "ec2_ondemand_linux.csv")
    as_of = {
        s: one({r["as_of"] for r in rows if r["source"] == s}, f"as_of for {s}") for s in ("karpenter", "ec2instances")
    }
    bases = {
        "karpenter": {"source": "karpenter", "as_of": as_of["karpenter"], "estimated": False},
        "ec2instances": {"source": "ec2instances", "as_of": as_of["ec2instances"], "estimated": False},
        "ec2instances_gpu_cut": {
            "source": "ec2instances;scaled-by-2025-gpu-price-cut",
            "as_of": as_of["ec2instances"],
            "estimated": True,
        },
    }
    gpu_cut = gpu_cut_ratios(rows)
    ec2 = Ec2Prices()
    for r in rows:
        if not r["region"].startswith("cn-"):
            ec2.add(r, gpu_cut)
    # Regional ratio vs us-east-1 from rows that are listed, unflagged and from the same data vintage
    # as far as possible (flagged rows excluded).
    clean: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        if not r["flag"] and not r["region"].startswith("cn-"):
            clean[r["region"]][r["instance_type"]] = float(r["usd_per_hour"])
    ratios = median_ratios(clean)
    table = {
        "schema": SCHEMA,
        "table": "ec2",
        "unit": "hour",
        "bases": bases,
        "region_basis": dict(sorted(ec2.region_basis.items())),
        "basis_overrides": {k: dict(sorted(v.items())) for k, v in sorted(ec2.overrides.items())},
        "region_ratio": {k: v[0] for k, v in ratios.items()},
    }
    prov["ec2"] = _ec2_provenance(ec2, bases, gpu_cut, _p4d_check(rows, ec2.prices, gpu_cut))
    prices = {k: dict(v) for k, v in ec2.prices.items()}
    return table, prices, {"ratios": ratios, "gpu_cut": gpu_cut, "clean": clean}


def _ec2_provenance(ec2: Ec2Prices, bases: dict, gpu_cut: dict, checks: dict[str, bool]) -> dict:
    return {
        "file": "ec2.json",
        "input": "ec2_ondemand_linux.csv",
        "sources": {
            "karpenter": "aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws*.go (Apache-2.0)",
            "ec2instances": "vantage-sh/ec2instances.info opszero-app/instances.json @a19cd859 (MIT)",
        },
        "as_of": {reg: bases[b]["as_of"] for reg, b in sorted(ec2.region_basis.items())},
        "rows": sum(len(v) for v in ec2.prices.values()),
        "regions": len(ec2.prices),
        "decisions": {
            "metal_conflict": "rows flagged karpenter_metal_price_differs...: use the ec2instances price (it equals the "
            "virtualised size with the same vCPU count; karpenter's is ~6% (Graviton) / ~10% (x86) higher)",
            "gpu_current": "rows flagged gpu_price_cut_2025(karpenter_current): keep karpenter (post June-2025 cut)",
            "gpu_stale": "rows flagged stale_pre_2025_gpu_price_cut: price x family cut ratio, marked estimated",
            "china": "cn-north-1 (CNY) skipped",
            **ec2.decisions,
        },
        "gpu_cut_ratios": gpu_cut,
        "checks": checks,
    }


def build_local_zones(src: Path, prov: dict, gpu_cut: dict, ec2_clean: dict) -> tuple[dict, dict]:
    rows = read_csv(src / "ec2_ondemand_linux_local_zones.csv")
    as_of = one({r["as_of"] for r in rows}, "local zone as_of")
    source = one({r["source"] for r in rows}, "local zone source")
    prices: dict[str, dict[str, float]] = defaultdict(dict)
    overrides: dict[str, dict[str, str]] = defaultdict(dict)
    parent: dict[str, str] = {}
    scaled = []
    for r in rows:
        loc, itype, price = r["location"], r["instance_type"], float(r["usd_per_hour"])
        parent.setdefault(loc, r["parent_region"])
        if r["flag"] == EC2_GPU_STALE_FLAG:
            ratio = gpu_cut[family_of(itype)]["ratio"]
            new = sig6(price * ratio)
            scaled.append([loc, itype, price, ratio, new])
            price = new
            overrides[loc][itype] = "ec2instances_gpu_cut"
        elif r["flag"]:
            raise BuildError(f"unknown local zone flag {r['flag']!r}")
        prices[loc][itype] = price
    # Location ratio vs parent region (unflagged rows with a parent price), for types the
    # location does not list.
    lz_ratio = parent_ratios(prices, parent, ec2_clean, skip=overrides)
    table = {
        "schema": SCHEMA,
        "table": "ec2_local_zones",
        "unit": "hour",
        "bases": {
            source: {"source": source, "as_of": as_of, "estimated": False},
            "ec2instances_gpu_cut": {
                "source": "ec2instances;scaled-by-2025-gpu-price-cut",
                "as_of": as_of,
                "estimated": True,
            },
        },
        "default_basis": source,
        "parent_region": dict(sorted(parent.items())),
        "parent_ratio": lz_ratio,
        "basis_overrides": {k: dict(sorted(v.items())) for k, v in sorted(overrides.items())},
    }
    prov["ec2_local_zones"] = {
        "file": "ec2_local_zones.json",
        "input": "ec2_ondemand_linux_local_zones.csv",
        "sources": {source: "vantage-sh/ec2instances.info opszero-app/instances.json @a19cd859 (MIT)"},
        "as_of": as_of,
        "rows": sum(len(v) for v in prices.values()),
        "locations": len(prices),
        "decisions": {"gpu_scaled": scaled},
    }
    return table, {k: dict(v) for k, v in prices.items()}
