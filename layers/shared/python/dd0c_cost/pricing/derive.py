"""How derived prices and ratios are rounded: one rule for the price book (estimates at run time)
and the snapshot writer (``tools/dd0c_cost_tools/pricing/snapshot.py``), so a price derived
offline and one derived at run time agree to the digit."""

from __future__ import annotations


def sig6(x: float) -> float:
    """A derived price to 6 significant digits (listed prices are never rounded)."""
    return float(f"{x:.6g}")


def ratio4(x: float) -> float:
    """A price ratio (region vs us-east-1, RDS over EC2, a GPU price cut) to 4 decimals."""
    return round(x, 4)
