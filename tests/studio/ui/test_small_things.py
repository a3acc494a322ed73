"""#14 part 8: small things. One duration format everywhere (the file's own length, latent-frame rounding explained), Material icons, labelled controls, Trash with undo, dates not unix times, presets from data/."""

from __future__ import annotations

import pytest

from studio.durations import clock, rendered_seconds
from studio.ui.waveform import mss


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
    from click.testing import CliRunner

    from studio.cli import main

    (take,) = make_takes(1, duration=2.0)
    shown = clock(take.duration)
    app.switch_page("views/library.py").run()
    assert any(shown in c.value for c in app.main.caption)
    app.query_params["take"] = str(take.id)
    app.switch_page("views/song.py").run()
    assert any(shown in c.value for c in app.main.caption)
    result = CliRunner().invoke(main, ["library", "list"])
    assert result.exit_code == 0 and shown in result.output, result.output
