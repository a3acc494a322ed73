"""Prefix indexes of 1 to 4 letters for the library search (they were 2 and 3). The last word of a
search is a prefix query (people search as they type), and for a prefix with no index of its
length FTS5 merges the doclists of every word it starts, at each use: 5-15 ms at 100k takes for
"rain" or "r", paid by each of a search's statements and again by bm25. Longer prefixes name
fewer words, so their merges stay small. Cost: the index grows by about half (60 -> 89 MB at
100k bench takes) and this migration rebuilds it (~6 s at 100k takes).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from studio.migrations.fts import recreate_take_fts

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        recreate_take_fts("1 2 3 4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        recreate_take_fts("2 3")
