"""Ports the verifiers consume; ``registry`` implements them."""

from __future__ import annotations

from typing import Protocol


class StatusUnavailableError(Exception):
    """Raised by a :class:`LicenseStatusSource` that cannot be reached right now."""


class LicenseStatusSource(Protocol):
    """Answers the current status of a licence by its GB/T 36904 identifier."""

    def license_status(self, identifier: str) -> str | None:
        """The status (``active``, ``suspended``, ``revoked``, ``cancelled``, ``expired``), or ``None``
        if the registry does not know the licence. Raises :class:`StatusUnavailableError` when the
        registry cannot be reached."""
