"""Library rows without running an engine, for search/filter/paging tests and the benchmark."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

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
    """Insert the rows with the columns the database has now (an older revision lacks newer ones)."""
    present = {c["name"] for c in sa.inspect(db.engine).get_columns("take")}
    columns = [sa.column(name, Take.__table__.c[name].type) for name in present if name in Take.__table__.c and name != "id"]
    table = sa.table("take", sa.column("id", sa.Integer), *columns)
    ids = []
    with db.write() as session:
        for row in rows:
            values = {k: v for k, v in row.model_dump().items() if k in present and k != "id"}
            ids.append(session.execute(sa.insert(table).values(**values).returning(table.c.id)).scalar_one())
    return ids
