"""AppTest runs of the real pages against a real library, queue and worker (the fake engine).

The worker runs only when a test calls `run_jobs()`, so queued states can be seen first.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from studio.ui.plain import shown

PAGES = ["views/write.py", "views/create.py", "views/library.py", "views/song.py", "views/mint.py",
         "views/settings.py"]


def texts(elements) -> list[str]:
    """The text as a reader sees it (user text is backslash-escaped for Markdown)."""
    return [shown(e.value) for e in elements]


def no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def audio_urls(at) -> list[str]:
    return [a.proto.url for a in at.get("audio")]


def open_takes_list(app) -> None:
    """The Library's list of every take (it opens on the songs)."""
    app.session_state["lib-show"] = "All takes"
    app.switch_page("views/library.py").run()


def button(at, label: str):
    matches = [b for b in at.main.button if b.label == label]
    assert matches, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return matches[0]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_and_says_when_weights_are_missing(app, page):
    app.run()
    app.switch_page(page).run()
    no_errors(app)
    assert texts(app.title) == [page.split("/")[1].removesuffix(".py").capitalize()]
    if page in ("views/create.py", "views/write.py", "views/settings.py"):
        assert any("No real model weights were found" in i.value and "noise" in i.value for i in app.info)


def fill_create(app, *, prompt="dreamy synthwave", duration=3, takes=2):
    app.text_area(key=None) if False else None
    app.text_area[0].set_value(prompt)
    app.slider[0].set_value(duration)
    app.number_input[0].set_value(takes)


def test_create_queues_a_job_then_shows_takes_side_by_side(app, service, run_jobs):
    app.run()
    fill_create(app)
    button(app, "Generate").click().run()
    no_errors(app)
    job_id = app.query_params["job"][0] if isinstance(app.query_params["job"], list) else app.query_params["job"]
    job = service.jobs.get(job_id)
    spec = json.loads(job.spec)
    assert job.status == "queued" and spec["engine"] == "fake"
    assert spec["request"]["prompt"] == "dreamy synthwave" and spec["request"]["batch_size"] == 2
    assert [p.proto.text for p in app.main.get("progress")] == ["Queued: next to run"]
    assert "Cancel" in [b.label for b in app.button]

    assert [j.status for j in run_jobs()] == ["done"]
    app.run()
    no_errors(app)
    assert not app.main.get("progress")  # polling stopped
    titles = [m.value for m in app.markdown if m.value.startswith("**dreamy")]
    assert titles == ["**dreamy synthwave · take 1**", "**dreamy synthwave · take 2**"]
    assert len(audio_urls(app)) == 2 and all(u.endswith(".mp3") for u in audio_urls(app))
    assert len(app.get("vega_lite_chart")) == 2  # a waveform per take


def test_a_reload_with_the_job_in_the_url_shows_the_same_job(settings, service, run_jobs):
    from streamlit.testing.v1 import AppTest

    from tests.studio.ui.conftest import APP

    job = service.submit_music(engine="fake", prompt="reloaded", duration=2, batch_size=1, seeds=[5], steps=2)
    fresh = AppTest.from_file(APP, default_timeout=30)
    fresh.query_params["job"] = job.id
    fresh.run()
    assert [p.proto.text for p in fresh.main.get("progress")] == ["Queued: next to run"]
    run_jobs()
    fresh.run()
    assert any(m.value == "**reloaded · take 1**" for m in fresh.markdown)
    assert len(audio_urls(fresh)) == 1


def test_bad_seeds_give_a_clear_error_and_queue_nothing(app, service):
    app.run()
    fill_create(app, takes=2)
    app.toggle[1].set_value(True)  # lock seeds
    app.text_input[0].set_value("7, x")
    button(app, "Generate").click().run()
    assert any("'x' is not a whole number" in e for e in texts(app.error))
    assert "job" not in app.query_params
    assert service.jobs.list() == []


