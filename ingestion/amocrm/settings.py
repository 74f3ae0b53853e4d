"""The connector's fixed settings: page sizes, the events the marts use, event windows.

What a user may change is a source argument (`sources.amocrm.*` config); these follow from amoCRM."""

PAGE_LIMIT = 250
EVENTS_PAGE_LIMIT = 100
FAR_FUTURE = 2**40
CARDS = ("leads", "contacts", "companies")  # the cards calls and other notes live on
CALL_NOTE_TYPES = ["call_in", "call_out"]
# Events the marts use: stage moves, responsible changes, calls, creation, deletion and restoring.
EVENT_TYPES = (
    "lead_added",
    "lead_deleted",
    "lead_restored",
    "lead_status_changed",
    "entity_responsible_changed",
    "incoming_call",
    "outgoing_call",
)
# Event windows: start a week wide; widen while windows hold few events, narrow when they hold many.
EVENT_WINDOW_SECONDS = 7 * 86_400
EVENT_WINDOW_TARGET = 2_000  # events a window should hold (what is buffered before handing on)
EVENT_WINDOW_MAX_PAGES = 50  # a window that grows past this is narrowed and read again
EVENT_WINDOW_MAX_SECONDS = 366 * 86_400
