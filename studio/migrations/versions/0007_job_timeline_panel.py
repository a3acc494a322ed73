"""Jobs keep when each of their stages ran (`timeline`, JSON), so the jobs panel can estimate the
time left from measured step times; the database stays the one source of truth.

Revision ID: 0007_job_timeline
Revises: 0006_recipe
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_job_timeline"
down_revision = "0006_recipe"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("timeline", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("timeline")