def submitted_request(app, service) -> dict:
    button(app, "Generate").click().run()
    no_errors(app)
    (job,) = [j for j in service.jobs.list() if j.id == app.query_params["job"]]
    return json.loads(job.spec)


def test_every_create_control_reaches_the_queued_request(app, service):
    """Presets, instrumental, duration, takes, locked seeds, steps, guidance and the v1 sampler."""
    app.run()
    app.text_area(key="create-prompt").set_value("night drive")
    app.multiselect(key="create-genres").select("synthwave")
    app.multiselect(key="create-moods").select("dreamy")
    app.multiselect(key="create-instruments").select("808")
    app.text_area(key="create-lyrics").set_value("[verse]\nnot sung")
    app.toggle(key="create-instrumental").set_value(True)
    app.slider(key="create-duration").set_value(12)
    app.selectbox(key="create-engine").set_value("ace-step-v1")
    app.number_input(key="create-takes").set_value(2)
    app.toggle(key="create-lock").set_value(True)
    app.text_input(key="create-seeds").set_value("7, 8")
    app.number_input(key="create-steps").set_value(5)
    app.number_input(key="create-guidance").set_value(7.5)
    app.selectbox(key="create-scheduler").set_value("heun")
    app.selectbox(key="create-cfg").set_value("cfg_star")
    app.number_input(key="create-omega").set_value(20.0)
    app.slider(key="create-interval").set_value(0.4)
    app.slider(key="create-decay").set_value(0.1)
    app.number_input(key="create-min-guidance").set_value(2.0)
    app.checkbox(key="create-erg-tag").set_value(False)
    app.checkbox(key="create-erg-lyric").set_value(True)
    spec = submitted_request(app, service)
    request = spec["request"]
    assert spec["engine"] == "ace-step-v1"
    assert request["prompt"] == "night drive, synthwave, dreamy, 808"
    assert request["lyrics"] == "[inst]" and request["duration"] == 12.0
    assert request["batch_size"] == 2 and request["seeds"] == [7, 8]
    assert request["steps"] == 5 and request["guidance_scale"] == 7.5
    assert request["options"] == {
        "scheduler_type": "heun", "cfg_type": "cfg_star", "omega_scale": 20.0, "guidance_interval": 0.4,
        "guidance_interval_decay": 0.1, "min_guidance_scale": 2.0, "use_erg_tag": False, "use_erg_lyric": True,
        "use_erg_diffusion": True,
    }


def test_create_sends_the_v1_fast_modes(app, service):
    """#18: the fast modes in Advanced settings reach the request (off, nothing is sent: the control
    test above sees exactly the sampler options)."""
    app.run()
    app.text_area(key="create-prompt").set_value("night drive")
    app.toggle(key="create-instrumental").set_value(True)
    app.selectbox(key="create-engine").set_value("ace-step-v1")
    app.checkbox(key="create-fast-int8").set_value(True)
    app.checkbox(key="create-fast-step-cache").set_value(True)
    app.number_input(key="create-step-cache-threshold").set_value(0.1)
    options = submitted_request(app, service)["request"]["options"]
    assert options["fast_modes"] == ["int8", "step-cache"] and options["step_cache_threshold"] == 0.1


def test_create_sends_the_1_5_metadata_to_a_1_5_engine_only(app, service):
    app.run()
    app.text_area(key="create-prompt").set_value("waltz")
    app.selectbox(key="create-engine").set_value("ace-step-1.5")
    app.number_input(key="create-bpm").set_value(96)
    app.selectbox(key="create-key").set_value("F# minor")
    app.selectbox(key="create-signature").set_value("3")
    app.selectbox(key="create-scheduler").set_value("heun")  # a v1 option: not for 1.5
    request = submitted_request(app, service)["request"]
    assert request["options"] == {"bpm": 96, "keyscale": "F# minor", "timesignature": "3"}
    assert request["lyrics"] == "" and len(request["seeds"]) == 2  # random seeds, one per take


