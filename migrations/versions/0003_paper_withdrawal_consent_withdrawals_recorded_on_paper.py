"""consent withdrawals recorded on paper

Revision ID: 0003_paper_withdrawal
Revises: 0002_kept_figures
Create Date: 2026-11-29 15:34:19.325795
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003_paper_withdrawal'
down_revision: str | None = '0002_kept_figures'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_method', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_consent_revoked_by_id_user_account'), 'user_account', ['revoked_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(op.f('ck_consent_revoked_method'), "revoked_method IN ('online', 'paper')")
    # Until now only the owner could withdraw a consent, online, and each withdrawal wrote a
    # ``consent.revoked`` audit event; a consent ended by a newer one to the same organisation wrote none.
    op.execute(
        "UPDATE consent SET revoked_method = 'online' WHERE revoked_at IS NOT NULL AND CAST(id AS VARCHAR(20)) IN "
        "(SELECT target_id FROM audit_event WHERE action = 'consent.revoked' AND target_type = 'consent')"
    )


def downgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consent_revoked_method'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_consent_revoked_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('revoked_by_id')
        batch_op.drop_column('revoked_method')
