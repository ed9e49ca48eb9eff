"""Issuance: the licence catalogue, identifiers, QR credentials, the licence face and its stamping.

Knows nothing of HTTP, databases or the CLI.
"""

from .catalog import BUILTIN_TYPES, FieldSpec, LicenseType, lookup, validate_fields
from .credential import CredentialClaims, issue_credential
from .errors import CredentialError, FieldValidationError, IssuanceError, RenderError, UnknownLicenseTypeError
from .identifier import LicenseIdentifier, validate_resident_id, validate_uscc
from .qrimage import render_qr_png
from .render import LicenseFace, render_license_face
from .stamp import stamp_pdf

__all__ = [
    "BUILTIN_TYPES",
    "CredentialClaims",
    "CredentialError",
    "FieldSpec",
    "FieldValidationError",
    "IssuanceError",
    "LicenseFace",
    "LicenseIdentifier",
    "LicenseType",
    "RenderError",
    "UnknownLicenseTypeError",
    "issue_credential",
    "lookup",
    "render_license_face",
    "render_qr_png",
    "stamp_pdf",
    "validate_fields",
    "validate_resident_id",
    "validate_uscc",
]
