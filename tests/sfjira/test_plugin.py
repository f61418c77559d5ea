"""The installed package registers SfJiraPlugin through the `airflow.plugins` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_airflow_plugins_lists_sfjira_from_the_entry_point() -> None:
    airflow = Path(sys.executable).parent / "airflow"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(airflow), "plugins", "-o", "json"], env=env, capture_output=True, text=True,
                          timeout=300, cwd=Path.home())
    assert done.returncode == 0, done.stderr[-3000:]
    plugins = {p["name"]: p for p in json.loads(done.stdout[done.stdout.index("["):])}
    assert "sfjira" in plugins, sorted(plugins)
    assert "sfjira.plugin:SfJiraPlugin" in plugins["sfjira"]["source"]
