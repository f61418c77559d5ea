"""Keeps components (sfjira.local_airflow.Component) running until told to stop: one that exits is
restarted, with a message saying so, after a backoff that doubles with each quick death; one that keeps
dying ends the whole set with a LocalAirflowError instead of spinning.

Why: Airflow's own `airflow standalone` leaves a dead scheduler dead, and every run then sits in
"queued" until someone notices (issue 13).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sfjira.local_airflow import Component, LocalAirflowError


def describe_exit(code: int) -> str:
    """'code 1', or 'code -9 (SIGKILL)' for a process a signal ended."""
    if code < 0:
        try:
            return f"code {code} ({signal.Signals(-code).name})"
        except ValueError:
            pass
    return f"code {code}"


def log_tail(component: Component, lines: int = 8) -> list[str]:
    try:
        text = component.log.read_text(errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


@dataclass
class _Watched:
    component: Component
    started: float
    restarts: int = 0  # deaths in a row, each within `stable_after` of its start
    due: float | None = None  # when a pending restart has waited out its backoff


class Supervisor:
    """`start()`, then `run(stop)` until the event is set, then `stop()` (in reverse start order)."""

    def __init__(self, components: Sequence[Component], *, say: Callable[[str], None] = print,
                 max_restarts: int = 5, stable_after: float = 60.0, max_backoff: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.watched = [_Watched(c, 0.0) for c in components]
        self.say = say
        self.max_restarts = max_restarts
        self.stable_after = stable_after
        self.max_backoff = max_backoff
        self.clock = clock

    def start(self) -> None:
        for w in self.watched:
            w.component.start()
            w.started = self.clock()
            self.say(f"{w.component.name} started (pid {w.component.pid}; log {w.component.log})")

    def check(self) -> None:
        """Restart what is due; schedule the restart of what has exited (LocalAirflowError when a
        component has died `max_restarts` + 1 times in a row)."""
        now = self.clock()
        for w in self.watched:
            c = w.component
            if w.due is not None:
                if now >= w.due:
                    c.start()
                    w.started, w.due = now, None
                    self.say(f"{c.name} restarted (pid {c.pid})")
                continue
            code = c.exit_code()
            if code is None:
                continue
            c.stop(grace=0)  # what it left behind in its process group goes with it
            w.restarts = 1 if now - w.started >= self.stable_after else w.restarts + 1
            tail = "\n".join(f"    {line}" for line in log_tail(c))
            if w.restarts > self.max_restarts:
                raise LocalAirflowError(
                    f"{c.name} exited with {describe_exit(code)}, its {w.restarts}th quick exit in a row; "
                    f"giving up. Last lines of {c.log}:\n{tail}",
                    fix=f"read {c.log}; fix what it says and start again")
            delay = min(self.max_backoff, 2.0 ** (w.restarts - 1))
            self.say(f"{c.name} exited with {describe_exit(code)}; restarting in {delay:.0f} s "
                     f"(restart {w.restarts} of at most {self.max_restarts} in a row). Last lines of {c.log}:\n"
                     f"{tail}")
            w.due = now + delay

    def run(self, stop: threading.Event, poll: float = 0.5) -> None:
        while not stop.is_set():
            self.check()
            stop.wait(poll)

    def stop(self, grace: float = 15) -> None:
        for w in reversed(self.watched):
            if w.component.proc is not None:
                w.component.stop(grace=grace)
                self.say(f"{w.component.name} stopped")
