"""The song a browser session works on, and the Write editor kept in step with its stored draft.

The song is in the URL (?song=<id>), so a reload or a shared link opens it; a Write tab opened
without one opens the song edited last. The editor saves on every run in which this tab changed
something (text areas commit when the user leaves them or presses Ctrl+Enter, the title after a
short typing pause), and each save is a version. A tab that has changed nothing since it loaded
picks up what another tab saved.
"""

from __future__ import annotations

import streamlit as st

from studio.records import SongView
from studio.service import Studio
from studio.ui.common import query_int
from studio.ui.lyrics_editor import EDITOR_KEY, editor_draft, load_draft

CURRENT_SONG = "current-song"  # session key: the song Create submits into
LOADED = "write-song"  # session key: the song id the editor holds
SAVED = "write-saved"  # session key: (title, draft, notes, version) as last loaded or saved here


def current_song(s: Studio, *, open_latest: bool) -> SongView | None:
    """The song in the URL, else this session's current song, else (with `open_latest`) the song
    edited last or a new one. Puts the choice into the URL and the session."""
    song = s.songs.find(query_int("song")) or s.songs.find(st.session_state.get(CURRENT_SONG))
    if song is None and open_latest:
        song = s.songs.latest() or s.songs.create()
    if song is not None:
        st.query_params["song"] = str(song.id)
        st.session_state[CURRENT_SONG] = song.id
    return song


def start_new_song(s: Studio) -> None:
    song = s.songs.create()
    st.query_params["song"] = str(song.id)
    st.session_state[CURRENT_SONG] = song.id
    st.session_state.pop(LOADED, None)


def restore_version(s: Studio, song_id: int, number: int) -> None:
    s.songs.restore(song_id, number)
    st.session_state.pop(LOADED, None)  # the next run loads the restored draft


def _edited() -> tuple:
    state = st.session_state
    return state.get("write-title", ""), editor_draft(), state.get("write-notes", "")


def _widgets_present() -> bool:
    """Streamlit drops a page's widget values when another page runs: then the editor is refilled
    from the stored song (never saved empty)."""
    state = st.session_state
    return EDITOR_KEY in state and "write-title" in state and "write-notes" in state and all(
        f"write-lines-{s.uid}" in state and f"write-tag-{s.uid}" in state for s in state[EDITOR_KEY])


def _load(song: SongView) -> None:
    load_draft(song.title, song.draft)
    st.session_state["write-notes"] = song.notes
    st.session_state[LOADED] = song.id
    st.session_state[SAVED] = (song.title, song.draft, song.notes, song.version)


def sync_editor(song: SongView) -> None:
    """Fill the editor from the stored song when this session has not loaded it yet, or when another
    tab saved a newer version and this one has no change of its own."""
    state = st.session_state
    if state.get(LOADED) != song.id or SAVED not in state or not _widgets_present():
        _load(song)
        return
    title, draft, notes, version = state[SAVED]
    if song.version != version and _edited() == (title, draft, notes):
        _load(song)


def save_edits(s: Studio, song: SongView) -> SongView:
    """Store the editor's content when this tab changed it since the last load or save."""
    title, draft, notes, _ = st.session_state[SAVED]
    edited = _edited()
    if edited == (title, draft, notes):
        return song
    song = s.songs.save(song.id, title=edited[0], draft=edited[1], notes=edited[2])
    st.session_state[SAVED] = (*edited, song.version)
    return song
