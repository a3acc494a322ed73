"""A take as the pages show it: waveform, player, and the small actions every list offers."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from studio.durations import clock
from studio.records import TakeView
from studio.service import Studio
from studio.ui import paths
from studio.ui.envelope_file import take_envelope
from studio.ui.plain import md_escape
from studio.ui.waveform import SELECTION, peak_dbfs, waveform_chart

SONG_PAGE = paths.SONG


def take_label(take: TakeView) -> str:
    return take.title or f"Take {take.id}"


def player(s: Studio, take: TakeView, *, region: tuple[float, float] | None = None,
           extend: tuple[float, float] | None = None, key: str | None = None,
           on_select: Callable[[], None] | None = None) -> None:
    """Waveform from the stored envelope plus the browser player on the small MP3 preview. With
    `on_select` (and a `key`), dragging across the waveform selects a region."""
    envelope = take_envelope(s, take)
    if envelope is not None:
        chart = waveform_chart(envelope, region=region, extend=extend, selectable=on_select is not None)
        if on_select is not None:
            st.altair_chart(chart, width="stretch", key=key, on_select=on_select, selection_mode=SELECTION)
        else:
            st.altair_chart(chart, width="stretch", key=key)
        st.caption(f"{clock(envelope.duration)} · peak {peak_dbfs(envelope.peak)} (the band is scaled "
                   "to the peak)")
    else:
        st.caption("No waveform stored for this take.")
    preview = s.file_path(take, "preview")
    if preview.is_file():
        st.audio(str(preview), format="audio/mpeg")
    else:
        st.warning(f"The preview file {preview} is missing.", icon=":material/warning:")


def favourite_button(s: Studio, take: TakeView, *, key: str) -> None:
    label = "★ Favourite" if take.favourite else "☆ Favourite"
    if st.button(label, key=key, help="Mark or unmark as favourite"):
        s.library.update(take.id, favourite=not take.favourite)
        st.rerun()


def take_card(s: Studio, take: TakeView, *, key: str) -> None:
    """Compact card used side by side on the Create page."""
    with st.container(border=True):
        st.markdown(f"**{md_escape(take_label(take))}**")  # user text: escaped, never Markdown
        st.caption(f"seed {take.seed} · {clock(take.duration)} · {take.engine}")
        player(s, take)
        left, right = st.columns(2)
        with left:
            favourite_button(s, take, key=f"{key}-fav")
        with right:
            st.page_link(SONG_PAGE, label="Open", icon=":material/headphones:", query_params={"take": str(take.id)})
