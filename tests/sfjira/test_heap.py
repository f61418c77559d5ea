"""sfjira.heap.give_back hands freed memory back to the operating system (Linux: glibc and Arrow's pool)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import pyarrow as pa, pyarrow.compute as pc
from sfjira.heap import give_back

def rss():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024

kept = []
for i in range(40):   # window-sized temporaries: strings in Python and in Arrow, freed but kept by the allocators
    encoded = pc.dictionary_encode(pa.array([f"id-{i}-{n}" for n in range(50_000)]))
    kept.append(pc.utf8_upper(encoded.dictionary))
    if i % 2:
        kept[-2] = None
kept.clear()
held = rss()
give_back()
print(held, rss())
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the resident size from /proc (Linux)")
def test_freed_memory_leaves_the_process() -> None:
    plugins = str(Path(__file__).resolve().parents[2] / "plugins")
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": plugins}, check=True)
    held, after = map(float, done.stdout.split())
    assert held - after >= 20, f"resident {held:.0f} MB before, {after:.0f} MB after"
