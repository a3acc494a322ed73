"""Trash with undo on the Library: trashing a take says so with an Undo button until the next
trash or undo. The take is only flagged (restorable from "Show trash" as well); nothing is deleted."""

from __future__ import annotations

import streamlit as st

from studio.records import TakeView
from studio.service import Studio

UNDO = "lib-undo"  # {"id", "title"} of the take trashed last


def trash_button(s: Studio, take: TakeView, *, key: str) -> None:
    if st.button("Trash", key=key, icon=":material/delete:", help="Move to the trash; Undo brings it back"):
        s.library.trash(take.id)
        st.session_state[UNDO] = {"id": take.id, "title": take.title or f"Take {take.id}"}
        st.rerun()


def undo_notice(s: Studio) -> None:
    """The last trashed take with Undo (its title shown as text, never Markdown)."""
    last = st.session_state.get(UNDO)
    if not last:
        return
    with st.container(border=True):
        c1, c2, c3 = st.columns([2, 4, 1], vertical_alignment="center")
        c1.caption(f"Moved take {last['id']} to the trash:")
        c2.text(last["title"])
        if c3.button("Undo", key="lib-undo-button", icon=":material/undo:", type="primary"):
            s.library.restore(last["id"])
            del st.session_state[UNDO]
            st.rerun()
