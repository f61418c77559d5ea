"""sObject Rows: create, read, update, soft delete, and read/upsert by external id."""

from __future__ import annotations

from starlette.responses import Response

from emulators.salesforce.errors import RecordError, entity_deleted, json_response, not_found
from emulators.salesforce.ids import normalize
from emulators.salesforce.rest import Call
from emulators.salesforce.writes import MultipleMatches, Transaction, external_id_field, find_by_external_id


def _multiple_choices(call: Call, sobject: str, ids: list[str]) -> Response:
    return json_response([call.record_url(sobject, i) for i in ids], 300)


async def create(call: Call) -> Response:
    obj = call.sobject()
    body, raw = await call.body()
    txn = Transaction(call.org, call.user_id)
    record_id = txn.create(obj, body, raw)
    txn.commit()
    return json_response({"id": record_id, "success": True, "errors": []}, 201)


async def read(call: Call) -> Response:
    obj = call.sobject()
    record_id = normalize(call.request.path_params["record_id"])
    found = call.org.store.get(record_id) if record_id else None
    if found is None or found[0] != obj.name:
        raise not_found()
    if found[1]["IsDeleted"]:
        raise RecordError(entity_deleted(), status=404)
    return json_response(call.render(obj, found[1], call.request.query_params.get("fields")))


async def update(call: Call) -> Response:
    obj = call.sobject()
    body, raw = await call.body()
    txn = Transaction(call.org, call.user_id)
    txn.update(obj, call.request.path_params["record_id"], body, raw)
    txn.commit()
    return Response(status_code=204)


async def delete(call: Call) -> Response:
    obj = call.sobject()
    txn = Transaction(call.org, call.user_id)
    txn.delete(call.request.path_params["record_id"], obj)
    txn.commit()
    return Response(status_code=204)


async def read_by_external_id(call: Call) -> Response:
    obj = call.sobject()
    field = external_id_field(obj, call.request.path_params["field"])
    ids = find_by_external_id(call.org, obj, field, call.request.path_params["value"])
    if not ids:
        raise not_found()
    if len(ids) > 1:
        return _multiple_choices(call, obj.name, ids)
    found = call.org.store.get(ids[0])
    assert found is not None
    return json_response(call.render(obj, found[1], call.request.query_params.get("fields")))


async def upsert(call: Call) -> Response:
    obj = call.sobject()
    body, raw = await call.body()
    txn = Transaction(call.org, call.user_id)
    try:
        record_id, created = txn.upsert(obj, call.request.path_params["field"], call.request.path_params["value"],
                                        body, raw)
    except MultipleMatches as exc:
        return _multiple_choices(call, obj.name, exc.ids)
    txn.commit()
    return json_response({"id": record_id, "success": True, "errors": [], "created": created},
                         201 if created else 200)

