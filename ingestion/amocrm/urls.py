"""URL pieces the connector compares and reports: an origin (where credentials may go) and a
path without its query (what an error message names, never a token in a query string)."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str | None) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None for what cannot be parsed."""
    try:
        parts = urlsplit(url or "")
        scheme, host = parts.scheme.lower(), parts.hostname
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not scheme or not host or port is None:
        return None
    return scheme, host, port


def path_of(url: str | None) -> str:
    """The URL without its query string."""
    return (url or "").split("?", 1)[0]