def test_sampler_options_an_engine_cannot_take_are_named_and_not_sent(app, service):
    app.run()
    fill_create(app, takes=1)
    app.number_input(key="create-omega").set_value(20.0)  # an ACE-Step v1 option; the fake engine has none
    button(app, "Generate").click().run()
    no_errors(app)
    assert any("fake engine takes no ACE-Step sampler options" in c.value for c in app.caption)
    (job,) = service.jobs.list()
    assert json.loads(job.spec)["request"]["options"] == {}
    assert [p.proto.text for p in app.main.get("progress")] == ["Queued: next to run"]


def test_a_second_generate_replaces_the_error_and_shows_the_new_job(app, service):
    """The panel rerun by Generate drops the previous click's error and shows the job now queued."""
    app.run()
    fill_create(app, prompt="")
    button(app, "Generate").click().run()
    assert any("write a prompt" in e for e in texts(app.error))
    assert not app.text_area  # only the job panel was rerun: the browser keeps the form as it was
    app.run()
    fill_create(app, prompt="second try")
    button(app, "Generate").click().run()
    no_errors(app)
    assert not app.error
    (job,) = service.jobs.list()
    assert app.query_params["job"] == job.id
    assert [p.proto.text for p in app.main.get("progress")] == ["Queued: next to run"]
    app.run()  # a full run (e.g. a reload) still has what was typed and the job
    assert app.text_area[0].value == "second try"
    assert [p.proto.text for p in app.main.get("progress")] == ["Queued: next to run"]


def test_cancel_a_queued_job(app, service):
    app.run()
    fill_create(app)
    button(app, "Generate").click().run()
    button(app, "Cancel").click().run()
    no_errors(app)
    (job,) = service.jobs.list()
    assert job.status == "cancelled"
    assert any("Cancelled" in i.value for i in app.info)


def test_library_search_favourite_rate_trash_restore_export(app, service, make_takes):
    first = make_takes(2, prompt="ocean waves lullaby")
    other = make_takes(1, prompt="desert rock anthem")
    open_takes_list(app)
    no_errors(app)
    assert "3 takes" in texts(app.caption)

    app.text_input(key="lib-search").set_value("ocean").run()
    assert "2 takes" in texts(app.caption)
    ids = {first[0].id, first[1].id}

    app.button(key=f"lib-fav-{first[0].id}").click().run()
    assert service.library.get(first[0].id).favourite is True
    app.toggle(key="lib-fav").set_value(True).run()
    assert "1 take" in texts(app.caption)
    app.toggle(key="lib-fav").set_value(False).run()

    app.button(key=f"lib-trash-{first[1].id}").click().run()
    assert service.library.get(first[1].id).trashed_at is not None
    assert "1 take" in texts(app.caption)
    app.toggle(key="lib-trash").set_value(True).run()
    assert "1 take in the trash" in texts(app.caption)
    app.button(key=f"lib-restore-{first[1].id}").click().run()
    assert service.library.get(first[1].id).trashed_at is None

    app.toggle(key="lib-trash").set_value(False).run()
    app.text_input(key="lib-search").set_value("").run()
    app.selectbox(key="lib-sort").set_value("Oldest first").run()
    labels = [p.proto.label for p in app.main.get("page_link")]
    assert labels[0].startswith("ocean waves lullaby") and labels[-1] == "desert rock anthem · take 1"
    assert other[0].id not in ids

    (export,) = app.get("download_button")
    assert export.proto.label == "Export this page (zip)"


def test_library_says_when_best_match_ranked_only_the_newest_matches(app, make_takes, monkeypatch):
    make_takes(3, prompt="ocean waves lullaby")
    monkeypatch.setenv("SONGSTUDIO_SEARCH_RANK_WINDOW", "2")
    open_takes_list(app)
    app.text_input(key="lib-search").set_value("ocean").run()
    app.selectbox(key="lib-sort").set_value("Best match").run()
    no_errors(app)
    note = "3 takes · best match among the newest 2 matches, older ones after them, newest first"
    assert note in texts(app.caption)
    app.selectbox(key="lib-sort").set_value("Newest first").run()
    assert "3 takes" in texts(app.caption) and note not in texts(app.caption)


