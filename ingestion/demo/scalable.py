"""A demo account that scales: S/M/L/XL = 10k/100k/500k/1M leads with proportional events, notes and tasks.

The default demo account (`account.generate_account`) keeps its records as dicts (~29 KB a lead with
everything hanging off it) and draws every lead from one random stream, so it cannot be split or
grown. This account draws each lead from its own stream, seeded by (seed, lead number), with the
same life cycle as the default generator (stages, first response, calls, tasks, meetings,
reassignments, losses, deletions) and the same users, pipelines and custom fields, and writes
what it draws into columns (`columnar.Table`, ~0.6 KB a lead with its ~12 events, ~9 notes and ~4
tasks). The demo API serves it page by page, building dicts only for the page.

It is not the default account and does not reproduce it: the default's one-stream draws (and the
calls-API placement it runs over the whole account) are kept as they are for the KPI tests and
screenshots. Where this one simplifies: a client comes back for another deal by re-using the
contact of one of the 1,000 leads before it (10 %); a call of such a lead lands on the shared
contact's card (or, 5 % of calls where there is a company, on the company's card) instead of the
lead, as the calls API does for a contact with more than one lead.

`change(percent, seed)` edits a share of the leads the way a working day does (price edits, stage
moves, new leads, deletions), each visible through `updated_at` (and events), so an incremental
ingest after it reads exactly what changed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from ingestion.demo.account import (
    ADVANCE_P,
    CALL_TASK_TYPE,
    GROUPS,
    LOSS_REASONS,
    LOST,
    MAIN_STAGES,
    MANAGERS,
    MEDIAN_HOURS,
    PARTNER_STAGES,
    SOURCES,
    TIMEZONE,
    WON,
    DemoAccount,
    _month_starts,
    add_static_records,
    make_account,
    make_call_note,
    make_event,
    make_lead,
    make_party,
    make_task,
    status_value,
)
from ingestion.demo.columnar import Columns, Table

SIZES = {"S": 10_000, "M": 100_000, "L": 500_000, "XL": 1_000_000}
FIRST_LEAD_ID, FIRST_CONTACT_ID, FIRST_COMPANY_ID = 20_000_000, 30_000_000, 40_000_000
FIRST_NOTE_ID, FIRST_TASK_ID = 50_000_000, 60_000_000

# event types as stored (int8 codes) and the cards an event or a note sits on
EVENT_TYPES = ("lead_added", "lead_status_changed", "entity_responsible_changed", "incoming_call",
               "outgoing_call", "lead_deleted")
ADDED, MOVED, REASSIGNED, CALL_IN, CALL_OUT, DELETED = range(len(EVENT_TYPES))
EVENT_CARDS = ("lead", "contact", "company")
NOTE_CARDS = ("leads", "contacts", "companies")
TASK_CARDS = (None, "leads", "contacts")
TASK_TEXTS = ("Перезвонить клиенту", "Встреча")
CALL_STATUSES_MISSED = (3, 6, 7, 1)
PIPELINE_IDS = (8_100_001, 8_100_002)
STAGES = ([s[0] for s in MAIN_STAGES], [s[0] for s in PARTNER_STAGES])
REUSE_WINDOW = 1_000  # a returning client is one of the last 1,000 leads' contacts

LEAD_SPEC = {"id": "i", "created_at": "i", "updated_at": "i", "closed_at": "i", "status_id": "i",
             "pipeline_id": "i", "price": "i", "user": "b", "by_robot": "b", "loss_reason_id": "i", "source": "b",
             "contact_id": "i", "company_id": "i", "is_deleted": "b", "edits": "b"}
CONTACT_SPEC = {"id": "i", "created_at": "i", "updated_at": "i", "user": "b", "company_id": "i", "lead_n": "i"}
COMPANY_SPEC = {"id": "i", "created_at": "i", "updated_at": "i", "user": "b"}
EVENT_SPEC = {"id": "i", "type": "b", "entity_id": "i", "card": "b", "created_at": "i", "created_by": "i",
              "after": "i", "before": "i", "pipeline_id": "i"}
NOTE_SPEC = {"id": "i", "entity_id": "i", "card": "b", "user": "b", "created_at": "i", "updated_at": "i",
             "outgoing": "b", "duration": "h", "call_status": "b"}
TASK_SPEC = {"id": "i", "entity_id": "i", "card": "b", "user": "b", "task_type_id": "i", "created_at": "i",
             "updated_at": "i", "complete_till": "i", "is_completed": "b", "text": "b"}

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def event_id(n: int) -> str:
    """The n-th event id, as `account.EventIds` writes it (fixed width, so string order = number order)."""
    value, chars = n * 7_919 + 1_000_003, []
    for _ in range(24):
        value, r = divmod(value, 32)
        chars.append(_ALPHABET[r])
    return "01" + "".join(reversed(chars))


def event_number(ident: str) -> int | None:
    """The inverse of `event_id`; None for an id this account never wrote."""
    if len(ident) != 26 or not ident.startswith("01") or any(c not in _ALPHABET for c in ident[2:]):
        return None
    value = 0
    for c in ident[2:]:
        value = value * 32 + _ALPHABET.index(c)
    n, rest = divmod(value - 1_000_003, 7_919)
    return n if rest == 0 and n > 0 else None


def leads_of_size(size: str | int) -> int:
    if isinstance(size, int) or str(size).isdigit():
        return int(size)
    try:
        return SIZES[str(size).upper()]
    except KeyError as exc:
        raise ValueError(f"size must be one of {', '.join(SIZES)} or a number of leads, not {size!r}") from exc


@dataclass
class Change:
    """What one `change()` did: the moment it happened and the leads of each kind."""

    at: int
    edited: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"edited": len(self.edited), "moved": len(self.moved), "created": len(self.created),
                "deleted": len(self.deleted)}


class ScalableAccount:
    """The account's small lists as a `DemoAccount` has them; leads, contacts, companies, tasks, events
    and notes (on every card) as columnar tables. `version` changes whenever `change()` does, so the
    API knows its cached selections are stale."""

    def __init__(self, static: DemoAccount, tables: dict[str, Table], end: int) -> None:
        self.account = static.account
        self.users, self.pipelines = static.users, static.pipelines
        self.loss_reasons, self.custom_fields, self.task_types = (static.loss_reasons, static.custom_fields,
                                                                  static.task_types)
        self.leads, self.contacts, self.companies = tables["leads"], tables["contacts"], tables["companies"]
        self.tasks, self.events, self.notes = tables["tasks"], tables["events"], tables["notes"]
        self.end = end  # the data cut-off; changes happen after it
        self.version = 0

    @classmethod
    def generate(cls, leads: int = SIZES["S"], seed: int = 42, months: int = 12,
                 start: datetime = datetime(2025, 11, 1)) -> ScalableAccount:
        return _Generator(leads, seed, months, start).build()

    def tables(self) -> dict[str, Table]:
        return {"leads": self.leads, "contacts": self.contacts, "companies": self.companies,
                "tasks": self.tasks, "events": self.events, "notes": self.notes}

    def counts(self) -> dict[str, int]:
        return {"users": len(self.users), "pipelines": len(self.pipelines),
                **{name: len(table) for name, table in self.tables().items()}}

    def nbytes(self) -> int:
        return sum(table.nbytes() for table in self.tables().values())

    def newest(self) -> int:
        """The latest moment anything in the account happened."""
        return max(int(self.leads.cols["updated_at"].max()), int(self.events.cols["created_at"].max()), self.end)

    def change(self, percent: float, seed: int = 1) -> Change:
        """Change `percent` % of the live leads one minute after the newest record: 40 % of them get a
        new price, 30 % (of the open ones) move a stage forward, 20 % are new leads, 10 % are deleted."""
        rng = random.Random(seed)
        leads = self.leads.cols
        live = np.flatnonzero(leads["is_deleted"] == 0)
        total = max(1, round(len(live) * percent / 100))
        n_new, n_deleted = total * 2 // 10, total // 10
        n_moved = total * 3 // 10
        n_edited = total - n_new - n_deleted - n_moved
        open_rows = [int(r) for r in live if leads["closed_at"][r] == 0]
        moved = rng.sample(open_rows, min(n_moved, len(open_rows)))
        taken = set(moved)
        rest = [int(r) for r in live if int(r) not in taken]
        others = rng.sample(rest, min(n_edited + n_deleted, len(rest)))
        edited, deleted = others[:n_edited], others[n_edited:]
        at = self.newest() + 60
        done = Change(at)
        events = Columns(EVENT_SPEC)
        next_event = int(self.events.cols["id"].max()) + 1
        clock = at

        def event(etype: int, lead_row: int, by: int, after: int = 0, before: int = 0) -> None:
            nonlocal next_event
            when = int(self.leads.cols["updated_at"][lead_row]) if etype == ADDED else clock
            lead_id = int(self.leads.cols["id"][lead_row])
            for name, value in (("id", next_event), ("type", etype), ("entity_id", lead_id),
                                ("card", 0), ("created_at", when), ("created_by", by), ("after", after),
                                ("before", before), ("pipeline_id", int(self.leads.cols["pipeline_id"][lead_row]))):
                events.data[name].append(value)
            next_event += 1

        for row in edited:
            leads["price"][row] = int(round(int(leads["price"][row]) * rng.uniform(0.8, 1.3), -3)) or 1000
            leads["edits"][row] += 1
            leads["updated_at"][row] = clock
            done.edited.append(int(leads["id"][row]))
            clock += 1
        for row in moved:
            pipeline = 0 if leads["pipeline_id"][row] == PIPELINE_IDS[0] else 1
            stages = STAGES[pipeline]
            status = int(leads["status_id"][row])
            new_status = WON if status == stages[-1] else stages[stages.index(status) + 1]
            event(MOVED, row, MANAGERS[leads["user"][row]][0], new_status, status)
            leads["status_id"][row] = new_status
            if new_status == WON:
                leads["closed_at"][row] = clock
            leads["updated_at"][row] = clock
            done.moved.append(int(leads["id"][row]))
            clock += 1
        for row in deleted:
            event(DELETED, row, MANAGERS[leads["user"][row]][0])
            leads["is_deleted"][row] = 1
            leads["updated_at"][row] = clock
            done.deleted.append(int(leads["id"][row]))
            clock += 1
        if n_new:
            self._new_leads(n_new, rng, clock, done, event)
            clock += n_new
        self.events.extend(events.freeze())
        self.version += 1
        return done

    def _new_leads(self, count: int, rng: random.Random, at: int, done: Change,
                   event: Callable[..., None]) -> None:
        """Leads arriving after the cut-off: each with a new contact, on the first working stage."""
        leads = self.leads.cols
        first_id = int(leads["id"].max()) + 1
        first_contact = int(self.contacts.cols["id"].max()) + 1
        hired = list(range(len(MANAGERS)))
        new = {name: [] for name in LEAD_SPEC}
        contacts = {name: [] for name in CONTACT_SPEC}
        for k in range(count):
            user = rng.choice(hired)
            pipeline = 0 if rng.random() < 0.75 else 1
            values = {"id": first_id + k, "created_at": at + k, "updated_at": at + k, "closed_at": 0,
                      "status_id": STAGES[pipeline][1], "pipeline_id": PIPELINE_IDS[pipeline],
                      "price": int(round(rng.lognormvariate(math.log(120_000), 0.6), -3)), "user": user,
                      "by_robot": 0, "loss_reason_id": 0, "source": rng.randrange(len(SOURCES)),
                      "contact_id": first_contact + k, "company_id": 0, "is_deleted": 0, "edits": 0}
            for name, value in values.items():
                new[name].append(value)
            for name, value in (("id", first_contact + k), ("created_at", at + k), ("updated_at", at + k),
                                ("user", user), ("company_id", 0), ("lead_n", first_id + k - FIRST_LEAD_ID)):
                contacts[name].append(value)
            done.created.append(first_id + k)
        start = len(self.leads)
        self.leads.extend({name: np.array(v) for name, v in new.items()})
        self.contacts.extend({name: np.array(v) for name, v in contacts.items()})
        for k in range(count):
            row = start + k
            event(ADDED, row, MANAGERS[new["user"][k]][0], int(self.leads.cols["status_id"][row]))


# --- records as amoCRM API v4 shows them, built from a row ---------------------------------------------


def _lead(table: Table, row: int) -> dict:
    c = table.cols
    lead_id, user = int(c["id"][row]), MANAGERS[c["user"][row]]
    company = int(c["company_id"][row])
    name = f"Сделка #{lead_id - FIRST_LEAD_ID}" + " (изменена)" * int(c["edits"][row] > 0)
    return make_lead(lead_id, name, int(c["price"][row]), user[0], GROUPS[user[2]][0], int(c["pipeline_id"][row]),
                     int(c["status_id"][row]), int(c["created_at"][row]), updated_at=int(c["updated_at"][row]),
                     closed_at=int(c["closed_at"][row]) or None, loss_reason_id=int(c["loss_reason_id"][row]) or None,
                     contact_ids=[int(c["contact_id"][row])], company_ids=[company] if company else [],
                     source=SOURCES[c["source"][row]], created_by=0 if c["by_robot"][row] else user[0],
                     is_deleted=bool(c["is_deleted"][row]))


def _contact(table: Table, row: int) -> dict:
    c = table.cols
    contact_id, user = int(c["id"][row]), MANAGERS[c["user"][row]]
    company = int(c["company_id"][row])
    record = make_party(contact_id, f"Клиент {int(c['lead_n'][row])}", user[0], GROUPS[user[2]][0],
                        int(c["created_at"][row]), companies=[company] if company else [])
    record["updated_at"] = int(c["updated_at"][row])
    record.update({
        "first_name": "Клиент",
        "last_name": str(int(c["lead_n"][row])),
        "custom_fields_values": [{"field_id": 900_101, "field_name": "Телефон", "field_code": "PHONE",
                                  "field_type": "multitext",
                                  "values": [{"value": f"+7900{contact_id % 10_000_000:07d}", "enum_code": "WORK"}]}],
    })
    return record


def _company(table: Table, row: int) -> dict:
    c = table.cols
    company_id, user = int(c["id"][row]), MANAGERS[c["user"][row]]
    record = make_party(company_id, f"ООО Клиент {company_id - FIRST_COMPANY_ID}", user[0], GROUPS[user[2]][0],
                        int(c["created_at"][row]))
    record["updated_at"] = int(c["updated_at"][row])
    return record


def _event(table: Table, row: int) -> dict:
    c = table.cols
    etype, pid = int(c["type"][row]), int(c["pipeline_id"][row])
    after, before = int(c["after"][row]), int(c["before"][row])
    value_after: list | None = None
    value_before: list | None = None
    if etype in (ADDED, MOVED):
        value_after = status_value(after, pid)
        value_before = status_value(before, pid) if etype == MOVED else None
    elif etype == REASSIGNED:
        value_after, value_before = [{"responsible_user": {"id": after}}], [{"responsible_user": {"id": before}}]
    elif etype in (CALL_IN, CALL_OUT):
        value_after = [{"note": {"id": after}}]
    return make_event(event_id(int(c["id"][row])), EVENT_TYPES[etype], int(c["entity_id"][row]),
                      int(c["created_at"][row]), int(c["created_by"][row]), value_after, value_before,
                      entity_type=EVENT_CARDS[c["card"][row]])


def _note(table: Table, row: int) -> dict:
    c = table.cols
    user = MANAGERS[c["user"][row]]
    return make_call_note(int(c["id"][row]), int(c["entity_id"][row]), user[0], int(c["created_at"][row]),
                          "out" if c["outgoing"][row] else "in", int(c["duration"][row]), int(c["call_status"][row]),
                          GROUPS[user[2]][0])


def _task(table: Table, row: int) -> dict:
    c = table.cols
    user, card = MANAGERS[c["user"][row]], TASK_CARDS[c["card"][row]]
    done = bool(c["is_completed"][row])
    return make_task(int(c["id"][row]), int(c["entity_id"][row]) or None, user[0], int(c["task_type_id"][row]),
                     int(c["created_at"][row]), int(c["complete_till"][row]), done,
                     int(c["updated_at"][row]) if done else None, GROUPS[user[2]][0], TASK_TEXTS[c["text"][row]],
                     entity_type=card)


# --- the generator --------------------------------------------------------------------------------------


class _Generator:
    def __init__(self, leads: int, seed: int, months: int, start: datetime) -> None:
        self.total, self.seed = leads, seed
        tz = ZoneInfo(TIMEZONE)
        self.start = start.replace(tzinfo=tz)
        self.month_starts = _month_starts(self.start, months)
        self.end = int(self.month_starts[-1].timestamp())
        weights = [0.85 + 0.03 * mi for mi in range(months)]  # the default account's growth
        cuts = np.round(np.cumsum(weights) / sum(weights) * leads).astype(int)
        self.month_counts = np.diff(np.concatenate([[0], cuts])).tolist()
        self.leads, self.contacts, self.companies = Columns(LEAD_SPEC), Columns(CONTACT_SPEC), Columns(COMPANY_SPEC)
        self.events, self.notes, self.tasks = Columns(EVENT_SPEC), Columns(NOTE_SPEC), Columns(TASK_SPEC)
        self.event_n, self.note_id, self.task_id = 0, FIRST_NOTE_ID, FIRST_TASK_ID
        self.contact_id, self.company_id = FIRST_CONTACT_ID, FIRST_COMPANY_ID
        self.contact_of: list[tuple[int, int]] = []  # (contact, company) of each lead so far

    def build(self) -> ScalableAccount:
        static = DemoAccount(account=make_account(created_at=int(self.start.timestamp()) - 86400 * 30))
        add_static_records(static, self.start)
        n = 0
        for mi, count in enumerate(self.month_counts):
            m_start, m_end = self.month_starts[mi], self.month_starts[mi + 1]
            days = (m_end - m_start).days
            active = [i for i, m in enumerate(MANAGERS) if m[7] <= mi]
            for _ in range(count):
                n += 1
                self._lead(n, m_start, days, active)
        tables = {
            "leads": Table("leads", self.leads.freeze(), _lead),
            "contacts": Table("contacts", self.contacts.freeze(), _contact),
            "companies": Table("companies", self.companies.freeze(), _company),
            "events": Table("events", self.events.freeze(), _event),
            "notes": Table("notes", self.notes.freeze(), _note),
            "tasks": Table("tasks", self.tasks.freeze(), _task),
        }
        return ScalableAccount(static, tables, self.end)

    # one lead, from its own random stream -------------------------------------------------------------
    def _lead(self, n: int, m_start: datetime, days: int, active: list[int]) -> None:
        rng = random.Random(self.seed * 1_000_003 + n)
        lead_id = FIRST_LEAD_ID + n
        day = m_start + timedelta(days=rng.randrange(days))
        created_at = int((day + timedelta(minutes=rng.randint(9 * 60, 19 * 60 - 1),
                                          seconds=rng.randint(0, 59))).timestamp())
        user = rng.choice(active)
        manager = MANAGERS[user]
        is_main = rng.random() < 0.75
        pid = PIPELINE_IDS[0 if is_main else 1]
        stages = STAGES[0 if is_main else 1]
        price = int(round(rng.lognormvariate(math.log(120_000 if is_main else 260_000), 0.6), -3))
        contact_id, company_id, shared = self._party(rng, n, user, created_at)
        source = rng.randrange(len(SOURCES))
        creator = 0 if source == 0 else manager[0]  # web-form leads are created by a robot
        stage_i = 0 if rng.random() < 0.35 else 1
        newest = created_at
        newest = max(newest, self._event(ADDED, lead_id, 0, created_at, creator, stages[stage_i], 0, pid))
        t = created_at
        response_at = created_at + max(30, int(manager[6] * 60 * math.exp(rng.gauss(0, 0.7))))
        lead_user = user
        call = self._call
        newest = max(newest, call(rng, lead_id, contact_id, company_id, shared, lead_user, response_at, 1, 0.7, pid))
        if rng.random() < 0.5:
            newest = max(newest, call(rng, lead_id, contact_id, company_id, shared, lead_user,
                                      created_at + rng.randint(60, 3600 * 4), 0, 0.95, pid))
        status_id, closed_at, loss_reason = stages[stage_i], 0, 0
        reassigned = False
        while True:
            if stage_i == 0:
                move_at = max(t + 60, response_at + rng.randint(30, 600))
            else:
                move_at = t + max(60, int(MEDIAN_HOURS[stage_i] * 3600 * math.exp(rng.gauss(0, 0.8))))
            if stage_i >= 1:
                for _ in range(int(MANAGERS[lead_user][5] * rng.uniform(0.4, 1.6) + 0.5)):
                    newest = max(newest, call(rng, lead_id, contact_id, company_id, shared, lead_user,
                                              t + rng.randint(60, max(120, move_at - t)), 1, 0.6, pid))
                self._task(rng, lead_id, contact_id, lead_user, 1, t, 24, 0.85)
            if status_id in (4_100_004, 4_200_004):  # presentation / demo: a meeting
                self._task(rng, lead_id, contact_id, lead_user, 2, t, max(2, (move_at - t) / 3600 * 0.6), 0.9)
            if move_at >= self.end:
                break
            p_adv = min(0.98, ADVANCE_P[stage_i] * manager[4])
            if not reassigned and stage_i >= 2 and rng.random() < 0.02:
                others = [i for i in active if i != lead_user and MANAGERS[i][2] == MANAGERS[lead_user][2]]
                if others:
                    new_user = rng.choice(others)
                    newest = max(newest, self._event(REASSIGNED, lead_id, 0, move_at - 30, 7_000_001,
                                                     MANAGERS[new_user][0], MANAGERS[lead_user][0], 0))
                    lead_user, reassigned = new_user, True
            if rng.random() < p_adv:
                jump = 2 if (stage_i >= 2 and stage_i + 2 < len(stages) and rng.random() < 0.06) else 1
                if stage_i >= 3 and rng.random() < 0.03:
                    jump = -1  # regression: the client asks to see the demo again
                new_i = stage_i + jump
                new_status = WON if new_i >= len(stages) else stages[new_i]
            else:
                new_i, new_status = stage_i, LOST
            newest = max(newest, self._event(MOVED, lead_id, 0, move_at, MANAGERS[lead_user][0], new_status,
                                             status_id, pid))
            t, status_id = move_at, new_status
            if new_status in (WON, LOST):
                closed_at = move_at
                if new_status == LOST:
                    loss_reason = rng.choices([r[0] for r in LOSS_REASONS], weights=[30, 25, 20, 15, 10])[0]
                break
            stage_i = new_i
        updated_at, deleted = newest, 0
        if rng.random() < 0.01 and updated_at + 86_400 < self.end:  # a duplicate or junk lead, deleted
            updated_at, deleted = updated_at + 86_400, 1
            self._event(DELETED, lead_id, 0, updated_at, manager[0], 0, 0, pid)
        for name, value in (("id", lead_id), ("created_at", created_at), ("updated_at", updated_at),
                            ("closed_at", closed_at), ("status_id", status_id), ("pipeline_id", pid),
                            ("price", price), ("user", lead_user), ("by_robot", int(creator == 0)),
                            ("loss_reason_id", loss_reason), ("source", source), ("contact_id", contact_id),
                            ("company_id", company_id), ("is_deleted", deleted), ("edits", 0)):
            self.leads.data[name].append(value)

    def _party(self, rng: random.Random, n: int, user: int, at: int) -> tuple[int, int, bool]:
        """The lead's contact (and company): new, or (10 %) a client of one of the leads just before."""
        if len(self.contact_of) > 1 and rng.random() < 0.1:
            contact, company = self.contact_of[-rng.randint(1, min(REUSE_WINDOW, len(self.contact_of)))]
            self.contact_of.append((contact, company))
            return contact, company, True
        self.contact_id += 1
        company = 0
        if rng.random() < 0.4:
            self.company_id += 1
            company = self.company_id
            for name, value in (("id", company), ("created_at", at), ("updated_at", at), ("user", user)):
                self.companies.data[name].append(value)
        for name, value in (("id", self.contact_id), ("created_at", at), ("updated_at", at), ("user", user),
                            ("company_id", company), ("lead_n", n)):
            self.contacts.data[name].append(value)
        self.contact_of.append((self.contact_id, company))
        return self.contact_id, company, False

    def _event(self, etype: int, entity_id: int, card: int, at: int, by: int, after: int, before: int,
               pid: int) -> int:
        self.event_n += 1
        data = self.events.data
        data["id"].append(self.event_n)
        data["type"].append(etype)
        data["entity_id"].append(entity_id)
        data["card"].append(card)
        data["created_at"].append(at)
        data["created_by"].append(by)
        data["after"].append(after)
        data["before"].append(before)
        data["pipeline_id"].append(pid)
        return at if card == 0 else 0

    def _call(self, rng: random.Random, lead_id: int, contact_id: int, company_id: int, shared: bool, user: int,
              at: int, outgoing: int, connected_p: float, pid: int) -> int:
        """A call note and (90 %) its event, on the lead, or on the shared contact's (or company's) card.
        Returns when it touched the lead (0 when it sits on another card or after the cut-off)."""
        if at >= self.end:
            return 0
        self.note_id += 1
        connected = rng.random() < connected_p
        status = 4 if connected else rng.choice(CALL_STATUSES_MISSED)
        duration = rng.randint(40, 900) if connected else 0
        card, entity = 0, lead_id
        if company_id and rng.random() < 0.05 and shared:
            card, entity = 2, company_id
        elif shared:
            card, entity = 1, contact_id
        data = self.notes.data
        for name, value in (("id", self.note_id), ("entity_id", entity), ("card", card), ("user", user),
                            ("created_at", at), ("updated_at", at), ("outgoing", outgoing), ("duration", duration),
                            ("call_status", status)):
            data[name].append(value)
        if rng.random() < 0.9:
            return self._event(CALL_OUT if outgoing else CALL_IN, entity, card, at, MANAGERS[user][0],
                               self.note_id, 0, 0)
        return 0  # a lead's updated_at follows its events, and this call wrote none

    def _task(self, rng: random.Random, lead_id: int, contact_id: int, user: int, ttype: int, at: int,
              due_h: float, done_p: float) -> None:
        if at >= self.end:
            return
        self.task_id += 1
        till = at + int(due_h * 3600)
        done_at = till - rng.randint(0, int(due_h * 1800) + 60)
        done = rng.random() < done_p and done_at < self.end
        text = 0 if ttype == 1 else 1
        card, entity = 1, lead_id
        if ttype == 1 and rng.random() < 0.5:
            ttype = CALL_TASK_TYPE["id"]  # the account's own «Звонок» type
        elif ttype == 2 and rng.random() < 0.2:
            card, entity = 2, contact_id  # a meeting set on the client's contact card
        data = self.tasks.data
        for name, value in (("id", self.task_id), ("entity_id", entity), ("card", card), ("user", user),
                            ("task_type_id", ttype), ("created_at", at),
                            ("updated_at", max(done_at, at + 60) if done else at), ("complete_till", till),
                            ("is_completed", int(done)), ("text", text)):
            data[name].append(value)


def as_demo_account(account: ScalableAccount) -> DemoAccount:
    """The same records as a list-of-dicts `DemoAccount` (small accounts only: tests compare the two
    ways of serving one account)."""
    notes = list(account.notes)
    by_card = {card: [n for n, code in zip(notes, account.notes.cols["card"], strict=True)
                      if NOTE_CARDS[code] == card] for card in NOTE_CARDS}
    return DemoAccount(account=account.account, users=account.users, pipelines=account.pipelines,
                       leads=list(account.leads), contacts=list(account.contacts), companies=list(account.companies),
                       tasks=list(account.tasks), events=list(account.events), notes=by_card["leads"],
                       contact_notes=by_card["contacts"], company_notes=by_card["companies"],
                       loss_reasons=account.loss_reasons, custom_fields=account.custom_fields,
                       task_types=account.task_types)
