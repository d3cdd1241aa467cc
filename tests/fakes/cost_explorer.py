"""A Cost Explorer stand-in for tests and the local command: ``get_cost_and_usage`` answers in the
documented response shape (``ResultsByTime`` of ``TimePeriod`` + ``Groups`` of ``Keys`` and
``Metrics.UnblendedCost.{Amount, Unit}``, paged by ``NextPageToken``) from a table of hourly costs,
and records every call it was asked, so tests can count the paid calls. moto's Cost Explorer
returns no cost data, hence this fake.

The table: ``{(service, usage_type): {hour (UTC datetime): amount}}``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeCostExplorer:
    def __init__(
        self,
        table: dict[tuple[str, str], dict[datetime, float]],
        *,
        currency: str = "USD",
        page_hours: int = 72,
        error: Exception | None = None,
    ) -> None:
        self.table = table
        self.currency = currency
        self.page_hours = page_hours
        self.error = error
        self.calls: list[dict] = []

    def get_cost_and_usage(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        assert kwargs["Granularity"] == "HOURLY" and kwargs["Metrics"] == ["UnblendedCost"]
        start, end = _parse(kwargs["TimePeriod"]["Start"]), _parse(kwargs["TimePeriod"]["End"])
        page = int(kwargs.get("NextPageToken") or 0)
        first = start + timedelta(hours=page * self.page_hours)
        last = min(end, first + timedelta(hours=self.page_hours))
        (group_by,) = kwargs["GroupBy"]
        by_usage_type = group_by["Key"] == "USAGE_TYPE"
        only = set(kwargs.get("Filter", {}).get("Dimensions", {}).get("Values", []))
        results = []
        hour = first
        while hour < last:
            groups: dict[str, float] = defaultdict(float)
            for (service, usage_type), hours in self.table.items():
                if only and service not in only:
                    continue
                amount = hours.get(hour)
                if amount is not None:
                    groups[usage_type if by_usage_type else service] += amount
            results.append(
                {
                    "TimePeriod": {"Start": _fmt(hour), "End": _fmt(hour + timedelta(hours=1))},
                    "Total": {},
                    "Groups": [
                        {
                            "Keys": [key],
                            "Metrics": {"UnblendedCost": {"Amount": f"{amount:.10f}", "Unit": self.currency}},
                        }
                        for key, amount in sorted(groups.items())
                    ],
                    "Estimated": True,
                }
            )
            hour += timedelta(hours=1)
        response = {"GroupDefinitions": [group_by], "ResultsByTime": results, "DimensionValueAttributes": []}
        if last < end:
            response["NextPageToken"] = str(page + 1)
        return response
