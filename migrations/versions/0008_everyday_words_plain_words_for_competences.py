"""everyday words for the competences of a framework

Revision ID: 0008_everyday_words
Revises: 0003_paper_withdrawal
Create Date: 2026-12-03 18:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import portfolio.db

revision: str = '0008_everyday_words'
down_revision: str | None = '0007_credentials'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The words themselves are reference data: `ticketnet init` loads them (competences/data/frameworks/
    # *.plain-words.yaml) onto the framework versions already loaded; no framework row and no assessment changes.
    op.create_table('plain_words',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_code', sa.String(length=60), nullable=False),
    sa.Column('words', portfolio.db.JSONType, nullable=False),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', portfolio.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plain_words'))
    )
    with op.batch_alter_table('plain_words', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plain_words_framework_code'), ['framework_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plain_words', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plain_words_framework_code'))
    op.drop_table('plain_words')
