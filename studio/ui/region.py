"""The region an edit aims at, on the Song page: drag across the waveform or type exact seconds.

Both ways write the same two keyed number inputs, so whichever the person used last wins and
the repaint job gets exactly the numbers shown. The chart's selection arrives in a callback
before the page reruns, so the inputs already show it when they are drawn.
"""

from __future__ import annotations

import streamlit as st

from studio.records import TakeView
from studio.ui.waveform import mss, selected_region

START, END, CHART, OWNER = "song-region-start", "song-region-end", "song-wave", "song-region-take"


def reset_for(take: TakeView) -> None:
    """A new take on the page: the region is the whole take again."""
    if st.session_state.get(OWNER) != take.id:
        st.session_state.update({OWNER: take.id, START: 0.0, END: round(float(take.duration), 1)})


def apply_chart_selection(duration: float) -> None:
    """on_select callback of the waveform: the dragged range becomes the region's numbers."""
    region = selected_region(st.session_state.get(CHART), duration=duration)
    if region is not None:
        st.session_state[START], st.session_state[END] = region


def region_inputs(take: TakeView) -> tuple[float, float]:
    """The exact numbers, in seconds, with the same range in m:ss beside them."""
    limit = round(float(take.duration), 1)
    c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    start = c1.number_input("Region start (seconds)", 0.0, limit, step=0.1, format="%.1f", key=START)
    end = c2.number_input("Region end (seconds)", 0.0, limit, step=0.1, format="%.1f", key=END)
    c3.caption(f"{mss(start, decimals=1)} to {mss(end, decimals=1)} of {mss(take.duration, decimals=1)}. "
               "Drag across the waveform to choose a region (double-click clears the drag), or type the numbers.")
    return float(start), float(end)


TABS = "song-action"  # the Song page's action tabs (they rerun on switch, so the chart follows)
EXTEND_LEFT, EXTEND_RIGHT = "extend-left", "extend-right"


def aimed(take: TakeView) -> dict[str, tuple[float, float]]:
    """What the waveform shows: the new parts while the Extend tab is open, else the repaint
    region when it is not the whole take (keyword arguments for `waveform_chart`)."""
    duration = round(float(take.duration), 1)
    if st.session_state.get(TABS) == "Extend":
        left = float(st.session_state.get(EXTEND_LEFT, 0.0))
        right = float(st.session_state.get(EXTEND_RIGHT, 10.0))
        return {"extend": (left, right)} if left or right else {}
    start, end = float(st.session_state.get(START, 0.0)), float(st.session_state.get(END, duration))
    return {} if (start, end) == (0.0, duration) else {"region": (start, end)}
