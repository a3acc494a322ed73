"""#14 part 4: guidance before submit on Create. A lyric meter (tokens by the engine's own lyric
tokenizer against its limit, sung time against the duration); seeds checked whether locked or not;
the limits the submit check enforces shown in the form; messages in the user's words."""

from __future__ import annotations

import json
import re

import pytest

from music.acestep15.engine import ACEStep15Engine
from music.acestep_v1.engine import ACEStepV1Engine
from music.acestep_v1.lyric_frontend.tokenizer import LyricTokenizer
from studio.errors import BadInput
from studio.ui.plain import shown
from studio.ui.uploads import check_uploaded_audio
from tests.studio.ui.test_pages import button, no_errors

LYRICS = "[verse]\nhello world in the morning light\nwalking down the road tonight\n[chorus]\nla la la"


def progress_texts(block) -> list[str]:
    return [p.proto.text for p in block.get("progress")]


def captions(app) -> str:
    return "\n".join(c.value for c in app.main.caption)


def open_create(app, *, engine: str | None = None, lyrics: str | None = None, duration: int | None = None):
    app.run()
    app.switch_page("views/create.py").run()
    if engine is not None:
        app.selectbox(key="create-engine").set_value(engine).run()
    if lyrics is not None:
        app.text_area(key="create-lyrics").set_value(lyrics)
    if duration is not None:
        app.slider(key="create-duration").set_value(duration)
    app.run()
    no_errors(app)
    return app


@pytest.mark.parametrize("seeds", ["abc, -5", "1, 2, 3"])
def test_bad_seeds_are_refused_even_when_lock_seeds_is_off(app, service, seeds):
    open_create(app)
    app.text_area(key="create-prompt").set_value("anything")
    app.number_input(key="create-takes").set_value(2)
    app.text_input(key="create-seeds").set_value(seeds)
    assert app.toggle(key="create-lock").value is False
    button(app, "Generate").click().run()
    (error,) = [shown(e.value) for e in app.main.error]  # as a reader sees it (user text is escaped)
    assert "Lock seeds is off" in error and ("'abc' is not a whole number" in error or "3 seeds for 2 takes" in error)
    assert service.jobs.list() == []


def test_the_meter_counts_lyric_tokens_with_the_engines_tokenizer(app, v1_reference, monkeypatch):
    vocab = v1_reference / "lyrics_vocab.json"
    monkeypatch.setenv("SONGSTUDIO_ENGINE_OPTIONS", json.dumps({"ace-step-v1": {"lyric_vocab": str(vocab)}}))
    open_create(app, engine="ace-step-v1", lyrics=LYRICS, duration=20)
    expected = LyricTokenizer.from_file(vocab).count_tokens(LYRICS)
    assert progress_texts(app.main) == [f"Lyric tokens: {expected} of 4,096"]
    assert "3 sung lines" in captions(app) and "to sing at 100 bpm, for a 20 s song" in captions(app)
    assert "A 20 s request makes 0:19.96" in captions(app)  # whole latent frames


def test_without_the_vocabulary_the_meter_says_the_limit_and_why_it_cannot_count(app, tmp_path, monkeypatch):
    monkeypatch.setenv("SONGSTUDIO_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("SONGSTUDIO_ENGINE_OPTIONS", "{}")  # no lyric_vocab option either
    open_create(app, engine="ace-step-v1", lyrics=LYRICS)
    assert progress_texts(app.main) == []
    assert "at most 4,096 lyric tokens (not counted here: its lyric vocabulary is not on this machine" in captions(app)


def test_lyrics_longer_than_the_song_get_a_warning_and_a_huge_line_is_named_before_submit(app):
    open_create(app, engine="ace-step-v1", lyrics="[verse]\n" + "\n".join(["so many words in every line"] * 40),
                duration=10)
    (warning,) = [w.value for w in app.main.warning]
    assert warning.startswith("The words take about") and "but the song is 10 s" in warning
    app.text_area(key="create-lyrics").set_value("x" * 10_000).run()
    (error,) = [shown(e.value) for e in app.main.error]  # as a reader sees it (user text is escaped)
    assert "a lyric line is 10,000 characters long; lines are at most 1,000 characters" in error


def test_the_form_shows_every_limit_of_the_chosen_engine(app):
    open_create(app, engine="ace-step-v1")
    duration = app.slider(key="create-duration")
    assert (duration.min, duration.max) == (1, 240) and "4.92 s" in duration.help
    assert app.number_input(key="create-takes").max == 4
    assert app.number_input(key="create-steps").max == getattr(ACEStepV1Engine, "max_steps", 200)
    assert "4,096 lyric tokens" in app.text_area(key="create-lyrics").help
    assert "0 to 4,294,967,295" in app.text_input(key="create-seeds").help
    app.selectbox(key="create-engine").set_value("ace-step-1.5").run()
    no_errors(app)
    duration = app.slider(key="create-duration")
    assert (duration.min, duration.max) == (int(ACEStep15Engine.min_duration), int(ACEStep15Engine.max_duration))
    assert "lyric tokens" not in app.text_area(key="create-lyrics").help


def test_a_value_outside_the_new_engines_limits_is_brought_inside(app):
    open_create(app, duration=5)
    app.selectbox(key="create-engine").set_value("ace-step-1.5").run()  # its minimum is 10 s
    no_errors(app)
    assert app.slider(key="create-duration").value == 10 == app.slider(key="create-duration").min


def test_a_text_file_uploaded_as_audio_is_named_by_its_own_name(settings, make_takes):
    """The Song page checks an upload with this before keeping it (audio to audio's reference)."""
    with pytest.raises(BadInput) as refused:
        check_uploaded_audio("my notes.wav", b"these are my notes, not audio\n" * 20)
    message = str(refused.value)
    assert "“my notes.wav” is not audio this studio can read" in message
    assert str(settings.home) not in message and "ref_audio_input" not in message and "Error" not in message
    with pytest.raises(BadInput, match="“empty.mp3” is empty"):
        check_uploaded_audio("empty.mp3", b"")
    take = make_takes(1)[0]
    check_uploaded_audio("take.flac", (settings.library_dir / take.master_file).read_bytes())  # real audio passes


@pytest.mark.parametrize("lyrics", ["x" * 10_000, "[verse]\n" + "la " * 3400])
def test_ten_thousand_characters_of_lyrics_are_refused_at_generate_in_plain_words(app, service, lyrics):
    open_create(app, engine="ace-step-v1", lyrics=lyrics)
    app.text_area(key="create-prompt").set_value("too long")
    button(app, "Generate").click().run()
    no_errors(app)
    (error,) = [shown(e.value) for e in app.main.error]  # as a reader sees it (user text is escaped)
    assert re.search(r"a lyric line is 10,[0-9]{3} characters long; lines are at most 1,000 characters", error), error
    assert "ValueError" not in error and "Traceback" not in error
    assert service.jobs.list() == []


def test_a_ten_thousand_character_theme_gets_a_clear_message_and_queues_nothing(app, service):
    app.switch_page("views/write.py").run()
    app.text_input[0].set_value("a long walk by the sea " * 435)  # 10,005 characters
    button(app, "Write lyrics").click().run()
    no_errors(app)
    (error,) = [shown(e.value) for e in app.main.error]  # as a reader sees it (user text is escaped)
    assert error.endswith("Shorten the theme (10,004 characters)"), error  # the theme as submitted: stripped
    assert "ValueError" not in error and "n_ctx" not in error.split("(")[0]
    assert service.jobs.list() == []
