"""What a refresh fetched, kept, skipped and wrote (printed by ``dd0c-cost pricing refresh``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dd0c_cost_tools.pricing.price_list import ALL_SERVICES

# --------------------------------------------------------------------------- report


@dataclass
class RefreshReport:
    """What a refresh fetched, kept, skipped and wrote."""

    out_dir: Path
    dry_run: bool
    regions: list[str]
    as_of: str = ""
    requests: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # refreshed table -> prices kept
    locations: dict[str, int] = field(default_factory=dict)  # refreshed table -> regions/locations
    rate_items: int = 0  # rate items refreshed from the API
    carried_over: list[str] = field(default_factory=list)  # tables / rate items kept from base_dir
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows
    conflicts: int = 0
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # written (none on a dry run)

    def lines(self) -> list[str]:
        out = [f"as of {self.as_of or '-'}: {len(self.regions)} regions, {self.requests} API requests"]
        for table in ALL_SERVICES:
            if table in self.rows:
                where = "locations" if table == "ec2_local_zones" else "regions"
                out.append(f"{table}: {self.rows[table]} prices, {self.locations.get(table, 0)} {where}")
        tables = [c for c in self.carried_over if "/" not in c]
        items = [c for c in self.carried_over if "/" in c]
        if "rates" in self.rows:
            out.append(f"rate items refreshed: {self.rate_items}, carried over: {len(items)}")
        if tables:
            out.append(f"carried over unchanged: {', '.join(tables)}")
        if self.skipped:
            out.append("skipped rows: " + ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())))
        out.append(f"conflicting duplicate rows: {self.conflicts}")
        out.extend(f"warning: {w}" for w in self.warnings)
        out.append("dry run: nothing written" if self.dry_run else f"wrote {len(self.files)} files to {self.out_dir}")
        return out
