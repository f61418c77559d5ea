"""The error catalog: every code sfjira raises or records, what it means, whether it is retried, the fix.

One home for codes. An error (`sfjira.exceptions.SfJiraError`) carries one as `code`; a reject row
(a record held back, `sfjira.state.rejects`) carries one in its `code` column. Here each code has
its meaning, its category, whether it is retried and the fix, and `docs/errors.md` is generated from
this module (`sfjira errors`, `make docs`). tests/sfjira/test_error_catalog.py fails when the source
uses a code this module does not list, when an entry is dead, or when `retried` disagrees with the
`transient` the code is raised with.

Kinds:
- `error`: raised. Terminal errors fail the task at once (`AirflowFailException`, see
  sfjira.operators.failures); transient ones are retried: first by the hook's own HTTP retries
  (exponential backoff with jitter, sfjira.http.retry), then by Airflow's task retries
  (`retry_exponential_backoff`, sfjira.dag_factory.default_args).
- `reject`: one record refused by the transform, the identity rules or an API; the rest of the run
  goes on. `retried` says whether the record may go through unchanged when it is read again (its next
  change, or `replay_rejects`) -- a lock passes, a bad value needs the fix first.

Families (`JIRA_HTTP_<status>`, a Jira element's `<status>`, any other Salesforce errorCode) are
matched by pattern; `describe` answers for a concrete code of a family too.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace

from sfjira.exceptions import transient_status

CATEGORIES = ("transform", "identity", "write", "salesforce", "jira", "auth", "limits", "transport", "state",
              "mapping", "config", "pii", "reconcile", "webhooks", "internal")
KINDS = ("error", "reject")
_BY_STATUS = "the HTTP status is 408, 425, 429 or 5xx (sfjira.exceptions.transient_status)"


@dataclass(frozen=True)
class ErrorCode:
    """One catalogued code.

    :param code: the code, or a family's pattern such as `JIRA_HTTP_<status>`.
    :param retried: whether sfjira (or the next run, for a reject) tries again without anyone acting.
    :param retried_when: set when the verdict depends on the occasion (the HTTP status, the kind of
        network fault): the condition under which it is retried.
    :param raised_by: where the code comes from (module, class), so a reader can find it.
    :param external: a code an API defines (a Salesforce errorCode), passed through as the API sent it.
    """

    code: str
    category: str
    kind: str
    meaning: str
    retried: bool
    fix: str
    raised_by: str
    retried_when: str = ""
    external: bool = False


@dataclass(frozen=True)
class Family:
    """Codes built at run time: `template` is the code with `{}` for the variable part (as the
    f-string that builds it), `pattern` a regex a concrete code matches."""

    entry: ErrorCode
    template: str
    pattern: re.Pattern[str]


def _e(code: str, category: str, kind: str, meaning: str, retried: bool, fix: str, raised_by: str, *,
       retried_when: str = "", external: bool = False) -> ErrorCode:
    return ErrorCode(code, category, kind, meaning, retried, fix, raised_by, retried_when, external)


_T = "sfjira.transform (rejects.REASONS)"
_ID = "sfjira.identity.rules"
_ST = "sfjira.state"
_WH = "sfjira.webhooks (verify.WebhookRejected)"
_SF = "Salesforce errorCode"
_SF_RETRY = "the next run (or replay_rejects) sends the record again"
_FIX_SF_VALUE = "correct the value on the Jira side or the mapping; the next run retries the record"

_ENTRIES: tuple[ErrorCode, ...] = (
    # -- the base classes (sfjira.exceptions) and their default codes --------------------------------
    _e("SFJIRA_ERROR", "internal", "error", "an sfjira error raised without a code of its own",
       False, "read the message; report it so it gets a code", "sfjira.exceptions.SfJiraError"),
    _e("MAPPING_INVALID", "mapping", "error", "a mapping file breaks the schema or a semantic rule",
       False, "correct the mapping at the file, line and field named (see plugins/sfjira/mapping/README.md); "
       "`sfjira validate` checks it", "sfjira.exceptions.MappingError, sfjira.mapping.errors"),
    _e("TRANSFORM_FAILED", "transform", "error", "a frame cannot be transformed at all (missing columns or ids)",
       False, "check that the extract read the mapping's fields; report it if the mapping validates",
       "sfjira.exceptions.TransformError (sfjira.transform.engine)"),
    _e("API_ERROR", "internal", "error", "an external API refused a call, without a more precise code",
       False, "read the message for the API's answer", "sfjira.exceptions.ApiError", retried_when=_BY_STATUS),
    _e("REQUEST_LIMIT_EXCEEDED", "limits", "error", "Salesforce refused the call: the org's rolling 24-hour API "
       "request limit is spent (also a Salesforce errorCode)", False,
       "stop syncing until the usage drops (Setup > Company Information), lower the sync frequency, or ask "
       "Salesforce for a higher limit", "sfjira.exceptions.ApiLimitExceeded (hooks.salesforce)", external=True),
    _e("SF_API_BUDGET_EXHAUSTED", "limits", "error", "the org's daily Salesforce API usage reached sfjira's "
       "share of the limit ([sfjira] salesforce_api_budget_share, default 90 %): the sync stops before it reads "
       "or writes more, leaving the rest of the limit to the org's other integrations", False,
       "wait until the rolling 24-hour usage drops (Setup > System Overview), raise "
       "salesforce_api_budget_share if the other integrations can spare it, or buy more API requests",
       "sfjira.sync.budget.ApiBudgetExhausted"),
    _e("AUTH_FAILED", "auth", "error", "credentials were refused (HTTP 401, or the OAuth token endpoint said no)",
       False, "check the connection's login, token or client secret and the auth mode in its extra",
       "sfjira.exceptions.AuthError (hooks.jira, hooks.salesforce_oauth)",
       retried_when="the token endpoint answered 429 or 5xx"),
    _e("INSECURE_HTTP", "transport", "error", "a connection would send credentials or data without TLS (an http:// "
       "URL, or a redirect away from https)", False,
       "use an https:// URL; `allow_insecure_http: true` is accepted for a loopback host only",
       "sfjira.exceptions.InsecureTransport (http.transport)"),
    _e("STATE_STORE", "state", "error", "the state store failed, without a more precise code", False,
       "read the message; run `sfjira migrate` if the schema is old", "sfjira.exceptions.StateStoreError"),
    _e("CONFIG_INVALID", "config", "error", "a setting, connection extra, DAG run param or hook argument has a "
       "value sfjira cannot use", False, "correct the value the message names", "sfjira.exceptions.ConfigError"),
    _e("LOCAL_AIRFLOW_FAILED", "internal", "error", "the local Airflow of `make airflow` / `make demo` could not "
       "be set up or kept running: an Airflow CLI step failed, the asked-for port is taken, or a component "
       "kept exiting", False, "read the output or component log the message names; choose a free port with "
       "SFJIRA_AIRFLOW_PORT (0: any)", "sfjira.local_airflow.LocalAirflowError (sfjira.supervisor, sfjira.live)"),
    # -- transform rejects (one row per record, field, problem) --------------------------------------
    _e("VALUE_UNMAPPED", "transform", "reject", "a picklist/status value has no entry in the field's value map",
       False, "add it to value_map (or reverse_map) in the mapping, or set unmapped: default or pass", _T),
    _e("REQUIRED_MISSING", "transform", "reject", "a required field is empty", False,
       "fill the source field, or give the mapped field a default in the mapping", _T),
    _e("STRING_TOO_LONG", "transform", "reject", "a text is longer than the target field allows (also the "
       "Salesforce errorCode for the same refusal)", False,
       "shorten it at the source, or set max_length with on_overflow: truncate on the field in the mapping",
       f"{_T}; Salesforce errorCode (sync.load_salesforce)", external=True),
    _e("STRING_MULTILINE", "transform", "reject", "a text holds a line break the single-line target field refuses",
       False, "remove the line break, or add the single_line transform to the field in the mapping", _T),
    _e("INVALID_DATE", "transform", "reject", "a value is not a calendar date (yyyy-mm-dd)", False,
       "correct the value at the source", _T),
    _e("INVALID_DATETIME", "transform", "reject", "a value is not an ISO-8601 date-time with a UTC offset", False,
       "correct the value at the source", _T),
    _e("NAIVE_DATETIME", "transform", "reject", "a date-time has no UTC offset, so the moment it means is ambiguous",
       False, "deliver it with its offset (e.g. +0000); the sync never guesses a zone", _T),
    _e("INVALID_NUMBER", "transform", "reject", "a value is not a decimal number", False,
       "correct the value at the source, or change the field's `type` in the mapping", _T),
    _e("INVALID_BOOLEAN", "transform", "reject", "a value is not true or false", False,
       "correct the value at the source", _T),
    _e("INVALID_VALUE", "transform", "reject", "a value has a shape the field cannot take (e.g. a list where text "
       "belongs, a separator inside a multi-value item)", False, "correct the value at the source",
       "sfjira.values.coerce, sfjira.transform.engine"),
    # -- identity claims (sfjira.identity.rules) -------------------------------------------------------
    _e("IDENTITY_KEY_MALFORMED", "identity", "reject", "a record's Jira key field holds something that is not an "
       "issue key (PROJECT-123); also raised for a malformed key or id used in a URL", False,
       "clear the key field on the record, or set it to the key of the issue that belongs to it",
       f"{_ID}; sfjira.identity.keys.IdentityError"),
    _e("IDENTITY_KEY_OTHER_PROJECT", "identity", "reject", "a record claims an issue of another project", False,
       "clear the key field on the record, or set it to an issue of the mapping's project", _ID),
    _e("IDENTITY_KEY_OTHER_ISSUE_TYPE", "identity", "reject", "a record claims an issue of another issue type",
       False, "clear the key field on the record, or set it to an issue of the mapping's issue type", _ID),
    _e("IDENTITY_KEY_NOT_FOUND", "identity", "reject", "a record claims an issue the sync cannot see", False,
       "clear the key field on the record (the sync then creates the issue), or correct the key", _ID),
    _e("IDENTITY_KEY_LINKED_ELSEWHERE", "identity", "reject", "a record claims an issue already linked to another "
       "record", False, "clear the key field on the record that does not own the issue, or `sfjira unlink` the "
       "stale link", _ID),
    _e("IDENTITY_KEY_CLAIMED_TWICE", "identity", "reject", "two records claim the same issue", False,
       "clear the key field on the record that does not belong to the issue", _ID),
    _e("IDENTITY_KEY_CARRIES_OTHER_RECORD", "identity", "reject", "a record claims an issue that carries another "
       "record's Salesforce id", False, "clear the key on this record, or correct the Salesforce id on the issue",
       _ID),
    _e("IDENTITY_SFID_MALFORMED", "identity", "reject", "an issue's Salesforce id field/property holds something "
       "that is not a Salesforce id", False, "correct or clear the Salesforce id on the issue", _ID),
    _e("IDENTITY_SFID_OTHER_OBJECT", "identity", "reject", "an issue carries the id of a record of another "
       "sObject than the mapping's", False, "correct or clear the Salesforce id on the issue", _ID),
    # -- per-record write outcomes the product builds itself -------------------------------------------
    _e("CREATE_FAILED", "write", "reject", "Jira refused to create an issue without naming an error", False,
       "correct the record's mapped values or the mapping; the next run retries it", "sfjira.sync.load_jira"),
    _e("UPDATE_FAILED", "write", "reject", "Salesforce refused an update without naming an error", False,
       _FIX_SF_VALUE, "sfjira.sync.load_salesforce"),
    _e("MISSING_ID", "write", "reject", "a Salesforce update lacks the record Id or its sObject type", False,
       "report this: the loader builds every update with its Id", "sfjira.hooks.salesforce.update_collection"),
    _e("MISSING_EXTERNAL_ID", "write", "reject", "an upsert by external id has an empty external id", False,
       "fill the external id field of the record", "sfjira.hooks.salesforce.upsert_collection"),
    _e("MALFORMED_ID", "write", "reject", "a value used as a Salesforce record id is not one (checked before "
       "sending; also a Salesforce errorCode)", False, "correct the id (15 characters, or 18 with a valid "
       "checksum)", "sfjira.hooks.salesforce.update_collection; Salesforce errorCode", external=True),
    _e("MALFORMED_REQUEST", "write", "reject", "Salesforce refused a whole collections request without an "
       "errorCode; the record that caused it was isolated", False, _FIX_SF_VALUE,
       "sfjira.hooks.salesforce (_write_all)"),
    _e("BULK_ROW_UNPROCESSED", "write", "reject", "a Salesforce Bulk API 2.0 ingest job left the record "
       "unprocessed (the job failed or was aborted) in every job the hook sent it in", False,
       "read the job's errorMessage in the reject; the next run (or replay_rejects) sends the record again",
       "sfjira.hooks.salesforce_bulk"),
    _e("UNEXPECTED_RESPONSE", "internal", "error", "an API answered a bulk write with a body that breaks its "
       "contract (wrong number of results)", False, "report this with the message",
       "sfjira.hooks.salesforce, sfjira.hooks.jira"),
    # -- Salesforce errorCodes the product knows by name -------------------------------------------------
    _e("SALESFORCE_API_ERROR", "salesforce", "error", "Salesforce refused a call without an errorCode in its body",
       False, "read the message for Salesforce's answer", "sfjira.hooks.salesforce (_call)",
       retried_when=_BY_STATUS),
    _e("INVALID_SESSION_ID", "auth", "error", "Salesforce refused the access token; sfjira re-authenticates once, "
       "this code remains when the new token is refused too", False,
       "the token was refused right after re-authenticating: check that the connected app and the integration "
       "user are active", "sfjira.hooks.salesforce; " + _SF, external=True),
    _e("INVALID_FIELD", "salesforce", "error", "a field named in a query or write does not exist or is not "
       "visible to the integration user", False, "check the field API names in the mapping against "
       "describe(<sObject>) and the user's field-level security", _SF, external=True),
    _e("INVALID_TYPE", "salesforce", "error", "the sObject does not exist or the integration user cannot read it",
       False, "check the sObject API name and that the integration user can read it", _SF, external=True),
    _e("MALFORMED_QUERY", "salesforce", "error", "Salesforce could not parse the SOQL", False,
       "check the mapping's `where` condition: it must be valid SOQL", _SF, external=True),
    _e("INVALID_REPLICATION_DATE", "salesforce", "error", "the deleted feed was asked for a window older than "
       "it keeps; sfjira falls back to queryAll by itself", False, "none needed: the extract reads the "
       "deletions with queryAll instead", "sfjira.hooks.salesforce.deleted_ids; " + _SF, external=True),
    _e("INSUFFICIENT_ACCESS", "salesforce", "error", "the integration user lacks access to an object or record",
       False, "grant the integration user access to the object and fields", _SF, external=True),
    _e("INSUFFICIENT_ACCESS_OR_READONLY", "salesforce", "reject", "the integration user may not edit the record "
       "(sharing, or a read-only record)", False, "grant the integration user edit access to the record (sharing "
       "rules, profile or permission set)", _SF, external=True),
    _e("INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "salesforce", "reject", "the record refers to a record "
       "(owner, parent, lookup) the integration user cannot see", False, "share the referenced record with the "
       "integration user, or correct the reference", _SF, external=True),
    _e("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "salesforce", "reject", "a value is not one of a restricted "
       "picklist's values", False, "add the value to the picklist in Salesforce, or map it in the mapping's "
       "value_map", f"{_SF} (sync.load_salesforce)", external=True),
    _e("REQUIRED_FIELD_MISSING", "salesforce", "reject", "a field the object requires is empty", False,
       "map a value for the required field, or give it a default in the mapping", _SF, external=True),
    _e("FIELD_CUSTOM_VALIDATION_EXCEPTION", "salesforce", "reject", "a validation rule of the org refused the "
       "record", False, "make the mapped values satisfy the validation rule the message names, or have an admin "
       "exempt the integration user", _SF, external=True),
    _e("FIELD_INTEGRITY_EXCEPTION", "salesforce", "reject", "a value breaks a field's integrity rule (e.g. a "
       "lookup to the wrong object)", False, _FIX_SF_VALUE, _SF, external=True),
    _e("INVALID_CROSS_REFERENCE_KEY", "salesforce", "reject", "a lookup holds an id of no accessible record", False,
       "correct the id in the lookup, or share the referenced record", _SF, external=True),
    _e("INVALID_FIELD_FOR_INSERT_UPDATE", "salesforce", "reject", "a field written is not createable or "
       "updateable", False, "drop the field from the mapping's Jira->Salesforce direction, or make it editable",
       _SF, external=True),
    _e("INVALID_TYPE_ON_FIELD_IN_RECORD", "salesforce", "reject", "a value has the wrong type for its field",
       False, "change the field's `type` in the mapping to match Salesforce", _SF, external=True),
    _e("INVALID_EMAIL_ADDRESS", "salesforce", "reject", "a value written to an email field is not an address",
       False, _FIX_SF_VALUE, _SF, external=True),
    _e("NUMBER_OUTSIDE_VALID_RANGE", "salesforce", "reject", "a number is outside the field's precision or range",
       False, _FIX_SF_VALUE, _SF, external=True),
    _e("DUPLICATE_VALUE", "salesforce", "reject", "a unique field already holds this value on another record",
       False, "resolve the duplicate in Salesforce, or map a unique value", _SF, external=True),
    _e("DUPLICATE_EXTERNAL_ID", "salesforce", "reject", "an upsert's external id matches more than one record",
       False, "make the external id unique in Salesforce", _SF, external=True),
    _e("ENTITY_IS_DELETED", "salesforce", "reject", "the record was deleted in Salesforce", False,
       "restore it from the recycle bin, or `sfjira unlink` the record", _SF, external=True),
    _e("NOT_FOUND", "salesforce", "error", "the resource or record does not exist", False,
       "check the id or the sObject name", _SF, external=True),
    _e("JSON_PARSER_ERROR", "salesforce", "reject", "Salesforce could not parse the request body", False,
       "report this with the record id: the payload builder produced invalid JSON", _SF, external=True),
    _e("INVALID_QUERY_FILTER_OPERATOR", "salesforce", "error", "an operator of the SOQL condition does not apply "
       "to the field's type", False, "correct the mapping's `where` condition", _SF, external=True),
    _e("EXCEEDED_ID_LIMIT", "salesforce", "error", "a request named more ids than Salesforce takes at once", False,
       "report this: sfjira chunks ids below Salesforce's limits", _SF, external=True),
    _e("ALL_OR_NONE_OPERATION_ROLLED_BACK", "salesforce", "reject", "the record was fine but rolled back with "
       "another record of an all-or-none request", True, "none for this record: fix the other record's error",
       _SF, external=True),
    _e("UNABLE_TO_LOCK_ROW", "salesforce", "reject", "another transaction held a lock on the record", True,
       "none usually: the lock passes and the next try goes through; if it repeats, look for automation "
       "(flows, triggers) holding the record", _SF, external=True),
    _e("SERVER_UNAVAILABLE", "salesforce", "error", "Salesforce is unavailable", True,
       "none: retried with backoff; check status.salesforce.com if it lasts", _SF, external=True),
    _e("UNKNOWN_EXCEPTION", "salesforce", "error", "an internal error of Salesforce", True,
       "none: retried; report to Salesforce with the message if it repeats", _SF, external=True),
    # -- Jira --------------------------------------------------------------------------------------------
    _e("JIRA_UNREACHABLE", "jira", "error", "Jira's serverInfo did not answer 200 while detecting the deployment",
       False, "check the connection host, or set extra deployment: cloud|datacenter", "sfjira.hooks.jira",
       retried_when=_BY_STATUS),
    _e("JIRA_CREATEMETA", "jira", "error", "the mapping's issue type cannot be created in the project", False,
       "use an issue type the project's create screen offers (the message lists them)", "sfjira.hooks.jira"),
    _e("TRANSITION_UNREACHABLE", "jira", "reject", "the workflow has no path from the issue's status to the mapped "
       "one", False, "map the value to a status this workflow reaches, or add a transition (and check the API "
       "user may perform it)", "sfjira.hooks.jira.transition_to"),
    _e("JIRA_BULK_ISSUE_FAILED", "jira", "reject", "a Jira Cloud bulk edit or bulk transition task could not change "
       "this issue (failedAccessibleIssues gives Jira's reasons, in the message)", False,
       "correct what the message names (a required field left empty, a transition the issue's status does not "
       "offer, a value the field refuses), then let the next run retry the record", "sfjira.hooks.jira_bulk"),
    _e("JIRA_BULK_ISSUE_MISSING", "jira", "reject", "a Jira Cloud bulk task did not report the issue: it was "
       "deleted, or the API user cannot see it", False, "nothing when the issue was deleted (the next run "
       "applies the Jira-deleted policy); otherwise give the API user Browse permission on its project",
       "sfjira.hooks.jira_bulk"),
    _e("JIRA_BULK_TASK_FAILED", "jira", "error", "a Jira Cloud bulk operation task ended FAILED, CANCELLED or DEAD",
       True, "run the task again: the chunk's issues are sent in a new task", "sfjira.hooks.jira_bulk"),
    _e("JIRA_BULK_TASK_TIMEOUT", "jira", "error", "a Jira Cloud bulk operation task did not finish within the "
       "hook's wait", True, "run the task again: it polls the same task from the id in its intent",
       "sfjira.hooks.jira_bulk"),
    _e("JIRA_BULK_UNSUPPORTED", "config", "error", "issue bulk operations were asked of Jira Data Center, which "
       "has no such API", False, "use the per-issue writes on Data Center (the sync does so by itself)",
       "sfjira.hooks.jira.JiraSyncHook.bulk"),
    # -- auth, transport, limits ------------------------------------------------------------------------
    _e("AUTH_CONFIG", "auth", "error", "a connection's auth settings are missing or unsupported (grant, token, "
       "key file, host)", False, "complete the connection as the message says",
       "sfjira.hooks.jira, sfjira.hooks.salesforce_oauth, sfjira.http.auth"),
    _e("INSECURE_TLS", "transport", "error", "a connection sets verify: false, which would accept any certificate",
       False, "remove `verify`, or point `ca_bundle` at the CA's PEM; `allow_insecure_tls: true` accepts the risk",
       "sfjira.http.transport"),
    _e("CA_BUNDLE_MISSING", "transport", "error", "a connection's ca_bundle/verify points to no readable file",
       False, "point it at the PEM of the CA that signed the server certificate, or remove it",
       "sfjira.http.tls"),
    _e("ROLLBACK_RUN_UNKNOWN", "config", "error", "a rollback was asked for a run its mapping's ledger does not "
       "know (or for none)", False, "give the run's Airflow run id or state-store run id as `sfjira audit "
       "--mapping NAME` lists them", "sfjira.rollback.run"),
    _e("ROLLBACK_POLICY_INVALID", "config", "error", "a rollback's `created` policy is not one of delete, label, "
       "keep", False, "set the `created` Param (or --created) to delete, label or keep", "sfjira.rollback.run"),
    _e("WRITE_UNRESOLVED", "transport", "error", "a write stayed ambiguous (5xx, reset or lost response) or kept "
       "failing through every send and look-up inside the task: whether it landed is not known yet", True,
       "nothing to do: Airflow retries the task, whose pending write-ahead intent makes it look the write up "
       "before sending it again; if it persists, check the API's health", "sfjira.sync.resolve.WriteUnresolved"),
    _e("CONNECTION_FAILED", "transport", "error", "no answer from the API: connection refused, reset or timed out, "
       "or TLS failed", True, "check the URL, network and CA bundle; a passing fault was already retried with "
       "backoff", "sfjira.hooks.salesforce, sfjira.hooks.jira",
       retried_when="the fault may pass (refused, reset, timed out); a refused certificate, a TLS protocol "
                    "mismatch or a bad URL is terminal (sfjira.http.retry.transport_transient)"),
    _e("BULK_JOB_FAILED", "salesforce", "error", "a Salesforce Bulk API 2.0 query job ended Failed or Aborted",
       True, "run the task again: it creates a new query job; read the job's errorMessage if it keeps failing",
       "sfjira.hooks.salesforce_bulk"),
    _e("BULK_JOB_TIMEOUT", "salesforce", "error", "a Salesforce Bulk API 2.0 job did not finish within the hook's "
       "wait", True, "run the task again: it resumes the same job from the id in its intent",
       "sfjira.hooks.salesforce_bulk"),
    _e("RATE_LIMITED", "limits", "error", "an API kept answering 429 beyond the hook's retry budget", True,
       "let the rate limit reset (see Retry-After); lower the sync frequency or page size, or raise "
       "`retry_max_total` in the connection extra", "sfjira.http.session"),
    # -- settings, queries ------------------------------------------------------------------------------
    _e("SETTING_INVALID", "config", "error", "an [sfjira] setting has a value sfjira cannot use", False,
       "set it (AIRFLOW__SFJIRA__<NAME> or airflow.cfg [sfjira]) to a valid value",
       "sfjira.settings, sfjira.retention"),
    _e("QUERY_INVALID", "config", "error", "a SOQL or JQL query cannot be built from what it was given", False,
       "correct the name, window or value the message names", "sfjira.hooks.errors.QueryError"),
    _e("WHERE_INVALID", "mapping", "error", "a mapping's `where` is not a single safe SOQL condition", False,
       "write one SOQL condition (no ';', no subquery, single-quoted strings)",
       "sfjira.hooks.soql_condition.ConditionError"),
    _e("RECONCILE_PARAM_INVALID", "config", "error", "a reconciliation DAG run param has an unusable value",
       False, "correct the param the message names", "sfjira.reconcile.run"),
    _e("SYNC_REACH_BACK_INVALID", "config", "error", "a sync run's `reach_back_hours` is not a whole number of "
       "hours from 0 to 168, or was given to a backfill run", False,
       "trigger a manual run (not a backfill) with reach_back_hours from 0 to 168; for more, use full_resync or a "
       "reconciliation with a scope date", "sfjira.sync.cursor.parse_reach_back"),
    # -- mapping ----------------------------------------------------------------------------------------
    _e("MAPPING_YAML", "mapping", "error", "a mapping file is not valid YAML", False,
       "correct the YAML at the line named", "sfjira.mapping.loader"),
    _e("MAPPING_NOT_FOUND", "mapping", "error", "a mapping file cannot be read", False,
       "check the path and permissions of the mapping file", "sfjira.mapping.loader"),
    _e("MAPPING_LIVE_MISMATCH", "mapping", "error", "a mapping names fields, values or types the live Salesforce "
       "or Jira does not have", False, "correct the mapping against the live metadata (`sfjira validate --live`)",
       "sfjira.mapping.live"),
    _e("MAPPING_DAG_FAILED", "mapping", "error", "building a mapping's DAGs failed", False,
       "correct the mapping, or report this error", "sfjira.dag_factory"),
    _e("LIVE_CHECK_UNAVAILABLE", "mapping", "error", "the live check cannot reach Salesforce or Jira", False,
       "check the connections, or validate without --live", "sfjira.mapping.hooksource.LiveUnavailable"),
    # -- PII ----------------------------------------------------------------------------------------------
    _e("PII_KEY_MISSING", "pii", "error", "PII fields are declared but no key is configured to seal them", False,
       "put a Fernet key in the password of the crypto connection (`sfjira_crypto`)",
       "sfjira.pii.cipher.PiiKeyError, sfjira.pii.keys"),
    _e("PII_KEY_INVALID", "pii", "error", "a configured PII key or hash_key is not usable", False,
       "generate keys with Fernet.generate_key(); hash_key needs 16 characters or more", "sfjira.pii.cipher"),
    _e("PII_KEY_UNKNOWN", "pii", "error", "a stored PII value cannot be opened with any configured key", False,
       "put the key it was sealed with back (after the current one); rotate before removing an old key",
       "sfjira.pii.cipher"),
    # -- state store -------------------------------------------------------------------------------------
    _e("STATE_UNAVAILABLE", "state", "error", "the state store's database is unreachable or locked right now",
       True, "check that the database of the `sfjira_state` connection is up and not locked", f"{_ST}.errors"),
    _e("STATE_INTENT_VANISHED", "state", "error", "a write-ahead intent disappeared while it was read (a "
       "concurrent writer)", True, "none: the task is retried; report this if it repeats", f"{_ST}.intents"),
    _e("STATE_CONSTRAINT", "state", "error", "a write broke a rule of the state store", False,
       "report it with the message: the caller's input breaks a rule of the store", f"{_ST}.errors"),
    _e("STATE_LINK_CONFLICT", "state", "error", "a Jira issue or comment is already linked to another record", False,
       "find the duplicate Salesforce id on the Jira issue, or remove the stale link with `sfjira unlink`",
       f"{_ST}.errors, {_ST}.idmap"),
    _e("STATE_RUN_UNKNOWN", "state", "error", "a row refers to a run the store does not know", False,
       "begin the run first (StateStore.begin_run); check the run id", f"{_ST}.errors, {_ST}.runs, {_ST}.ledger"),
    _e("STATE_SQL_FAILED", "state", "error", "a state store statement failed", False,
       "run `sfjira migrate`; if it persists, report it with the message", f"{_ST}.errors"),
    _e("STATE_INPUT_INVALID", "state", "error", "a frame or argument given to the state store is unusable", False,
       "report it with the message: a caller passed rows the store refuses",
       f"{_ST}.frames, {_ST}.ledger, {_ST}.runs, {_ST}.engine"),
    _e("STATE_URL_INVALID", "state", "error", "the state store URL or schema is unusable", False,
       "set the `sfjira_state` connection to a SQLite or PostgreSQL URL (schema for PostgreSQL only)",
       f"{_ST}.engine"),
    _e("STATE_INTENT_UNKNOWN", "state", "error", "an intent id the store does not know", False,
       "report it with the message", f"{_ST}.intents"),
    _e("STATE_INTENT_NOT_PENDING", "state", "error", "an intent was completed twice", False,
       "report it with the message: a chunk was finished by two writers", f"{_ST}.intents"),
    _e("STATE_WRITER_BUSY", "state", "error", "another run (sync, backfill, heal) of the mapping holds its writer "
       "lease and did not let go within [sfjira] writer_lease_wait_seconds (inside an Airflow task the task is "
       "rescheduled instead, giving its worker slot back)", True,
       "nothing to do: the task tries again once the other writer is done; a writer that died frees the lease "
       "after [sfjira] writer_lease_seconds", f"{_ST}.lease"),
    _e("STATE_WRITER_LEASE_LOST", "state", "error", "the run's writer lease lapsed while it wrote (the process stalled "
       "longer than its TTL) and another writer took it", True,
       "none: the task retries and resumes its intents; raise [sfjira] writer_lease_seconds if writes legitimately "
       "pause that long", f"{_ST}.lease"),
    _e("STATE_SCHEMA_OLD", "state", "error", "the state store's schema is older than this sfjira", False,
       "run `sfjira migrate` (or StateStore.migrate())", f"{_ST}.store"),
    _e("STATE_SCHEMA_TOO_NEW", "state", "error", "the state store was written by a newer sfjira", False,
       "upgrade sfjira on every worker, or point `sfjira_state` at a store of this release", f"{_ST}.migrations"),
    _e("STATE_MIGRATIONS_INVALID", "state", "error", "the migration steps of this release are inconsistent", False,
       "fix the STEPS list in sfjira.state.migrations", f"{_ST}.migrations"),
    # -- the webhook receiver (sfjira.webhooks): each an HTTP answer to the sender, never raised in a task ---
    _e("WEBHOOK_REJECTED", "webhooks", "error", "the webhook receiver refused a request, without a more precise "
       "code", False, "read the message of the answer", _WH),
    _e("WEBHOOK_BODY_TOO_LARGE", "webhooks", "error", "HTTP 413: a delivery's body passes the receiver's cap "
       "(4 MiB); refused before the rest is read", False,
       "send smaller deliveries (fewer fields or notifications per message; Jira: excludeBody)", _WH),
    _e("WEBHOOK_NOT_CONFIGURED", "webhooks", "error", "HTTP 403: the receiver has no secret for this sender (the "
       "Airflow connection sfjira_webhook_jira or sfjira_webhook_salesforce, its password or, for Salesforce, "
       "organization_id in its extra, is missing); nothing is recorded", False,
       "create the connection as the README's 'Webhooks (near-real-time)' says; the senders' retries then "
       "arrive", _WH),
    _e("WEBHOOK_UNSIGNED", "webhooks", "error", "HTTP 401: a delivery without proof of its sender (Jira: no "
       "X-Hub-Signature; Salesforce: no ?token= in the URL)", False,
       "give the Jira webhook its secret; end the outbound message's endpoint URL with ?token=<secret>", _WH),
    _e("WEBHOOK_SIGNATURE_INVALID", "webhooks", "error", "HTTP 403: a delivery's signature or token does not match "
       "the connection's secret", False,
       "set the same secret on the sender and in the connection's password; otherwise someone else is posting",
       _WH),
    _e("WEBHOOK_ORG_MISMATCH", "webhooks", "error", "HTTP 403: an outbound message's OrganizationId is not the "
       "org in the connection's extra", False,
       "set organization_id in the extra of sfjira_webhook_salesforce to the org's id (Setup > Company "
       "Information)", _WH),
    _e("WEBHOOK_BODY_INVALID", "webhooks", "error", "HTTP 400: a signed delivery whose body is not the sender's "
       "payload (not JSON for Jira, not a SOAP notifications message for Salesforce, or a DTD)", False,
       "send the sender's own payload unchanged", _WH),
    _e("WEBHOOK_UNKNOWN_MAPPING", "webhooks", "error", "HTTP 404: the URL names no mapping whose events asset "
       "(sfjira://<mapping>/events) Airflow has", False,
       "use the name of a mapping whose sync DAG Airflow has parsed", _WH),
    _e("WEBHOOK_UNAVAILABLE", "webhooks", "error", "HTTP 503: the state store or Airflow's database failed while "
       "a delivery was recorded; the delivery is not counted as seen", True,
       "nothing: the sender retries (the scheduled sync catches up meanwhile); check the api-server log if it "
       "persists", _WH),
    # -- reconciliation ----------------------------------------------------------------------------------
    _e("DRIFT_LIMIT_EXCEEDED", "reconcile", "error", "the reconciliation found more drift rows than its "
       "`fail_on_drift_above` param allows", False, "read the drift report of the run; heal with auto_heal=true, "
       "or raise fail_on_drift_above if the drift is expected",
       "sfjira.reconcile.result.DriftLimitExceeded"),
    _e("RECONCILE_INPUT_INVALID", "reconcile", "error", "the reconciliation got frames it cannot compare", False,
       "report it with the message", "sfjira.reconcile.result.ReconcileInputError"),
)

_FAMILIES: tuple[Family, ...] = (
    Family(_e("JIRA_HTTP_<status>", "jira", "error", "Jira answered a call with an HTTP error status (401 is "
              "AUTH_FAILED)", False, "400: check field ids and values against createmeta(); 403: grant the API "
              "user the project permission; 404: the issue is gone or hidden; 409: rerun; 5xx: Jira is failing, "
              "rerun later", "sfjira.hooks.jira (_error, _create_chunk)", retried_when=_BY_STATUS),
           "JIRA_HTTP_{}", re.compile(r"JIRA_HTTP_(\d{3})")),
    Family(_e("<status>", "jira", "reject", "Jira's bulk create refused one issue; the code is the element's HTTP "
              "status (e.g. 400) and the message names the fields", False, "correct the Salesforce record's "
              "mapped value (the field named) or the mapping; the next run retries it",
              "sfjira.hooks.jira (_element_errors)", retried_when=_BY_STATUS),
           "", re.compile(r"(\d{3})")),
    Family(_e("<Salesforce errorCode>", "salesforce", "reject", "any other errorCode Salesforce answers (REST API "
              "StatusCode), passed through as Salesforce sent it", False, "see the Salesforce REST API error code "
              "and the message", "sfjira.hooks.salesforce", retried_when=_BY_STATUS, external=True),
           "", re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")),
)

CATALOG: dict[str, ErrorCode] = {entry.code: entry for entry in _ENTRIES}
FAMILIES: dict[str, Family] = {family.entry.code: family for family in _FAMILIES}
# The fix of one JIRA_HTTP_<status>.
_STATUS_FIXES = {400: "the request was refused as invalid: check field ids and values against createmeta()",
                 403: "grant the API user the project permission this call needs (browse, create, edit, transition)",
                 404: "the issue or resource does not exist or the API user cannot see it",
                 409: "a concurrent change conflicted: rerun the task"}
_SERVER_FIX = "Jira is failing: rerun later"


def describe(code: str) -> ErrorCode | None:
    """The entry for `code`: its own, or its family's made concrete (retried from the status for an HTTP
    family). None for a code that is neither catalogued nor of a family."""
    if code in CATALOG:
        return CATALOG[code]
    for family in _FAMILIES:
        match = family.pattern.fullmatch(code or "")
        if match is None:
            continue
        entry = replace(family.entry, code=code)
        if match.groups():
            status = int(match.group(1))
            fix = _STATUS_FIXES.get(status, _SERVER_FIX) if family.template == "JIRA_HTTP_{}" else entry.fix
            return replace(entry, retried=transient_status(status), retried_when="", fix=fix)
        return entry
    return None


def fix_for(code: str) -> str:
    """The catalog's fix for `code` ("" when the code is unknown)."""
    entry = describe(code)
    return entry.fix if entry else ""


