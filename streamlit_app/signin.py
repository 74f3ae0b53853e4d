"""Who is reading: Streamlit's OpenID Connect sign-in when `[auth]` is configured, else the open report.

Configured (an `[auth]` section in `.streamlit/secrets.toml`, README «Sign-in»): a reader who has not signed in
sees only the sign-in button (`st.login`); a signed-in reader is their provider-verified e-mail, which
streamlit_app/data.py turns into what they may see (dim_report_access). Streamlit keeps the identity in a
signed cookie (`cookie_secret`); nothing in the URL or the page can change it.

Not configured: the report is open to whoever reaches it, as a single user who sees everything; so it serves
only on a loopback address and refuses to draw any data when Streamlit listens anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from streamlit_app.labels import Lang, t

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def configured() -> bool:
    """An `[auth]` section in the secrets: sign-in is on (Streamlit then also requires Authlib)."""
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def providers() -> list[str | None]:
    """The providers to offer: None for settings directly under `[auth]`, and each named `[auth.<name>]`."""
    auth = st.secrets["auth"]
    named = [str(name) for name, value in auth.items() if isinstance(value, Mapping)]
    return ([None] if "client_id" in auth else []) + named


def reader(lang: Lang) -> str | None:
    """The signed-in e-mail; None for the open report. Stops the run (after saying why) when nobody may read:
    not signed in yet, an unverified e-mail, or an unconfigured report listening beyond loopback."""
    if not configured():
        address = st.get_option("server.address")
        if address not in LOOPBACK:
            st.error(t(lang, "open_off_loopback", address=address or "0.0.0.0"))
            st.stop()
        return None
    user = st.user.to_dict()
    if not user.get("is_logged_in"):
        st.info(t(lang, "sign_in_prompt"))
        for provider in providers():
            st.button(t(lang, "sign_in") if provider is None else t(lang, "sign_in_with", provider=provider),
                      on_click=st.login, args=(provider,) if provider else (), type="primary",
                      key=f"sign_in_{provider or 'default'}")
        st.stop()
    email = user.get("email")
    st.sidebar.caption(t(lang, "signed_in_as", email=email or "?"))
    st.sidebar.button(t(lang, "sign_out"), on_click=st.logout, key="sign_out")
    # a provider that says the address is unverified (anyone could have typed it) grants nothing
    if not email or user.get("email_verified") is False:
        st.error(t(lang, "email_unverified", email=email or "?"))
        st.stop()
    return str(email)
