"""Licences encrypted at rest and versioned; catalogue definitions and issuers; lifecycle changes;
bulk import bookkeeping; the data-key check.

- ``licenses`` gets its new layout: holder name and code, fields, QR text and PDF as AES-256-GCM
  tokens (``*_ciphertext``), the holder code type and its keyed blind index, the identifier of the
  version it supersedes, status ``superseded``, and UNIQUE (type_code, department_id, serial, version)
  (which serves lookups by type, so type_code and seal_id lose their own indexes);
- ``license_types.definition_json`` and ``license_type_issuers`` (GB/T 36902 catalogue);
- ``license_changes`` (lifecycle), ``import_jobs`` / ``import_rows`` (resumable imports),
  ``data_key_checks``; an index on events (kind, occurred_at) for the daily statistics.

Existing licences cannot be carried over: encrypting them needs the home's data key, which lives in
the key store under the passphrase, not in the database. No production home predates this revision,
so the upgrade **refuses to run on a database that holds licences** (and says so), rather than keep
clear-text columns around or encrypt half of the data. A development home with licences: issue them
again in a new home. The same holds for the downgrade (it cannot decrypt).

``licenses`` is dropped and created again (it is empty, and no table referenced it before this
revision), which also avoids SQLite's table rebuild under foreign keys (see 0003).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registry.errors import RegistryError

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_DATETIME = sa.DateTime(timezone=True)

OLD_STATUSES = "status IN ('active', 'suspended', 'revoked', 'cancelled', 'expired')"
NEW_STATUSES = "status IN ('active', 'suspended', 'revoked', 'cancelled', 'expired', 'superseded')"
ACTIONS = "action IN ('issue', 'amend', 'suspend', 'resume', 'revoke', 'cancel', 'expire', 'reissue')"


def _refuse_if_licences(direction: str) -> None:
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM licenses")).scalar_one()
    if count:
        raise RegistryError(
            f"migration 0004 ({direction}) cannot run: this registry holds {count} licence(s) in the "
            f"{'clear-text' if direction == 'upgrade' else 'encrypted'} layout, and converting them needs "
            "the data key, which the migration does not have. Issue the licences again in a new home."
        )


def _licence_foreign_keys() -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            ["type_code"], ["license_types.code"], name=op.f("fk_licenses_type_code_license_types")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_licenses_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["seal_id"], ["seals.id"], name=op.f("fk_licenses_seal_id_seals")),
    ]


def _licence_indexes() -> None:
    op.create_index("ix_licenses_department_id_id", "licenses", ["department_id", "id"])


def upgrade() -> None:
    _refuse_if_licences("upgrade")
    op.drop_table("licenses")
    op.create_table(
        "licenses",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("type_code", sa.String(length=21), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("seal_id", sa.String(length=36), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("holder_code_type", sa.String(length=3), nullable=False),
        sa.Column("holder_code_index", sa.String(length=64), nullable=False),
        sa.Column("holder_name_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("holder_code_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("fields_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("qr_text_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", UTC_DATETIME, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("supersedes", sa.String(length=128), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(NEW_STATUSES, name=op.f("ck_licenses_status")),
        sa.CheckConstraint("holder_code_type IN ('111', '001')", name=op.f("ck_licenses_holder_code_type")),
        *_licence_foreign_keys(),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["licenses.identifier"], name=op.f("fk_licenses_supersedes_licenses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
        sa.UniqueConstraint("identifier", name=op.f("uq_licenses_identifier")),
        sa.UniqueConstraint("type_code", "department_id", "serial", "version", name="uq_licenses_version"),
    )
    # Fewer indexes than before: uq_licenses_version starts with type_code, and nothing looks licences up
    # by seal; every index is paid for on each bulk insert.
    _licence_indexes()
    op.create_index(op.f("ix_licenses_holder_code_index"), "licenses", ["holder_code_index"])

    # Adding a nullable column needs no table rebuild on SQLite.
    op.add_column("license_types", sa.Column("definition_json", sa.Text(), nullable=True))
    op.create_table(
        "license_type_issuers",
        sa.Column("type_code", sa.String(length=21), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["type_code"], ["license_types.code"], name=op.f("fk_license_type_issuers_type_code_license_types")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"],
            name=op.f("fk_license_type_issuers_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("type_code", "department_id", name=op.f("pk_license_type_issuers")),
    )
    op.create_index(
        op.f("ix_license_type_issuers_department_id"), "license_type_issuers", ["department_id"]
    )
    op.create_table(
        "license_changes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(ACTIONS, name=op.f("ck_license_changes_action")),
        sa.ForeignKeyConstraint(
            ["identifier"], ["licenses.identifier"], name=op.f("fk_license_changes_identifier_licenses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_changes")),
    )
    op.create_index(op.f("ix_license_changes_identifier"), "license_changes", ["identifier"])
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_table(
        "import_rows",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=True),
        sa.Column("error_field", sa.String(length=100), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("(identifier IS NULL) <> (error IS NULL)", name=op.f("ck_import_rows_outcome")),
        sa.ForeignKeyConstraint(["job_id"], ["import_jobs.id"], name=op.f("fk_import_rows_job_id_import_jobs")),
        sa.ForeignKeyConstraint(
            ["identifier"], ["licenses.identifier"], name=op.f("fk_import_rows_identifier_licenses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_rows")),
        sa.UniqueConstraint("job_id", "row_no", name="uq_import_rows_job_id_row_no"),
    )
    op.create_table(
        "data_key_checks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("check_value", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_key_checks")),
    )
    op.create_index("ix_events_kind_occurred_at", "events", ["kind", "occurred_at"])


def downgrade() -> None:
    _refuse_if_licences("downgrade")
    op.drop_index("ix_events_kind_occurred_at", table_name="events")
    op.drop_table("data_key_checks")
    op.drop_table("import_rows")
    op.drop_table("import_jobs")
    op.drop_table("license_changes")
    op.drop_table("license_type_issuers")
    # SQLite ≥ 3.35 drops a column in place (no rebuild of the referenced table).
    op.drop_column("license_types", "definition_json")
    op.drop_table("licenses")
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
        sa.CheckConstraint(OLD_STATUSES, name=op.f("ck_licenses_status")),
        *_licence_foreign_keys(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
        sa.UniqueConstraint("identifier", name=op.f("uq_licenses_identifier")),
    )
    _licence_indexes()
    op.create_index(op.f("ix_licenses_type_code"), "licenses", ["type_code"])
    op.create_index(op.f("ix_licenses_seal_id"), "licenses", ["seal_id"])
    op.create_index(op.f("ix_licenses_holder_code"), "licenses", ["holder_code"])
