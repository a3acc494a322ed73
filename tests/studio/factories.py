"""Library rows without running an engine, for search/filter/paging tests and the benchmark."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from studio.tables import Take


def take_row(n: int, **fields: Any) -> Take:
    values: dict[str, Any] = dict(
        job_id=f"job{n:08d}",
        take_index=0,
        title=f"Song {n}",
        prompt="pop, synth",
        lyrics="[verse]\nla la la",
        tags="",
        engine="fake",
        model_id="fake-sine",
        parameters="{}",
        seed=n,
        duration=30.0,
        sample_rate=24000,
        channels=2,
        folder=f"takes/job{n:08d}/0",
        master_file=f"takes/job{n:08d}/0/master.flac",
        mp3_file=f"takes/job{n:08d}/0/take.mp3",
        preview_file=f"takes/job{n:08d}/0/preview.mp3",
        waveform_file=f"takes/job{n:08d}/0/waveform.json",
        params_file=f"takes/job{n:08d}/0/params.json",
        audio_sha256="0" * 64,
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    values.update(fields)
    return Take(**values)


def add_takes(db, rows: list[Take]) -> list[int]:
    with db.write() as session:
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]
