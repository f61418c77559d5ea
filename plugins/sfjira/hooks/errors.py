"""The hooks' own errors (API refusals are `sfjira.exceptions.ApiError` and its subclasses)."""

from __future__ import annotations

from datetime import datetime

from sfjira.exceptions import ConfigError


class QueryError(ConfigError):
    """A SOQL or JQL query cannot be built from what it was given (a name, a window, a value). Terminal:
    the same input builds the same broken query on every try."""

    code = "QUERY_INVALID"


def empty_window(since: datetime, until: datetime) -> QueryError:
    return QueryError(f"empty window: until ({until.isoformat()}) must be after since ({since.isoformat()})",
                      fix="extract over a window whose end is later than its start (the DAG run's data interval)")
