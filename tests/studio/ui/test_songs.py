"""Songs (#14 part 1): a song has a title, a draft whose every saved edit is a version (any can be
restored), notes and takes; takes are named by their song and what made them; search covers song
titles and drafts."""

from __future__ import annotations

import json
import re

import pytest

from studio.errors import BadInput, NotFound
from studio.records import Draft, DraftSection


def draft(*sections: tuple[str, str]) -> Draft:
    return Draft(sections=tuple(DraftSection(tag=tag, text=text) for tag, text in sections))


def test_every_saved_edit_is_a_version_and_any_can_be_restored(service):
    song = service.songs.create()
    assert song.version == 0 and song.title == ""
    first = service.songs.save(song.id, title="Dawn Road", draft=draft(("verse", "first light\n  on the road ")))
    assert first.version == 1 and first.lyrics == "[verse]\nfirst light\non the road"
    assert service.songs.get(song.id).draft.sections[0].text == "first light\n  on the road "  # exactly as typed
    assert service.songs.save(song.id, title="Dawn Road").version == 1  # nothing changed: no new version
    second = service.songs.save(song.id, draft=draft(("chorus", "go go"), ("verse", "first light")), notes="slow")
    assert (second.version, second.title, second.notes) == (2, "Dawn Road", "slow")
    assert [v.number for v in service.songs.versions(song.id)] == [2, 1]

    restored = service.songs.restore(song.id, 1)
    assert restored.version == 3 and restored.draft == first.draft and restored.notes == first.notes
    assert [v.number for v in service.songs.versions(song.id)] == [3, 2, 1]  # the restore overwrote nothing
    with pytest.raises(NotFound, match="no version 9"):
        service.songs.restore(song.id, 9)
    with pytest.raises(BadInput, match="at most 200 characters"):
        service.songs.save(song.id, title="x" * 201)


def test_the_latest_edited_song_is_what_a_new_tab_opens(service):
    a = service.songs.create(title="A")
    b = service.songs.create(title="B")
    assert service.songs.latest().id == b.id
    service.songs.save(a.id, notes="edited later")
    assert service.songs.latest().id == a.id


def test_takes_are_named_by_their_song_and_what_made_them(service, run_jobs):
    song = service.songs.create(title="Dawn Road", draft=draft(("verse", "first light")))
    first = service.submit_music(song_id=song.id, prompt="folk", duration=4.0, batch_size=2, seeds=[1, 2], steps=2)
    second = service.submit_music(song_id=song.id, prompt="folk", duration=4.0, seeds=[3], steps=2)
    run_jobs()
    takes = service.takes_of_job(first.id) + service.takes_of_job(second.id)
    assert [t.title for t in takes] == ["Dawn Road · take 1", "Dawn Road · take 2", "Dawn Road · take 3"]
    parent = takes[0]
    master = str(service.file_path(parent, "master"))
    repaint = service.submit_music(parent_take_id=parent.id, task="repaint", prompt="folk", duration=4.0, seeds=[1],
                                  source_audio=master, region_start=1.0, region_end=2.0)
    retake = service.submit_music(parent_take_id=parent.id, task="retake", prompt="folk", duration=4.0, seeds=[1])
    run_jobs()
    (painted,), (again,) = service.takes_of_job(repaint.id), service.takes_of_job(retake.id)
    assert painted.title == "Dawn Road · repaint 0:01–0:02"
    assert again.title == "Dawn Road · retake 1"
    assert {t.song_id for t in (painted, again)} == {song.id}  # edits stay in the parent's song
    assert len({t.title for t in [*takes, painted, again]}) == 5  # no two rows look the same

    service.songs.save(song.id, title="Dusk Road")  # the title names the song everywhere
    assert service.take(again.id).title == "Dusk Road · retake 1"
    assert [t.made_by for t in service.songs.takes([song.id])[song.id]][:3] == ["take 1", "take 2", "take 3"]


def test_a_job_without_a_song_starts_one_named_by_its_title_or_prompt(service):
    job = service.submit_music(prompt="lofi beat", duration=1.0, title="Night Bus", lyrics="[verse]\nlate again")
    named_by_prompt = service.submit_music(prompt="lofi beat", duration=1.0)
    song = service.songs.get(_song_of(service, job.id))
    assert song.title == "Night Bus" and song.lyrics == "[verse]\nlate again"
    assert service.songs.get(_song_of(service, named_by_prompt.id)).title == "lofi beat"
    with pytest.raises(NotFound):
        service.submit_music(song_id=999, prompt="x", duration=1.0)
    songs_before = service.songs.search()[1]
    with pytest.raises(BadInput):  # refused before anything is stored: no empty song left behind
        service.submit_music(prompt="x", duration=1.0, engine="no-such-engine")
    assert service.songs.search()[1] == songs_before


def _song_of(service, job_id: str) -> int:
    return json.loads(service.jobs.get(job_id).spec)["song_id"]


def test_search_covers_song_titles_and_drafts(service):
    dawn = service.songs.create(title="Dawn Road", draft=draft(("verse", "the river bends")))
    harbour = service.songs.create(title="Harbour", draft=draft(("chorus", "lights on the water")))
    assert [s.id for s in service.songs.search("dawn")[0]] == [dawn.id]
    assert [s.id for s in service.songs.search("RIVER")[0]] == [dawn.id]  # the draft, any case
    assert [s.id for s in service.songs.search("water lights")[0]] == [harbour.id]  # every word, any order
    assert service.songs.search("100%")[1] == 0  # LIKE wildcards are text
    assert service.songs.search("")[1] == 2


def test_take_names_say_what_made_them():
    from studio.take_names import clock, made_by

    assert clock(12.0) == "0:12" and clock(79.5) == "1:20" and clock(-5) == "-0:05"
    assert made_by({"task": "text2music"}, number=3, index=0, count=1) == "take 3"
    assert made_by({"task": "repaint", "region_start": 12, "region_end": 20}, number=1, index=0, count=1) \
        == "repaint 0:12–0:20"
    assert made_by({"task": "extend", "region_start": -5, "region_end": 35}, number=1, index=1, count=2) \
        == "extend -0:05–0:35 (2)"
    assert made_by({"task": "audio2audio"}, number=2, index=0, count=1) == "audio to audio 2"


def test_an_untitled_song_is_named_by_its_first_job(service):
    song = service.songs.create()
    service.submit_music(song_id=song.id, prompt="harbour lights, slow", duration=1.0)
    assert service.songs.get(song.id).title == "harbour lights, slow"
    service.submit_music(song_id=song.id, prompt="something else", duration=1.0)
    assert service.songs.get(song.id).title == "harbour lights, slow"  # a title, once there, stays


def test_markdown_escape_shows_user_text_exactly_and_makes_no_link():
    from studio.ui.plain import WORD_JOINER, md_escape, shown

    text = "![t](http://127.0.0.1:9/x.png) <img src=x> **b** www.example.com a@b.co :red[x] $x$"
    escaped = md_escape(text)
    assert shown(escaped) == text
    assert re.search(r"(?<!\\)[!\[\]()<>*$:]", escaped) is None  # every Markdown/HTML character escaped
    assert f"http{WORD_JOINER}\\:" in escaped and f"www{WORD_JOINER}\\." in escaped  # no autolink
    assert md_escape("two\nlines") == "two lines"