def test_export_zip_holds_master_mp3_and_parameters(settings, make_takes):
    from studio.service import Studio

    takes = make_takes(2, prompt="zip me")
    ui = Studio.open(settings)
    with zipfile.ZipFile(io.BytesIO(ui.export_zip([t.id for t in takes]))) as archive:
        names = sorted(archive.namelist())
    assert len(names) == 8
    assert {n.rsplit(".", 1)[1] for n in names} == {"flac", "c2pa", "mp3", "json"}
    # the sidecar has the FLAC's name, which is where C2PA readers look for it
    assert {n.rsplit(".", 1)[0] for n in names if n.endswith(".c2pa")} == \
        {n.rsplit(".", 1)[0] for n in names if n.endswith(".flac")}


def test_rating_is_stored(app, service, make_takes):
    (take,) = make_takes(1)
    open_takes_list(app)
    app.get("feedback")[0]  # the stars widget is there
    app.session_state[f"lib-rate-{take.id}"] = 3  # the fourth star (AppTest cannot click st.feedback)
    app.run()
    no_errors(app)
    assert service.library.get(take.id).rating == 4
    with pytest.raises(Exception, match="rating"):
        service.library.update(take.id, rating=9)


def test_library_filters_by_duration_engine_and_date_and_shows_lineage(app, make_takes):
    import datetime as dt

    (short,) = make_takes(1, prompt="short tune", duration=2.0)
    (long,) = make_takes(1, prompt="long tune", duration=4.0, parent_take_id=short.id)
    open_takes_list(app)
    no_errors(app)
    assert "2 takes" in texts(app.caption)
    assert any(c.endswith(f"from take {short.id}") for c in texts(app.caption))  # lineage: parent
    assert any(c.endswith("· 1 take made from it") for c in texts(app.caption))  # and children

    app.slider(key="lib-duration").set_value((3, 600)).run()
    assert "1 take" in texts(app.caption)
    assert [p.proto.label for p in app.main.get("page_link")] == ["short tune · take 2"]  # made from it: its song
    app.slider(key="lib-duration").set_value((0, 600)).run()

    app.selectbox(key="lib-engine").set_value("ace-step-v1").run()
    assert "0 takes" in texts(app.caption) and any(i.value == "No takes match." for i in app.info)
    app.selectbox(key="lib-engine").set_value("fake").run()
    assert "2 takes" in texts(app.caption)

    today = dt.datetime.now(dt.timezone.utc).date()
    app.date_input(key="lib-dates").set_value((today - dt.timedelta(days=3), today - dt.timedelta(days=1))).run()
    assert "0 takes" in texts(app.caption) and any(i.value == "No takes match." for i in app.info)
    app.date_input(key="lib-dates").set_value((today, today)).run()
    assert "2 takes" in texts(app.caption)


def open_song(app, take_id: int):
    app.switch_page("views/song.py")
    app.query_params["take"] = str(take_id)
    return app.run()


def test_song_page_repaint_region_makes_a_child_take(app, service, run_jobs, make_takes):
    (take,) = make_takes(1, prompt="river song", duration=4.0)
    open_song(app, take.id)
    no_errors(app)
    assert texts(app.title) == ["river song · take 1"]
    assert len(audio_urls(app)) == 1
    assert sorted(b.proto.label for b in app.get("download_button")) == [
        "C2PA manifest", "FLAC", "MP3 320", "Parameters JSON", "WAV"]
    assert any("Audio hash" in m.value for m in app.markdown)

    app.number_input(key="song-region-start").set_value(1.0)
    app.number_input(key="song-region-end").set_value(2.5).run()
    button(app, "Repaint").click().run()
    no_errors(app)
    job = service.jobs.get(app.query_params["job"])
    request = json.loads(job.spec)["request"]
    assert (request["task"], request["region_start"], request["region_end"]) == ("repaint", 1.0, 2.5)
    assert json.loads(job.spec)["parent_take_id"] == take.id
    run_jobs()
    app.run()
    (child,) = service.library.children(take.id)
    assert child.task == "repaint"
    assert any(p.proto.label.startswith("New take") for p in app.main.get("page_link"))

    open_song(app, child.id)
    assert any(p.proto.label.startswith("from: river song") for p in app.main.get("page_link"))


