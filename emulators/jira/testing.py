"""Helpers for tests, the demo and benchmarks that talk to the Jira emulator over raw HTTPS."""

from __future__ import annotations

from typing import Any

import requests

from emulators.jira import defaults

CLOUD_BASIC = (defaults.CLOUD_EMAIL, defaults.CLOUD_API_TOKEN)
DC_BASIC = (defaults.DC_USERNAME, defaults.DC_PASSWORD)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class JiraRest:
    """`rest("GET", "/issue/SUP-1")` calls /rest/api/{version}/issue/SUP-1 with the given credentials.

    `verify=` goes on every request because requests lets REQUESTS_CA_BUNDLE beat `session.verify`.
    """

    def __init__(self, url: str, ca_bundle: str, version: int = 3, auth: tuple[str, str] | None = CLOUD_BASIC,
                 headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.ca_bundle = ca_bundle
        self.version = version
        self.auth = auth
        self.headers = headers or {}
        self.session = requests.Session()

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("https://") else f"{self.url}/rest/api/{self.version}{path}"
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.session.request(method, url, auth=kwargs.pop("auth", self.auth), headers=headers,
                                    verify=self.ca_bundle, timeout=kwargs.pop("timeout", 30), **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a 2xx response (None when empty); AssertionError with the body otherwise."""
        response = self(method, path, **kwargs)
        assert 200 <= response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def create(self, project: str, issuetype: str, summary: str, **fields: Any) -> dict[str, Any]:
        body = {"fields": {"project": {"key": project}, "issuetype": {"name": issuetype}, "summary": summary,
                           **fields}}
        return dict(self.ok("POST", "/issue", json=body))

    def issue(self, key: str, **params: Any) -> dict[str, Any]:
        return dict(self.ok("GET", f"/issue/{key}", params=params))

    def search_keys(self, jql: str, cloud: bool = True) -> list[str]:
        """Every matching key: Cloud follows nextPageToken, Data Center pages with startAt."""
        keys: list[str] = []
        token: str | None = None
        while True:
            if cloud:
                params = {"jql": jql, "fields": "key", "maxResults": 5000, **({"nextPageToken": token} if token else {})}
                body = self.ok("GET", "/search/jql", params=params)
            else:
                params = {"jql": jql, "fields": "summary", "startAt": len(keys), "maxResults": 1000}
                body = self.ok("GET", "/search", params=params)
            keys += [i["key"] for i in body["issues"]]
            token = body.get("nextPageToken")
            done = body["isLast"] if cloud else len(keys) >= body["total"] or not body["issues"]
            if done:
                return keys
