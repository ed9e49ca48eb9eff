"""Errors of the registry package. One root, :class:`RegistryError`.

Each error has a stable machine-readable ``code`` and a ``public_message`` that is safe to show to a
client; the database driver's own exception (which may quote SQL or parameters) travels only as the
chained ``__cause__``.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Root of every error the ``registry`` package raises."""

    code = "registry_error"

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


class NotFoundError(RegistryError):
    """No record with that key exists (department, seal, certificate, licence, licence type)."""

    code = "not_found"


class DuplicateError(RegistryError):
    """A record with the same unique key already exists (USCC, API key, serial, identifier, …)."""

    code = "duplicate"


class InvalidValueError(RegistryError):
    """A value cannot be stored: unknown status or kind, unparsable certificate, naive datetime,
    event detail that is not plain JSON or that looks like a secret."""

    code = "invalid_value"


class DatabaseUnavailableError(RegistryError):
    """The database cannot be reached, is locked for too long, or has not been migrated."""

    code = "database_unavailable"


class DataKeyRequiredError(RegistryError):
    """Personal data (holder name and code, fields, QR text, PDF) was asked for, or written, by a
    registry opened without its data key."""

    code = "data_key_required"

    def __init__(self, public_message: str = "the registry data key is needed: set YINXIN_PASSPHRASE") -> None:
        super().__init__(public_message)


class DataKeyError(RegistryError):
    """The data key given is not the one the registry's personal data was encrypted with, or an
    encrypted value was altered."""

    code = "data_key_error"


class StatusConflictError(RegistryError):
    """A licence's status changed between reading it and changing it (a concurrent lifecycle action)."""

    code = "status_conflict"
