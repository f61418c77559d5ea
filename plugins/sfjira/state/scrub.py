"""Keep secrets out of stored payloads: values under credential-like keys are replaced."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authori[sz]ation|api[_-]?key|private[_-]?key|session[_-]?id|cookie|"
    r"credential|signature", re.IGNORECASE)


def scrub(value: Any) -> Any:
    """A copy of a JSON-like value with every credential-like key's value masked, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and _SECRET_KEY.search(k) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value
