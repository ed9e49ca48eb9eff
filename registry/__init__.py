"""The registry: SQLAlchemy models, the repository, Alembic migrations and the tamper-evident event record.

This package is the database adapter of Yinxin. The core packages (``ca``, ``seal_keys``,
``issuance``, ``verification``) never import it; it implements their ports (e.g.
:class:`verification.ports.LicenseStatusSource`). Typical use at the edge::

    engine = create_engine_for("sqlite:///home/registry.db")   # or postgresql+psycopg://…
    upgrade(engine)                                              # Alembic "upgrade head"
    registry = Registry(engine, clock=clock)
    with registry.transaction() as tx:                           # one unit of work
        tx.add_license(...)
        tx.record_event(kind="license.issued", actor=..., subject=identifier, detail={...})
"""

from .db import alembic_config, create_engine_for, current_revision, downgrade, head_revision, upgrade
from .errors import DatabaseUnavailableError, DuplicateError, InvalidValueError, NotFoundError, RegistryError
from .events import GENESIS_HASH, canonical_json, event_hash
from .records import (
    CertificateRecord,
    ChainProblem,
    DepartmentRecord,
    EventRecord,
    LicenseRecord,
    LicenseTypeRecord,
    SealRecord,
)
from .repositories import OFFICIAL_SEAL_TYPE, Registry, serial_to_hex, utc_now
from .tables import CERTIFICATE_KINDS, LICENSE_STATUSES, SEAL_STATUSES

__all__ = [
    "CERTIFICATE_KINDS",
    "GENESIS_HASH",
    "LICENSE_STATUSES",
    "OFFICIAL_SEAL_TYPE",
    "SEAL_STATUSES",
    "CertificateRecord",
    "ChainProblem",
    "DatabaseUnavailableError",
    "DepartmentRecord",
    "DuplicateError",
    "EventRecord",
    "InvalidValueError",
    "LicenseRecord",
    "LicenseTypeRecord",
    "NotFoundError",
    "Registry",
    "RegistryError",
    "SealRecord",
    "alembic_config",
    "canonical_json",
    "create_engine_for",
    "current_revision",
    "downgrade",
    "event_hash",
    "head_revision",
    "serial_to_hex",
    "upgrade",
    "utc_now",
]
