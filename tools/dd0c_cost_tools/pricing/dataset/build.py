"""Build the offline price snapshot shipped in ``dd0c_cost/pricing/data/``.

Usage (from the repository root; ``scripts/build_price_snapshot.py`` is this command)::

    .venv/bin/python scripts/build_price_snapshot.py --source ../shared/pricing
    .venv/bin/python scripts/build_price_snapshot.py --source ../shared/pricing --check   # verify only

Input: the CSV data set in ``shared/pricing`` (read its README.md; attribution in its NOTICE).
Output (deterministic: the same input gives byte-identical files; no timestamps, sorted keys,
plain JSON, no compression so that the bytes do not depend on the zlib build):

    ec2.json                EC2 Linux on-demand $/h per (region, instance type)
    ec2_local_zones.json    same for Local Zone / Wavelength locations
    rds.json                RDS Single-AZ $/h per (region, engine, class) + EC2->RDS markups
    elasticache.json        ElastiCache node $/h per (region, engine, node type)
    opensearch.json         OpenSearch instance $/h per (region, instance type w/o ".search")
    rates.json              scalar service rates (NAT, EIP, ELB, EBS, EKS, ...) per region
    regions.json            region price ratios vs us-east-1, known regions, GPU price-cut ratios
    provenance.json         sources, as_of, row counts, decisions, cross-checks, input sha256
    NOTICE                  attribution (verbatim copy of the source NOTICE + what we changed)
    LICENSE-Apache-2.0.txt  static, checked in (not generated); copied into --out if missing

How conflicts and gaps are resolved is documented in docs/pricing.md and in provenance.json.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from dd0c_cost_tools import REPO_ROOT
from dd0c_cost_tools.pricing.dataset.ec2 import build_ec2, build_local_zones
from dd0c_cost_tools.pricing.dataset.instances import build_elasticache, build_opensearch, build_rds
from dd0c_cost_tools.pricing.dataset.rates import EXTRA_RATE_FILE, build_rates, cross_checks
from dd0c_cost_tools.pricing.dataset.rows import BuildError, read_csv, sha256
from dd0c_cost_tools.pricing.snapshot import (
    DEFAULT_DATA_DIR,
    LICENSE_FILE,
    REGION_RE,
    SCHEMA,
    provenance_text,
    region_ratios,
    regions_document,
    write_table,
)

DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "pricing"
# sha256 of the canonical Apache-2.0 text (as in /usr/share/common-licenses/Apache-2.0).
LICENSE_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
RATIO_NOTE = (
    "median of (region price / us-east-1 price) over instance types listed in both (EC2 rows "
    "without flags); regions without EC2 rows use the ElastiCache node ratio, else OpenSearch"
)


def build(source: Path, out: Path, extra: Path | None = None) -> list[str]:
    """Write the snapshot into ``out``; the names written. ``extra``: the pricing-extra data set
    (default: ``<source>/../pricing-extra`` when it exists)."""
    source, extra = _inputs(source, extra)
    out.mkdir(parents=True, exist_ok=True)
    prov: dict = {}

    ec2_table, ec2_prices, ec2_extra = build_ec2(source, prov)
    lz_table, lz_prices = build_local_zones(source, prov, ec2_extra["gpu_cut"], ec2_extra["clean"])
    rds_table, rds_prices = build_rds(source, prov, ec2_extra["clean"])
    ec_table, ec_prices = build_elasticache(source, prov)
    os_table, os_prices = build_opensearch(source, prov)

    rate_rows = read_csv(source / "service_rates.csv")
    all_regions = {
        reg
        for reg in (*ec2_prices, *rds_prices, *ec_prices, *os_prices, *(r["region"] for r in rate_rows))
        if REGION_RE.match(reg) and not reg.startswith("cn-")
    }
    ratios = region_ratios(all_regions, ec2_extra["ratios"], ec_table["region_ratio"], os_table["region_ratio"])
    missing = sorted(all_regions - set(ratios))
    if missing:
        raise BuildError(f"no region ratio for {missing}")
    regions = sorted(ratios)
    rates_table, rate_items = build_rates(source, prov, ratios, regions, extra)

    regions_doc = regions_document(ratios, RATIO_NOTE, gpu_cut=ec2_extra["gpu_cut"])
    prov["regions"] = {
        "file": "regions.json",
        "ratio_inputs": dict(ratios.items()),
        "ratio_crosscheck_elasticache": {k: ec_table["region_ratio"].get(k) for k in regions},
    }
    prov["cross_checks"] = cross_checks(source, ec2_prices, rds_prices, ec_prices, os_prices)
    prov["cross_checks"].update(prov["ec2"].pop("checks"))
    failed = [k for k, ok in prov["cross_checks"].items() if not ok]
    if failed:
        raise BuildError(f"cross-checks failed: {failed}")

    rds_markup = rds_table.pop("markup_over_ec2")
    tables = {
        "ec2.json": (ec2_table, {"prices": ec2_prices}),
        "ec2_local_zones.json": (lz_table, {"prices": lz_prices}),
        "rds.json": (rds_table, {"prices": rds_prices, "markup_over_ec2": rds_markup}),
        "elasticache.json": (ec_table, {"prices": ec_prices}),
        "opensearch.json": (os_table, {"prices": os_prices}),
        "rates.json": (rates_table, {"items": rate_items}),
        "regions.json": (regions_doc, {}),
    }
    for name, (header, big) in tables.items():
        write_table(out / name, header, big)
    (out / "provenance.json").write_text(
        provenance_text(_provenance(source, extra, prov)), encoding="utf-8", newline="\n"
    )
    (out / "NOTICE").write_text(_notice(source, extra), encoding="utf-8", newline="\n")
    _licence(out)
    return sorted([*tables, "provenance.json", "NOTICE", LICENSE_FILE])


def _inputs(source: Path, extra: Path | None) -> tuple[Path, Path | None]:
    """The data set's folder and pricing-extra's (when given or beside it), both checked."""
    source = source.resolve()
    if extra is None and (source.parent / "pricing-extra" / EXTRA_RATE_FILE).is_file():
        extra = source.parent / "pricing-extra"
    if extra is not None:
        extra = extra.resolve()
        if not (extra / EXTRA_RATE_FILE).is_file():
            raise BuildError(f"missing input file {extra / EXTRA_RATE_FILE}")
    if not source.is_dir():
        raise BuildError(f"source directory {source} does not exist")
    return source, extra


def _provenance(source: Path, extra: Path | None, prov: dict) -> dict:
    inputs = sorted(p.name for p in source.iterdir() if p.is_file())
    extra_inputs = {}
    if extra is not None:
        extra_inputs = {
            "extra_dataset": "shared/pricing-extra (see its README.md; Infracost golden files, Apache-2.0)",
            "extra_input_sha256": {
                p.name: sha256(p) for p in sorted(extra.iterdir()) if p.is_file() and p.name != "NOTICE"
            },
        }
    return {
        "schema": SCHEMA,
        "builder": "scripts/build_price_snapshot.py",
        "source_dataset": "shared/pricing (see its README.md)",
        "input_sha256": {name: sha256(source / name) for name in inputs},
        **extra_inputs,
        "prices": "USD, on-demand, shared tenancy, Linux (EC2), list price; no Savings Plans/RI/free tier/tax",
        "tables": {k: prov[k] for k in ("ec2", "ec2_local_zones", "rds", "elasticache", "opensearch", "rates")},
        "regions": prov["regions"],
        "cross_checks": prov["cross_checks"],
    }


def _notice(source: Path, extra: Path | None) -> str:
    extra_note = "\n"
    if extra is not None:
        extra_note = (
            "MSK, Kinesis and Lambda provisioned-concurrency rates come from shared/pricing-extra, derived\n"
            "the same way from Infracost test golden files (Apache-2.0; attribution 2 below).\n\n"
        )
    return (
        "dd0c_cost/pricing/data: offline AWS price snapshot\n"
        "===================================================\n\n"
        "The JSON files in this directory were generated by scripts/build_price_snapshot.py from the\n"
        "shared/pricing data set (numbers only; no source code). Sources, commits, dates and every\n"
        "conversion are recorded in provenance.json and docs/pricing.md.\n\n"
        "Changes made to the data here: rows were re-keyed into JSON; where the two EC2 sources disagree\n"
        "on .metal types the ec2instances.info value is used; stale pre-2025 P4d/P4de/P5 prices were\n"
        "scaled by the 2025 price-cut ratio; prices missing for a region were estimated from us-east-1\n"
        "and a regional price ratio (such values are marked estimated). China (CNY) rows were dropped.\n"
        + extra_note
        + f"A copy of the Apache License, Version 2.0, required below, is in {LICENSE_FILE}.\n\n"
        "The attribution notice of the source data set follows verbatim.\n"
        "------------------------------------------------------------------------------\n\n"
        + (source / "NOTICE").read_text(encoding="utf-8")
    )


def _licence(out: Path) -> None:
    """The static licence text: checked in next to the data, never generated."""
    target, master = out / LICENSE_FILE, DEFAULT_DATA_DIR / LICENSE_FILE
    if not target.exists():
        if not master.exists():
            raise BuildError(f"{master} missing (copy the Apache-2.0 text there)")
        shutil.copyfile(master, target)
    if sha256(target) != LICENSE_SHA256:
        raise BuildError(f"{target} is not the canonical Apache-2.0 text")


def check(source: Path, out: Path, extra: Path | None) -> tuple[list[str], list[str], list[str]]:
    """Build into a temporary folder and compare with ``out``: the names built, those that differ
    (or are missing) in ``out``, and the files ``out`` has that the build does not make."""
    with tempfile.TemporaryDirectory() as tmp:
        names = build(source, Path(tmp), extra)
        changed = [n for n in names if not (out / n).exists() or not filecmp.cmp(Path(tmp) / n, out / n, shallow=False)]
    unexpected = sorted(p.name for p in out.iterdir() if p.is_file() and p.name not in names)
    return names, changed, unexpected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="shared/pricing directory (default: %(default)s)"
    )
    ap.add_argument(
        "--extra",
        type=Path,
        default=None,
        help="shared/pricing-extra directory (default: next to --source, when it exists)",
    )
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_DATA_DIR, help="output directory (default: the package data dir)"
    )
    ap.add_argument(
        "--check", action="store_true", help="build into a temp dir and compare with --out; exit 1 on any difference"
    )
    args = ap.parse_args(argv)
    try:
        if args.check:
            names, changed, unexpected = check(args.source, args.out, args.extra)
            if changed or unexpected:
                print(f"snapshot differs: changed={changed} unexpected={unexpected}", file=sys.stderr)
                return 1
            print(f"snapshot up to date ({len(names)} files)")
            return 0
        names = build(args.source, args.out, args.extra)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = sum((args.out / n).stat().st_size for n in names)
    print(f"wrote {len(names)} files to {args.out} ({total:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
