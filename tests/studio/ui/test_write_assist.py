"""Write page additions: tempo, duration and rhyme reach the draft job; the finished draft says
which model wrote it (the starter: that it is small); the report's hints; syllable targets
next to each line. Runs on the real worker with the scripted lyrics backend (no model)."""

from __future__ import annotations

import json

from tests.studio.fake_lyrics import ScriptedBackend, lyrics_backend  # noqa: F401 (fixture)

SONG = ("Title: Rain\n\n[verse]\nrain on the window all the night\ngrey on the glass and grey the light\n\n"
        "[chorus]\nwe wait it out\nwe let it pass\n")


def test_draft_options_model_report_and_targets(app, lyrics_backend, monkeypatch, service, run_jobs):
    monkeypatch.setenv("SONGSTUDIO_LYRICS_BACKEND", "scripted")
    lyrics_backend.backend = ScriptedBackend([SONG])
    app.switch_page("views/write.py").run()
    app.text_input[0].set_value("rain")
    tempo = [n for n in app.number_input if n.label == "Tempo (BPM)"][0]
    duration = [n for n in app.number_input if n.label == "Duration (s)"][0]
    tempo.set_value(90)
    duration.set_value(60)
    [s for s in app.selectbox if s.label == "Rhyme scheme"][0].set_value("ABAB")
    [s for s in app.selectbox if s.label == "Structure"][0].set_value("verse, chorus")
    [b for b in app.button if b.label == "Write lyrics"][0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    spec = json.loads(service.jobs.list()[0].spec)
    assert (spec["bpm"], spec["length"], spec["rhyme"]) == (90.0, 60, "ABAB")
    (done,) = run_jobs()
    assert done.status == "done", done.error
    app.run()
    assert not app.exception
    assert any(c.value.startswith("Written by the scripted backend") for c in app.caption)
    assert any(t.value.startswith("Draft report: ") for t in app.text)
    hints = [c.value for c in app.code]
    targets = json.loads(done.result)["quality"]["targets"]
    verse_target, chorus_target = targets[0][0], targets[1][0]
    assert any(h.startswith(f" 8/{verse_target}") for h in hints), hints  # syllables / target, per line
    assert any(f"/{chorus_target}" in h for h in hints)


def test_the_starter_model_is_called_small_on_write(monkeypatch):
    from studio.ui import write_assist

    monkeypatch.setattr(write_assist.st, "session_state", {write_assist.WRITER_KEY: {
        "model": {"label": "SmolLM2-135M-Instruct (starter)", "kind": "starter", "small": True,
                  "note": "the small starter model (135M parameters)"}, "quality": {}}})
    shown = []
    monkeypatch.setattr(write_assist.st, "info", lambda text, **_: shown.append(text))
    write_assist.show_model_and_hints()
    assert shown and "SmolLM2\\-135M\\-Instruct \\(starter\\)" in shown[0] and "small starter model" in shown[0]
