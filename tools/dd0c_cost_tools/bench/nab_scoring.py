"""The NAB scorer, a pure-Python port of the published method (the same probation, window
geometry, position weights, threshold sweep and normalisation as ``shared/tools/nab_score.py``,
which needs numpy; this must not). ``bench nab`` scores its detector runs with it."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from datetime import datetime

SUBSET = "realAWSCloudwatch"

PROFILES: dict[str, dict[str, float]] = {
    "standard": {"tp": 1.0, "fp": 0.11, "fn": 1.0},
    "reward_low_FP_rate": {"tp": 1.0, "fp": 0.22, "fn": 1.0},
    "reward_low_FN_rate": {"tp": 1.0, "fp": 0.11, "fn": 2.0},
}
PROBATION_FRACTION = 0.15
PROBATION_CAP = 750
NEVER = math.inf

# ---------------------------------------------------------------------------
# NAB scoring (pure Python port of the published method)
# ---------------------------------------------------------------------------


def _sig(y: float) -> float:
    """NAB position weight 2/(1+exp(5y)) - 1, clamped to -1 for y > 3."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(max(-700.0, min(700.0, 5.0 * y)))) - 1.0


SIG_LEFT_EDGE = _sig(-1.0)


def parse_ts(s: str) -> datetime:
    s = s.strip()
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        return datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f")


def load_windows(path: str | os.PathLike, subset: str | None = SUBSET) -> dict[str, list]:
    """combined_windows.json -> {relpath: [(start, end), ...]} as datetimes."""
    with open(path) as f:
        raw = json.load(f)
    out = {}
    for rel, wins in raw.items():
        if subset and not rel.startswith(subset.rstrip("/") + "/"):
            continue
        out[rel] = [(parse_ts(a), parse_ts(b)) for a, b in wins]
    return out


class _Geometry:
    __slots__ = ("n", "n_windows_total", "name", "probation", "scored_windows", "value_of_row", "win_of_row")

    def __init__(self, name: str, timestamps: Sequence[datetime], windows: list, profile: dict):
        import bisect

        n = len(timestamps)
        self.name = name
        self.n = n
        self.probation = int(min(math.floor(PROBATION_FRACTION * n), PROBATION_CAP))
        win_of_row = [-1] * n
        value = [-profile["fp"]] * n
        spans = []
        for k, (a, b) in enumerate(sorted(windows)):
            s = bisect.bisect_left(timestamps, a)
            e = bisect.bisect_right(timestamps, b) - 1
            if e < s:
                continue
            spans.append((s, e))
            for i in range(s, e + 1):
                win_of_row[i] = k
        for k, (s, e) in enumerate(spans):
            w = e - s + 1
            for i in range(s, e + 1):
                value[i] = profile["tp"] * _sig(-(e - i + 1) / w) / SIG_LEFT_EDGE
            nxt = spans[k + 1][0] if k + 1 < len(spans) else n
            denom = max(w - 1, 1e-12)
            for i in range(e + 1, nxt):
                value[i] = profile["fp"] * _sig((i - e) / denom)
        self.win_of_row = win_of_row
        self.value_of_row = value
        self.scored_windows = sorted({k for k in win_of_row[self.probation :] if k >= 0})
        self.n_windows_total = len(windows)


def _score_file(g: _Geometry, scores: Sequence[float], threshold: float, profile: dict) -> dict:
    if len(scores) != g.n:
        raise ValueError(f"{g.name}: {len(scores)} scores for {g.n} data rows")
    raw = 0.0
    best: dict[int, float] = {}
    tp = fp = fn = tn = 0
    for i in range(g.probation, g.n):
        k = g.win_of_row[i]
        fire = scores[i] >= threshold
        if k < 0:
            if fire:
                raw += g.value_of_row[i]
                fp += 1
            else:
                tn += 1
        elif fire:
            tp += 1
            v = g.value_of_row[i]
            if k not in best or v > best[k]:
                best[k] = v
        else:
            fn += 1
    hit = 0
    for k in g.scored_windows:
        if k in best:
            raw += best[k]
            hit += 1
        else:
            raw -= profile["fn"]
    return {
        "name": g.name,
        "raw": raw,
        "windows": len(g.scored_windows),
        "windows_hit": hit,
        "tp_rows": tp,
        "fp_rows": fp,
        "fn_rows": fn,
        "tn_rows": tn,
    }


def _best_threshold(geoms: list[_Geometry], arrays: list[Sequence[float]], profile: dict):
    keys: list[int] = []
    vals: list[float] = []
    sc: list[float] = []
    offset = 0
    n_win = 0
    for g, s in zip(geoms, arrays, strict=True):
        for i in range(g.probation, g.n):
            w = g.win_of_row[i]
            keys.append(w + offset if w >= 0 else -1)
            vals.append(g.value_of_row[i])
            sc.append(float(s[i]))
        offset += g.n_windows_total
        n_win += len(g.scored_windows)
    order = sorted(range(len(sc)), key=sc.__getitem__, reverse=True)
    # sorted(reverse=True) keeps equal keys in their original order, as a stable
    # argsort of -score does.
    fn_cost = profile["fn"]
    best_credit: dict[int, float] = {}
    total = -fn_cost * n_win
    best = (NEVER, total)
    i, m = 0, len(order)
    while i < m:
        cur = sc[order[i]]
        j = i
        while j < m and sc[order[j]] == cur:
            r = order[j]
            k = keys[r]
            v = vals[r]
            if k < 0:
                total += v
            else:
                prev = best_credit.get(k)
                if prev is None:
                    best_credit[k] = v
                    total += v + fn_cost
                elif v > prev:
                    best_credit[k] = v
                    total += v - prev
            j += 1
        if total > best[1] + 1e-12:
            best = (float(cur), total)
        i = j
    return best


def score_corpus(
    detections: dict, windows: dict, profile_name: str = "standard", threshold: float | None = None
) -> dict:
    """NAB score of ``{relpath: (timestamps, scores)}`` against ``{relpath: windows}``.

    With ``threshold=None`` the threshold is optimised over these files, as NAB does.
    """
    profile = PROFILES[profile_name]
    names = sorted(windows)
    missing = [n for n in names if n not in detections]
    if missing:
        raise KeyError(f"no detections for {len(missing)} file(s), e.g. {missing[:3]}")
    geoms, arrays = [], []
    for n in names:
        ts, s = detections[n]
        ts = [parse_ts(t) if isinstance(t, str) else t for t in ts]
        geoms.append(_Geometry(n, ts, windows[n], profile))
        arrays.append(s)
    if threshold is None:
        threshold, _ = _best_threshold(geoms, arrays, profile)
    per_file = [_score_file(g, s, threshold, profile) for g, s in zip(geoms, arrays, strict=True)]
    raw = sum(r["raw"] for r in per_file)
    n_win = sum(r["windows"] for r in per_file)
    hit = sum(r["windows_hit"] for r in per_file)
    fp_rows = sum(r["fp_rows"] for r in per_file)
    null, perfect = -profile["fn"] * n_win, profile["tp"] * n_win
    return {
        "profile": profile_name,
        "threshold": threshold,
        "raw": raw,
        "nab": 100.0 * (raw - null) / (perfect - null) if perfect != null else float("nan"),
        "windows": n_win,
        "windows_hit": hit,
        "fp_rows": fp_rows,
        "files": len(per_file),
        "per_file": per_file,
    }
