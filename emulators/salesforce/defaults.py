"""Constants of the emulated org: credentials, API versions, limits. Documented in README.md."""

from __future__ import annotations

from typing import Any

from emulators.salesforce.ids import to18

API_VERSION = "62.0"
# Served under /services/data/; simple_salesforce defaults to 59.0, so older ones are served too.
API_VERSIONS: dict[str, str] = {
    "55.0": "Summer '22", "56.0": "Winter '23", "57.0": "Spring '23", "58.0": "Summer '23",
    "59.0": "Winter '24", "60.0": "Spring '24", "61.0": "Summer '24", "62.0": "Winter '25",
}

CLIENT_ID = "sfjira-client"
CLIENT_SECRET = "sfjira-secret"
USERNAME = "sync@example.com"
PASSWORD = "sfjira-password"

ORG_ID = to18("00DKj0000000001")
# The API user every grant logs in as by default; always present, also right after a reset.
INTEGRATION_USER_ID = to18("005Kj0000000001")
INTEGRATION_USER: dict[str, Any] = {
    "Username": USERNAME, "FirstName": "Sync", "LastName": "Integration", "Email": USERNAME,
    "Alias": "sync", "IsActive": True, "Title": "Integration User",
}

JWT_PRIVATE_KEY_FILE = "jwt_private_key.pem"
JWT_CERT_FILE = "jwt_cert.pem"
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")

COLLECTION_MAX = 200
QUERY_BATCH_MIN, QUERY_BATCH_MAX = 200, 2000
SOQL_OFFSET_MAX = 2000

# Settings changed through PUT /__emulator/config; `reset` restores these.
DEFAULT_CONFIG: dict[str, Any] = {
    "token_ttl_s": 7200,            # access token lifetime (Salesforce's default session timeout: 2 h)
    "api_daily_max": 100_000,       # DailyApiRequests Max; REQUEST_LIMIT_EXCEEDED once used up
    "bulk_daily_max": 15_000,       # DailyBulkApiRequests Max (reported by /limits)
    "bulk_v2_query_jobs_max": 10_000,  # DailyBulkV2QueryJobs Max; a query job past it is refused
    "bulk_job_polls": 0,            # Bulk API 2.0 jobs stay InProgress for this many polls of the job
    "deleted_reach_days": 15,       # getDeleted: a start older than this -> INVALID_REPLICATION_DATE
    "updated_reach_days": 30,       # getUpdated: the same rule with 30 days
    "jwt_audiences": [*JWT_AUDIENCES],
    "jwt_cert_pem": None,           # another PEM certificate to verify JWT bearer assertions with
    "run_as_username": USERNAME,    # the user client_credentials logs in as
    "schema_extra": None,           # {"objects": {...}} merged over schema.yaml (same shape)
    "outbound_messages": None,      # set through /__emulator/outbound_messages (outbound.py)
}
