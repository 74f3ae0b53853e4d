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


def origin_url(url: str | None) -> str | None:
    """The URL's origin as text, `scheme://host` (`:port` when not the scheme's default): what the
    warehouse may keep of the base URL (the host the account lives on), never a path, query or
    credentials."""
    parts = origin(url)
    if parts is None:
        return None
    scheme, host, port = parts
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS.get(scheme) == port else f":{port}")


def path_of(url: str | None) -> str:
    """The URL without its query string."""
    return (url or "").split("?", 1)[0]
