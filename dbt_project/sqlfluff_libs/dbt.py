"""Stand-ins for dbt's cross-database macros (`dbt.*`)."""


def type_string():
    return "varchar"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + interval {interval} {datepart})"


def datediff(first_date, second_date, datepart):
    return f"datediff('{datepart}', {first_date}, {second_date})"


def safe_cast(field, type):  # noqa: A002 - dbt's own parameter name
    return f"try_cast({field} as {type})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def generate_series(upper_bound):
    return f"select unnest(range(1, {upper_bound} + 1)) as generated_number"


def bool_or(expression):
    return f"bool_or({expression})"


def date(year, month, day):
    return f"date '{year:04d}-{month:02d}-{day:02d}'"


def date_spine(datepart, start_date, end_date):
    return f"select {start_date} + interval (generated_number - 1) {datepart} as date_{datepart} from range(1, 10)"
