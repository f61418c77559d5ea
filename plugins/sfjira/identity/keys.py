"""The shapes of the identities the sync writes by: Jira issue keys and Salesforce record ids.

Both come from fields people can edit, so nothing built from them reaches a URL unchecked: a key is
used only if it is a well-formed key, and every path segment made from data is percent-encoded
whole (`/`, `..`, `?` and `#` included), so even a bug elsewhere cannot make a call land on another
resource.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from sfjira.exceptions import SfJiraError

JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")
ISSUE_ID = re.compile(r"[1-9][0-9]{0,18}")
SFID = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_PREVIEW = 80


class IdentityError(SfJiraError):
    """An id taken from data is not of the shape the API call needs."""

    code = "IDENTITY_KEY_MALFORMED"


def preview(value: object) -> str:
    """The value as people should read it in a message: quoted, escaped, cut short."""
    text = repr(str(value))
    return text if len(text) <= _PREVIEW else text[:_PREVIEW - 4] + "...'"


def is_jira_key(value: object) -> bool:
    """PROJECT-123: an upper-case project key (letters, digits, underscores) and an issue number."""
    return isinstance(value, str) and JIRA_KEY.fullmatch(value) is not None


def key_project(key: str) -> str:
    return key.rsplit("-", 1)[0]


def sfid_checksum(id15: str) -> str:
    """The three characters that make a 15-character id case-safe (Salesforce's documented suffix)."""
    return "".join(_SUFFIX[sum(1 << i for i, c in enumerate(id15[start:start + 5]) if "A" <= c <= "Z")]
                   for start in (0, 5, 10))


def is_sfid(value: object) -> bool:
    """A 15-character id, or an 18-character one whose suffix is the checksum of its first 15."""
    if not isinstance(value, str) or SFID.fullmatch(value) is None:
        return False
    return len(value) == 15 or value[15:] == sfid_checksum(value[:15])


def segment(value: object) -> str:
    """One URL path segment made from data, percent-encoded whole."""
    return quote(str(value), safe="")


def issue_segment(key: object) -> str:
    """An issue key (or numeric id) as a path segment; IdentityError for anything else."""
    if not (is_jira_key(key) or (isinstance(key, str) and ISSUE_ID.fullmatch(key))):
        raise IdentityError(f"{preview(key)} is not a Jira issue key (PROJECT-123) or issue id",
                            fix="the key came from data someone edited: correct it at its source", record=key)
    return segment(key)
