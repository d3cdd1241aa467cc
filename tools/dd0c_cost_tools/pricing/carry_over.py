"""The snapshot a refresh carries over from (``base_dir``): tables and rate items not refreshed
are read from it unchanged, and its NOTICE's attribution is kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from dd0c_cost_tools.pricing.price_list import RDS_ENGINE_ALIASES, SOURCE, TABLE_FILES, RefreshError
from dd0c_cost_tools.pricing.refresh_report import RefreshReport
from dd0c_cost_tools.pricing.snapshot import (
    BASE_REGION,
    SCHEMA,
)


class BaseSnapshot:
    """The snapshot carried over from (``base_dir``); missing files read as empty tables."""

    _EMPTY: ClassVar[dict[str, tuple[dict, str]]] = {  # table -> (header, name of the big prices map)
        "ec2": (
            {
                "schema": SCHEMA,
                "table": "ec2",
                "unit": "hour",
                "bases": {},
                "region_basis": {},
                "basis_overrides": {},
                "region_ratio": {},
            },
            "prices",
        ),
        "ec2_local_zones": (
            {
                "schema": SCHEMA,
                "table": "ec2_local_zones",
                "unit": "hour",
                "bases": {},
                "default_basis": SOURCE,
                "parent_region": {},
                "parent_ratio": {},
                "basis_overrides": {},
            },
            "prices",
        ),
        "rds": (
            {
                "schema": SCHEMA,
                "table": "rds",
                "unit": "hour",
                "deployment": "single-az",
                "bases": {},
                "default_basis": SOURCE,
                "region_ratio": {},
                "engine_aliases": dict(RDS_ENGINE_ALIASES),
                "markup_over_ec2": {},
            },
            "prices",
        ),
        "elasticache": (
            {
                "schema": SCHEMA,
                "table": "elasticache",
                "unit": "hour",
                "bases": {},
                "default_basis": SOURCE,
                "region_ratio": {},
            },
            "prices",
        ),
        "opensearch": (
            {
                "schema": SCHEMA,
                "table": "opensearch",
                "unit": "hour",
                "bases": {},
                "default_basis": SOURCE,
                "region_ratio": {},
                "key_note": "instance types are stored without the '.search' suffix",
            },
            "prices",
        ),
    }

    def __init__(self, base_dir: Path | None) -> None:
        self.dir = Path(base_dir) if base_dir is not None else None

    def has(self, name: str) -> bool:
        return self.dir is not None and (self.dir / name).is_file()

    def bytes(self, name: str) -> bytes:
        assert self.dir is not None
        return (self.dir / name).read_bytes()

    def raw(self, table: str) -> dict | None:
        name = TABLE_FILES.get(table, table)
        if not self.has(name):
            return None
        doc = json.loads(self.bytes(name))
        if doc.get("schema") != SCHEMA:
            raise RefreshError(f"base snapshot {name}: schema {doc.get('schema')!r}, expected {SCHEMA}")
        return doc

    def table(self, table: str, report: RefreshReport) -> tuple[dict, dict]:
        """(header, prices) of a table that is not refreshed: the base's, else an empty table."""
        doc = self.raw(table)
        if doc is None:
            report.warnings.append(f"{table}: not refreshed and no base snapshot to carry over; written empty")
            header = json.loads(json.dumps(self._EMPTY[table][0]))
            # what the price book indexes unconditionally: the default basis and the base region
            header["bases"] = {SOURCE: {"source": SOURCE, "as_of": "", "estimated": False}}
            return header, {BASE_REGION: {}} if table != "ec2_local_zones" else {}
        report.carried_over.append(table)
        prices = doc.pop("prices", {})
        return doc, prices

    def provenance_summary(self) -> dict | None:
        if not self.has("provenance.json"):
            return None
        prov = json.loads(self.bytes("provenance.json"))
        return {k: prov.get(k) for k in ("builder", "source", "source_dataset", "as_of", "input_sha256") if k in prov}


def notice_text(as_of: str, run_date: str, carried: list[str], base: BaseSnapshot) -> str:
    text = (
        _NOTICE_TITLE + _NOTICE_REFRESHED + " (`dd0c-cost pricing refresh`) from the AWS Price List\n"
        f"Query API (pricing:GetProducts), AWS's own published list prices, retrieved {run_date}\n"
        f"(newest publicationDate {as_of or 'n/a'}). Tables and rate items taken from it carry source\n"
        '"aws-price-list"; provenance.json lists what was queried, skipped and derived. Prices missing\n'
        "for a region are estimated from us-east-1 and a regional price ratio (marked estimated).\n"
    )
    if carried:
        tables = [c for c in carried if "/" not in c]
        items = [c for c in carried if "/" in c]
        text += (
            "\nCarried over unchanged from the previous snapshot (names in provenance.json, carried_over_from_base):\n"
        )
        text += "".join(f"  {t}.json\n" for t in tables)
        if items:
            text += f"  {len(items)} scalar-rate items of rates.json\n"
        previous = base.bytes("NOTICE").decode("utf-8") if base.has("NOTICE") else ""
        if previous.startswith(_NOTICE_TITLE + _NOTICE_REFRESHED):
            # the base was itself refreshed: keep only the attribution it carried (no nesting)
            previous = previous.split(_NOTICE_MARKER, 1)[1] if _NOTICE_MARKER in previous else ""
        if previous:
            text += _NOTICE_MARKER + previous
    return text


_NOTICE_TITLE = (
    "dd0c_cost/pricing/data: offline AWS price snapshot\n===================================================\n\n"
)
_NOTICE_REFRESHED = "Refreshed by dd0c_cost_tools.pricing.refresh"
_NOTICE_MARKER = (
    "\nThe notice of that previous snapshot follows verbatim.\n"
    "------------------------------------------------------------------------------\n\n"
)
