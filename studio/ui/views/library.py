"""Library: the songs with their takes (search over song titles, drafts and notes); or every take:
search, filter, sort and page through them; favourite, rate, trash, restore, export.

Only one page of rows is read from the database per run, so the page stays fast at any size.
Titles are user text: shown escaped, never as Markdown.
"""

import datetime as dt

import streamlit as st

from studio.durations import clock
from studio.records import LibraryQuery
from studio.ui import paths
from studio.ui.common import shown_errors, studio
from studio.ui.plain import md_escape
from studio.ui.takes import SONG_PAGE, favourite_button, take_label
from studio.ui.trash import trash_button, undo_notice

PAGE_SIZE = 20
# Page labels -> the library's sort names ("relevance" only applies to a text search).
SORTS = {
    "Newest first": "newest",
    "Oldest first": "oldest",
    "Best match": "relevance",
    "Best rated": "rating",
    "Longest": "duration",
    "Title A-Z": "title",
}

s = studio()
st.title("Library")
show = st.segmented_control("Show", ["Songs", "All takes"], default="Songs", key="lib-show")


def songs_view() -> None:
    text = st.text_input("Search songs", placeholder="title, lyrics or notes", key="lib-song-search")
    page = int(st.session_state.get("lib-song-page", 1))
    songs, total = s.songs.search(text.strip(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    c1, c2 = st.columns([4, 1])
    c1.caption(f"{total} song{'s' if total != 1 else ''}")
    if pages > 1:
        c2.number_input("Page", 1, pages, key="lib-song-page")
    takes = s.songs.takes([song.id for song in songs])
    for song in songs:
        with st.container(border=True):
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            c1.markdown(f"**{md_escape(song.title or 'Untitled')}**")
            c2.page_link(paths.WRITE, label="Write", icon=":material/edit_note:", query_params={"song": str(song.id)})
            count = len(takes[song.id])
            st.caption(f"{count} take{'s' if count != 1 else ''} · version {song.version} · "
                       f"edited {song.updated_at:%Y-%m-%d %H:%M}")
            for take in takes[song.id]:
                st.page_link(SONG_PAGE, label=md_escape(take_label(take)), icon=":material/headphones:",
                             query_params={"take": str(take.id)})
    if not total:
        st.info("No songs match." if text.strip() else "No songs yet. Start one on the Write or Create page.")


if show != "All takes":
    songs_view()
    st.stop()

with st.container(border=True):
    c1, c2, c3 = st.columns([3, 2, 2])
    text = c1.text_input("Search", placeholder="title, prompt, lyrics or tags", key="lib-search")
    engine = c2.selectbox("Engine", ["All engines", *s.engine_names()], key="lib-engine")
    sort = c3.selectbox("Sort", list(SORTS), key="lib-sort")
    c1, c2, c3, c4 = st.columns([2, 2, 3, 2])
    favourites_only = c1.toggle("Favourites only", key="lib-fav")
    trash = c2.toggle("Show trash", key="lib-trash")
    dates = c3.date_input("Created between", value=(), key="lib-dates")
    durations = c4.slider("Duration (s)", 0, 600, (0, 600), key="lib-duration")

date_from = dates[0] if len(dates) >= 1 else None
date_to = dates[1] if len(dates) == 2 else None
query = LibraryQuery(
    text=text.strip(),
    engine=None if engine == "All engines" else engine,
    favourites_only=favourites_only,
    trashed=trash,
    created_from=dt.datetime.combine(date_from, dt.time.min, dt.timezone.utc) if date_from else None,
    # the library's upper bound is exclusive: the day after the chosen last day
    created_to=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, dt.timezone.utc) if date_to else None,
    min_duration=float(durations[0]) if durations[0] > 0 else None,
    max_duration=float(durations[1]) if durations[1] < 600 else None,
    sort=SORTS[sort],
)

with shown_errors():
    page = int(st.session_state.get("lib-page", 1))
    rows, total, exact, rank_window = s.search_takes(query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:  # the filters changed under a later page: start again at the first
        st.session_state["lib-page"] = 1
        st.rerun()
    c1, c2 = st.columns([4, 1])
    c1.caption(f"{total}{'' if exact else '+'} take{'s' if total != 1 else ''}" + (" in the trash" if trash else "")
               + (f" · best match among the newest {rank_window:,} matches, older ones after them, newest first"
                  if rank_window else ""))
    if pages > 1:
        c2.number_input("Page", 1, pages, key="lib-page")

    undo_notice(s)
    selected: list[int] = []
    made_from = s.library.children_counts([t.id for t in rows])
    for take in rows:
        with st.container(border=True):
            c1, c2, c3, c4, c5 = st.columns([4, 2, 2, 2, 1], vertical_alignment="center")
            with c1:
                st.page_link(SONG_PAGE, label=md_escape(take_label(take)), icon=":material/headphones:", query_params={"take": str(take.id)})
                lineage = f" · from take {take.parent_take_id}" if take.parent_take_id else ""
                if made_from.get(take.id):
                    count = made_from[take.id]
                    lineage += f" · {count} take{'s' if count != 1 else ''} made from it"
                st.caption(f"{take.task} · {take.engine} · {clock(take.duration)} · seed {take.seed} · "
                           f"{take.created_at:%Y-%m-%d %H:%M}{lineage}")
            with c2:
                favourite_button(s, take, key=f"lib-fav-{take.id}")
            with c3:
                stars = st.feedback("stars", key=f"lib-rate-{take.id}", default=take.rating - 1 if take.rating else None)
                if stars is not None and stars + 1 != take.rating:
                    s.library.update(take.id, rating=stars + 1)
            with c4:
                if take.trashed:
                    if st.button("Restore", key=f"lib-restore-{take.id}", icon=":material/restore_from_trash:"):
                        s.library.restore(take.id)
                        st.rerun()
                else:
                    trash_button(s, take, key=f"lib-trash-{take.id}")
            with c5:
                if st.checkbox("Pick for export", key=f"lib-pick-{take.id}",
                               help="Export the picked takes together (none picked: this page)"):
                    selected.append(take.id)

    if rows:
        ids = selected or [t.id for t in rows]
        what = f"{len(selected)} picked" if selected else "this page"
        st.download_button(f"Export {what} (zip)", data=lambda: s.export_zip(ids), file_name="songstudio-export.zip",
                           mime="application/zip", on_click="ignore", icon=":material/folder_zip:")
    elif not total:
        # any search or filter (not just the text) can be why nothing is listed
        filtered = query != LibraryQuery(sort=query.sort)
        st.info("No takes match." if filtered else "Nothing here yet. Make something on the Create page.")
