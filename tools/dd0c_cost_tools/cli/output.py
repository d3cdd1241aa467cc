"""How the CLI prints: tables and summaries (rich), progress on stderr.

Tables are plain text when stdout is not a terminal (no colour, no width limit), so output piped
to a file or another program keeps every column.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table


def console() -> Console:
    interactive = sys.stdout.isatty()
    return Console(file=sys.stdout, highlight=False, soft_wrap=True, width=None if interactive else 10_000)


def emit(renderable: Any) -> None:
    """Print a table or grid: styled in a terminal; elsewhere plain text without trailing spaces."""
    if sys.stdout.isatty():
        console().print(renderable)
        return
    print(render(renderable))


def render(renderable: Any) -> str:
    plain = Console(width=10_000, highlight=False, color_system=None)
    with plain.capture() as captured:
        plain.print(renderable)
    text = captured.get().rstrip("\n").replace("\u2500", "-")  # plain text: an ASCII header rule
    return "\n".join(line.rstrip() for line in text.splitlines())


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: Iterable[str] = ()) -> Table:
    aligned = set(right)
    out = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for header in headers:
        out.add_column(header, justify="right" if header in aligned else "left", no_wrap=True)
    for row in rows:
        out.add_row(*row)
    return out


def print_table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: Iterable[str] = ()) -> None:
    emit(table(headers, rows, right=right))


def format_table(rows: list[list[str]], headers: list[str]) -> str:
    """The table as plain text (for callers that build a string)."""
    return render(table(headers, rows))


def anomaly_rows(anomalies) -> list[list[str]]:
    return [
        [
            str(a.id),
            a.detected_at.strftime("%Y-%m-%d %H:%M"),
            a.severity.value,
            f"{a.score:.2f}",
            f"${a.estimated_hourly_usd:,.2f}",
            a.account_id,
            a.region,
            str(a.attributes.get("actor_name") or a.actor)[:40],
            f"{a.attributes.get('quantity', 1):g} × {a.attributes.get('instance_type') or a.resource_type}",
            a.status.value,
        ]
        for a in anomalies
    ]


ANOMALY_HEADERS = ["id", "detected (UTC)", "severity", "score", "$/h", "account", "region", "who", "what", "status"]


def print_anomalies(anomalies) -> None:
    print_table(ANOMALY_HEADERS, anomaly_rows(anomalies), right=("score", "$/h"))


def print_summary(summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.as_json()))
        return
    rejected_total = sum(summary.rejected.values())
    rows = [
        ["tenant", summary.tenant],
        ["records read", f"{summary.read:,}"],
        ["cost events", f"{summary.cost_events:,}"],
        ["not cost-relevant", f"{summary.not_cost_relevant:,}"],
        ["rejected", f"{rejected_total:,}"],
    ]
    rows += [
        [f"  {reason}", f"{count:,}"]
        for reason, count in sorted(summary.rejected.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    for label, counts in (
        ("failed", summary.failed),
        ("scoring failed", summary.scoring_failed),
        ("alerts not posted", summary.alerts_failed),
    ):
        if counts:
            rows.append([label, f"{sum(counts.values()):,}"])
            rows += [
                [f"  {name}", f"{count:,}"] for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            ]
    rows.append(["anomalies", f"{summary.anomalies:,}"])
    if summary.alerts_resent:
        rows.append(["earlier alerts sent", f"{summary.alerts_resent:,}"])
    if rejected_total or summary.faults:
        rows.append(["rejects written to", str(summary.rejects_file)])
    grid = Table.grid(padding=(0, 3))
    grid.add_column()
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, value)
    emit(grid)
    if summary.faults:
        print(
            "some work failed because a dependency failed (not because of the input): fix the cause and run the "
            "same command again; nothing is doubled",
            file=sys.stderr,
        )


class Progress:
    """Progress of long work on stderr: a live bar in a terminal, otherwise one line every
    ``every_s`` seconds and at the end (a log or CI shows that work goes on)."""

    def __init__(self, label: str, *, enabled: bool = True, every_s: float = 10.0) -> None:
        self.label, self.enabled, self.every_s = label, enabled, every_s
        self.interactive = sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None
        self._last = 0.0
        self._started = time.monotonic()

    def __enter__(self) -> Progress:
        if self.enabled and self.interactive:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self._bar.__enter__()
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task(f"{self.label}: {stage}", total=total)
            self._bar.update(self._task, completed=done, total=total)
            return
        now = time.monotonic()
        if done >= total or now - self._last >= self.every_s:
            self._last = now
            print(
                f"  {self.label}: {stage} {done:,}/{total:,} records ({now - self._started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
