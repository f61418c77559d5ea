"""Keep secrets out of stored payloads: values under credential-like keys are replaced."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
# "pass"/"pwd" only as a whole word of the key, so counters such as `passed` are kept.
_SECRET_KEY = re.compile(
    r"(^|[^a-z])(pass|pwd)([^a-z]|$)|password|passwd|secret|token|authori[sz]ation|api[_-]?key|private[_-]?key|"
    r"session[_-]?id|cookie|credential|signature", re.IGNORECASE)


def scrub(value: Any) -> Any:
    """A copy of a JSON-like value with every credential-like key's value masked, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and _SECRET_KEY.search(k) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value