def test_song_page_wav_download_and_provenance_panel(app, settings, make_takes):
    import soundfile as sf

    from studio.service import Studio

    (take,) = make_takes(1, prompt="wav me", duration=2.0)
    ui = Studio.open(settings)
    view = ui.take(take.id)
    wav = sf.info(io.BytesIO(ui.wav_bytes(view)))
    master = sf.info(ui.file_path(view, "master"))
    assert (wav.format, wav.subtype) == ("WAV", "PCM_24")
    assert (wav.frames, wav.samplerate, wav.channels) == (master.frames, master.samplerate, master.channels)

    open_song(app, take.id)
    no_errors(app)
    facts = [m.value for m in app.markdown if m.value.startswith("**")]
    for label in ("Audio hash", "Authorization:** none yet", "C2PA:", "Mint:** not minted"):
        assert any(label in f for f in facts), (label, facts)
    assert any(take.audio_sha256 in f for f in facts)


def test_song_page_extend_and_bad_region_errors(app, service, run_jobs, make_takes):
    (take,) = make_takes(1, prompt="short", duration=2.0)
    open_song(app, take.id)
    app.number_input(key="extend-right").set_value(0.0)
    button(app, "Extend").click().run()
    assert any("positive number of seconds" in e for e in texts(app.error))
    assert service.library.children(take.id) == [] and len(service.jobs.list()) == 1  # only make_takes' job
    app.number_input(key="extend-right").set_value(3.0)
    button(app, "Extend").click().run()
    run_jobs()
    (child,) = service.library.children(take.id)
    assert child.task == "extend" and child.duration == pytest.approx(5.0, abs=0.05)


def test_song_page_retake_edit_and_audio_to_audio_queue_child_jobs(app, service, make_takes):
    (take,) = make_takes(1, prompt="source song", duration=2.0)
    (other,) = make_takes(1, prompt="reference song", duration=2.0)
    open_song(app, take.id)

    def last_spec() -> dict:
        job = service.jobs.get(app.query_params["job"])
        return json.loads(job.spec)

    app.slider(key="retake-variance").set_value(0.5)
    app.number_input(key="retake-takes").set_value(2)
    button(app, "Retake").click().run()
    no_errors(app)
    spec = last_spec()
    assert spec["parent_take_id"] == take.id and spec["request"]["task"] == "retake"
    assert spec["request"]["batch_size"] == 2 and spec["request"]["seeds"] == [take.seed, take.seed]

    button(app, "Edit").click().run()  # nothing changed yet: refused in plain words
    assert any("nothing to change" in e for e in texts(app.error))
    app.text_area(key="edit-lyrics").set_value("[verse]\nnew words")
    button(app, "Edit").click().run()
    no_errors(app)
    spec = last_spec()
    # the new words travel as ACE-Step v1 options (test_forms); the fake engine gets the task only
    assert spec["request"]["task"] == "edit" and spec["parent_take_id"] == take.id

    app.radio(key="a2a-origin").set_value("Another library take").run()
    app.number_input(key="a2a-take").set_value(other.id)
    button(app, "Audio to audio").click().run()
    no_errors(app)
    spec = last_spec()
    assert spec["request"]["task"] == "audio2audio" and spec["parent_take_id"] == take.id
    assert spec["request"]["reference_audio"] == str(service.library.path(other, "master"))

    data = service.library.path(other, "master").read_bytes()
    app.radio(key="a2a-origin").set_value("Upload").run()
    app.file_uploader(key="a2a-upload").upload("my reference.flac", data, "audio/flac").run()
    button(app, "Audio to audio").click().run()
    no_errors(app)
    reference = Path(last_spec()["request"]["reference_audio"])
    assert reference.parent == service.settings.home / "uploads" and reference.suffix == ".flac"
    assert reference.read_bytes() == data


