"""sObject Collections: create, update, upsert, delete and retrieve up to 200 records per call.

HTTP 200 with one result per record, in request order. A bad record fails alone; with allOrNone every
good record is rolled back too and says ALL_OR_NONE_OPERATION_ROLLED_BACK. Errors that break the request
itself (bad JSON, unknown field, more than 200 records) answer 400 for the whole call, as Salesforce does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from emulators.salesforce.defaults import COLLECTION_MAX
from emulators.salesforce.errors import ROLLED_BACK, ApiError, RecordError, SfError, json_response
from emulators.salesforce.ids import normalize
from emulators.salesforce.rest import Call
from emulators.salesforce.schema import SObjectDef
from emulators.salesforce.writes import MultipleMatches, Transaction, external_id_field

Result = dict[str, Any]
_TOO_MANY = ApiError("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {COLLECTION_MAX} records "
                                          "into this call")


def _ok(record_id: str, created: bool | None = None) -> Result:
    result: Result = {"id": record_id, "success": True, "errors": []}
    if created is not None:
        result["created"] = created
    return result


def _failed(record_id: str | None, errors: list[ApiError], created: bool | None = None) -> Result:
    result: Result = {"id": record_id, "success": False, "errors": [e.as_item() for e in errors]}
    if created is not None:
        result["created"] = created
    return result


def _check_count(count: int) -> None:
    if count > COLLECTION_MAX:
        raise SfError(400, _TOO_MANY)


async def _records(call: Call) -> tuple[list[Any], bool, str]:
    body, raw = await call.body()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise SfError(400, ApiError("JSON_PARSER_ERROR", "The request body must be an object with a 'records' list"))
    _check_count(len(body["records"]))
    return body["records"], _flag(body.get("allOrNone", False)), raw


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _type_of(call: Call, record: Any, fallback: SObjectDef | None = None) -> SObjectDef:
    attributes = record.get("attributes") if isinstance(record, dict) else None
    name = attributes.get("type") if isinstance(attributes, dict) else None
    obj = call.org.schema.get(name) if isinstance(name, str) else fallback
    if obj is None:
        raise RecordError(ApiError("INVALID_TYPE", "Must send a concrete entity type."))
    return obj


def _finish(txn: Transaction, results: list[Result], all_or_none: bool) -> Response:
    if all_or_none and not all(r["success"] for r in results):
        rolled = ApiError("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK)
        results = [r if not r["success"] else {**r, "id": None if "_new" in r else r["id"],
                                               "success": False, "errors": [rolled.as_item()]}
                   for r in results]
    else:
        txn.commit()
    return json_response([{k: v for k, v in r.items() if k != "_new"} for r in results])


def _each(records: list[Any], operation: Callable[[Any], Result], failure: Callable[[Any, RecordError], Result]) \
        -> list[Result]:
    results = []
    for record in records:
        try:
            results.append(operation(record))
        except RecordError as exc:
            results.append(failure(record, exc))
    return results


async def create(call: Call) -> Response:
    records, all_or_none, raw = await _records(call)
    txn = Transaction(call.org, call.user_id)

    def one(record: Any) -> Result:
        return {**_ok(txn.create(_type_of(call, record), record, raw)), "_new": True}

    return _finish(txn, _each(records, one, lambda _, exc: _failed(None, exc.errors)), all_or_none)


async def update(call: Call) -> Response:
    records, all_or_none, raw = await _records(call)
    txn = Transaction(call.org, call.user_id)

    def one(record: Any) -> Result:
        record_id = _record_id(record)
        if record_id is None:
            raise RecordError(ApiError("MISSING_ARGUMENT", "Id not specified in an update call"))
        fallback = call.org.schema.for_id(normalize(record_id) or "")
        body = {k: v for k, v in record.items() if k.lower() != "id"}
        return _ok(txn.update(_type_of(call, record, fallback), record_id, body, raw))

    return _finish(txn, _each(records, one, lambda r, exc: _failed(_record_id(r), exc.errors)), all_or_none)


async def upsert(call: Call) -> Response:
    obj = call.sobject()
    field = external_id_field(obj, call.request.path_params["field"])
    records, all_or_none, raw = await _records(call)
    values = [_value(r, field.name) for r in records]
    repeated = {v for v, n in Counter(str(v).lower() for v in values if v is not None).items() if n > 1}
    txn = Transaction(call.org, call.user_id)

    def one(record: Any) -> Result:
        value = _value(record, field.name)
        if value is None:
            raise RecordError(ApiError("MISSING_ARGUMENT", f"{field.name} not specified", (field.name,)))
        if str(value).lower() in repeated:
            raise RecordError(ApiError("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {value}",
                                       (field.name,)))
        try:
            record_id, created = txn.upsert(_type_of(call, record, obj), field.name, value, record, raw)
        except MultipleMatches as exc:
            raise RecordError(ApiError("DUPLICATE_EXTERNAL_ID",
                                       f"More than 1 record found for external id field: {exc.ids}",
                                       (field.name,))) from None
        return {**_ok(record_id, created), "_new": created}

    return _finish(txn, _each(records, one, lambda _, exc: _failed(None, exc.errors, created=False)), all_or_none)


async def delete(call: Call) -> Response:
    ids = [i for i in call.request.query_params.get("ids", "").split(",") if i]
    if not ids:
        raise SfError(400, ApiError("MISSING_ARGUMENT", "ids parameter is required"))
    _check_count(len(ids))
    txn = Transaction(call.org, call.user_id)
    results = _each(ids, lambda i: _ok(txn.delete(i)), lambda i, exc: _failed(i, exc.errors))
    return _finish(txn, results, _flag(call.request.query_params.get("allOrNone", "false")))


async def retrieve(call: Call) -> Response:
    obj = call.sobject()
    if call.request.method == "POST":
        body, _ = await call.body()
        ids, fields = (body.get("ids"), body.get("fields")) if isinstance(body, dict) else (None, None)
        fields = ",".join(fields) if isinstance(fields, list) else fields
    else:
        ids = [i for i in call.request.query_params.get("ids", "").split(",") if i]
        fields = call.request.query_params.get("fields")
    if not ids or not fields:
        raise SfError(400, ApiError("MISSING_ARGUMENT", "ids and fields are both required"))
    _check_count(len(ids))
    out: list[dict[str, Any] | None] = []
    for raw_id in ids:
        found = call.org.store.get(normalize(raw_id) or "")
        live = found is not None and found[0] == obj.name and not found[1]["IsDeleted"]
        out.append(call.render(obj, found[1], fields) if live and found else None)
    return json_response(out)


def _record_id(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    return next((v for k, v in record.items() if k.lower() == "id" and isinstance(v, str)), None)


def _value(record: Any, field_name: str) -> Any:
    if not isinstance(record, dict):
        return None
    return next((v for k, v in record.items() if k.lower() == field_name.lower()), None)
