"""The raw contract: every column the dbt staging models read, with its type, per raw table.

Given to dlt as hints, so types never depend on what one page happened to contain, nested objects
whose shape varies stay JSON (staging unpacks them), and the runner can create a table that
received no rows.
"""

from __future__ import annotations

_BIGINT, _TEXT, _JSON, _BOOL = "bigint", "text", "json", "bool"
_ENTITY = {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "responsible_user_id": _BIGINT, "group_id": _BIGINT,
           "created_by": _BIGINT, "updated_by": _BIGINT, "created_at": _BIGINT, "updated_at": _BIGINT,
           "closest_task_at": _BIGINT, "is_deleted": _BOOL, "custom_fields_values": _JSON, "_embedded": _JSON}
RAW_COLUMNS: dict[str, dict[str, str]] = {
    # _base_url: the origin (scheme://host) of the API base URL the connector read the account from
    "account": {"id": _BIGINT, "name": _TEXT, "subdomain": _TEXT, "currency": _TEXT, "created_at": _BIGINT,
                "_embedded": _JSON, "_base_url": _TEXT},
    "users": {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "email": _TEXT, "_embedded": _JSON,
              "rights__group_id": _BIGINT, "rights__role_id": _BIGINT, "rights__is_active": _BOOL,
              "rights__is_admin": _BOOL},
    "pipelines": {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "sort": _BIGINT, "is_main": _BOOL,
                  "is_archive": _BOOL, "_embedded": _JSON},
    "statuses": {"account_id": _BIGINT, "pipeline_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "sort": _BIGINT,
                 "type": _BIGINT},
    "loss_reasons": {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "sort": _BIGINT},
    "custom_fields": {"account_id": _BIGINT, "entity_type": _TEXT, "id": _BIGINT, "name": _TEXT, "type": _TEXT,
                      "code": _TEXT, "sort": _BIGINT, "enums": _JSON, "required_statuses": _JSON,
                      "group_id": _TEXT, "remind": _JSON},
    "leads": {**_ENTITY, "price": _BIGINT, "status_id": _BIGINT, "pipeline_id": _BIGINT, "loss_reason_id": _BIGINT,
              "closed_at": _BIGINT, "score": _BIGINT, "labor_cost": _BIGINT},
    "contacts": {**_ENTITY, "first_name": _TEXT, "last_name": _TEXT},
    "companies": dict(_ENTITY),
    "tasks": {"account_id": _BIGINT, "id": _BIGINT, "entity_id": _BIGINT, "entity_type": _TEXT,
              "responsible_user_id": _BIGINT, "group_id": _BIGINT, "created_by": _BIGINT, "updated_by": _BIGINT,
              "created_at": _BIGINT, "updated_at": _BIGINT, "complete_till": _BIGINT, "task_type_id": _BIGINT,
              "is_completed": _BOOL, "text": _TEXT, "duration": _BIGINT, "result": _JSON},
    # trimmed records of deleted leads (`with=only_deleted`): all amoCRM keeps of a lead in the trash
    "deleted_leads": {"account_id": _BIGINT, "id": _BIGINT, "updated_at": _BIGINT, "updated_by": _BIGINT,
                      "is_deleted": _BOOL},
    # the account's task types (`/api/v4/account?with=task_types`): 1 and 2 built in, others its own
    "task_types": {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "code": _TEXT, "color": _TEXT,
                   "icon_id": _BIGINT},
    # notes of lead, contact and company cards; entity_type says which card entity_id is
    "notes": {"account_id": _BIGINT, "id": _BIGINT, "entity_id": _BIGINT, "entity_type": _TEXT, "note_type": _TEXT,
              "responsible_user_id": _BIGINT, "group_id": _BIGINT, "created_by": _BIGINT, "updated_by": _BIGINT,
              "created_at": _BIGINT, "updated_at": _BIGINT, "params__uniq": _TEXT, "params__duration": _BIGINT,
              "params__source": _TEXT, "params__link": _TEXT, "params__phone": _TEXT, "params__call_result": _TEXT,
              "params__call_status": _BIGINT, "params__call_responsible": _TEXT},
    "events": {"account_id": _BIGINT, "id": _TEXT, "type": _TEXT, "entity_id": _BIGINT, "entity_type": _TEXT,
               "created_by": _BIGINT, "created_at": _BIGINT, "value_after": _JSON, "value_before": _JSON},
    "quarantine": {"payload_hash": _TEXT, "entity": _TEXT, "record_id": _TEXT, "problem": _TEXT, "payload": _TEXT,
                   "source_url": _TEXT, "account_id": _BIGINT, "quarantined_at": _BIGINT},
}
