"""Finding the way through a Jira workflow to a target status.

Jira only tells which transitions are available from the status an issue is in now
(GET /issue/{key}/transitions). `WorkflowMap` remembers what was seen (status -> {target status:
transition id}) per project and issue type, and picks the next transition: the first step of the
shortest known path to the target, or else the first step towards the nearest status whose
transitions are still unknown (breadth first), so an unknown workflow gets explored no more than needed.
The transitions belong to the workflow, not the issue, so JiraSyncHook.transition_to reads a status's
once per hook (per task) and walks the next issue in that status without a read; what a condition hides
from one issue is handled there (a refused transition makes it read that issue).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any


def _norm(status: str) -> str:
    return status.strip().casefold()


@dataclass
class WorkflowMap:
    """Learned transitions: `edges[status][target] = (transition id, transition name)`, names casefolded."""

    edges: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # casefolded -> display name

    def learn(self, status: str, transitions: list[dict[str, Any]]) -> None:
        """Record `GET transitions` output for an issue in `status`."""
        self.names.setdefault(_norm(status), status)
        seen: dict[str, tuple[str, str]] = {}
        for transition in transitions:
            target = (transition.get("to") or {}).get("name")
            if target:
                self.names.setdefault(_norm(target), target)
                seen.setdefault(_norm(target), (str(transition["id"]), str(transition.get("name", ""))))
        self.edges[_norm(status)] = seen

    def knows(self, status: str) -> bool:
        """Whether the transitions from `status` were seen."""
        return _norm(status) in self.edges

    def next_step(self, current: str, target: str) -> tuple[str, str, str] | None:
        """(transition id, transition name, status it leads to) for the next move, or None when the
        target cannot be reached from what is known and nothing is left to explore."""
        start, goal = _norm(current), _norm(target)
        first_hop: dict[str, tuple[str, str, str] | None] = {start: None}
        queue = deque([start])
        frontier: tuple[str, str, str] | None = None
        while queue:
            status = queue.popleft()
            if status not in self.edges:  # transitions from here not seen yet: worth exploring
                frontier = frontier or first_hop[status]
                continue
            for to, (transition_id, name) in self.edges[status].items():
                if to in first_hop:
                    continue
                first_hop[to] = first_hop[status] or (transition_id, name, self.names[to])
                if to == goal:
                    return first_hop[to]
                queue.append(to)
        return frontier

    def known_statuses(self) -> list[str]:
        return sorted(self.names[s] for s in self.names)
