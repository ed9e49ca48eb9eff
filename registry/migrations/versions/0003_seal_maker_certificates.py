"""Certificates of kind seal-maker: the 制章者 key that signs GB/T 38540 seals.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "kind IN ('root-ca', 'issuing-ca', 'seal')"
NEW = "kind IN ('root-ca', 'issuing-ca', 'seal', 'seal-maker')"


def _sqlite_replace_check(before: str, after: str) -> None:
    """Change the CHECK constraint of ``certificates`` on SQLite, which has no ALTER for constraints.

    Alembic's batch mode rebuilds the table (copy, drop, rename), but with foreign keys on the DROP
    orphans the seals that reference certificates, and PRAGMA foreign_keys cannot change inside the
    migration's transaction. A CHECK change does not touch the stored rows, so this uses the procedure
    SQLite documents for it ("Making Other Kinds Of Table Schema Changes", lang_altertable.html §7):
    edit the table's SQL in sqlite_schema under writable_schema and bump schema_version. Every
    existing row is checked against the new constraint first.
    """
    bind = op.get_bind()
    table_sql = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'certificates'")
    ).scalar_one()
    if table_sql.count(before) != 1:
        raise RuntimeError("unexpected certificates table definition; refusing to edit it")
    version = bind.execute(text("PRAGMA schema_version")).scalar_one()
    bind.execute(text("PRAGMA writable_schema = ON"))
    try:
        bind.execute(
            text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'certificates'"),
            {"sql": table_sql.replace(before, after)},
        )
        bind.execute(text(f"PRAGMA schema_version = {int(version) + 1}"))
    finally:
        bind.execute(text("PRAGMA writable_schema = OFF"))
    # The constraint text is one of this module's two constants, never input.
    rows_outside = bind.execute(text(f"SELECT count(*) FROM certificates WHERE NOT ({after})")).scalar_one()  # noqa: S608
    if rows_outside:
        raise RuntimeError(f"{rows_outside} certificate(s) do not satisfy the new constraint")


def _replace_check(before: str, after: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_replace_check(before, after)
        return
    op.drop_constraint(op.f("ck_certificates_kind"), "certificates", type_="check")
    op.create_check_constraint(op.f("ck_certificates_kind"), "certificates", after)


def upgrade() -> None:
    _replace_check(OLD, NEW)


def downgrade() -> None:
    op.execute("DELETE FROM certificates WHERE kind = 'seal-maker'")
    _replace_check(NEW, OLD)
