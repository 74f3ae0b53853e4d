"""The connector's errors: each message says what the user can do."""

from __future__ import annotations


class AmoCrmError(RuntimeError):
    """A failure the user can act on; the message says what to do."""


class AmoCrmAccessError(AmoCrmError):
    """The account refused us: bad or expired token (401), unpaid account (402), no access (403)."""


class EndlessListing(AmoCrmError):
    """A listing that does not end: the same page again, or more pages than any account holds."""


class MalformedPage(AmoCrmError):
    """A page whose body is not the JSON amoCRM promises, even after retries."""

    def __init__(self, url: str, body: str, reason: str) -> None:
        super().__init__(f"malformed page from {url}: {reason}")
        self.url, self.body, self.reason = url, body, reason
