"""Principals other than departments: administrators, verifiers (with a role) and holders.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("api_key_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder_code_index", sa.String(length=64), nullable=True),
        sa.Column("holder_code_type", sa.String(length=3), nullable=True),
        sa.CheckConstraint("kind IN ('admin', 'verifier', 'holder')", name=op.f("ck_principals_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principals")),
        sa.UniqueConstraint("api_key_hash", name=op.f("uq_principals_api_key_hash")),
        sa.UniqueConstraint("kind", "name", name="uq_principals_kind_name"),
    )


    op.create_index(op.f("ix_principals_holder_code_index"), "principals", ["holder_code_index"])


def downgrade() -> None:
    op.drop_index(op.f("ix_principals_holder_code_index"), table_name="principals")
    op.drop_table("principals")
