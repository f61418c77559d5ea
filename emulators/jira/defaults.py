"""Default credentials and the API user, shared with tests, the demo and the docs.

These are test-world constants, not secrets: the emulator only runs on loopback.
"""

from __future__ import annotations

# Jira Cloud: Basic `email:api_token`, or an OAuth 2.0 (3LO) bearer access token.
CLOUD_EMAIL = "sync-bot@example.com"
CLOUD_API_TOKEN = "jira-api-token"  # noqa: S105 - documented emulator default
CLOUD_OAUTH_TOKEN = "jira-oauth-token"  # noqa: S105

# Jira Data Center: Bearer personal access token, or Basic `username:password`.
DC_PAT = "jira-pat-token"  # noqa: S105
DC_USERNAME = "sync-bot"
DC_PASSWORD = "jira-password"  # noqa: S105

API_ACCOUNT_ID = "5b10ac8d82e05b22cc7d4ef5"
API_USER_KEY = "JIRAUSER10000"
API_DISPLAY_NAME = "Sync Bot"
DEFAULT_TIME_ZONE = "Europe/Berlin"

MODES = ("cloud", "datacenter")
DEFAULT_MODE = "cloud"

# Retry-After (seconds) carried by injected 429/503 faults; short so retry tests stay fast.
DEFAULT_FAULT_RETRY_AFTER_S = 1
