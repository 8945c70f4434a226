"""Reaching a status through a Jira workflow the client cannot read whole.

Jira only tells which transitions are available from the issue's current status. The
walker learns the graph as it goes (status -> transitions, kept for the tracker's life):
a transition straight to the target is taken; otherwise the shortest known path, or the
way to the nearest status not explored yet (closest status category first). At most
`MAX_HOPS` transitions; when the target cannot be reached the issue is walked back to
where it started, and the error lists the statuses that are reachable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from testkase_cli.errors import KaseError, RejectedError

MAX_HOPS = 4
CATEGORY_ORDER = {"new": 0, "indeterminate": 1, "done": 2}


@dataclass(frozen=True)
class Step:
    """One available transition, with the screen fields it requires."""

    id: str
    name: str
    to: str
    to_category: str | None
    required: Mapping[str, Any] = field(default_factory=dict)


def steps_from_json(data: dict[str, Any]) -> list[Step]:
    steps = []
    for item in data.get("transitions", []):
        to = item.get("to") or {}
        required = {
            key: meta
            for key, meta in (item.get("fields") or {}).items()
            if isinstance(meta, dict) and meta.get("required") and not meta.get("hasDefaultValue")
        }
        steps.append(
            Step(
                id=str(item["id"]),
                name=str(item.get("name", "")),
                to=str(to.get("name", "")),
                to_category=(to.get("statusCategory") or {}).get("key"),
                required=required,
            )
        )
    return steps


def paths_from(graph: Mapping[str, Sequence[Step]], start: str) -> dict[str, list[Step]]:
    """Shortest known path from `start` to every status reachable in `graph` (casefolded)."""
    paths: dict[str, list[Step]] = {start.casefold(): []}
    queue = deque([start.casefold()])
    while queue:
        status = queue.popleft()
        for step in graph.get(status, ()):
            target = step.to.casefold()
            if target not in paths:
                paths[target] = [*paths[status], step]
                queue.append(target)
    return paths


class Walker:
    """Moves one issue: `transitions()` reads what is available now, `apply(step)` moves."""

    def __init__(
        self,
        graph: dict[str, list[Step]],
        transitions: Callable[[], list[Step]],
        apply: Callable[[Step], None],
        categories: Mapping[str, str],
    ) -> None:
        self.graph = graph
        self.transitions = transitions
        self.apply = apply
        self.categories = {k.casefold(): v for k, v in categories.items()}

    def walk(self, current: str, target: str) -> None:
        start = current
        for _ in range(MAX_HOPS):
            self.graph[current.casefold()] = self.transitions()
            step = self._next_step(current, target)
            if step is None:
                self._fail(start, current, target, "the workflow offers no path to it")
            try:
                self.apply(step)
            except RejectedError as exc:  # refused: nothing moved, so walk back from here
                where = self._walk_back(current, start)
                exc.message = f"{exc.message}; the issue is in {where}"
                raise
            current = step.to
            if current.casefold() == target.casefold():
                return
        self._fail(start, current, target, f"not reached within {MAX_HOPS} transitions")

    def _next_step(self, current: str, target: str) -> Step | None:
        paths = paths_from(self.graph, current)
        if target.casefold() in paths:
            return paths[target.casefold()][0]
        wanted = CATEGORY_ORDER.get(self.categories.get(target.casefold(), ""), 1)
        frontier = [path for status, path in paths.items() if path and status not in self.graph]
        if not frontier:
            return None
        best = min(
            frontier,
            key=lambda p: (len(p), abs(CATEGORY_ORDER.get(p[-1].to_category or "", 1) - wanted)),
        )
        return best[0]

    def _walk_back(self, current: str, start: str) -> str:
        """Return the issue to `start` along known transitions; where it ends up."""
        where = current
        try:
            if current.casefold() not in self.graph:
                self.graph[current.casefold()] = self.transitions()
            for step in paths_from(self.graph, current).get(start.casefold(), []):
                self.apply(step)
                where = step.to
        except KaseError:
            pass  # best effort: the caller reports where the issue was left
        return where

    def _fail(self, start: str, current: str, target: str, why: str) -> NoReturn:
        options = [p[-1].to for p in paths_from(self.graph, start).values() if p]
        where = self._walk_back(current, start)
        raise RejectedError(
            f"cannot move the issue from {start} to {target}: {why}; the issue is in {where}",
            hint="reachable statuses: "
            + (", ".join(options) or "none")
            + "; adjust [mapping.defect_status] or the Jira workflow",
            code="workflow",
        )
