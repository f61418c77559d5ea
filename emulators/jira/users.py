"""The user directory: the API user (its zone is configurable) and a few colleagues.

Cloud identifies users by `accountId`; Data Center by `name` (username) and `key`. Issues store the
accountId; the representation follows the mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulators.jira import defaults


@dataclass(frozen=True)
class User:
    account_id: str
    name: str
    key: str
    email: str
    display_name: str
    time_zone: str


COLLEAGUES: tuple[User, ...] = (
    User("5b10ac8d82e05b22cc7d4ef6", "ada", "JIRAUSER10001", "ada.lovelace@example.com", "Ada Lovelace",
         "Europe/London"),
    User("5b10ac8d82e05b22cc7d4ef7", "grace", "JIRAUSER10002", "grace.hopper@example.com", "Grace Hopper",
         "America/New_York"),
    User("5b10ac8d82e05b22cc7d4ef8", "juergen", "JIRAUSER10003", "juergen.mueller@example.com", "Jürgen Müller",
         "Europe/Berlin"),
    User("5b10ac8d82e05b22cc7d4ef9", "yuki", "JIRAUSER10004", "yuki.sato@example.com", "佐藤 由紀", "Asia/Tokyo"),
)


def api_user(email: str, time_zone: str) -> User:
    return User(defaults.API_ACCOUNT_ID, defaults.DC_USERNAME, defaults.API_USER_KEY, email,
                defaults.API_DISPLAY_NAME, time_zone)


class Directory:
    def __init__(self, me: User) -> None:
        self.me = me
        self.users = (me, *COLLEAGUES)

    def by_account_id(self, account_id: str) -> User | None:
        return next((u for u in self.users if u.account_id == account_id), None)

    def by_name_or_key(self, value: str) -> User | None:
        return next((u for u in self.users if value in (u.name, u.key)), None)

    def search(self, query: str) -> list[User]:
        q = query.casefold()
        return [u for u in self.users
                if not q or any(part.casefold().startswith(q) for part in
                                (u.display_name, *u.display_name.split(), u.email, u.name))]


def render_user(user: User | None, base: str, cloud: bool, version: int) -> dict[str, Any] | None:
    if user is None:
        return None
    avatar = f"{base}/secure/useravatar?ownerId={user.key}"
    out: dict[str, Any] = {}
    if cloud:
        out["self"] = f"{base}/rest/api/{version}/user?accountId={user.account_id}"
        out["accountId"] = user.account_id
        out["accountType"] = "atlassian"
    else:
        out["self"] = f"{base}/rest/api/2/user?username={user.name}"
        out["key"] = user.key
        out["name"] = user.name
    out.update({
        "emailAddress": user.email,
        "avatarUrls": {size: f"{avatar}&size={n}" for size, n in
                       (("48x48", 48), ("24x24", 24), ("16x16", 16), ("32x32", 32))},
        "displayName": user.display_name,
        "active": True,
        "timeZone": user.time_zone,
    })
    return out