def test_use_these_settings_prefills_create(app, make_takes):
    (take,) = make_takes(1, prompt="settings source", duration=3.0)
    open_song(app, take.id)
    button(app, "Use these settings").click().run()
    no_errors(app)
    assert texts(app.title) == ["Create"]
    assert app.text_area[0].value == "settings source"
    assert app.toggle[1].value is True and app.text_input[0].value == str(take.seed)


def test_song_page_without_a_take_points_to_the_library(app):
    app.switch_page("views/song.py").run()
    assert any("Open a take" in i.value for i in app.info)
    app.query_params["take"] = "999"
    app.run()
    assert any("Open a take" in i.value for i in app.info)


def test_write_editor_hints_and_send_to_create(app):
    app.switch_page("views/write.py").run()
    (lines,) = [t for t in app.text_area if t.key and t.key.startswith("write-lines-")]
    lines.set_value("I walk the line tonight\nunder city light").run()
    hints = [c.value for c in app.code]
    assert hints and hints[0].splitlines()[0].split()[1] == "A" and hints[0].splitlines()[1].split()[1] == "A"
    button(app, "Add section").click().run()
    assert len([t for t in app.text_area if t.key and t.key.startswith("write-lines-")]) == 2
    assert any("no lines" in w.value for w in app.warning)  # the new chorus is empty
    button(app, "Send to Create").click().run()
    assert texts(app.title) == ["Create"]
    assert app.text_area[1].value.startswith("[verse]\nI walk the line tonight")


def test_write_loads_a_finished_lyrics_job_into_the_editor(app, service):
    from studio.jobs import new_worker_id

    app.switch_page("views/write.py").run()
    app.text_input[0].set_value("leaving town")
    button(app, "Write lyrics").click().run()
    no_errors(app)
    job_id = app.query_params["lyrics_job"]
    job = service.jobs.get(job_id)
    assert job.kind == "lyrics" and json.loads(job.spec)["theme"] == "leaving town"
    # finish it as a worker would, with the result shape the worker stores
    worker = new_worker_id()
    assert service.jobs.claim_next(worker=worker, device="cpu").id == job_id
    with service.db.write() as session:
        service.jobs.finish(session, job_id, worker=worker,
                            result={"title": "Dawn", "lyrics": "[verse]\nroad ahead\n\n[chorus]\nwe go"})
    app.run()
    no_errors(app)
    values = [t.value for t in app.text_area if t.key and t.key.startswith("write-lines-")]
    assert values == ["road ahead", "we go"]
    assert app.text_input(key="write-title").value == "Dawn"


def test_mint_page_explains_a_missing_chain(app, make_takes):
    (take,) = make_takes(1)
    app.switch_page("views/mint.py")
    app.query_params["take"] = str(take.id)
    app.run()
    no_errors(app)
    assert any("no chain is configured" in e and "songstudio chain up" in e for e in texts(app.error))
    assert "Sign authorization" not in [b.label for b in app.button]
    button(app, "Set up a local test chain")  # the same setup as `songstudio chain up`
    steps = " ".join(m.value for m in app.markdown)
    assert "SONGSTUDIO_CHAIN_RPC_URL" in steps and "songstudio chain deploy --rpc URL" in steps


