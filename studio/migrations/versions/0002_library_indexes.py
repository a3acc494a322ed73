"""Library speed at 100k takes: an index per sort of the default (not trashed) view, and FTS5
prefix indexes so words typed halfway are found without scanning the vocabulary.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from studio.migrations.fts import recreate_take_fts

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SORT_INDEXES = {
    "ix_take_trashed_created": ["trashed_at", "created_at"],
    "ix_take_trashed_title": ["trashed_at", "title"],
    "ix_take_trashed_duration": ["trashed_at", "duration"],
    "ix_take_trashed_rating": ["trashed_at", "rating", "created_at"],
}


def upgrade() -> None:
    op.drop_index("ix_take_trashed_at", table_name="take")
    for name, columns in SORT_INDEXES.items():
        op.create_index(name, "take", columns)
    if op.get_bind().dialect.name == "sqlite":
        recreate_take_fts("2 3")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        recreate_take_fts(None)
    for name in SORT_INDEXES:
        op.drop_index(name, table_name="take")
    op.create_index("ix_take_trashed_at", "take", ["trashed_at"])
