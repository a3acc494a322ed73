"""LoRA adapters the studio trained: one row per adapter, its files under <home>/adapters/<name>.

Revision ID: 0009_lora_adapters
Revises: 0008_songs
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_lora_adapters"
down_revision = "0008_songs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adapter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("engine", sa.String(), nullable=False),
        sa.Column("base_model", sa.String(), nullable=False),
        sa.Column("base_digest", sa.String(), nullable=False),
        sa.Column("dataset_digest", sa.String(), nullable=False),
        sa.Column("weights_digest", sa.String(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("learning_rate", sa.Float(), nullable=False),
        sa.Column("loss_curve", sa.Text(), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("folder", sa.String(), nullable=False),
        sa.Column("job_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_adapter_name"),
    )
    op.create_index("ix_adapter_engine", "adapter", ["engine"])


def downgrade() -> None:
    op.drop_index("ix_adapter_engine", table_name="adapter")
    op.drop_table("adapter")
