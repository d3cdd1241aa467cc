"""Reading a series' state back (``SeriesState.load_json``, ``recurrence.valid``): a state this module
wrote is taken whole; a damaged one restarts the series (or drops the damaged occurrences), never
crashes. The checks run once per series and batch, with built-in loops; these tests hold them to the
plain per-entry rules they replace, on any JSON value."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from dd0c_cost.scoring import recurrence
from dd0c_cost.scoring.series import SEASONAL_SLOTS, STATE_VERSION, SeriesState

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=12,
)
_slot = st.none() | st.lists(st.floats(allow_nan=False), min_size=4, max_size=4) | _json
_number = st.floats(allow_nan=False) | st.integers() | st.booleans()
# whole occurrences, each entry of them possibly of another JSON type, and any JSON value
_occurrence = (
    st.tuples(_number | _json, st.text(max_size=3) | _json, st.dictionaries(st.text(max_size=2), _number) | _json).map(
        lambda o: [*o, 1.0, 2.0]
    )
    | _json
)


def _plain_slots_ok(seasonal: list) -> bool:
    return all(r is None or (isinstance(r, list) and len(r) == 4) for r in seasonal)


def _plain_valid(state) -> list:
    if not isinstance(state, list):
        return []
    out = [
        o
        for o in state
        if isinstance(o, list)
        and len(o) == 5
        and isinstance(o[0], (int, float))
        and isinstance(o[1], str)
        and isinstance(o[2], dict)
    ]
    return out[-recurrence.MAX_OCCURRENCES :]


def _state(slots: list, occurrences, bursts) -> dict:
    seasonal = (slots * SEASONAL_SLOTS)[:SEASONAL_SLOTS] if slots else [None] * SEASONAL_SLOTS
    return {"v": STATE_VERSION, "ss": seasonal, "b": bursts, "bs": [0.0] * 5, "ig": 0, "oc": occurrences}


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(
    st.lists(_slot, max_size=5),
    st.lists(_occurrence, max_size=40) | _json,
    st.dictionaries(st.text(max_size=3), st.dictionaries(st.text(max_size=2), _json) | _json, max_size=3),
)
def test_a_state_is_taken_exactly_when_the_plain_rules_take_it(slots, occurrences, bursts):
    state = _state(slots, occurrences, bursts)
    series = SeriesState()
    taken = series.load_json(copy.deepcopy(state))
    plain = _plain_slots_ok(state["ss"]) and all(isinstance(b, dict) for b in bursts.values())
    assert taken == plain
    if taken:
        assert series.seasonal == state["ss"] and series.bursts == bursts
        assert series.occurrences == _plain_valid(occurrences)
    assert recurrence.valid(copy.deepcopy(occurrences)) == _plain_valid(occurrences)


def test_an_empty_slot_list_or_a_short_occurrence_is_damage():
    """The cases a built-in shortcut could miss: an empty list in a slot (falsy, not None) and an
    occurrence of four entries among whole ones."""
    state = _state([None, []], [], {})
    assert not SeriesState().load_json(state)
    whole = [1.0, "ana", {"m5.large": 1.0}, 1.0, 0.1]
    assert recurrence.valid([whole, [2.0, "bo", {}, 1.0], whole]) == [whole, whole]
