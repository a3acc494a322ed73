"""Each take's recipe (canonical JSON: engine, weights' digests, every parameter and seed) and its
sha256, and the recipe hash each mint authorization binds (#15).

Revision ID: 0006_recipe
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_recipe"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("take") as batch:
        batch.add_column(sa.Column("recipe", sa.Text(), nullable=True))
        batch.add_column(sa.Column("recipe_sha256", sa.String(), nullable=True))
    with op.batch_alter_table("mint") as batch:
        batch.add_column(sa.Column("recipe_hash", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mint") as batch:
        batch.drop_column("recipe_hash")
    with op.batch_alter_table("take") as batch:
        batch.drop_column("recipe_sha256")
        batch.drop_column("recipe")
