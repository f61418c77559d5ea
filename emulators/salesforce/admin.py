"""Emulator-specific admin actions under /__emulator/ (reset, seed, config, usage, time_travel, backdate).

The shared ones (health, calls, latency, faults) come from emulators.common.control.
"""

from __future__ import annotations

import base64
from typing import Any

from emulators.common.control import AdminHandler, Secret
from emulators.salesforce import defaults
from emulators.salesforce.api_query import Cursors
from emulators.salesforce.bulk_jobs import BulkJobs
from emulators.salesforce.ids import normalize
from emulators.salesforce.oauth import TokenStore
from emulators.salesforce.org import Org
from emulators.salesforce.seed import seed
from emulators.salesforce.timefmt import format_datetime, normalize_datetime

_BACKDATABLE = ("CreatedDate", "LastModifiedDate", "SystemModstamp")


def admin_handlers(org: Org, tokens: TokenStore, cursors: Cursors, jobs: BulkJobs) -> dict[str, AdminHandler]:
    def reset(body: dict[str, Any]) -> dict[str, Any]:
        """Empty org, default settings, no Bulk API jobs. Sessions stay valid unless {"tokens": true}."""
        org.reset()
        cursors.clear()
        jobs.clear()
        if body.get("tokens"):
            tokens.clear()
        return {"ok": True, "records": len(org.store.type_of)}

    def config(body: dict[str, Any]) -> dict[str, Any]:
        return org.configure(body) if body else org.config

    def usage(body: dict[str, Any]) -> dict[str, Any]:
        """{"used": N} sets today's DailyApiRequests usage (as if other integrations had spent it); {} reads it.
        The limit itself is the `api_daily_max` config."""
        if "used" in body:
            used = body["used"]
            if not isinstance(used, int) or isinstance(used, bool) or used < 0:
                raise ValueError(f"used must be an integer >= 0, got {used!r}")
            org.usage.roll(org.clock.now_ms())
            org.usage.used = used
        maximum = int(org.config["api_daily_max"])
        return {"used": org.usage.used, "max": maximum, "remaining": max(maximum - org.usage.used, 0)}

    def time_travel(body: dict[str, Any]) -> dict[str, Any]:
        """{"offset_s": N} sets the clock offset; {"advance_s": N} adds to it. Write stamps never go back."""
        if "offset_s" in body:
            org.clock.offset_ms = int(float(body["offset_s"]) * 1000)
        if "advance_s" in body:
            org.clock.offset_ms += int(float(body["advance_s"]) * 1000)
        org.remember_clock()
        org.store.flush_meta()
        return {"now": format_datetime(org.clock.now_ms()), "offset_s": org.clock.offset_ms / 1000}

    def backdate(body: dict[str, Any]) -> dict[str, Any]:
        """{"id": ..., "SystemModstamp": "2026-01-01T00:00:00Z", ...}: set system dates directly (a deleted
        record's deletedDate is its SystemModstamp)."""
        record_id = normalize(body.get("id"))
        found = org.store.get(record_id) if record_id else None
        if found is None:
            raise ValueError(f"no record with id {body.get('id')!r}")
        unknown = sorted(set(body) - {"id", *_BACKDATABLE})
        if unknown:
            raise ValueError(f"cannot backdate {unknown}; allowed: {', '.join(_BACKDATABLE)}")
        sobject, record = found
        changed = {**record, **{k: normalize_datetime(str(body[k])) for k in _BACKDATABLE if k in body}}
        org.store.save([(sobject, changed)])
        return {k: changed[k] for k in ("Id", "IsDeleted", *_BACKDATABLE)}

    return {"reset": reset, "seed": lambda body: seed(org, body), "config": config, "usage": usage,
            "time_travel": time_travel, "backdate": backdate}


def credentials(org: Org, tokens: TokenStore) -> list[Secret]:
    """What a leak scan must never find: the connected app's secret (also as the Basic header value a
    client sends), the password, the JWT signing key and every access and refresh token issued so far."""
    basic = base64.b64encode(f"{defaults.CLIENT_ID}:{defaults.CLIENT_SECRET}".encode()).decode()
    key_file = org.data_dir / defaults.JWT_PRIVATE_KEY_FILE
    found: list[Secret] = [{"kind": "client_secret", "value": defaults.CLIENT_SECRET},
                           {"kind": "client_basic_auth", "value": basic},
                           {"kind": "password", "value": defaults.PASSWORD}]
    if key_file.exists():
        found.append({"kind": "jwt_private_key", "value": key_file.read_text()})
    return found + [{"kind": f"{kind}_token", "value": token} for kind, token in tokens.issued]
