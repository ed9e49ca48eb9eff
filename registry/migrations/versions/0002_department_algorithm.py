"""Departments choose the signature algorithm of their seals (sm2-sm3 or ecdsa-p256-sha256).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.add_column(
            sa.Column("algorithm", sa.String(length=32), nullable=False, server_default="ecdsa-p256-sha256")
        )


def downgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("algorithm")
