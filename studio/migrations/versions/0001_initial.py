"""Initial library: takes, jobs, mints, and full-text search over takes.

SQLite: an FTS5 table over take(title, prompt, lyrics, tags) with external content, kept in
sync by triggers. PostgreSQL: a stored generated tsvector column with a GIN index.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "take",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.String(), nullable=False),
        sa.Column("take_index", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("lyrics", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(), nullable=False),
        sa.Column("task", sa.String(), nullable=False),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("model_id", sa.String(), nullable=False),
        sa.Column("revision", sa.String(), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(), nullable=False),
        sa.Column("master_file", sa.String(), nullable=False),
        sa.Column("mp3_file", sa.String(), nullable=False),
        sa.Column("preview_file", sa.String(), nullable=False),
        sa.Column("waveform_file", sa.String(), nullable=False),
        sa.Column("params_file", sa.String(), nullable=False),
        sa.Column("audio_sha256", sa.String(), nullable=False),
        sa.Column("parent_take_id", sa.Integer(), sa.ForeignKey("take.id"), nullable=True),
        sa.Column("favourite", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("trashed_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("job_id", "take_index", name="uq_take_job_index"),
    )
    for column in ("job_id", "engine", "duration", "parent_take_id", "favourite", "trashed_at", "created_at"):
        op.create_index(f"ix_take_{column}", "take", [column])

    op.create_table(
        "job",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker", sa.String(), nullable=True),
        sa.Column("device", sa.String(), nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("queued_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_index("ix_job_created_at", "job", ["created_at"])
    op.create_index("ix_job_status_queued_at", "job", ["status", "queued_at"])

    op.create_table(
        "mint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("take_id", sa.Integer(), sa.ForeignKey("take.id"), nullable=False),
        sa.Column("wallet", sa.String(), nullable=False),
        sa.Column("nonce", sa.String(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(), nullable=False),
        sa.Column("tx_hash", sa.String(), nullable=True),
        sa.Column("token_id", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_mint_take_id", "mint", ["take_id"])
    op.create_index("ix_mint_status", "mint", ["status"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_fts_up()
    elif dialect == "postgresql":
        _postgres_fts_up()


def _sqlite_fts_up() -> None:
    # External-content FTS5: the text lives once, in `take`; triggers keep the index in step.
    op.execute(
        "CREATE VIRTUAL TABLE take_fts USING fts5("
        "title, prompt, lyrics, tags, content='take', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    cols = "title, prompt, lyrics, tags"
    new = "new.title, new.prompt, new.lyrics, new.tags"
    old = "old.title, old.prompt, old.lyrics, old.tags"
    op.execute(
        f"CREATE TRIGGER take_fts_ai AFTER INSERT ON take BEGIN "
        f"INSERT INTO take_fts(rowid, {cols}) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER take_fts_ad AFTER DELETE ON take BEGIN "
        f"INSERT INTO take_fts(take_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER take_fts_au AFTER UPDATE OF {cols} ON take BEGIN "
        f"INSERT INTO take_fts(take_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO take_fts(rowid, {cols}) VALUES (new.id, {new}); END"
    )


def _postgres_fts_up() -> None:
    # 'simple' configuration: lyrics come in many languages, so no English stemming.
    op.execute(
        "ALTER TABLE take ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', "
        "coalesce(title, '') || ' ' || coalesce(prompt, '') || ' ' || coalesce(lyrics, '') || ' ' || "
        "coalesce(tags, ''))) STORED"
    )
    op.execute("CREATE INDEX ix_take_search ON take USING gin (search)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("take_fts_ai", "take_fts_ad", "take_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS take_fts")
    op.drop_table("mint")
    op.drop_table("job")
    op.drop_table("take")
