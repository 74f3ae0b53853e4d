"""The notifier's settings, dlt-style (section `notify`): environment variables such as
`NOTIFY__TELEGRAM__BOT_TOKEN`, or `.dlt/config.toml` / `.dlt/secrets.toml` in the directory `amokpi` runs from.

Non-secret keys (config.toml, `[notify]`, `[notify.telegram]`, `[notify.email]`):
  report_url (http://localhost:8501), quiet_hours ("22:00-08:00" in the account's timezone; empty: none),
  digest_weekday (ISO 1-7, default 5: the digests go out on the first run on or after Friday of each week),
  max_attempts (4 tries a message), retry_wait_seconds (1: the first back-off, doubling, at most 30 s),
  telegram.base_url (https://api.telegram.org), email.smtp_host, email.smtp_port (587), email.username,
  email.from_address, email.starttls (true), email.ca_file (a CA bundle for an internal SMTP server),
  timeout_seconds (20).
Secrets (secrets.toml): telegram.bot_token, email.password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import dlt


class ConfigError(ValueError):
    """A notify setting that cannot be used; the message names the key."""


def _get(key: str, secret: bool = False) -> object:
    value = (dlt.secrets if secret else dlt.config).get(f"notify.{key}")
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _text(key: str, default: str | None = None, secret: bool = False) -> str | None:
    value = _get(key, secret)
    return default if value is None else str(value).strip()


def _number(key: str, default: float) -> float:
    value = _get(key)
    try:
        return default if value is None else float(value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"notify.{key} must be a number, not {value!r}") from exc


def _flag(key: str, default: bool) -> bool:
    value = _get(key)
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes")


def parse_quiet_hours(text: str | None) -> tuple[time, time] | None:
    """"22:00-08:00" -> (22:00, 08:00); empty -> None."""
    if not text:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as exc:
        raise ConfigError(f"notify.quiet_hours must look like 22:00-08:00, not {text!r}") from exc
    return (start, end) if start != end else None


@dataclass(frozen=True)
class Telegram:
    base_url: str
    bot_token: str


@dataclass(frozen=True)
class Email:
    smtp_host: str
    smtp_port: int
    from_address: str
    username: str | None
    password: str | None
    starttls: bool
    ca_file: str | None


@dataclass(frozen=True)
class NotifyConfig:
    report_url: str
    quiet_hours: tuple[time, time] | None
    digest_weekday: int
    max_attempts: int
    retry_wait_seconds: float
    timeout_seconds: float
    telegram: Telegram | None  # None: no bot token, Telegram chats are skipped (and reported)
    email: Email | None  # None: no SMTP host, addresses are skipped (and reported)


def load() -> NotifyConfig:
    weekday = int(_number("digest_weekday", 5))
    if not 1 <= weekday <= 7:
        raise ConfigError(f"notify.digest_weekday must be 1 (Monday) to 7 (Sunday), not {weekday}")
    attempts = int(_number("max_attempts", 4))
    if attempts < 1:
        raise ConfigError("notify.max_attempts must be at least 1")
    token = _text("telegram.bot_token", secret=True)
    telegram = Telegram(_text("telegram.base_url", "https://api.telegram.org").rstrip("/"),  # type: ignore[union-attr]
                        token) if token else None
    host = _text("email.smtp_host")
    email = None
    if host:
        sender = _text("email.from_address") or _text("email.username")
        if not sender:
            raise ConfigError("notify.email.from_address is needed to send e-mail")
        email = Email(host, int(_number("email.smtp_port", 587)), sender, _text("email.username"),
                      _text("email.password", secret=True), _flag("email.starttls", True), _text("email.ca_file"))
    return NotifyConfig(
        report_url=(_text("report_url", "http://localhost:8501") or "").rstrip("/"),
        quiet_hours=parse_quiet_hours(_text("quiet_hours", "")),
        digest_weekday=weekday,
        max_attempts=attempts,
        retry_wait_seconds=max(0.0, _number("retry_wait_seconds", 1.0)),
        timeout_seconds=_number("timeout_seconds", 20.0),
        telegram=telegram,
        email=email,
    )
