"""#14 part 8: small things. One duration format everywhere (the file's own length, latent-frame rounding explained), Material icons, labelled controls, Trash with undo, dates not unix times, presets from data/."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from studio.cli import main
from studio.data_files import data_dir, load_presets
from studio.dates import unix_date
from studio.durations import clock, rendered_seconds
from studio.errors import EnvironmentProblem
from studio.ui.waveform import mss
from tests.studio.ui.test_pages import no_errors


def test_clock_floors_hundredths_like_a_player_floors_seconds():
    assert clock(4.9233) == "0:04.92"
    assert clock(65.5) == "1:05.50"
    assert clock(59.999) == "0:59.99"
    assert clock(0) == "0:00.00" and clock(-1) == "0:00.00"
    assert mss(4.92) == "0:04" and mss(65.55, decimals=1) == "1:05.5"  # the chart's axis and region text


def test_a_5_s_v1_request_makes_4_92_s_of_whole_latent_frames():
    assert rendered_seconds("ace-step-v1", 5.0) == pytest.approx(53 * 4096 / 44100)
    assert clock(rendered_seconds("ace-step-v1", 5.0)) == "0:04.92"
    assert rendered_seconds("ace-step-1.5", 5.0) == 5.0
    assert rendered_seconds("fake", 5.0) is None


def test_library_song_card_and_cli_show_the_same_length(settings, make_takes, app):
    (take,) = make_takes(1, duration=2.0)
    shown = clock(take.duration)
    app.session_state["lib-show"] = "All takes"  # the Library opens on the songs
    app.switch_page("views/library.py").run()
    assert any(shown in c.value for c in app.main.caption)
    app.query_params["take"] = str(take.id)
    app.switch_page("views/song.py").run()
    assert any(shown in c.value for c in app.main.caption)
    result = CliRunner().invoke(main, ["library", "list"])
    assert result.exit_code == 0 and shown in result.output, result.output


def test_presets_and_examples_come_from_the_data_folder(app, tmp_path, monkeypatch):
    own = tmp_path / "data"
    shutil.copytree(data_dir(), own)
    text = (own / "presets.toml").read_text().replace('"pop", "rock"', '"pop", "sea shanty", "rock"')
    (own / "presets.toml").write_text(text)
    monkeypatch.setenv("SONGSTUDIO_DATA_DIR", str(own))
    app.switch_page("views/create.py").run()
    assert "sea shanty" in app.multiselect(key="create-genres").options
    app.selectbox(key="create-example").set_value("Lighthouse ballad").run()
    assert app.text_area(key="create-prompt").value.startswith("piano ballad")
    assert app.text_area(key="create-lyrics").value.startswith("[verse]\na lighthouse in the rain")
    assert app.slider(key="create-duration").value == 60
    app.selectbox(key="create-example").set_value("Instrumental lo-fi").run()
    assert app.toggle(key="create-instrumental").value is True and app.text_area(key="create-lyrics").value == ""


def test_a_broken_presets_file_is_named_with_what_to_fix(tmp_path):
    (tmp_path / "presets.toml").write_text('genres = "pop"\nmoods = []\ninstruments = []\n')
    with pytest.raises(EnvironmentProblem, match=r"presets.toml: `genres` must be a list of words"):
        load_presets(tmp_path)


@pytest.mark.slow
def test_a_built_wheel_carries_the_data_folder(tmp_path):
    """An installed (not editable) studio finds data/ under <prefix>/share/songstudio/data."""
    repo = Path(__file__).resolve().parents[3]
    source = tmp_path / "source"  # a copy: building leaves build/ and egg-info beside the sources
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "data", "studio", "lyrics", "music", "provenance"):
        copy = shutil.copytree if (repo / name).is_dir() else shutil.copy2
        copy(repo / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                             if (repo / name).is_dir() else {}))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, timeout=600)
    (wheel,) = (tmp_path / "dist").glob("songstudio-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".data/data/share/songstudio/data/presets.toml") for n in names), names[:20]
    assert any(n.endswith(".data/data/share/songstudio/data/examples.toml") for n in names)


def test_trash_says_what_went_and_undo_brings_it_back(app, service, make_takes):
    first, second = make_takes(2, prompt="undo me")
    app.session_state["lib-show"] = "All takes"  # the Library opens on the songs
    app.switch_page("views/library.py").run()
    app.button(key=f"lib-trash-{first.id}").click().run()
    no_errors(app)
    assert service.library.get(first.id).trashed_at is not None
    assert f"Moved take {first.id} to the trash:" in [c.value for c in app.main.caption]
    assert first.title in [t.value for t in app.main.text]
    app.button(key="lib-undo-button").click().run()
    assert service.library.get(first.id).trashed_at is None
    assert not any(c.value.startswith("Moved take") for c in app.main.caption)
    assert "2 takes" in [c.value for c in app.main.caption]


def test_the_library_pick_box_has_a_visible_label(app, make_takes):
    (take,) = make_takes(1)
    app.session_state["lib-show"] = "All takes"  # the Library opens on the songs
    app.switch_page("views/library.py").run()
    pick = app.checkbox(key=f"lib-pick-{take.id}")
    assert pick.label == "Pick for export" and pick.proto.label_visibility.value == 0  # VISIBLE


def test_a_deadline_reads_as_a_date_not_a_unix_time():
    assert unix_date(1796000000, now=1796000000 - 3600) == "2026-11-30 00:53 UTC (in 60 min)"
    assert unix_date(1796000000, now=1796000000 + 3 * 86400) == "2026-11-30 00:53 UTC (3 days ago)"
