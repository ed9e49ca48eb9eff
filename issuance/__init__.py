"""Issuance: the licence catalogue, identifiers, lifecycle, metadata, QR credentials, the licence face and its stamping.

Knows nothing of HTTP, databases or the CLI.
"""

from .catalog import (
    BUILTIN_TYPES,
    FieldSpec,
    LicenseType,
    ServiceItem,
    catalog_from_dict,
    catalog_from_json,
    catalog_to_dict,
    catalog_to_json,
    license_type_from_dict,
    license_type_from_json,
    license_type_to_dict,
    license_type_to_json,
    lookup,
    validate_fields,
)
from .credential import CredentialClaims, issue_credential
from .errors import (
    CatalogError,
    CredentialError,
    FieldValidationError,
    IssuanceError,
    LifecycleError,
    RenderError,
    UnknownLicenseTypeError,
)
from .identifier import LicenseIdentifier, validate_resident_id, validate_uscc
from .lifecycle import LicenseStatus, LifecycleAction, allowed_actions, effective_status, next_status
from .metadata import LicenseMetadata, build_metadata, read_xmp_elements
from .qrimage import render_qr_png
from .render import LicenseFace, render_license_face
from .stamp import stamp_pdf

__all__ = [
    "BUILTIN_TYPES",
    "CatalogError",
    "CredentialClaims",
    "CredentialError",
    "FieldSpec",
    "FieldValidationError",
    "IssuanceError",
    "LicenseFace",
    "LicenseIdentifier",
    "LicenseMetadata",
    "LicenseStatus",
    "LicenseType",
    "LifecycleAction",
    "LifecycleError",
    "RenderError",
    "ServiceItem",
    "UnknownLicenseTypeError",
    "allowed_actions",
    "build_metadata",
    "catalog_from_dict",
    "catalog_from_json",
    "catalog_to_dict",
    "catalog_to_json",
    "effective_status",
    "issue_credential",
    "license_type_from_dict",
    "license_type_from_json",
    "license_type_to_dict",
    "license_type_to_json",
    "lookup",
    "next_status",
    "read_xmp_elements",
    "render_license_face",
    "render_qr_png",
    "stamp_pdf",
    "validate_fields",
    "validate_resident_id",
    "validate_uscc",
]
