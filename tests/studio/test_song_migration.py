"""Migration 0006 brings existing libraries along: takes grouped into songs by their first job and
lineage, nothing lost; its downgrade drops the songs and keeps every take searchable. Both on
SQLite and on the local PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from studio.db import Database, alembic_config
from tests.studio.factories import add_takes, take_row


def _take_facts(db: Database) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT id, job_id, title, lyrics, parent_take_id, seed, master_file FROM take ORDER BY id").all()]


def _before_songs(db: Database) -> str:
    """The revision migration 0008_songs follows (whatever the chain is re-ordered to)."""
    with db.engine.connect() as conn:
        return ScriptDirectory.from_config(alembic_config(conn)).get_revision("0008_songs").down_revision


def _up_and_down(db: Database) -> None:
    before_songs = _before_songs(db)
    db.migrate(before_songs)
    ids = add_takes(db, [
        take_row(1, title="Dawn Road (1)", lyrics="[verse]\nfirst light\non the road\n[chorus]\ngo"),
        take_row(2, title="Dawn Road (2)", job_id="job00000001", take_index=1),
        take_row(3, title="Night Bus", lyrics=""),
    ])
    add_takes(db, [take_row(4, title="Dawn Road (1)", task="repaint", parent_take_id=ids[0]),
                   take_row(5, title="Dawn Road (1)", task="retake", parent_take_id=ids[0])])
    add_takes(db, [take_row(6, title="Dawn Road (1)", task="extend", parent_take_id=ids[0] + 3)])  # grandchild
    before = _take_facts(db)

    db.migrate()
    assert _take_facts(db) == before  # nothing about a take changed
    with db.engine.connect() as conn:
        songs = conn.exec_driver_sql("SELECT id, title, lyrics, version, draft FROM song ORDER BY id").all()
        members = dict(conn.exec_driver_sql("SELECT id, song_id FROM take").all())
        versions = conn.exec_driver_sql("SELECT song_id, number, title FROM song_version ORDER BY id").all()
        made_by = {r[0] for r in conn.exec_driver_sql("SELECT made_by FROM take").all()}
    assert [(s.title, s.version) for s in songs] == [("Dawn Road", 1), ("Night Bus", 1)]
    dawn, bus = songs[0].id, songs[1].id
    assert sorted(t for t, s in members.items() if s == dawn) == [i for i, *_ in before if i != ids[2]]
    assert [t for t, s in members.items() if s == bus] == [ids[2]]
    assert json.loads(songs[0].draft) == {"title": "Dawn Road", "sections": [
        {"tag": "verse", "text": "first light\non the road"}, {"tag": "chorus", "text": "go"}]}
    assert songs[0].lyrics.startswith("[verse]\nfirst light")
    assert [(v.song_id, v.number, v.title) for v in versions] == [(dawn, 1, "Dawn Road"), (bus, 1, "Night Bus")]
    assert made_by == {""}  # old takes keep their titles; only new takes are named by what made them

    with db.engine.connect() as conn:
        command.downgrade(alembic_config(conn), before_songs)
        conn.commit()
    assert db.current_revision() == before_songs
    assert _take_facts(db) == before
    names = set(sa.inspect(db.engine).get_table_names())
    assert not {"song", "song_version"} & names
    assert not {"song_id", "made_by"} & {c["name"] for c in sa.inspect(db.engine).get_columns("take")}
    # the full-text index still follows the takes after the downgrade (SQLite rebuilt `take`)
    add_takes(db, [take_row(7, title="Harbour Lights")])
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            hits = conn.exec_driver_sql("SELECT rowid FROM take_fts WHERE take_fts MATCH 'harbour'").all()
        else:
            hits = conn.exec_driver_sql("SELECT id FROM take WHERE search @@ to_tsquery('simple', 'harbour')").all()
    assert len(hits) == 1
    db.migrate()  # and up again
    assert db.current_revision() != before_songs


def test_songs_migration_up_and_down_on_sqlite(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'lib.db'}")
    _up_and_down(db)
    db.dispose()


@pytest.mark.network
def test_songs_migration_up_and_down_on_postgres(pg_url):
    db = Database(pg_url)
    _up_and_down(db)
    db.dispose()
