"""Mint rows keep the whole signed authorization (uri, audio hash, signer, digest) and the
block of the receipt, so a pending mint can be sent or settled later from the row alone.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = {"uri": sa.Text, "audio_hash": sa.String, "signer": sa.String, "digest": sa.String,
           "block_number": sa.BigInteger}


def upgrade() -> None:
    with op.batch_alter_table("mint") as batch:
        for name, type_ in COLUMNS.items():
            batch.add_column(sa.Column(name, type_(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mint") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
