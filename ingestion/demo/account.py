"""The embedded demo amoCRM account: a container for its records and a deterministic generator.

`DemoAccount` holds records exactly as amoCRM API v4 returns them (unix seconds, HAL-free dicts);
the demo API (`demo_api.py`) wraps them in HAL pages. Tests build small accounts by hand with the
same class; `generate_account()` builds the realistic 12-month demo account from a seed.

Planted patterns the report should reveal (see `PLANTED`):
- a busy-but-unproductive manager: many calls, few won deals;
- a slow responder: first response measured in hours instead of minutes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

ACCOUNT_ID = 31_000_001
TIMEZONE = "Europe/Moscow"
WON, LOST = 142, 143

PLANTED = {
    "busy_unproductive_manager_id": 7_000_104,
    "slow_responder_manager_id": 7_000_202,
}


# Task types every account has (`/api/v4/account?with=task_types`); accounts add their own.
BUILTIN_TASK_TYPES = (
    {"id": 1, "name": "Связаться", "color": None, "icon_id": None, "code": "FOLLOW_UP"},
    {"id": 2, "name": "Встреча", "color": None, "icon_id": None, "code": "MEETING"},
)


@dataclass
class DemoAccount:
    """Every record the demo API serves, as amoCRM API v4 represents it."""

    account: dict
    users: list[dict] = field(default_factory=list)
    pipelines: list[dict] = field(default_factory=list)  # statuses under _embedded.statuses
    leads: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    companies: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)  # on leads, contacts, companies or nothing
    events: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # notes on lead cards (calls among them)
    contact_notes: list[dict] = field(default_factory=list)  # notes on contact cards
    company_notes: list[dict] = field(default_factory=list)  # notes on company cards
    loss_reasons: list[dict] = field(default_factory=list)
    custom_fields: list[dict] = field(default_factory=list)  # definitions; entity_type says whose
    task_types: list[dict] = field(default_factory=lambda: [dict(t) for t in BUILTIN_TASK_TYPES])

    def notes_of(self, card: str) -> list[dict]:
        """The notes of one card type: "leads", "contacts" or "companies"."""
        return {"leads": self.notes, "contacts": self.contact_notes, "companies": self.company_notes}[card]

    def counts(self) -> dict[str, int]:
        return {
            "users": len(self.users),
            "pipelines": len(self.pipelines),
            "statuses": sum(len(p["_embedded"]["statuses"]) for p in self.pipelines),
            "leads": len(self.leads),
            "contacts": len(self.contacts),
            "companies": len(self.companies),
            "tasks": len(self.tasks),
            "events": len(self.events),
            "notes": len(self.notes) + len(self.contact_notes) + len(self.company_notes),
            "task_types": len(self.task_types),
            "loss_reasons": len(self.loss_reasons),
            "custom_fields": len(self.custom_fields),
        }


# --- record builders (shared by the generator and hand-written test accounts) -------------------


def make_account(
    account_id: int = ACCOUNT_ID,
    name: str = "Demo Sales LLC",
    created_at: int = 1_700_000_000,
    timezone: str = TIMEZONE,
    currency: str = "RUB",
) -> dict:
    return {
        "id": account_id,
        "name": name,
        "subdomain": "demo",
        "created_at": created_at,
        "created_by": 0,
        "updated_at": created_at,
        "updated_by": 0,
        "current_user_id": 7_000_001,
        "country": "RU",
        "currency": currency,
        "currency_symbol": "₽" if currency == "RUB" else currency,
        "customers_mode": "disabled",
        "is_unsorted_on": True,
        "mobile_feature_version": 0,
        "is_loss_reason_enabled": True,
        "is_helpbot_enabled": False,
        "is_technical_account": False,
        "contact_name_display_order": 1,
        "_embedded": {
            "datetime_settings": {
                "date_pattern": "d.m.Y H:i",
                "short_date_pattern": "d.m.Y",
                "short_time_pattern": "H:i",
                "date_format": "d.m.Y",
                "time_format": "H:i:s",
                "timezone": timezone,
                "timezone_offset": "+03:00",
            }
        },
    }


def make_user(
    user_id: int,
    name: str,
    group: tuple[int, str] | None,
    role: tuple[int, str] | None,
    is_admin: bool = False,
    is_active: bool = True,
) -> dict:
    return {
        "id": user_id,
        "name": name,
        "email": f"user{user_id}@demo.example",
        "lang": "ru",
        "rights": {
            "leads": {"view": "A", "edit": "A", "add": "A", "delete": "A", "export": "A"},
            "is_admin": is_admin,
            "is_free": False,
            "is_active": is_active,
            "group_id": group[0] if group else None,
            "role_id": role[0] if role else None,
        },
        "_embedded": {
            "roles": [{"id": role[0], "name": role[1]}] if role else [],
            "groups": [{"id": group[0], "name": group[1]}] if group else [],
        },
    }


def make_pipeline(
    pipeline_id: int,
    name: str,
    stages: list[tuple[int, str]],
    sort: int = 1,
    is_main: bool = False,
    account_id: int = ACCOUNT_ID,
    won_name: str = "Успешно реализовано",
    lost_name: str = "Закрыто и не реализовано",
) -> dict:
    """`stages` are the working stages in funnel order; the first is the unsorted (type 1) one."""
    statuses = []
    for i, (status_id, status_name) in enumerate(stages):
        statuses.append(
            {
                "id": status_id,
                "name": status_name,
                "sort": (i + 1) * 10,
                "is_editable": i != 0,
                "pipeline_id": pipeline_id,
                "color": "#99ccff",
                "type": 1 if i == 0 else 0,
                "account_id": account_id,
            }
        )
    for status_id, status_name, sort in ((WON, won_name, 10000), (LOST, lost_name, 11000)):
        statuses.append(
            {
                "id": status_id,
                "name": status_name,
                "sort": sort,
                "is_editable": False,
                "pipeline_id": pipeline_id,
                "color": "#ccff66" if status_id == WON else "#d5d8db",
                "type": 0,
                "account_id": account_id,
            }
        )
    return {
        "id": pipeline_id,
        "name": name,
        "sort": sort,
        "is_main": is_main,
        "is_unsorted_on": True,
        "is_archive": False,
        "account_id": account_id,
        "_embedded": {"statuses": statuses},
    }


def make_lead(
    lead_id: int,
    name: str,
    price: int,
    responsible_user_id: int,
    group_id: int | None,
    pipeline_id: int,
    status_id: int,
    created_at: int,
    updated_at: int | None = None,
    closed_at: int | None = None,
    loss_reason_id: int | None = None,
    created_by: int | None = None,
    contact_ids: list[int] | None = None,
    company_ids: list[int] | None = None,
    source: str | None = None,
    is_deleted: bool = False,
    account_id: int = ACCOUNT_ID,
) -> dict:
    custom_fields = None
    if source:
        custom_fields = [
            {
                "field_id": SOURCE_FIELD_ID,
                "field_name": "Источник",
                "field_code": None,
                "field_type": "select",
                "values": [{"value": source, "enum_id": SOURCE_ENUM_IDS.get(source)}],
            }
        ]
    contact_ids = contact_ids or []
    return {
        "id": lead_id,
        "name": name,
        "price": price,
        "responsible_user_id": responsible_user_id,
        "group_id": group_id,
        "status_id": status_id,
        "pipeline_id": pipeline_id,
        "loss_reason_id": loss_reason_id,
        "created_by": responsible_user_id if created_by is None else created_by,
        "updated_by": responsible_user_id,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "closed_at": closed_at,
        "closest_task_at": None,
        "is_deleted": is_deleted,
        "custom_fields_values": custom_fields,
        "score": None,
        "account_id": account_id,
        "labor_cost": None,
        "_embedded": {
            "tags": [],
            "companies": [{"id": c} for c in (company_ids or [])],
            "contacts": [{"id": c, "is_main": i == 0} for i, c in enumerate(contact_ids)],
        },
    }


def make_party(
    party_id: int,
    name: str,
    responsible_user_id: int,
    group_id: int | None,
    created_at: int,
    companies: list[int] | None = None,
    account_id: int = ACCOUNT_ID,
) -> dict:
    """A contact or company record (contacts also list their companies under _embedded)."""
    embedded: dict = {"tags": []}
    if companies is not None:
        embedded["companies"] = [{"id": c} for c in companies]
    return {
        "id": party_id,
        "name": name,
        "responsible_user_id": responsible_user_id,
        "group_id": group_id,
        "created_by": responsible_user_id,
        "updated_by": responsible_user_id,
        "created_at": created_at,
        "updated_at": created_at,
        "closest_task_at": None,
        "is_deleted": False,
        "custom_fields_values": None,
        "account_id": account_id,
        "_embedded": embedded,
    }


def make_custom_field(
    field_id: int,
    entity_type: str,
    name: str,
    field_type: str,
    enums: list[str] | None = None,
    code: str | None = None,
    account_id: int = ACCOUNT_ID,
) -> dict:
    """A custom field definition as `/api/v4/<entity>/custom_fields` lists it."""
    return {
        "id": field_id,
        "name": name,
        "type": field_type,
        "account_id": account_id,
        "code": code,
        "sort": 500,
        "is_api_only": False,
        "enums": [{"id": field_id * 10 + i, "value": v, "sort": (i + 1) * 10} for i, v in enumerate(enums)]
        if enums else None,
        "group_id": None,
        "required_statuses": [],
        "is_deletable": True,
        "is_predefined": code is not None,
        "entity_type": entity_type,
        "remind": None,
        "_links": {"self": {"href": f"/api/v4/{entity_type}/custom_fields/{field_id}"}},
    }


def make_event(
    event_id: str,
    event_type: str,
    lead_id: int,
    created_at: int,
    created_by: int,
    value_after: list | None = None,
    value_before: list | None = None,
    account_id: int = ACCOUNT_ID,
    entity_type: str = "lead",
) -> dict:
    """An event on a lead (or, with `entity_type` "contact"/"company", on that card; `lead_id` is its id)."""
    return {
        "id": event_id,
        "type": event_type,
        "entity_id": lead_id,
        "entity_type": entity_type,
        "created_by": created_by,
        "created_at": created_at,
        "value_after": value_after or [],
        "value_before": value_before or [],
        "account_id": account_id,
    }


def status_value(status_id: int, pipeline_id: int) -> list[dict]:
    return [{"lead_status": {"id": status_id, "pipeline_id": pipeline_id}}]


def make_call_note(
    note_id: int,
    lead_id: int,
    user_id: int,
    created_at: int,
    direction: str,
    duration: int,
    call_status: int,
    group_id: int | None = None,
    account_id: int = ACCOUNT_ID,
    call_responsible: int | None = None,
) -> dict:
    """A call note on a card (`lead_id` is the card's id: a lead, contact or company, by the list it
    is put in); `direction` is "in" or "out". call_status 4 = talked (connected). amoCRM names the
    user the call belongs to in `params.call_responsible` (default: `user_id`)."""
    return {
        "id": note_id,
        "entity_id": lead_id,
        "created_by": user_id,
        "updated_by": user_id,
        "created_at": created_at,
        "updated_at": created_at,
        "responsible_user_id": user_id,
        "group_id": group_id,
        "note_type": f"call_{direction}",
        "params": {
            "uniq": f"call-{note_id}",
            "duration": duration,
            "source": "demo-telephony",
            "link": f"https://telephony.demo.example/rec/{note_id}.mp3" if duration else None,
            "phone": f"+7900{note_id % 10_000_000:07d}",
            "call_result": "Разговор состоялся" if call_status == 4 else "",
            "call_status": call_status,
            "call_responsible": user_id if call_responsible is None else call_responsible,
        },
        "account_id": account_id,
        "is_needs_to_be_deleted": False,
    }


def make_task(
    task_id: int,
    lead_id: int | None,
    user_id: int,
    task_type_id: int,
    created_at: int,
    complete_till: int,
    is_completed: bool,
    completed_at: int | None = None,
    group_id: int | None = None,
    text: str = "",
    account_id: int = ACCOUNT_ID,
    entity_type: str | None = None,
) -> dict:
    """A task on a lead (or, with `entity_type` "contacts"/"companies", on that card; `lead_id` is its
    id), or on nothing. amoCRM has no completion timestamp: a completed task's updated_at is when
    it was closed."""
    return {
        "id": task_id,
        "created_by": user_id,
        "updated_by": user_id,
        "created_at": created_at,
        "updated_at": completed_at if (is_completed and completed_at) else created_at,
        "responsible_user_id": user_id,
        "group_id": group_id,
        "entity_id": lead_id,
        "entity_type": (entity_type or "leads") if lead_id else None,
        "duration": 3600 if task_type_id == 2 else 0,
        "is_completed": is_completed,
        "task_type_id": task_type_id,
        "text": text,
        "result": {"text": "Выполнено"} if is_completed else [],
        "complete_till": complete_till,
        "account_id": account_id,
    }


class EventIds:
    """amoCRM event ids are opaque strings (ULID-like); generate them deterministically."""

    _alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

    def __init__(self, prefix: str = "01") -> None:
        self._n = 0
        self._prefix = prefix

    def next(self) -> str:
        self._n += 1
        n, chars = self._n * 7_919 + 1_000_003, []
        for _ in range(24):
            n, r = divmod(n, 32)
            chars.append(self._alphabet[r])
        return self._prefix + "".join(reversed(chars))


# --- the generator ---------------------------------------------------------------------------

MAIN_STAGES = [
    (4_100_001, "Неразобранное"),
    (4_100_002, "Первичный контакт"),
    (4_100_003, "Квалификация"),
    (4_100_004, "Презентация"),
    (4_100_005, "КП отправлено"),
    (4_100_006, "Принимают решение"),
    (4_100_007, "Согласование договора"),
]
PARTNER_STAGES = [
    (4_200_001, "Incoming leads"),
    (4_200_002, "Initial contact"),
    (4_200_003, "Qualification"),
    (4_200_004, "Demo"),
    (4_200_005, "Offer made"),
    (4_200_006, "Decision making"),
    (4_200_007, "Contract discussion"),
]
ARCHIVED_STAGES = [
    (4_300_001, "Неразобранное"),
    (4_300_002, "Заявка на тендер"),
    (4_300_003, "Документы поданы"),
    (4_300_004, "Итоги тендера"),
    (4_300_005, "Согласование договора"),
    (4_300_006, "Подписание"),
    (4_300_007, "Оплата"),
]
# probability that a lead leaves working stage i forward (else it is lost), and median hours there
ADVANCE_P = [0.97, 0.80, 0.72, 0.70, 0.66, 0.70, 0.85]
MEDIAN_HOURS = [0.5, 20, 40, 60, 72, 96, 48]
LOSS_REASONS = [
    (5_001, "Дорого"),
    (5_002, "Выбрали конкурента"),
    (5_003, "Нет бюджета"),
    (5_004, "Не вышли на связь"),
    (5_005, "Нецелевой запрос"),
]
SOURCES = ["Сайт", "Входящий звонок", "Рекомендация", "Реклама", "Выставка"]
# The account's own task type: amoCRM accounts add types such as «Звонок» beside the built-in ones.
CALL_TASK_TYPE = {"id": 2_517_001, "name": "Звонок", "color": "#ffdc7f", "icon_id": 5, "code": None}
# Lead custom fields beyond «Источник»: real accounts hold dozens, more than one 50-field page.
LEAD_FIELD_TYPES = [
    ("Бюджет клиента", "numeric"), ("Дата договора", "date"), ("Сайт клиента", "url"), ("Комментарий", "textarea"),
    ("Оплачено", "checkbox"), ("Дата и время встречи", "date_time"), ("Адрес доставки", "smart_address"),
    ("Реквизиты", "legal_entity"), ("Дата рождения ЛПР", "birthday"), ("Сумма предоплаты", "monetary"),
    ("Метка", "text"), ("Регион", "select"), ("Товары", "multiselect"), ("Тип клиента", "radiobutton"),
]
EXTRA_LEAD_FIELDS = 56  # 57 lead fields in all
SOURCE_FIELD_ID = 900_001
SOURCE_ENUM_IDS = {name: SOURCE_FIELD_ID * 10 + i for i, name in enumerate(SOURCES)}

GROUPS = {1: (8_001, "Отдел продаж Москва"), 2: (8_002, "Отдел продаж Регионы")}
ROLES = {
    "team_lead": (9_001, "Руководитель группы"),
    "senior": (9_002, "Старший менеджер"),
    "junior": (9_003, "Менеджер"),
}
# id, name, group, role, skill (advance multiplier), calls per stage, median first response (min),
# hire month index (0 = first month of data)
MANAGERS = [
    (7_000_101, "Анна Смирнова", 1, "team_lead", 1.10, 1.5, 6, 0),
    (7_000_102, "Игорь Петров", 1, "senior", 1.05, 1.8, 9, 0),
    (7_000_103, "Мария Иванова", 1, "junior", 0.95, 2.0, 12, 0),
    (7_000_104, "Дмитрий Козлов", 1, "junior", 0.62, 14.0, 8, 0),  # busy but unproductive
    (7_000_105, "Ольга Новикова", 1, "senior", 1.08, 1.6, 7, 0),
    (7_000_201, "Сергей Волков", 2, "team_lead", 1.06, 1.5, 10, 0),
    (7_000_202, "Елена Морозова", 2, "junior", 0.92, 1.8, 260, 0),  # slow responder
    (7_000_203, "Алексей Соколов", 2, "senior", 1.02, 1.7, 11, 0),
    (7_000_204, "Наталья Лебедева", 2, "junior", 0.97, 2.0, 14, 0),
    (7_000_205, "Павел Орлов", 2, "junior", 0.90, 2.2, 18, 4),  # hired in month 5
]


def _month_starts(first: datetime, months: int) -> list[datetime]:
    out, y, m = [], first.year, first.month
    for _ in range(months + 1):
        out.append(first.replace(year=y, month=m, day=1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def add_static_records(acc: DemoAccount, start: datetime) -> None:
    """Users, pipelines, custom fields, loss reasons and task types: the same in every generated account."""
    acc.users.append(make_user(7_000_001, "Руководитель продаж", None, None, is_admin=True))
    for m in MANAGERS:
        acc.users.append(make_user(m[0], m[1], GROUPS[m[2]], ROLES[m[3]]))
    archived = make_pipeline(8_100_003, "Тендеры (архив)", ARCHIVED_STAGES, sort=3)
    archived["is_archive"] = True
    acc.task_types.append(dict(CALL_TASK_TYPE))
    acc.pipelines = [
        make_pipeline(8_100_001, "Продажи", MAIN_STAGES, sort=1, is_main=True),
        make_pipeline(8_100_002, "Partners", PARTNER_STAGES, sort=2, won_name="Closed - won",
                      lost_name="Closed - lost"),
        archived,
    ]
    acc.custom_fields = [
        make_custom_field(SOURCE_FIELD_ID, "leads", "Источник", "select", SOURCES),
        make_custom_field(900_101, "contacts", "Телефон", "multitext", ["WORK", "MOB"], code="PHONE"),
        make_custom_field(900_201, "companies", "ИНН", "text"),
    ]
    for i in range(EXTRA_LEAD_FIELDS):
        name, ftype = LEAD_FIELD_TYPES[i % len(LEAD_FIELD_TYPES)]
        has_enums = ftype in ("select", "multiselect", "radiobutton")
        enums = ["Вариант 1", "Вариант 2", "Вариант 3"] if has_enums else None
        label = name if i < len(LEAD_FIELD_TYPES) else f"{name} {i // len(LEAD_FIELD_TYPES) + 1}"
        acc.custom_fields.insert(1 + i, make_custom_field(900_002 + i, "leads", label, ftype, enums))
    acc.loss_reasons = [
        {"id": i, "name": n, "sort": k * 10, "created_at": int(start.timestamp()) - 86400,
         "updated_at": int(start.timestamp()) - 86400}
        for k, (i, n) in enumerate(LOSS_REASONS)
    ]


class _Builder:
    def __init__(self, seed: int, start: datetime, months: int, leads_per_month: int) -> None:
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(TIMEZONE)
        self.start = start.replace(tzinfo=self.tz)
        self.month_starts = _month_starts(self.start, months)
        self.end = int(self.month_starts[-1].timestamp())  # data cut-off ("now" of the account)
        self.leads_per_month = leads_per_month
        self.events = EventIds()
        self.note_id = 50_000_000
        self.task_id = 60_000_000
        self.contact_id = 30_000_000
        self.company_id = 40_000_000
        self.acc = DemoAccount(account=make_account(created_at=int(self.start.timestamp()) - 86400 * 30))
        self.won_contacts: list[int] = []
        # a second stream for what amoCRM's documented behaviour adds (custom task types, meetings
        # on contact cards, clients with two deals at once, calls to a company's phone), so the
        # main stream, and with it every lead, call and stage move, stays as it was
        self.aux = random.Random(seed * 7_919 + 1)
        self.recent_parties: list[tuple[int, int | None]] = []
        self.party: tuple[int, int | None] = (0, None)  # the current lead's contact and company

    # time helpers ---------------------------------------------------------------------------
    def _working_time(self, day_start: datetime) -> int:
        """A moment within working hours (09:00-19:00 account time) on that day."""
        minutes = self.rng.randint(9 * 60, 19 * 60 - 1)
        return int((day_start + timedelta(minutes=minutes, seconds=self.rng.randint(0, 59))).timestamp())

    def _lognormal_seconds(self, median_hours: float, sigma: float = 0.8) -> int:
        return max(60, int(median_hours * 3600 * math.exp(self.rng.gauss(0, sigma))))

    # records --------------------------------------------------------------------------------
    def _event(self, etype: str, lead_id: int, at: int, by: int, after=None, before=None) -> None:
        self.acc.events.append(make_event(self.events.next(), etype, lead_id, at, by, after, before))

    def _call(self, lead_id: int, user: tuple, at: int, direction: str, connected_p: float = 0.7) -> None:
        if at >= self.end:
            return
        self.note_id += 1
        connected = self.rng.random() < connected_p
        status = 4 if connected else self.rng.choice([3, 6, 7, 1])
        duration = self.rng.randint(40, 900) if connected else 0
        group_id = GROUPS[user[2]][0]
        self.acc.notes.append(make_call_note(self.note_id, lead_id, user[0], at, direction, duration, status, group_id))
        # the telephony integration also writes a call event pointing at the note (most of the time)
        if self.rng.random() < 0.9:
            etype = "outgoing_call" if direction == "out" else "incoming_call"
            self._event(etype, lead_id, at, user[0], after=[{"note": {"id": self.note_id}}])

    def _task(self, lead_id: int, user: tuple, ttype: int, at: int, due_h: float, done_p: float, text: str) -> None:
        if at >= self.end:
            return
        self.task_id += 1
        till = at + int(due_h * 3600)
        done_at = till - self.rng.randint(0, int(due_h * 1800) + 60)
        done = self.rng.random() < done_p and done_at < self.end
        group_id = GROUPS[user[2]][0]
        card_id, card = lead_id, "leads"
        if ttype == 1 and self.aux.random() < 0.5:
            ttype = CALL_TASK_TYPE["id"]  # the account's own «Звонок» type
        elif ttype == 2 and self.aux.random() < 0.2:
            card_id, card = self.party[0], "contacts"  # a meeting set on the client's contact card
        self.acc.tasks.append(make_task(self.task_id, card_id, user[0], ttype, at, till, done, max(done_at, at + 60),
                                        group_id, text, entity_type=card))

    def _contact(self, user: tuple, at: int, lead_n: int) -> tuple[int, int | None]:
        party = self._new_or_won_contact(user, at, lead_n)
        if self.recent_parties and self.aux.random() < 0.04:
            party = self.aux.choice(self.recent_parties)  # a client asks for a second deal meanwhile
        self.recent_parties = (self.recent_parties + [party])[-30:]
        return party

    def _new_or_won_contact(self, user: tuple, at: int, lead_n: int) -> tuple[int, int | None]:
        if self.won_contacts and self.rng.random() < 0.15:
            return self.rng.choice(self.won_contacts), None
        self.contact_id += 1
        company_id = None
        group_id = GROUPS[user[2]][0]
        if self.rng.random() < 0.4:
            self.company_id += 1
            company_id = self.company_id
            self.acc.companies.append(
                make_party(company_id, f"ООО Клиент {company_id - 40_000_000}", user[0], group_id, at)
            )
        contact = make_party(self.contact_id, f"Клиент {lead_n}", user[0], group_id, at,
                             companies=[company_id] if company_id else [])
        contact.update({
            "first_name": "Клиент",
            "last_name": str(lead_n),
            "custom_fields_values": [
                {
                    "field_id": 900_101,
                    "field_name": "Телефон",
                    "field_code": "PHONE",
                    "field_type": "multitext",
                    "values": [{"value": f"+7900{self.contact_id % 10_000_000:07d}", "enum_code": "WORK"}],
                }
            ],
        })
        self.acc.contacts.append(contact)
        return self.contact_id, company_id

    # the account ----------------------------------------------------------------------------
    def build(self) -> DemoAccount:
        acc = self.acc
        add_static_records(acc, self.start)
        lead_id = 20_000_000
        for mi in range(len(self.month_starts) - 1):
            m_start, m_end = self.month_starts[mi], self.month_starts[mi + 1]
            days = (m_end - m_start).days
            n_leads = int(self.leads_per_month * (0.85 + 0.03 * mi) * self.rng.uniform(0.92, 1.08))
            active = [m for m in MANAGERS if m[7] <= mi]
            for _ in range(n_leads):
                lead_id += 1
                day = m_start + timedelta(days=self.rng.randrange(days))
                self._lead(lead_id, self._working_time(day), self.rng.choice(active), active)
        place_calls(acc, self.aux)
        return acc

    def _lead(self, lead_id: int, created_at: int, user: tuple, active: list[tuple]) -> None:
        rng = self.rng
        is_main = rng.random() < 0.75
        pipeline = self.acc.pipelines[0 if is_main else 1]
        pid = pipeline["id"]
        stages = [s[0] for s in (MAIN_STAGES if is_main else PARTNER_STAGES)]
        skill = user[4]
        price = int(round(rng.lognormvariate(math.log(120_000 if is_main else 260_000), 0.6), -3))
        contact_id, company_id = self._contact(user, created_at, lead_id - 20_000_000)
        self.party = (contact_id, company_id)
        lead_user = user
        source = rng.choice(SOURCES)
        creator = 0 if source == "Сайт" else user[0]  # web-form leads are created by a robot
        # most leads start at "Initial contact"; a third arrive unsorted ("Incoming leads")
        stage_i = 0 if rng.random() < 0.35 else 1
        self._event("lead_added", lead_id, created_at, creator, after=status_value(stages[stage_i], pid))
        t = created_at
        # first response: an outgoing call after the manager's typical delay
        response_at = created_at + max(30, int(user[6] * 60 * math.exp(rng.gauss(0, 0.7))))
        self._call(lead_id, user, response_at, "out")
        if rng.random() < 0.5:
            self._call(lead_id, user, created_at + rng.randint(60, 3600 * 4), "in", 0.95)
        status_id, closed_at, loss_reason = stages[stage_i], None, None
        reassigned = False
        while True:
            if stage_i == 0:
                move_at = max(t + 60, response_at + rng.randint(30, 600))
            else:
                move_at = t + self._lognormal_seconds(MEDIAN_HOURS[stage_i])
            # activity while in the stage
            if stage_i >= 1:
                for _ in range(int(user[5] * rng.uniform(0.4, 1.6) + 0.5)):
                    self._call(lead_id, lead_user, t + rng.randint(60, max(120, move_at - t)), "out", 0.6)
                self._task(lead_id, lead_user, 1, t, 24, 0.85, "Перезвонить клиенту")
            if status_id in (4_100_004, 4_200_004):  # presentation / demo: a meeting
                self._task(lead_id, lead_user, 2, t, max(2, (move_at - t) / 3600 * 0.6), 0.9, "Встреча")
            if move_at >= self.end:
                break
            p_adv = min(0.98, ADVANCE_P[stage_i] * skill)
            if not reassigned and stage_i >= 2 and rng.random() < 0.02:
                others = [m for m in active if m[0] != lead_user[0] and m[2] == lead_user[2]]
                new_user = rng.choice(others)
                self._event("entity_responsible_changed", lead_id, move_at - 30, 7_000_001,
                            after=[{"responsible_user": {"id": new_user[0]}}],
                            before=[{"responsible_user": {"id": lead_user[0]}}])
                lead_user, reassigned = new_user, True
            if rng.random() < p_adv:
                jump = 2 if (stage_i >= 2 and stage_i + 2 < len(stages) and rng.random() < 0.06) else 1
                if stage_i >= 3 and rng.random() < 0.03:
                    jump = -1  # regression: the client asks to see the demo again
                new_i = stage_i + jump
                new_status = WON if new_i >= len(stages) else stages[new_i]
            else:
                new_i, new_status = None, LOST
            self._event("lead_status_changed", lead_id, move_at, lead_user[0],
                        after=status_value(new_status, pid), before=status_value(status_id, pid))
            t, status_id = move_at, new_status
            if new_status in (WON, LOST):
                closed_at = move_at
                if new_status == LOST:
                    loss_reason = rng.choices([r[0] for r in LOSS_REASONS], weights=[30, 25, 20, 15, 10])[0]
                elif rng.random() < 0.5:
                    self.won_contacts.append(contact_id)
                break
            stage_i = new_i
        updated_at = max([created_at] + [e["created_at"] for e in self.acc.events[-40:] if e["entity_id"] == lead_id])
        deleted_at = None
        if rng.random() < 0.01 and updated_at + 86_400 < self.end:  # a duplicate or junk lead, deleted
            deleted_at = updated_at = updated_at + 86_400
            self._event("lead_deleted", lead_id, deleted_at, user[0])
        self.acc.leads.append(
            make_lead(
                lead_id,
                f"Сделка #{lead_id - 20_000_000}",
                price,
                lead_user[0],
                GROUPS[lead_user[2]][0],
                pid,
                status_id,
                created_at,
                updated_at=updated_at,
                closed_at=closed_at,
                loss_reason_id=loss_reason,
                contact_ids=[contact_id],
                company_ids=[company_id] if company_id else [],
                source=source,
                created_by=creator,
                is_deleted=deleted_at is not None,
            )
        )


def _open_leads_at(leads: list[dict], at: int) -> list[dict]:
    """Leads open at `at`: created, not yet closed, not yet deleted (a deleted lead's updated_at is its deletion)."""
    return [lead for lead in leads
            if lead["created_at"] <= at and (lead["closed_at"] is None or lead["closed_at"] > at)
            and not (lead["is_deleted"] and lead["updated_at"] <= at)]


def place_calls(acc: DemoAccount, rng: random.Random, company_share: float = 0.05) -> None:
    """Put each call note (generated on its lead) where amoCRM's calls API would: the telephony
    finds the caller by phone on a contact (or, for a call to the office line, on the company); the
    call lands on that card's lead only when the card has exactly one open lead, else on the card
    itself. The call's event moves with its note."""
    by_card: dict[tuple[str, int], list[dict]] = {}
    leads = {lead["id"]: lead for lead in acc.leads}
    for lead in acc.leads:
        for card, key in (("contacts", "contacts"), ("companies", "companies")):
            for linked in lead["_embedded"].get(key, []):
                by_card.setdefault((card, linked["id"]), []).append(lead)
    events = {e["value_after"][0]["note"]["id"]: e for e in acc.events
              if e["type"] in ("incoming_call", "outgoing_call") and e["value_after"]}
    kept: list[dict] = []
    for note in acc.notes:
        lead = leads[note["entity_id"]]
        contacts, companies = lead["_embedded"]["contacts"], lead["_embedded"]["companies"]
        if companies and (not contacts or rng.random() < company_share):
            card, card_id = "companies", companies[0]["id"]
        elif contacts:
            card, card_id = "contacts", contacts[0]["id"]
        else:
            kept.append(note)
            continue
        open_leads = _open_leads_at(by_card[(card, card_id)], note["created_at"])
        event = events.get(note["id"])
        if len(open_leads) == 1:
            note["entity_id"] = open_leads[0]["id"]
            kept.append(note)
            if event is not None:
                event["entity_id"] = open_leads[0]["id"]
            continue
        note["entity_id"] = card_id
        acc.notes_of(card).append(note)
        if event is not None:
            event.update(entity_id=card_id, entity_type=card[:-1] if card == "contacts" else "company")
    acc.notes[:] = kept


def generate_account(
    seed: int = 42,
    months: int = 12,
    leads_per_month: int = 250,
    start: datetime = datetime(2025, 11, 1),
    account_id: int = ACCOUNT_ID,
) -> DemoAccount:
    """The demo account: `months` months of activity starting at `start` (account time)."""
    account = _Builder(seed, start, months, leads_per_month).build()
    if account_id != ACCOUNT_ID:  # another agency client: same shape, its own account id
        account.account["id"] = account_id
        records = [*account.leads, *account.contacts, *account.companies, *account.tasks, *account.events,
                   *account.notes, *account.contact_notes, *account.company_notes, *account.pipelines,
                   *account.custom_fields]
        records += [s for p in account.pipelines for s in p["_embedded"]["statuses"]]
        for record in records:
            record["account_id"] = account_id
    return account
