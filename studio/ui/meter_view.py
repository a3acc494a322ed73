"""Draws the lyric meter (`studio.ui.lyric_meter`) under the lyrics box. Only our own words reach
Markdown here; the lyrics themselves are never echoed."""

from __future__ import annotations

import streamlit as st

from studio.durations import clock
from studio.ui.lyric_meter import Meter


def show_meter(meter: Meter, *, made: float | None) -> None:
    if meter.token_fraction is not None:
        st.progress(meter.token_fraction, text=f"Lyric tokens: {meter.tokens:,} of {meter.token_limit:,}")
    st.caption(meter.summary() if meter.chars else "No lyrics: an instrumental, or the prompt alone leads.")
    if made is not None and abs(made - meter.duration) >= 0.005:
        st.caption(f"A {meter.duration:g} s request makes {clock(made)} (whole latent frames of about 93 ms).")
    for problem in meter.problems:
        st.error(f"Generate will refuse this: {problem}.", icon=":material/block:")
    for warning in meter.warnings:
        st.warning(warning[:1].upper() + warning[1:] + ".", icon=":material/timer:")
