"""Recreating the SQLite full-text index of the library, shared by the migrations that change its options."""

from alembic import op


def recreate_take_fts(prefix: str | None) -> None:
    """Drop `take_fts` and make it anew with these prefix index lengths (e.g. "2 3"), refilled from
    `take`. FTS5 options cannot be altered in place; the sync triggers of 0001 name the table and
    keep working. SQLite only."""
    options = f", prefix='{prefix}'" if prefix else ""
    op.execute("DROP TABLE take_fts")
    op.execute(
        "CREATE VIRTUAL TABLE take_fts USING fts5(title, prompt, lyrics, tags, content='take', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 2'{options})"
    )
    op.execute("INSERT INTO take_fts(take_fts) VALUES ('rebuild')")
