"""Errors of the issuance package. One root, :class:`IssuanceError`."""

from __future__ import annotations


class IssuanceError(Exception):
    """Root of every error the ``issuance`` package raises."""

    code = "issuance_error"

    def __init__(self, public_message: str) -> None:
        super().__init__(public_message)
        self.public_message = public_message


class FieldValidationError(IssuanceError):
    """A licence field is missing or invalid; ``field`` names it (e.g. ``holder_id_number``)."""

    code = "invalid_field"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class UnknownLicenseTypeError(IssuanceError):
    """No licence type with that code or name exists in the catalogue."""

    code = "unknown_license_type"


class CredentialError(IssuanceError):
    """A QR credential could not be built (e.g. it would not fit in a QR code)."""

    code = "credential_error"


class RenderError(IssuanceError):
    """The licence face or a stamp could not be produced (e.g. no CJK font found)."""

    code = "render_error"


class LifecycleError(IssuanceError):
    """A lifecycle action is not allowed in the licence's current status (e.g. resuming a revoked licence)."""

    code = "invalid_transition"

    def __init__(self, public_message: str, *, status: str | None = None, action: str | None = None) -> None:
        super().__init__(public_message)
        self.status = status
        """The status the licence was in (e.g. ``revoked``), when known."""
        self.action = action
        """The action that was refused (e.g. ``resume``), when known."""


class CatalogError(IssuanceError):
    """A licence-type definition (证照目录 entry) or a catalogue document is invalid; ``key`` names the bad part.

    ``key`` is a path into the JSON document, e.g. ``fields[3].kind`` or ``types[1].code``.
    """

    code = "invalid_catalog"

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.reason = message
