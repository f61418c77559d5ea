"""The emulated org: schema, records, clock, settings and API usage, shared by every endpoint."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.salesforce import defaults
from emulators.salesforce.ids import make_id
from emulators.salesforce.schema import Schema, load_schema
from emulators.salesforce.store import Record, Store
from emulators.salesforce.timefmt import Clock, format_datetime


@dataclass
class ApiUsage:
    """DailyApiRequests: counted per REST call, starting again each UTC day (or on reset)."""

    used: int = 0
    day: int = field(default_factory=lambda: int(time.time() // 86_400))

    def roll(self, now_ms: int) -> None:
        today = now_ms // 86_400_000
        if today != self.day:
            self.day, self.used = today, 0


def _check_config(changes: dict[str, Any]) -> None:
    unknown = sorted(set(changes) - set(defaults.DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown}; allowed: {', '.join(sorted(defaults.DEFAULT_CONFIG))}")
    for key in ("token_ttl_s", "api_daily_max", "bulk_daily_max", "bulk_v2_query_jobs_max", "bulk_job_polls",
                "deleted_reach_days", "updated_reach_days"):
        if key in changes and (not isinstance(changes[key], int | float) or changes[key] < 0):
            raise ValueError(f"{key} must be a number >= 0, got {changes[key]!r}")
    audiences = changes.get("jwt_audiences", [])
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise ValueError(f"jwt_audiences must be a list of URLs, got {audiences!r}")


class Org:
    def __init__(self, data_dir: Path, base_url: str, schema_files: list[Path]) -> None:
        self.data_dir = data_dir
        self.base_url = base_url
        self.schema_files = schema_files
        self.schema: Schema = load_schema(schema_files)
        self.store = Store(data_dir / "salesforce.sqlite3", self.schema)
        self.config: dict[str, Any] = {**copy.deepcopy(defaults.DEFAULT_CONFIG), **self.store.meta.get("config", {})}
        if self.config.get("schema_extra"):
            self._apply_schema()
        self.clock = Clock(offset_ms=self.store.meta.get("clock_offset_ms", 0),
                           floor_ms=self.store.meta.get("clock_floor_ms", 0))
        self.usage = ApiUsage()
        # Called with the records of every committed API write (REST, collections, Bulk): outbound messages.
        self.write_listeners: list[Callable[[list[tuple[str, Record]]], None]] = []
        if defaults.INTEGRATION_USER_ID not in self.store.type_of:
            self.create_integration_user()

    # -- settings --------------------------------------------------------------------------------
    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        _check_config(changes)
        previous = self.config
        self.config = {**self.config, **copy.deepcopy(changes)}
        if "schema_extra" in changes:
            try:
                self._apply_schema()
            except (ValueError, TypeError, KeyError):
                self.config = previous
                raise
        self.store.set_meta("config", {k: v for k, v in self.config.items() if v != defaults.DEFAULT_CONFIG[k]})
        self.store.flush_meta()
        return self.config

    def _apply_schema(self) -> None:
        self.schema = load_schema(self.schema_files, self.config.get("schema_extra"))
        self.store.set_schema(self.schema)

    def reset(self) -> None:
        """Empty org with default settings. The clock goes back to wall time: with the records gone there is
        nothing left that a new stamp must follow, and a floor left ahead by time travel would stamp new
        records in the future (an extract up to "now" would miss them)."""
        self.store.clear_records()
        self.config = copy.deepcopy(defaults.DEFAULT_CONFIG)
        self._apply_schema()
        self.clock.offset_ms = 0
        self.clock.floor_ms = 0
        self.usage = ApiUsage()
        for key in ("config", "sequences", "clock_offset_ms"):
            self.store.set_meta(key, {} if key != "clock_offset_ms" else 0)
        self.create_integration_user()

    # -- ids, stamps, users ----------------------------------------------------------------------
    def next_sequence(self, name: str) -> int:
        sequences = dict(self.store.meta.get("sequences", {}))
        sequences[name] = sequences.get(name, 0) + 1
        self.store.set_meta("sequences", sequences)
        return sequences[name]

    def new_id(self, sobject: str) -> str:
        prefix = self.schema.objects[sobject].key_prefix
        return make_id(prefix, self.next_sequence(prefix))

    def remember_clock(self) -> None:
        self.store.set_meta("clock_floor_ms", self.clock.floor_ms)
        self.store.set_meta("clock_offset_ms", self.clock.offset_ms)

    def user_by_username(self, username: str) -> Record | None:
        wanted = username.lower()
        return next((u for u in self.store.live("User") if str(u.get("Username", "")).lower() == wanted), None)

    def create_integration_user(self) -> None:
        stamp = format_datetime(self.clock.stamp())
        user_id = self.new_id("User")
        if user_id != defaults.INTEGRATION_USER_ID:
            raise RuntimeError(f"the integration user must be the first User, got {user_id}")
        record = {name: None for name in self.schema.objects["User"].fields}
        record.update(defaults.INTEGRATION_USER, Id=user_id, Name="Sync Integration", IsDeleted=False,
                      CreatedDate=stamp, LastModifiedDate=stamp, SystemModstamp=stamp, CreatedById=user_id,
                      LastModifiedById=user_id)
        self.remember_clock()
        self.store.save([("User", record)])
