"""Hypothesis strategies shared by the fuzz tests: JSON values, and mutated documents."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `doc` (dict keys and list indexes), depth-first."""
    found: list[tuple[Any, ...]] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.append((*prefix, key))
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc[:3]):
            found.append((*prefix, index))
            found.extend(paths(value, (*prefix, index)))
    return found


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "2024-13-45T99:99:99Z", "not a date", "0", "-1", "1e400", "\x00"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, bases: list[dict[str, Any]]) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(bases)))
    if draw(st.integers(0, 20)) == 0:
        return draw(json_values)  # not even an object
    for _ in range(draw(st.integers(1, 4))):
        found = paths(doc)
        if not found:
            break
        path = draw(st.sampled_from(found))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["delete", "replace", "replace", "empty"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[last]
        elif action == "empty" and isinstance(parent[last], dict | list):
            parent[last] = type(parent[last])()
        else:
            parent[last] = draw(json_values)
    return doc
