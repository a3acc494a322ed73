"""What every page shares: the studio handle (one per database), notices, error display."""

from __future__ import annotations

import contextlib
from typing import Iterator

import streamlit as st

from music.engine import RequestError
from studio.errors import StudioError
from studio.service import Studio
from studio.settings import load_settings
from studio.ui.models_info import demo_models_in_use, real_weights_present
from studio.ui.plain import md_escape


@st.cache_resource(show_spinner=False)
def _open_studio(home: str, database_url: str | None) -> Studio:
    return Studio.open(load_settings(home=home, database_url=database_url))


def studio() -> Studio:
    """The studio for the current settings. Settings are re-read each run, so a test (or an
    operator) that points SONGSTUDIO_HOME elsewhere gets that library, not a cached one."""
    settings = load_settings()
    return _open_studio(str(settings.home), settings.database_url)


# Errors a person can act on (bad input, a missing service): shown in plain words, never a traceback.
USER_ERRORS = (StudioError, RequestError, ValueError)


@contextlib.contextmanager
def shown_errors() -> Iterator[None]:
    """Show errors a person can act on as a red box instead of a traceback."""
    try:
        yield
    except USER_ERRORS as exc:
        st.error(md_escape(str(exc)), icon=":material/warning:")  # it may quote user text: escaped, never Markdown


def demo_notice(s: Studio) -> None:
    """Say plainly when no real weights are present, and what can still be tried."""
    if demo_models_in_use(s.settings):
        st.warning("This studio runs on the tiny demo models: their weights are random, so every take is "
                   "noise. They show how each step works, not how a song sounds.", icon=":material/science:")
        return
    if real_weights_present(s.settings):
        return
    st.info(f"No real model weights were found in {s.settings.model_cache}, so real songs cannot be made on "
            "this machine yet; Settings lists what is missing and how to get it. To try every step anyway, "
            "restart with `songstudio serve --demo` (tiny models with random weights: their output is noise).",
            icon=":material/info:")


def query_int(name: str) -> int | None:
    """An integer query parameter (e.g. ?take=12), or None when missing or not a number."""
    value = st.query_params.get(name)
    return int(value) if value is not None and value.isdigit() else None
