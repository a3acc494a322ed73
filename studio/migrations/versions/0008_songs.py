"""Songs: a song has a title, a lyric draft with versions, notes, and its takes (`take.song_id`);
a take records what made it (`take.made_by`, e.g. "take 3", "repaint 0:12–0:20").

Existing libraries come along: the takes of each first-generation job and everything made from
them (retakes, repaints, ... by `parent_take_id`) become one song, titled after that job's takes
(without the " (2)" batch suffix), whose first draft version is their lyrics. No take changes
otherwise. The downgrade drops the songs and the two take columns (the takes stay).

Revision ID: 0008_songs
Revises: 0007_job_timeline
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0008_songs"
down_revision = "0007_job_timeline"
branch_labels = None
depends_on = None

_TAG = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_BATCH_SUFFIX = re.compile(r"\s+\(\d+\)$")


def upgrade() -> None:
    op.create_table(
        "song",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(), nullable=False, server_default=""),
        sa.Column("notes", sa.Text(), nullable=False, server_default=""),
        sa.Column("draft", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("lyrics", sa.Text(), nullable=False, server_default=""),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_song_updated_at", "song", ["updated_at"])
    op.create_table(
        "song_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("song_id", sa.Integer(), sa.ForeignKey("song.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False, server_default=""),
        sa.Column("notes", sa.Text(), nullable=False, server_default=""),
        sa.Column("draft", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("lyrics", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("song_id", "number", name="uq_song_version_number"),
    )
    op.create_index("ix_song_version_song_id", "song_version", ["song_id"])
    # Plain ADD COLUMN (SQLite takes an inline REFERENCES): no table rebuild, the FTS triggers stay.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE take ADD COLUMN song_id INTEGER REFERENCES song (id)")
    else:
        op.add_column("take", sa.Column("song_id", sa.Integer(), sa.ForeignKey("song.id"), nullable=True))
    op.add_column("take", sa.Column("made_by", sa.String(), nullable=False, server_default=""))
    op.create_index("ix_take_song_id", "take", ["song_id"])
    _group_existing_takes(op.get_bind())


def _draft_of(lyrics: str) -> dict:
    """The editor's draft for lyrics text: one section per [tag] line, the lines below it as typed."""
    sections: list[dict] = []
    for line in lyrics.splitlines():
        tag = _TAG.match(line)
        if tag:
            sections.append({"tag": tag.group(1).strip().lower(), "text": ""})
        elif line.strip():
            if not sections:
                sections.append({"tag": "verse", "text": ""})
            current = sections[-1]
            current["text"] = f"{current['text']}\n{line.strip()}" if current["text"] else line.strip()
    return {"sections": sections or [{"tag": "verse", "text": ""}]}


def _group_existing_takes(conn) -> None:
    take, song, version = (sa.table("take", *(sa.column(c) for c in (
        "id", "job_id", "title", "lyrics", "parent_take_id", "created_at", "song_id"))),
        sa.table("song", *(sa.column(c) for c in (
            "id", "title", "notes", "draft", "lyrics", "version", "created_at", "updated_at"))),
        sa.table("song_version", *(sa.column(c) for c in (
            "song_id", "number", "title", "notes", "draft", "lyrics", "created_at"))))
    rows = conn.execute(sa.select(take.c.id, take.c.job_id, take.c.title, take.c.lyrics, take.c.parent_take_id,
                                  take.c.created_at).order_by(take.c.id)).all()
    by_id = {row.id: row for row in rows}

    def root(row):
        seen = set()
        while row.parent_take_id in by_id and row.id not in seen:
            seen.add(row.id)
            row = by_id[row.parent_take_id]
        return row

    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(root(row).job_id, []).append(row)
    for members in groups.values():  # in order of each group's first take id
        first = members[0]
        title = _BATCH_SUFFIX.sub("", first.title or "").strip()
        draft = json.dumps({"title": title, **_draft_of(first.lyrics or "")})
        newest = max(m.created_at for m in members)
        song_id = conn.execute(sa.insert(song).values(
            title=title, notes="", draft=draft, lyrics=first.lyrics or "", version=1,
            created_at=first.created_at, updated_at=newest).returning(song.c.id)).scalar_one()
        conn.execute(sa.insert(version).values(song_id=song_id, number=1, title=title, notes="", draft=draft,
                                               lyrics=first.lyrics or "", created_at=first.created_at))
        conn.execute(sa.update(take).where(take.c.id.in_([m.id for m in members])).values(song_id=song_id))


def downgrade() -> None:
    op.drop_index("ix_take_song_id", table_name="take")
    if op.get_bind().dialect.name == "sqlite":
        # Plain DROP COLUMN (SQLite 3.35+) rather than a batch rebuild of `take`: a rebuild would drop
        # the FTS sync triggers and trip the foreign keys of mints and child takes.
        op.execute("ALTER TABLE take DROP COLUMN made_by")
        op.execute("ALTER TABLE take DROP COLUMN song_id")
    else:
        op.drop_column("take", "made_by")
        op.drop_column("take", "song_id")
    op.drop_index("ix_song_version_song_id", table_name="song_version")
    op.drop_table("song_version")
    op.drop_index("ix_song_updated_at", table_name="song")
    op.drop_table("song")
