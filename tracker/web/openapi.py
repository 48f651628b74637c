"""The OpenAPI 3 document describing every /api path and its errors."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from tracker import status as st
from tracker.esms import codes
from tracker.schemas import NewMessage

_ERROR = {"$ref": "#/components/schemas/Error"}


def _resp(desc: str, schema: dict | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": desc}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return out


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Invalid input",
        401: "Missing or wrong bearer token",
        404: "Not found",
        409: "Conflicts with the message's state",
        413: "Body too large",
    }
    return {str(c): _resp(words[c], _ERROR) for c in codes}


def _q(name: str, desc: str, schema: dict | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": schema or {"type": "string"}}


_NULLABLE_STR = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}

_MESSAGE = {
    "type": "object",
    "required": [
        "id",
        "status",
        "smsid",
        "phone",
        "template_id",
        "oa_id",
        "params",
        "order_id",
        "campaign_id",
        "request_id",
        "sandbox",
        "source",
        "error_code",
        "error_message",
        "price",
        "telco",
        "created_at",
        "sent_at",
        "final_at",
        "updated_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": list(st.ALL)},
        "final": {"type": "boolean"},
        "smsid": _NULLABLE_STR,
        "phone": _NULLABLE_STR,
        "recipient": _NULLABLE_STR,
        "template_id": _NULLABLE_STR,
        "oa_id": _NULLABLE_STR,
        "params": {"type": "array", "items": {"type": "string"}},
        "order_id": _NULLABLE_STR,
        "campaign_id": _NULLABLE_STR,
        "request_id": _NULLABLE_STR,
        "sandbox": {"type": "boolean"},
        "source": {"type": "string", "enum": ["api", "cli", "csv", "external"]},
        "error_code": _NULLABLE_STR,
        "error_message": _NULLABLE_STR,
        "error_class": {"type": ["string", "null"], "enum": [*codes.CLASSES, None]},
        "error_advice": _NULLABLE_STR,
        "price": _NULLABLE_STR,
        "telco": _NULLABLE_STR,
        "zalo_msg_id": _NULLABLE_STR,
        "attempts": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": _TIME,
        "final_at": _TIME,
        "updated_at": {"type": "string", "format": "date-time"},
        "resent_from": {"type": ["integer", "null"], "description": "id of the failed message this one resends"},
    },
}

_EVENT = {
    "type": "object",
    "required": ["id", "at", "kind", "outcome"],
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "kind": {"type": "string", "enum": ["queue", "send", "callback", "reconcile"]},
        "outcome": {"type": "string", "enum": list(st.OUTCOMES)},
        "status": _NULLABLE_STR,
        "smsid": _NULLABLE_STR,
        "error_code": _NULLABLE_STR,
        "error_message": _NULLABLE_STR,
        "data": {"type": "object"},
        "raw": _NULLABLE_STR,
    },
}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    new_message = NewMessage.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = new_message.pop("$defs", {})
    msg_ref = {"$ref": "#/components/schemas/Message"}
    list_params = [
        _q("smsid", "eSMS SMSID"),
        _q("phone", "phone in any usual form"),
        _q("order_id", "journey id"),
        _q("campaign_id", "campaign"),
        _q("template_id", "template"),
        _q("oa_id", "OA id"),
        _q("status", "status word(s), comma-separated"),
        _q("since", "created at or after (ISO 8601)", {"type": "string", "format": "date-time"}),
        _q("until", "created before (ISO 8601)", {"type": "string", "format": "date-time"}),
        _q("limit", "page size (1-500, default 50)", {"type": "integer", "minimum": 1, "maximum": 500}),
        _q("cursor", "next_cursor of the previous page"),
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Journey tracker API",
            "version": "1.0.0",
            "description": "Send Zalo ZNS journey messages through eSMS and read their delivery status.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "NewMessage": new_message,
                **defs,
                "Message": _MESSAGE,
                "Event": _EVENT,
                "MessageWithEvents": {
                    "allOf": [
                        msg_ref,
                        {
                            "type": "object",
                            "properties": {
                                "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}
                            },
                        },
                    ]
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                            },
                        }
                    },
                },
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/messages": {
                "post": {
                    "summary": "Queue a journey message",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewMessage"}}},
                    },
                    "responses": {
                        "202": _resp("Queued", msg_ref),
                        "200": _resp("Same request_id seen before: the existing message", msg_ref),
                        **_errors(400, 401, 413),
                    },
                },
                "get": {
                    "summary": "List messages, newest first",
                    "parameters": list_params,
                    "responses": {
                        "200": _resp(
                            "A page of messages",
                            {
                                "type": "object",
                                "required": ["items", "next_cursor"],
                                "properties": {
                                    "items": {"type": "array", "items": msg_ref},
                                    "next_cursor": _NULLABLE_STR,
                                },
                            },
                        ),
                        **_errors(400, 401),
                    },
                },
            },
            "/api/messages/{id}": {
                "get": {
                    "summary": "One message with its events",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {
                        "200": _resp("The message", {"$ref": "#/components/schemas/MessageWithEvents"}),
                        **_errors(401, 404),
                    },
                }
            },
            "/api/messages/{id}/resend": {
                "post": {
                    "summary": "Resend a failed or rejected message",
                    "description": (
                        "A new message in the same journey with a new request_id and `resent_from` "
                        "naming this one. Only `failed` and `rejected` messages; a message is resent "
                        "at most once, so asking again returns the same resend (200)."
                    ),
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {
                        "202": _resp("The resend, queued", msg_ref),
                        "200": _resp("Resent before: that resend", msg_ref),
                        **_errors(400, 401, 404, 409),
                    },
                }
            },
            "/api/journeys/{order_id}": {
                "get": {
                    "summary": "A journey's messages in send order",
                    "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": _resp(
                            "The journey",
                            {
                                "type": "object",
                                "required": ["order_id", "messages"],
                                "properties": {
                                    "order_id": {"type": "string"},
                                    "messages": {"type": "array", "items": msg_ref},
                                },
                            },
                        ),
                        **_errors(401, 404),
                    },
                }
            },
            "/api/stats": {
                "get": {
                    "summary": "Totals per status, delivery rate, time-to-final percentiles",
                    "parameters": [
                        _q("since", "from (ISO 8601, default 24 hours ago)"),
                        _q("until", "to (ISO 8601, default now)"),
                    ],
                    "responses": {"200": _resp("The numbers", {"type": "object"}), **_errors(400, 401)},
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _resp("OpenAPI 3 document", {"type": "object"})},
                }
            },
        },
    }