def transient(code: str, status: int | None) -> bool:
    """Whether an API error with `code` (answered with HTTP `status`) is worth another try: the catalog's
    verdict for a code it knows outright, the status otherwise."""
    entry = CATALOG.get(code)
    if entry is not None and not entry.retried_when:
        return entry.retried
    return transient_status(status)


def is_catalogued(code: str) -> bool:
    """Listed by name. (The Salesforce errorCode family matches any UPPER_SNAKE code, so the source
    check uses this, not `describe`.)"""
    return code in CATALOG


def family_of_template(template: str) -> Family | None:
    """The family whose code is built by an f-string with this shape (`JIRA_HTTP_{}`)."""
    return next((f for f in _FAMILIES if f.template and f.template == template), None)


def entries() -> list[ErrorCode]:
    """Every entry, families last, ordered by category then code."""
    order = {name: i for i, name in enumerate(CATEGORIES)}
    named = sorted(_ENTRIES, key=lambda e: (order[e.category], e.code))
    return named + [f.entry for f in _FAMILIES]


# -- docs/errors.md ---------------------------------------------------------------------------------------

INTRO = """\
# Error codes

Generated from `plugins/sfjira/error_catalog.py` by `sfjira errors` (`make docs`); do not edit by hand.
tests/sfjira/test_error_catalog.py fails when the code uses a code missing here, or when this file is stale.

Every sfjira error carries a stable code, its fix, and whether a retry can help; every reject row
(`sfjira rejects --mapping NAME`) carries a code and a fix too.

**How retries work.**

- *Inside a task*: the Salesforce and Jira hooks retry an HTTP call themselves on 429, 500, 502, 503, 504
  and passing network faults, with exponential backoff and jitter (half of each step random), honouring
  `Retry-After`, within a total wait budget (connection extras `retry_max_attempts`, `retry_base_delay`,
  `retry_max_delay`, `retry_max_total`; `sfjira.http.retry`). POST is resent only when the server did
  nothing (429, 503) or the request never left.
- *Between tries of a task*: an error whose code is **retried** (transient) fails the task try, and
  Airflow retries it (`[sfjira] task_retries`, `retry_delay_seconds`) with `retry_exponential_backoff`
  and Airflow's own jitter, up to `max_retry_delay` (10 minutes).
- *Terminal* errors (not retried) fail the task at once without retrying: `AirflowFailException`
  (`sfjira.operators.failures`), its log naming the code and the fix. Errors sfjira does not know keep
  Airflow's retries.
- *Rejects* never fail a task: the record is held back, the rest of its chunk lands, and the reject stays
  open until the record goes through. For a reject, **retried** means that trying the record again
  unchanged can pass (a lock, a roll-back); it is tried again when it is read again -- on its next change,
  or by a replay (`replay_rejects`, `sfjira replay --mapping NAME`). Any other reject needs its fix first.

A verdict marked *depends* is taken per occasion: the column says when it is retried.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """docs/errors.md: the intro, then one table per category."""
    lines = [INTRO]
    by_category: dict[str, list[ErrorCode]] = {}
    for entry in entries():
        by_category.setdefault(entry.category, []).append(entry)
    for category in CATEGORIES:
        rows = by_category.get(category)
        if not rows:
            continue
        lines += [f"## {category}", "", "| code | kind | retried | meaning | fix | raised by |",
                  "|---|---|---|---|---|---|"]
        for e in rows:
            retried = f"depends: {e.retried_when}" if e.retried_when else ("yes" if e.retried else "no")
            source = f"{e.raised_by}{' (external)' if e.external else ''}"
            lines.append(f"| `{_cell(e.code)}` | {e.kind} | {_cell(retried)} | {_cell(e.meaning)} | {_cell(e.fix)} "
                         f"| {_cell(source)} |")
        lines.append("")
    return "\n".join(lines)


def as_json() -> str:
    return json.dumps([asdict(e) for e in entries()], indent=2) + "\n"
