"""Keep secrets out of stored payloads: text under credential-like keys is replaced.

Only text can be a credential (passwords, tokens, keys, cookies are strings). Numbers, booleans and
nulls are kept whatever their key says, so a call count under `POST /services/oauth2/token` or a
flag such as `token_refreshed` stays readable. Below a credential-like key every piece of text is
masked, at any depth: `{"credentials": {"user": ..., "key": ...}}` hides both.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
# "pass"/"pwd" only as a whole word of the key, so counters such as `passed` are kept.
_SECRET_KEY = re.compile(
    r"(^|[^a-z])(pass|pwd)([^a-z]|$)|password|passwd|secret|token|authori[sz]ation|api[_-]?key|private[_-]?key|"
    r"session[_-]?id|cookie|credential|signature", re.IGNORECASE)


def scrub(value: Any, *, secret: bool = False) -> Any:
    """A copy of a JSON-like value with the text under every credential-like key masked, at any depth.
    `secret` says the value itself sits under such a key."""
    if isinstance(value, dict):
        return {k: scrub(v, secret=secret or _credential_key(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, secret=secret) for v in value]
    if secret and isinstance(value, str | bytes):
        return MASK
    return value


def _credential_key(key: Any) -> bool:
    return isinstance(key, str) and _SECRET_KEY.search(key) is not None
