"""Initial registry schema: departments, certificates, seals, licence types, licences, events.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 64-bit on PostgreSQL; INTEGER on SQLite so that the key aliases the rowid and autoincrements.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("api_key_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("uscc", name=op.f("uq_departments_uscc")),
        sa.UniqueConstraint("api_key_hash", name=op.f("uq_departments_api_key_hash")),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial_hex", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("issuer_subject", sa.Text(), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("not_before", UTC_DATETIME, nullable=False),
        sa.Column("not_after", UTC_DATETIME, nullable=False),
        sa.Column("key_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("kind IN ('root-ca', 'issuing-ca', 'seal')", name=op.f("ck_certificates_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("serial_hex", name=op.f("uq_certificates_serial_hex")),
    )
    op.create_index(op.f("ix_certificates_kind"), "certificates", ["kind"])
    op.create_table(
        "license_types",
        sa.Column("code", sa.String(length=21), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("definer_uscc", sa.String(length=18), nullable=False),
        sa.Column("definer_name", sa.String(length=200), nullable=False),
        sa.Column("holder_kind", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_license_types")),
        sa.UniqueConstraint("slug", name=op.f("uq_license_types_slug")),
    )
    op.create_table(
        "seals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("seal_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=200), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("image_png", sa.LargeBinary(), nullable=False),
        sa.Column("image_width_mm", sa.Float(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_seals_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificates.id"], name=op.f("fk_seals_certificate_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seals")),
    )
    op.create_index(op.f("ix_seals_department_id"), "seals", ["department_id"])
    op.create_index(op.f("ix_seals_certificate_id"), "seals", ["certificate_id"])
    op.create_table(
        "licenses",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("type_code", sa.String(length=21), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("seal_id", sa.String(length=36), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("holder_code", sa.String(length=64), nullable=False),
        sa.Column("fields_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", UTC_DATETIME, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("qr_text", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'revoked', 'cancelled', 'expired')",
            name=op.f("ck_licenses_status"),
        ),
        sa.ForeignKeyConstraint(
            ["type_code"], ["license_types.code"], name=op.f("fk_licenses_type_code_license_types")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_licenses_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["seal_id"], ["seals.id"], name=op.f("fk_licenses_seal_id_seals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
        sa.UniqueConstraint("identifier", name=op.f("uq_licenses_identifier")),
    )
    op.create_index(op.f("ix_licenses_type_code"), "licenses", ["type_code"])
    op.create_index(op.f("ix_licenses_seal_id"), "licenses", ["seal_id"])
    op.create_index(op.f("ix_licenses_holder_code"), "licenses", ["holder_code"])
    op.create_index("ix_licenses_department_id_id", "licenses", ["department_id", "id"])
    op.create_table(
        "events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_events_seq")),
        sa.UniqueConstraint("hash", name=op.f("uq_events_hash")),
    )
    op.create_index(op.f("ix_events_kind"), "events", ["kind"])
    op.create_index(op.f("ix_events_subject"), "events", ["subject"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("licenses")
    op.drop_table("seals")
    op.drop_table("license_types")
    op.drop_table("certificates")
    op.drop_table("departments")
