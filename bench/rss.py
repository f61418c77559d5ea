"""Peak RSS of a process, as the benches print it.

Not `ru_maxrss`: Linux carries a process's peak across exec into it, and a child that multiprocessing's
spawn (or subprocess) starts is forked from the bench first, so its ru_maxrss is at least the bench's own
peak at that moment -- a task's figure would be the bench's. VmHWM belongs to the process's own memory
map, which exec replaces, so it is the task's alone.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path


def process_peak_rss_mb(pid: int) -> float | None:
    """A process's peak RSS so far (VmHWM, MiB), or None where /proc does not tell."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_mb() -> float:
    """This process's own peak RSS in MiB (VmHWM; ru_maxrss where /proc is missing)."""
    own = process_peak_rss_mb(os.getpid())
    return own if own is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