def test_mint_page_shows_a_minted_take_as_minted_and_offers_no_signing(app, service, make_takes, monkeypatch):
    from studio.tables import Mint

    (take,) = make_takes(1)
    monkeypatch.setenv("SONGSTUDIO_CHAIN_RPC_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SONGSTUDIO_CHAIN_ID", "31337")
    monkeypatch.setenv("SONGSTUDIO_CHAIN_CONTRACT", "0x" + "ab" * 20)
    with service.db.write() as session:
        for status, extra in (("minted", {"token_id": "1", "tx_hash": "0x" + "cd" * 32}),
                              ("failed", {"reason": "this audio is already minted as token 1"})):
            session.add(Mint(take_id=take.id, wallet="0x" + "12" * 20, nonce="1", deadline=1, signature="0x",
                             chain_id=31337, contract="0x" + "ab" * 20, status=status, **extra))
    app.switch_page("views/mint.py")
    app.query_params["take"] = str(take.id)
    app.run()
    no_errors(app)
    assert any("minted: token 1" in m.value for m in app.markdown)
    assert not any("failed" in m.value for m in app.markdown)
    assert [b.label for b in app.button] == []


def test_mint_page_says_what_is_wrong_with_the_signer_key_in_plain_words(app, settings, make_takes, monkeypatch):
    """No keystore, then a wrong password: each a red box saying what to do, and nothing signed."""
    from provenance.keys import create_keystore

    (take,) = make_takes(1)
    monkeypatch.setenv("SONGSTUDIO_CHAIN_RPC_URL", "http://127.0.0.1:9")  # never contacted for signing
    monkeypatch.setenv("SONGSTUDIO_CHAIN_ID", "31337")
    monkeypatch.setenv("SONGSTUDIO_CHAIN_CONTRACT", "0x" + "ab" * 20)
    monkeypatch.delenv("SONGSTUDIO_SIGNER_PASSWORD", raising=False)
    app.switch_page("views/mint.py")
    app.query_params["take"] = str(take.id)
    app.run()
    no_errors(app)
    app.text_input(key="mint-wallet").set_value("0x" + "12" * 20)

    button(app, "Sign authorization").click().run()
    no_errors(app)
    assert any("signer keystore" in e and "songstudio keys new --role signer" in e for e in texts(app.error))

    create_keystore(settings.keys_dir / "signer.json", password="right-password", role="signer", kdf="pbkdf2", iterations=2)
    app.text_input(key="mint-signer-pw").set_value("wrong")
    button(app, "Sign authorization").click().run()
    no_errors(app)
    assert any(e.startswith("wrong password for the signer keystore") for e in texts(app.error)), texts(app.error)
    wrong = next(e for e in texts(app.error) if e.startswith("wrong password"))
    assert "the password that was entered" in wrong and "SONGSTUDIO_SIGNER_PASSWORD" not in wrong
    assert not any(s.value.startswith("Signed by") for s in app.success)
    assert "Mint" not in [b.label for b in app.button]


def test_settings_page_lists_models_and_keystores(app):
    app.switch_page("views/settings.py").run()
    no_errors(app)
    body = " ".join(m.value for m in app.markdown) + " ".join(texts(app.warning))
    from studio.model_store import CATALOG

    assert all(name in body for name, info in CATALOG.items() if info.kind == "music")
    assert "songstudio models download" in body
    assert "signer: missing" in body


def test_pages_say_when_the_worker_runs_on_the_random_demo_models(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from studio.demo_models import MARKER_FILE
    from tests.studio.ui.conftest import APP

    demo = tmp_path / "demo-ace-step-v1-tiny"
    demo.mkdir()
    (demo / MARKER_FILE).write_text("random weights")
    monkeypatch.setenv("SONGSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SONGSTUDIO_ENGINE_OPTIONS", json.dumps({"ace-step-v1": {"model_dir": str(demo)}}))
    app = AppTest.from_file(APP, default_timeout=30)
    app.run()
    app.switch_page("views/create.py").run()
    no_errors(app)
    assert any("demo models" in w.value and "noise" in w.value for w in app.warning)
    assert not any("No real model weights were found" in i.value for i in app.info)
