"""Calendar recurrence: a change that repeats weekly, on the same day of the month, on the last
day of the month, or every N days, by the same actor with the same size (event time only).

The hour-of-week / hour-of-day slots of ``engine.pattern_part`` only see what recurs within a
week; a month-end job that ran last month is new to them, and alerts again. This module keeps a
short list of each series' recent occurrences (one per burst: start time, actor, what was
started and how much) and recognises the new burst as the next one of a calendar rule:

- ``weekly``: a whole number of weeks after an earlier occurrence (1 to 5 weeks);
- ``monthly``: the same day of the month, one to three months later;
- ``month-end``: both on the last day of their months;
- ``every N days``: the gap to the previous occurrence equals the gap before it (N >= 2, not a whole
  number of weeks; this one needs two earlier occurrences, since a single gap says nothing about N).

Weekly, monthly and month-end need ONE earlier occurrence. Each also needs the same actor, the same
resource types with at most the earlier count (+ ``COUNT_TOLERANCE``; a burst still under way
matches as it grows), and a start within ``HOUR_TOLERANCE_S`` of
the earlier one's time of day. The value is like the weekly pattern's: confidence x the share of
this occurrence's $/h that the earlier amount explains (x ``pattern_slack``), so a much bigger
occurrence is not explained and still alerts; a first occurrence has nothing to match.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

MAX_OCCURRENCES = 32  # per series; the state row must stay small
PER_SHAPE = 4  # occurrences kept per (actor, resource types)
KEEP_S = 100 * 86400.0  # three months and a bit
HOUR_TOLERANCE_S = 2 * 3600.0
COUNT_TOLERANCE = 0.25  # resource count within +-25 %
MIN_GAP_S = 36 * 3600.0  # an occurrence earlier than this is the same day's (the daily slots see it)
# Weekly: what the hour-of-week slot gives one earlier week (k / (k + 0.5), k = 1), so that the slot,
# which grows more confident week by week, takes over from the second week on; the calendar rule
# only adds the +-2 h tolerance and gaps of 2 to 5 weeks. Monthly rules see one earlier month.
CONFIDENCE = {"weekly": 0.67, "monthly": 0.9, "month-end": 0.9, "every N days": 0.85}

Occurrence = list  # [t0, actor_key, {type: count}, q, u]


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _time_of_day_close(a: float, b: float) -> bool:
    d = abs((a % 86400.0) - (b % 86400.0))
    return min(d, 86400.0 - d) <= HOUR_TOLERANCE_S


def _last_day(d: datetime) -> bool:
    return d.day == monthrange(d.year, d.month)[1]


def _months_between(a: datetime, b: datetime) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def rule_between(earlier: float, now: float) -> str | None:
    """The calendar rule one earlier occurrence and this one satisfy (None: no rule)."""
    gap = now - earlier
    if gap < MIN_GAP_S or not _time_of_day_close(earlier, now):
        return None
    a, b = _utc(earlier), _utc(now)
    months = _months_between(a, b)
    if _last_day(a) and _last_day(b) and 1 <= months <= 3:
        return "month-end"
    if a.day == b.day and 1 <= months <= 3:
        return "monthly"
    weeks = round(gap / (7 * 86400.0))
    if 1 <= weeks <= 5 and abs(gap - weeks * 7 * 86400.0) <= HOUR_TOLERANCE_S:
        return "weekly"
    return None


def _every_n_days(earlier: list[Occurrence], now: float) -> tuple[Occurrence, int] | None:
    """Two earlier occurrences a and b with b - a == now - b (to the tolerance), N >= 2 days."""
    if len(earlier) < 2:
        return None
    b = earlier[-1]
    gap = now - b[0]
    days = round(gap / 86400.0)
    if days < 2 or days % 7 == 0 or abs(gap - days * 86400.0) > HOUR_TOLERANCE_S:
        return None  # whole weeks are the weekly slots' (and the weekly rule's)
    for a in earlier[:-1]:
        if abs((b[0] - a[0]) - gap) <= HOUR_TOLERANCE_S:
            return b, days
    return None


def match(
    occurrences: list[Occurrence], t0: float, actor_key: str, types: dict[str, float], q: float, u: float, slack: float
) -> tuple[float, Callable[[], str]] | None:
    """(value, reason) of the best calendar rule explaining this burst, or None."""
    # Same shape: the same resource types and at most the earlier count (+ tolerance), so a burst
    # still under way (3 of last month's 10 instances so far) matches and a bigger one does not.
    before, kinds = t0 - MIN_GAP_S + 1, types.keys()
    earlier = [
        o
        for o in occurrences
        if o[1] == actor_key and o[0] < before and kinds <= o[2].keys() and q <= o[3] * (1.0 + COUNT_TOLERANCE) + 1e-9
    ]
    if not earlier:
        return None
    best: tuple[float, Callable[[], str]] | None = None
    candidates: list[tuple[str, Occurrence, str]] = []
    for o in earlier:
        rule = rule_between(o[0], t0)
        if rule is not None:
            candidates.append((rule, o, rule))
    n_days = _every_n_days(earlier, t0)
    if n_days is not None:
        o, days = n_days
        candidates.append(("every N days", o, f"every {days} days"))
    for rule, o, label in candidates:
        amount = float(o[4])
        explained = min(1.0, slack * amount / u) if amount > 0 and u > 0 else float(u <= amount)
        value = CONFIDENCE[rule] * explained
        if best is None or value > best[0]:

            def reason(o=o, label=label, explained=explained, amount=amount) -> str:
                return (
                    f"recurring {label}: seen {_utc(o[0]):%Y-%m-%d %H:%M} UTC by the same principal, same size "
                    f"(+${amount:,.2f}/h); this one is +${u:,.2f}/h ({explained:.0%} explained)"
                )

            best = (value, reason)
    return best


def remember(occurrences: list[Occurrence], b: dict[str, Any], actor_key: str) -> list[Occurrence]:
    """Record (or update) this burst as an occurrence; keep the latest ``PER_SHAPE`` of each
    (actor, resource types) so that a daily habit cannot push last month's job out, at most
    ``MAX_OCCURRENCES`` in all, none older than ``KEEP_S``. Returns the (new) list."""
    t0 = b["t0"]
    _record(occurrences, t0, b, actor_key)
    # Rank each occurrence within its shape (0 = the shape's newest), then keep by rank, newest
    # first within a rank: every shape's newest occurrence survives before any shape's second, so
    # many daily habits (several people x several types) cannot push last month's job out.
    # (The hot path of scoring, once per priced event: sorts are stable, so newest-first into one
    # list per rank is "by (rank, newest first)"; a shape's types compare as a set, which is what
    # sorting them did; the too-old ones are a tail of the newest-first list, t0 - o[0] growing
    # as o[0] falls.)
    newest = sorted(occurrences, key=_T0, reverse=True)
    while newest and t0 - newest[-1][0] > KEEP_S:
        newest.pop()
    by_rank: tuple[list[Occurrence], ...] = ([], [], [], [])  # one per rank (PER_SHAPE = 4)
    per_shape: dict[tuple, int] = {}
    for o in newest:
        types = o[2]
        # (a one-type shape keys by its type: no set to build, the same partition into shapes)
        shape = (o[1], next(iter(types))) if len(types) == 1 else (o[1], frozenset(types))
        rank = per_shape.get(shape, 0)
        if rank < PER_SHAPE:
            per_shape[shape] = rank + 1
            by_rank[rank].append(o)
    kept = list(chain.from_iterable(by_rank))
    del kept[MAX_OCCURRENCES:]
    kept.sort(key=_T0)
    return kept


def _record(occurrences: list[Occurrence], t0: float, b: dict[str, Any], actor_key: str) -> None:
    """Update the first occurrence of this burst (its start, its actor) in place, or add one."""
    for o in occurrences:
        if o[0] == t0 and o[1] == actor_key:
            o[2], o[3], o[4] = dict(b["ty"]), b["q"], round(b["u"], 6)
            return
    occurrences.append([t0, actor_key, dict(b["ty"]), b["q"], round(b["u"], 6)])


_T0 = itemgetter(0)


def valid(state: Any) -> list[Occurrence]:
    """The occurrence list of a stored state, or [] when it is missing or damaged."""
    if not isinstance(state, list):
        return []
    if _all_whole(state):  # (the usual case, read once per series and batch: built-in loops)
        return state[-MAX_OCCURRENCES:]
    out = []
    for o in state:
        if (
            isinstance(o, list)
            and len(o) == 5
            and isinstance(o[0], (int, float))
            and isinstance(o[1], str)
            and isinstance(o[2], dict)
        ):
            out.append(o)
    return out[-MAX_OCCURRENCES:]


def _all_whole(state: list) -> bool:
    """Every entry a list of 5 whose start is a number, actor a str and types a dict."""
    return (
        all(map(isinstance, state, repeat(list)))
        and all(map((5).__eq__, map(len, state)))
        and all(map(isinstance, map(_T0, state), repeat((int, float))))
        and all(map(isinstance, map(_ACTOR, state), repeat(str)))
        and all(map(isinstance, map(_TYPES, state), repeat(dict)))
    )


_ACTOR = itemgetter(1)
_TYPES = itemgetter(2)
