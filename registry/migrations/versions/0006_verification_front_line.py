"""Front-line verification: status list entries, single-use presentation tokens, acceptance records.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_list_entries",
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_status_list_entries_department_id_departments")),
        sa.ForeignKeyConstraint(["identifier"], ["licenses.identifier"],
                                name=op.f("fk_status_list_entries_identifier_licenses")),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_status_list_entries")),
        sa.UniqueConstraint("department_id", "list_id", "idx", name="uq_status_list_entries_slot"),
    )
    op.create_table(
        "presentation_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("used_at", UTC_DATETIME, nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["holder_id"], ["principals.id"],
                                name=op.f("fk_presentation_tokens_holder_id_principals")),
        sa.ForeignKeyConstraint(["identifier"], ["licenses.identifier"],
                                name=op.f("fk_presentation_tokens_identifier_licenses")),
        sa.ForeignKeyConstraint(["used_by"], ["principals.id"], name=op.f("fk_presentation_tokens_used_by_principals")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_presentation_tokens")),
    )
    op.create_table(
        "acceptance_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("verifier_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["identifier"], ["licenses.identifier"],
                                name=op.f("fk_acceptance_records_identifier_licenses")),
        sa.ForeignKeyConstraint(["verifier_id"], ["principals.id"],
                                name=op.f("fk_acceptance_records_verifier_id_principals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acceptance_records")),
    )
    op.create_index(op.f("ix_acceptance_records_identifier"), "acceptance_records", ["identifier"])


def downgrade() -> None:
    op.drop_index(op.f("ix_acceptance_records_identifier"), table_name="acceptance_records")
    op.drop_table("acceptance_records")
    op.drop_table("presentation_tokens")
    op.drop_table("status_list_entries")
