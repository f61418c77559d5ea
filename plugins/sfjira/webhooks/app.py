"""The receiver's FastAPI app, mounted by SfJiraPlugin under `/sfjira/webhooks` WITHOUT the Airflow login.

Each request goes through the same steps, and stops at the first that fails (its 4xx says which):

1. size: a declared Content-Length over the cap, or a streamed body passing it -> 413, before reading on;
2. configuration: the sender's Airflow connection and its secret -> 403 WEBHOOK_NOT_CONFIGURED;
3. the sender: Jira's HMAC signature, Salesforce's token and organisation id -> 401 unsigned, 403 wrong;
4. the mapping: its `sfjira://<mapping>/events` asset must exist and be active in Airflow -> 404. Checked
   after the sender, so an anonymous caller learns nothing about which mappings exist;
5. the delivery ids (Jira's X-Atlassian-Webhook-Identifier, Salesforce's notification ids): claimed in the
   state store; all seen before -> 200 (Salesforce: the Ack) and nothing recorded, so a retry stops;
6. a `jira:issue_deleted` of an issue with an active link of the mapping: kept pending in the state store
   (sfjira.state.jira_deletes) for the sync run the event starts, which confirms and applies it
   (sfjira.sync.jira_deleted); any other issue is ignored. Kept before the event is recorded, so the run
   it starts finds it;
7. one asset event on the mapping's events asset (AssetManager.register_asset_change, as Airflow's own
   POST /api/v2/assets/events does), then 200 / the SOAP Ack. If it cannot be recorded the claim is released
   and the answer is 503: the sender retries.

Logged: the sender, mapping, delivery id and outcome -- never a secret, a signature or the body.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from sfjira.exceptions import SfJiraError
from sfjira.webhooks import verify
from sfjira.webhooks.verify import WebhookRejected

if TYPE_CHECKING:
    from sfjira.state import StateStore

log = logging.getLogger("sfjira.webhooks")

JIRA_CONN_ID = "sfjira_webhook_jira"
SALESFORCE_CONN_ID = "sfjira_webhook_salesforce"


async def read_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it is known to pass the cap (the rest is never read)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > verify.MAX_BODY_BYTES):
        raise verify.too_large(int(declared) if declared.isdigit() else None)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > verify.MAX_BODY_BYTES:
            raise verify.too_large()
    return bytes(body)


def connection(conn_id: str) -> Any:
    """The Airflow connection, or None when it is not defined. (Airflow masks its password in logs.)"""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def secret_of(conn_id: str) -> tuple[str, dict[str, Any]]:
    conn = connection(conn_id)
    if conn is None or not conn.password:
        raise verify.not_configured(conn_id, "secret (the connection's password)")
    return str(conn.password), dict(conn.extra_dejson or {})


def record_event(mapping: str, extra: dict[str, Any], deliveries: list[str], source: str,
                 deleted: verify.DeletedIssue | None = None) -> str:
    """Claim the deliveries, keep a reported Jira deletion pending, and record the asset event: "recorded"
    or "duplicate" (all seen before)."""
    from sfjira.dashboard.api import state_store

    try:
        known = _asset_is_active(mapping)
    except Exception as err:  # noqa: BLE001 - Airflow's database unreachable: the sender retries
        raise unavailable("Airflow's database", err) from err
    if not known:
        raise WebhookRejected(404, f"no mapping {mapping!r} has an events asset in Airflow",
                              code="WEBHOOK_UNKNOWN_MAPPING",
                              fix="use the name of a mapping whose sync DAG Airflow has parsed")
    store = state_store()
    try:
        fresh = store.claim_deliveries(source, mapping, deliveries)
    except SfJiraError as err:
        raise unavailable("the state store", err) from err
    if not fresh:
        return "duplicate"
    try:
        if deleted is not None:
            _note_deleted(store, mapping, deleted, fresh[0])
        _register(mapping, {**extra, "deliveries": fresh})
    except SfJiraError as err:
        store.release_deliveries(source, fresh)
        raise unavailable("the state store", err) from err
    except Exception as err:  # noqa: BLE001 - whatever failed, the sender must retry
        store.release_deliveries(source, fresh)
        raise unavailable("Airflow's database", err) from err
    return "recorded"


def _note_deleted(store: StateStore, mapping: str, deleted: verify.DeletedIssue, delivery: str) -> None:
    sf_id = store.note_jira_delete(mapping, jira_id=deleted.jira_id, jira_key=deleted.jira_key, delivery=delivery)
    issue = verify.loggable(deleted.jira_key or deleted.jira_id)
    if sf_id is None:
        log.info("webhook jira mapping=%s: deletion of issue %s ignored: no active link of the mapping has it",
                 verify.loggable(mapping), issue)
    else:
        log.info("webhook jira mapping=%s: deletion of issue %s pending for the next sync run",
                 verify.loggable(mapping), issue)


def unavailable(what: str, err: BaseException) -> WebhookRejected:
    log.warning("webhook receiver: %s failed: %s", what, type(err).__name__)
    return WebhookRejected(503, f"{what} is not available right now", code="WEBHOOK_UNAVAILABLE", transient=True,
                           fix="nothing: the sender retries; check the api-server log if it persists")


def _asset_key(mapping: str) -> tuple[str, str]:
    from sfjira.dag_factory import events_asset

    asset = events_asset(mapping)
    return asset.name, asset.uri


def _asset_is_active(mapping: str) -> bool:
    from airflow.models.asset import AssetActive
    from airflow.utils.session import create_session
    from sqlalchemy import select

    name, uri = _asset_key(mapping)
    with create_session() as session:
        found = session.scalar(select(AssetActive.name).where(AssetActive.name == name, AssetActive.uri == uri))
    return found is not None


def _register(mapping: str, extra: dict[str, Any]) -> None:
    from airflow.assets.manager import asset_manager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    name, uri = _asset_key(mapping)
    with create_session() as session:
        asset = session.scalar(select(AssetModel).where(AssetModel.name == name, AssetModel.uri == uri))
        if asset is None or asset_manager.register_asset_change(asset=asset, extra=extra, source_is_api=True,
                                                                session=session) is None:
            raise LookupError(f"asset {uri} vanished")


def _mapping_name(mapping: str) -> str:
    # The mapping schema's names (sfjira.mapping.model); anything else cannot have an asset.
    if not verify.MAPPING_NAME.fullmatch(mapping):
        raise WebhookRejected(404, "no such mapping", code="WEBHOOK_UNKNOWN_MAPPING",
                              fix="use the name of a mapping whose sync DAG Airflow has parsed")
    return mapping


def _refused(err: WebhookRejected) -> JSONResponse:
    return JSONResponse({"detail": {"code": err.code, "message": err.message, "fix": err.fix}}, status_code=err.status)


async def jira(request: Request, mapping: str) -> Response:
    delivery = request.headers.get("x-atlassian-webhook-identifier")
    try:
        body = await read_body(request)
        secret, _ = secret_of(JIRA_CONN_ID)
        verify.check_jira_signature(secret, body, request.headers.get("x-hub-signature"))
        name = _mapping_name(mapping)
        try:
            event = json.loads(body) if body else {}
        except ValueError as err:
            raise verify.invalid_body("JSON") from err
        if not isinstance(event, dict):
            raise verify.invalid_body("a JSON object")
        # Jira sends an identifier with every delivery; a body hash stands in for one without.
        key = delivery or "sha256:" + verify.digest(body)
        issue: dict[str, Any] = event["issue"] if isinstance(event.get("issue"), dict) else {}
        extra = {"source": "jira", "event": str(event.get("webhookEvent") or ""),
                 "issue": str(issue.get("key") or ""), "retry": request.headers.get("x-atlassian-webhook-retry")}
        outcome = await run_in_threadpool(record_event, name, extra, [key], "jira", verify.deleted_issue(event))
    except WebhookRejected as err:
        _log("jira", mapping, delivery, err.code)
        return _refused(err)
    _log("jira", mapping, delivery, outcome)
    return JSONResponse({"outcome": outcome})


async def salesforce(request: Request, mapping: str) -> Response:
    delivery = None
    try:
        body = await read_body(request)
        secret, extra = secret_of(SALESFORCE_CONN_ID)
        org = str(extra.get("organization_id") or "")
        if not org:
            raise verify.not_configured(SALESFORCE_CONN_ID, "organization_id in the extra of")
        verify.check_token(secret, request.query_params.get("token"))
        message = verify.parse_outbound(body)
        delivery = message.notification_ids[0]
        if not verify.same_org(org, message.organization_id):
            raise WebhookRejected(403, "the message comes from another Salesforce org", code="WEBHOOK_ORG_MISMATCH",
                                  fix=f"set organization_id in the extra of {SALESFORCE_CONN_ID} to the org's id")
        name = _mapping_name(mapping)
        details = {"source": "salesforce", "object": message.object, "action_id": message.action_id,
                   "records": message.record_ids}
        outcome = await run_in_threadpool(record_event, name, details, message.notification_ids, "salesforce")
    except WebhookRejected as err:
        _log("salesforce", mapping, delivery, err.code)
        return _refused(err)
    _log("salesforce", mapping, delivery, outcome)
    return Response(verify.ACK, media_type="text/xml; charset=utf-8")


def _log(source: str, mapping: str, delivery: str | None, outcome: str) -> None:
    log.info("webhook %s mapping=%s delivery=%s: %s", source, verify.loggable(mapping), verify.loggable(delivery),
             outcome)


def create_app() -> FastAPI:
    # No docs routes: they would be the only other unauthenticated pages.
    app = FastAPI(title="sfjira webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_api_route("/jira/{mapping}", jira, methods=["POST"])
    app.add_api_route("/salesforce/{mapping}", salesforce, methods=["POST"])
    return app
