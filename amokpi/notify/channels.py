"""Delivery: Telegram's Bot API (sendMessage over HTTPS) and e-mail (SMTP with STARTTLS), each try of a
message bounded by tenacity (`NotifyConfig.max_attempts`, exponential back-off, Telegram's `retry_after`
honoured up to 30 s). What is worth another try: a dropped connection, a timeout, Telegram's 429 and
5xx, an SMTP 4xx. Anything else (a wrong chat id, a refused address) fails at once. Errors never carry
the bot token (it is part of Telegram's URL, so a request error is reported by its type only)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from amokpi.notify.config import Email, NotifyConfig, Telegram

log = logging.getLogger("amokpi.notify")
RETRY_AFTER_CAP = 30.0


class SendFailed(Exception):
    """The channel did not take the message; `attempts` tries were made."""

    def __init__(self, message: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class _Transient(Exception):
    """Worth another try; `retry_after` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outgoing:
    """One message in the two shapes the channels need."""

    subject: str
    telegram_html: str
    text: str
    html: str


def _retrying(config: NotifyConfig, what: str) -> Retrying:
    backoff = wait_exponential(multiplier=config.retry_wait_seconds, max=RETRY_AFTER_CAP)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None)
        return max(backoff(state), min(float(hint), RETRY_AFTER_CAP)) if hint else backoff(state)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s: attempt %d failed (%s); retrying", what, state.attempt_number, exc)

    return Retrying(stop=stop_after_attempt(config.max_attempts), wait=wait, before_sleep=before_sleep,
                    retry=retry_if_exception_type(_Transient), reraise=True)


def deliver(config: NotifyConfig, channel: str, address: str, message: Outgoing) -> int:
    """Send `message` to `address` on `channel`; the number of attempts it took, or SendFailed."""
    send = {"telegram": _telegram, "email": _email}[channel]
    retrying = _retrying(config, f"{channel} {address}")
    try:
        for attempt in retrying:
            with attempt:
                send(config, address, message)
    except _Transient as exc:
        raise SendFailed(f"{exc} (gave up after {config.max_attempts} attempts)", config.max_attempts) from None
    except SendFailed as exc:
        exc.attempts = retrying.statistics.get("attempt_number", 1)
        raise
    return int(retrying.statistics.get("attempt_number", 1))


def _telegram(config: NotifyConfig, chat_id: str, message: Outgoing) -> None:
    telegram: Telegram | None = config.telegram
    if telegram is None:
        raise SendFailed("no notify.telegram.bot_token configured")
    url = f"{telegram.base_url}/bot{telegram.bot_token}/sendMessage"
    payload = {"chat_id": chat_id, "text": message.telegram_html, "parse_mode": "HTML",
               "link_preview_options": {"is_disabled": True}}
    try:
        response = requests.post(url, json=payload, timeout=config.timeout_seconds, allow_redirects=False)
    except requests.RequestException as exc:  # its text would hold the URL, and so the token
        raise _Transient(f"Telegram unreachable ({type(exc).__name__})") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and body.get("ok"):
        return
    description = str(body.get("description") or response.reason)
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = (body.get("parameters") or {}).get("retry_after")
        raise _Transient(f"Telegram HTTP {response.status_code}: {description}", retry_after)
    raise SendFailed(f"Telegram HTTP {response.status_code}: {description}")


def _email(config: NotifyConfig, address: str, message: Outgoing) -> None:
    email: Email | None = config.email
    if email is None:
        raise SendFailed("no notify.email.smtp_host configured")
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = message.subject, email.from_address, address
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    try:
        with smtplib.SMTP(email.smtp_host, email.smtp_port, timeout=config.timeout_seconds) as smtp:
            if email.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=email.ca_file))
            if email.username:
                smtp.login(email.username, email.password or "")
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            raise _Transient(f"SMTP refused {address} for now ({codes})") from None
        raise SendFailed(f"SMTP refused {address} ({codes})") from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        text = f"SMTP {exc.smtp_code}: {reply}"
        if 400 <= exc.smtp_code < 500:
            raise _Transient(text) from None
        raise SendFailed(text) from None
    except smtplib.SMTPNotSupportedError as exc:  # STARTTLS or AUTH not offered: another try will not help
        raise SendFailed(f"SMTP server: {exc}") from None
    except ssl.SSLError as exc:
        raise SendFailed(f"SMTP TLS failed: {exc}") from None
    except (smtplib.SMTPServerDisconnected, OSError) as exc:  # connection refused, reset, timed out
        raise _Transient(f"SMTP unreachable ({type(exc).__name__}: {exc})") from None
