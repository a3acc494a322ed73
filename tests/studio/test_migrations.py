"""Migrations bring an empty database to the schema the code expects, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from studio.db import Database
from studio.tables import SQLModel

HEAD_REVISION = "0009_lora_adapters"  # the newest migration; bump with each new one
SEARCH_OBJECTS = {"take_fts", "take_fts_data", "take_fts_idx", "take_fts_docsize", "take_fts_config", "ix_take_search"}


def _schema_drift(db: Database) -> list:
    def include(obj, name, type_, reflected, compare_to):
        if name in SEARCH_OBJECTS or (type_ == "column" and name == "search"):
            return False  # full-text objects live only in the migration (dialect-specific)
        return True

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include, "compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def test_sqlite_upgrade_from_empty_matches_models(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'lib.db'}")
    assert db.current_revision() is None
    db.migrate()
    assert db.current_revision() == HEAD_REVISION
    names = set(sa.inspect(db.engine).get_table_names())
    assert {"take", "job", "mint", "take_fts", "alembic_version"} <= names
    assert _schema_drift(db) == []
    db.migrate()  # a second start is a no-op
    assert db.current_revision() == HEAD_REVISION
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
        triggers = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert triggers == {"take_fts_ai", "take_fts_ad", "take_fts_au"}


def test_studio_open_migrates_the_home_database(settings):
    from studio.service import Studio

    studio = Studio.open(settings)
    assert (settings.home / "library.db").is_file()
    assert studio.db.current_revision() == HEAD_REVISION


@pytest.mark.network
def test_postgres_upgrade_from_empty_matches_models(pg_url):
    db = Database(pg_url)
    assert db.current_revision() is None
    db.migrate()
    db.migrate()
    assert db.current_revision() == HEAD_REVISION
    assert _schema_drift(db) == []
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("take")}
    assert "search" in columns
    db.dispose()


def _add_old_takes(db, rows) -> None:
    """Takes inserted into an older schema: only the columns that schema has."""
    import sqlalchemy as sa

    with db.engine.begin() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("take")}
        for row in rows:
            values = {k: v for k, v in row.model_dump().items() if k in columns and v is not None}
            conn.execute(sa.table("take", *[sa.column(k) for k in values]).insert().values(**values))


def test_upgrade_keeps_existing_takes_searchable(tmp_path):
    from studio.library import Library
    from tests.studio.factories import take_row

    db = Database(f"sqlite:///{tmp_path / 'lib.db'}")
    db.migrate("0001")
    _add_old_takes(db, [take_row(1, title="Old Moonlight"), take_row(2, title="Other")])
    db.migrate()
    assert db.current_revision() == HEAD_REVISION
    library = Library(db, tmp_path)
    assert [t.title for t in library.search("moonl").items] == ["Old Moonlight"]  # rebuilt index, prefix
    assert [t.title for t in library.search("mo").items] == ["Old Moonlight"]  # 2-letter prefix index
    assert _schema_drift(db) == []


def test_upgrade_keeps_existing_mints_and_adds_authorization_columns(tmp_path):
    from tests.studio.factories import take_row

    db = Database(f"sqlite:///{tmp_path / 'lib.db'}")
    db.migrate("0002")
    _add_old_takes(db, [take_row(1, title="Minted before 0003")])
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO mint (take_id, wallet, nonce, deadline, signature, chain_id, contract, status, created_at, "
            "updated_at) VALUES (1, '0xabc', '12', 99, '0xsig', 31337, '0xc0', 'pending', '2026-01-01', '2026-01-01')")
    db.migrate()
    assert db.current_revision() == HEAD_REVISION
    with db.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT nonce, uri, audio_hash, signer, digest, block_number FROM mint").one()
    assert tuple(row) == ("12", None, None, None, None, None)
    assert _schema_drift(db) == []


def test_prefix_indexes_of_one_to_four_letters_and_their_downgrade(tmp_path):
    """0005 indexes 1-4 letter prefixes (the last search word is a prefix); its downgrade goes
    back to 2-3 letters, and search answers the same either way (an index changes speed only)."""
    from alembic import command

    from studio.db import alembic_config
    from tests.studio.factories import take_row

    def fts_sql() -> str:
        with db.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'take_fts'").scalar()

    def found(text: str) -> list[str]:
        # the FTS index itself, as the library's prefix search asks it (the ORM's Take has columns
        # of later migrations, so the library cannot run on the 0004 schema)
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT t.title FROM take_fts JOIN take t ON t.id = take_fts.rowid "
                                        "WHERE take_fts MATCH ?", (f'"{text}"*',)).all()
        return sorted(r[0] for r in rows)

    db = Database(f"sqlite:///{tmp_path / 'lib.db'}")
    db.migrate("0004")
    _add_old_takes(db, [take_row(1, title="Rainy Road"), take_row(2, title="Rain"), take_row(3, title="Other")])
    before = {text: found(text) for text in ("r", "ra", "rai", "rain", "rainy", "o")}
    db.migrate()
    assert "prefix='1 2 3 4'" in fts_sql()
    assert {text: found(text) for text in before} == before
    assert before["r"] == ["Rain", "Rainy Road"] and before["rainy"] == ["Rainy Road"]

    with db.engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0004")
        conn.commit()
    assert db.current_revision() == "0004" and "prefix='2 3'" in fts_sql()
    assert {text: found(text) for text in before} == before
    db.dispose()
