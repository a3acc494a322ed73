"""#14 part 1 in the pages: the song is the unit of a session.

- Write saves as it is edited: after drafting, editing a section, setting the title, moving,
  removing and adding sections and a rewrite, a reload (a new session) shows exactly that.
- Send to Create keeps the song (and its title) and never puts "pop, happy" in the prompt.
- Create submits into the current song; takes are named after it.
- The Library lists songs with their takes; its search covers song titles and drafts.
"""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.studio.fake_lyrics import ScriptedBackend, lyrics_backend  # noqa: F401 (fixture)
from tests.studio.ui.conftest import APP
from tests.studio.ui.test_write_rewrite import line_areas, no_errors, uid_of


def open_write(song_id: int | None = None) -> AppTest:
    """A new browser session (a reload) on the Write page."""
    app = AppTest.from_file(APP, default_timeout=30)
    app.switch_page("views/write.py")
    if song_id is not None:
        app.query_params["song"] = str(song_id)
    return app.run()


def editor(app) -> tuple[str, list[tuple[str, str]]]:
    tags = [s.value for s in app.selectbox if s.key and s.key.startswith("write-tag-")]
    return app.text_input(key="write-title").value, list(zip(tags, [t.value for t in line_areas(app)]))


def click(app, label: str, index: int = 0):
    return [b for b in app.button if b.label == label][index].click().run()


@pytest.fixture
def scripted(lyrics_backend, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_LYRICS_BACKEND", "scripted")
    return lyrics_backend


def test_a_reload_shows_exactly_what_was_last_typed(settings, service, run_jobs, scripted):
    app = open_write()
    no_errors(app)
    song_id = int(app.query_params["song"])
    # draft with the assistant
    scripted.backend = ScriptedBackend(["[verse]\nrain on the window\ngrey on the glass\n\n[chorus]\nwe wait\n"])
    app.text_input[0].set_value("leaving at dawn")
    click(app, "Write lyrics")
    run_jobs()
    app.run()
    no_errors(app)
    assert [t.value for t in line_areas(app)] == ["rain on the window\ngrey on the glass", "we wait"]
    # the title, a section edit (as typed, blank line and spaces kept), move, add, remove
    app.text_input(key="write-title").set_value("Dawn Road").run()
    line_areas(app)[0].set_value("rain on the window\n\n  grey on the glass  ").run()
    app.button(key=f"write-down-{uid_of(line_areas(app)[0])}").click().run()
    click(app, "Add section")
    line_areas(app)[2].set_value("the bridge line").run()
    app.button(key=f"write-remove-{uid_of(line_areas(app)[1])}").click().run()  # the moved verse goes
    click(app, "Add section")
    # a rewrite of the first section
    first = uid_of(line_areas(app)[0])
    app.text_input(key=f"write-instruction-{first}").set_value("brighter")
    app.button(key=f"write-rewrite-{first}").click().run()
    scripted.backend.chunks = ["[chorus]\nwe walk out new\n"]  # the worker keeps its backend warm
    run_jobs()
    app.run()
    app.text_area(key="write-notes").set_value("capo 2").run()
    no_errors(app)
    typed = editor(app)
    assert typed == ("Dawn Road", [("chorus", "we walk out new"), ("chorus", "the bridge line"), ("chorus", "")])

    reloads = [open_write(song_id), open_write()]  # the URL's song, and a new tab (the song edited last)
    st.cache_resource.clear()  # a studio restart: a new studio handle on the same library
    reloads.append(open_write())
    for reloaded in reloads:
        no_errors(reloaded)
        assert editor(reloaded) == typed
        assert reloaded.text_area(key="write-notes").value == "capo 2"
    versions = service.songs.versions(song_id)
    assert len(versions) >= 6 and versions[0].title == "Dawn Road"  # each saved edit is a version


def test_a_stale_tab_does_not_overwrite_and_a_version_can_be_restored(settings, service):
    song = service.songs.create(title="Two Tabs", draft=None)
    first, second = open_write(song.id), open_write(song.id)
    line_areas(first)[0].set_value("typed in the first tab").run()
    second.run()  # the second tab changed nothing: it shows the first tab's text, and saves nothing
    assert [t.value for t in line_areas(second)] == ["typed in the first tab"]
    assert service.songs.get(song.id).version == 2
    line_areas(second)[0].set_value("then in the second").run()
    version = service.songs.get(song.id).version
    assert version == 3

    second.button(key="write-restore-2").click().run()
    no_errors(second)
    assert [t.value for t in line_areas(second)] == ["typed in the first tab"]
    assert service.songs.get(song.id).version == 4  # the restore is a new version; nothing overwritten


def test_send_to_create_keeps_the_song_and_its_title_and_never_invents_a_prompt(settings, service, run_jobs):
    app = open_write()
    song_id = int(app.query_params["song"])
    app.text_input(key="write-title").set_value("Dawn Road").run()
    line_areas(app)[0].set_value("first light on the road").run()
    click(app, "Send to Create")
    no_errors(app)
    assert app.session_state["create-prompt"] == ""  # not "pop, happy"
    assert app.session_state["create-lyrics"] == "[verse]\nfirst light on the road"
    assert any("Song: Dawn Road" in t.value for t in app.text)
    app.session_state["create-prompt"] = "folk, warm"
    app.session_state["create-takes"] = 1
    click(app, "Generate")
    no_errors(app)
    job_id = app.query_params["job"]
    assert service.song_of_job(job_id) == song_id  # Create submitted into the current song
    run_jobs()
    (take,) = service.takes_of_job(job_id)
    assert take.title == "Dawn Road · take 1"


def test_library_lists_songs_with_their_takes_and_searches_titles_and_drafts(app, service, make_takes):
    from studio.records import Draft, DraftSection

    (take,) = make_takes(1, prompt="river tune")
    river = service.take(take.id).song_id
    service.songs.save(river, title="River Song")
    service.songs.create(title="Harbour", draft=Draft(sections=(DraftSection(tag="verse", text="lights on the water"),)))
    app.switch_page("views/library.py").run()
    no_errors(app)
    assert "2 songs" in [c.value for c in app.caption]
    labels = [p.proto.label for p in app.get("page_link")]
    assert "River Song · take 1" in labels
    app.text_input(key="lib-song-search").set_value("water").run()
    assert "1 song" in [c.value for c in app.caption]
    assert any(m.value == "**Harbour**" for m in app.markdown)
    app.text_input(key="lib-song-search").set_value("river").run()
    assert any(m.value == "**River Song**" for m in app.markdown)
