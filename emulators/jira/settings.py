"""Emulator-wide settings changed through PUT /__emulator/config and kept in SQLite.

Config body keys (all optional): mode, time_zone (alias timeZone), rate_limit {budget, window_s} or
null, credentials {cloud_email, cloud_api_token, cloud_oauth_token, dc_pat, dc_username, dc_password},
required_fields {"DEL/Epic": ["customfield_10055"]}, clock_offset_s, now (ISO instant: sets the
offset so the server clock reads that now), fault_retry_after_s, webhook_delivery {delays_s, max_retries,
max_age_s, timeout_s, verify, shuffle_s} (how admin webhooks are retried; see webhooks.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from emulators.common.outbox import RetryPolicy
from emulators.jira import catalog, defaults
from emulators.jira.fields import ALL_FIELDS
from emulators.jira.timefmt import parse_ms, wall_ms, zone

DEFAULT_REQUIRED = {"DEL/Epic": ["customfield_10055"]}


def jira_retry_policy() -> RetryPolicy:
    """Jira Cloud retries a failed webhook and may deliver it up to 30 minutes late (Atlassian's retry
    policy announcement); five retries spread over those 30 minutes, 20 s to answer."""
    return RetryPolicy(delays_s=[60.0, 120.0, 240.0, 480.0, 900.0], max_retries=5, timeout_s=20.0)


@dataclass
class Credentials:
    cloud_email: str = defaults.CLOUD_EMAIL
    cloud_api_token: str = defaults.CLOUD_API_TOKEN
    cloud_oauth_token: str = defaults.CLOUD_OAUTH_TOKEN
    dc_pat: str = defaults.DC_PAT
    dc_username: str = defaults.DC_USERNAME
    dc_password: str = defaults.DC_PASSWORD


@dataclass
class RateLimit:
    budget: int
    window_s: float

    def __post_init__(self) -> None:
        if int(self.budget) < 1 or float(self.window_s) <= 0:
            raise ValueError("rate_limit needs budget >= 1 and window_s > 0, or null to switch it off")
        self.budget, self.window_s = int(self.budget), float(self.window_s)


@dataclass
class Settings:
    mode: str = defaults.DEFAULT_MODE
    time_zone: str = defaults.DEFAULT_TIME_ZONE
    rate_limit: RateLimit | None = None
    credentials: Credentials = field(default_factory=Credentials)
    required_fields: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in
                                                                           DEFAULT_REQUIRED.items()})
    clock_offset_s: float = 0.0
    fault_retry_after_s: int = defaults.DEFAULT_FAULT_RETRY_AFTER_S
    webhook_delivery: RetryPolicy = field(default_factory=jira_retry_policy)
    # Progress reads of a bulk operation task answered RUNNING before it reports COMPLETE (its changes are
    # applied when it is submitted; this only paces what a client polling the queue sees).
    bulk_task_running_polls: int = 0
    # Issues the API user may see but not change (as an issue security level or a status whose workflow
    # property `jira.issue.editable` is false leaves them): edits and transitions of them are refused.
    locked_issues: list[str] = field(default_factory=list)

    @property
    def cloud(self) -> bool:
        return self.mode == "cloud"

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.time_zone)

    def required_for(self, project: str, issuetype_name: str) -> list[str]:
        return self.required_fields.get(f"{project}/{issuetype_name}", [])

    def apply(self, body: dict[str, Any]) -> None:
        """Apply a config body; ValueError (naming the allowed values) leaves the settings unchanged."""
        staged = Settings.from_dict(self.to_dict(masked=False))
        for key, value in body.items():
            setter = _SETTERS.get(key)
            if setter is None:
                raise ValueError(f"unknown config key {key!r}; allowed: {', '.join(sorted(_SETTERS))}")
            setter(staged, value)
        for f in fields(self):
            setattr(self, f.name, getattr(staged, f.name))

    def to_dict(self, masked: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if masked:
            data["credentials"] = {k: (v if k in ("cloud_email", "dc_username") else "***")
                                   for k, v in data["credentials"].items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        settings = cls()
        for key, value in data.items():
            _SETTERS[key](settings, value)
        return settings


def _set_mode(s: Settings, value: Any) -> None:
    if value not in defaults.MODES:
        raise ValueError(f"unknown mode {value!r}; allowed: {', '.join(defaults.MODES)}")
    s.mode = value


def _set_tz(s: Settings, value: Any) -> None:
    zone(str(value))
    s.time_zone = str(value)


def _set_rate_limit(s: Settings, value: Any) -> None:
    s.rate_limit = None if value is None else RateLimit(**value)


def _set_credentials(s: Settings, value: Any) -> None:
    allowed = {f.name for f in fields(Credentials)}
    unknown = set(value) - allowed
    if unknown:
        raise ValueError(f"unknown credentials {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")
    s.credentials = Credentials(**{**asdict(s.credentials), **{k: str(v) for k, v in value.items()}})


def _set_required(s: Settings, value: Any) -> None:
    for target, field_ids in value.items():
        project, _, type_name = target.partition("/")
        proj = catalog.PROJECTS.get(project)
        names = [catalog.ISSUE_TYPES[t].name for t in proj.issue_type_ids] if proj else []
        if type_name not in names:
            raise ValueError(f"required_fields key {target!r} must be PROJECT/IssueType, e.g. 'DEL/Epic'")
        unknown = [f for f in field_ids if f not in ALL_FIELDS]
        if unknown:
            raise ValueError(f"required_fields {target!r}: unknown field ids {unknown}")
    s.required_fields = {k: list(v) for k, v in value.items()}


def _set_offset(s: Settings, value: Any) -> None:
    s.clock_offset_s = float(value)


def _set_now(s: Settings, value: Any) -> None:
    s.clock_offset_s = (parse_ms(str(value)) - wall_ms()) / 1000


def _set_retry_after(s: Settings, value: Any) -> None:
    if int(value) < 0:
        raise ValueError("fault_retry_after_s must be >= 0")
    s.fault_retry_after_s = int(value)


def _set_delivery(s: Settings, value: Any) -> None:
    if not isinstance(value, dict):
        raise ValueError("webhook_delivery must be an object, e.g. {\"delays_s\": [0.1], \"max_retries\": 3}")
    s.webhook_delivery = RetryPolicy.from_dict(value, base=s.webhook_delivery)


def _set_running_polls(s: Settings, value: Any) -> None:
    if int(value) < 0:
        raise ValueError("bulk_task_running_polls must be >= 0")
    s.bulk_task_running_polls = int(value)


def _set_locked(s: Settings, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise ValueError("locked_issues must be a list of issue keys")
    s.locked_issues = list(value)


_SETTERS = {
    "mode": _set_mode,
    "time_zone": _set_tz,
    "timeZone": _set_tz,
    "rate_limit": _set_rate_limit,
    "credentials": _set_credentials,
    "required_fields": _set_required,
    "clock_offset_s": _set_offset,
    "now": _set_now,
    "fault_retry_after_s": _set_retry_after,
    "webhook_delivery": _set_delivery,
    "bulk_task_running_polls": _set_running_polls,
    "locked_issues": _set_locked,
}
