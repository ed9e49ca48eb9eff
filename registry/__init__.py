"""The registry: SQLAlchemy models, the repository, Alembic migrations and the tamper-evident event record.

This package is the database adapter of Yinxin. The core packages (``ca``, ``seal_keys``,
``issuance``, ``verification``) never import it; it implements their ports (e.g.
:class:`verification.ports.LicenseStatusSource`). Typical use at the edge::

    engine = create_engine_for("sqlite:///home/registry.db")   # or postgresql+psycopg://…
    upgrade(engine)                                              # Alembic "upgrade head"
    cipher = FieldCipher(keystore.data_key("registry"))          # personal data is encrypted at rest
    registry = Registry(engine, clock=clock, cipher=cipher)
    with registry.transaction() as tx:                           # one unit of work
        tx.add_license(...)
        tx.record_event(kind="license.issued", actor=..., subject=identifier, detail={...})
"""

from .crypto import HOLDER_CODE_TYPES, FieldCipher, normalise_holder_code
from .db import alembic_config, create_engine_for, current_revision, downgrade, head_revision, upgrade
from .errors import (
    DatabaseUnavailableError,
    DataKeyError,
    DataKeyRequiredError,
    DuplicateError,
    InvalidValueError,
    NotFoundError,
    RegistryError,
    StatusConflictError,
)
from .events import GENESIS_HASH, canonical_json, event_hash
from .records import (
    CertificateRecord,
    ChainProblem,
    DailyCount,
    DepartmentRecord,
    EventRecord,
    ImportJobRecord,
    ImportRowRecord,
    IssuedCount,
    LicenseChangeRecord,
    LicensePersonalData,
    LicenseRecord,
    LicenseTypeRecord,
    NewLicense,
    SealRecord,
)
from .repositories import OFFICIAL_SEAL_TYPE, VERIFICATION_EVENT_KIND, Registry, serial_to_hex, utc_now
from .tables import CERTIFICATE_KINDS, LICENSE_ACTIONS, LICENSE_STATUSES, SEAL_STATUSES

__all__ = [
    "CERTIFICATE_KINDS",
    "GENESIS_HASH",
    "HOLDER_CODE_TYPES",
    "LICENSE_ACTIONS",
    "LICENSE_STATUSES",
    "OFFICIAL_SEAL_TYPE",
    "SEAL_STATUSES",
    "VERIFICATION_EVENT_KIND",
    "CertificateRecord",
    "ChainProblem",
    "DailyCount",
    "DataKeyError",
    "DataKeyRequiredError",
    "DatabaseUnavailableError",
    "DepartmentRecord",
    "DuplicateError",
    "EventRecord",
    "FieldCipher",
    "ImportJobRecord",
    "ImportRowRecord",
    "InvalidValueError",
    "IssuedCount",
    "LicenseChangeRecord",
    "LicensePersonalData",
    "LicenseRecord",
    "LicenseTypeRecord",
    "NewLicense",
    "NotFoundError",
    "Registry",
    "RegistryError",
    "SealRecord",
    "StatusConflictError",
    "alembic_config",
    "canonical_json",
    "create_engine_for",
    "current_revision",
    "downgrade",
    "event_hash",
    "head_revision",
    "normalise_holder_code",
    "serial_to_hex",
    "upgrade",
    "utc_now",
]
