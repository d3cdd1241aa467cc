"""How the CLI prints: tables, the replay summary, progress on stderr."""

from __future__ import annotations

import json
import sys


def progress_printer(enabled: bool):
    if not enabled:
        return None
    interactive = sys.stderr.isatty()
    last = {"shown": -1}

    def show(stage: str, done: int, total: int) -> None:
        step = max(1, total // (20 if interactive else 4))
        if done == total or done - last["shown"] >= step:
            last["shown"] = done
            end = "\r" if interactive and done < total else "\n"
            print(f"  {stage}: {done:,}/{total:,} records", end=end, file=sys.stderr, flush=True)

    return show


def format_table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def anomaly_table(anomalies) -> str:
    rows = [
        [
            a.detected_at.strftime("%Y-%m-%d %H:%M"),
            a.severity.value,
            f"{a.score:.2f}",
            f"${a.estimated_hourly_usd:,.2f}",
            a.account_id,
            a.region,
            str(a.attributes.get("actor_name") or a.actor)[:40],
            f"{a.attributes.get('quantity', 1):g} × {a.attributes.get('instance_type') or a.resource_type}",
        ]
        for a in anomalies
    ]
    return format_table(rows, ["detected (UTC)", "severity", "score", "$/h", "account", "region", "who", "what"])


def print_summary(summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.as_json()))
        return
    rejected_total = sum(summary.rejected.values())
    print(f"tenant               {summary.tenant}")
    print(f"records read         {summary.read:,}")
    print(f"cost events          {summary.cost_events:,}")
    print(f"not cost-relevant    {summary.not_cost_relevant:,}")
    print(f"rejected             {rejected_total:,}")
    for reason, count in sorted(summary.rejected.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {reason:<19}{count:,}")
    for label, counts in (
        ("failed", summary.failed),
        ("scoring failed", summary.scoring_failed),
        ("alerts not posted", summary.alerts_failed),
    ):
        if counts:
            print(f"{label:<21}{sum(counts.values()):,}")
            for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"  {name:<19}{count:,}")
    print(f"anomalies            {summary.anomalies:,}")
    if summary.alerts_resent:
        print(f"earlier alerts sent  {summary.alerts_resent:,}")
    if rejected_total or summary.faults:
        print(f"rejects written to   {summary.rejects_file}")
    if summary.faults:
        print(
            "some work failed because a dependency failed (not because of the input): fix the cause and run the "
            "same command again; nothing is doubled",
            file=sys.stderr,
        )
