"""Verification results: a verdict, the checks that led to it, and what may be disclosed.

Shaped after ETSI EN 319 102-1 §5.1.3 (bottom line: TOTAL-PASSED / TOTAL-FAILED / INDETERMINATE),
with the names the Yinxin public contract uses: VALID / INVALID / INDETERMINATE.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any


class Verdict(enum.Enum):
    """The bottom line of a verification."""

    VALID = "VALID"
    INVALID = "INVALID"
    INDETERMINATE = "INDETERMINATE"


class CheckOutcome(enum.Enum):
    """The outcome of one check."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    # The check could not be completed (e.g. the registry was unreachable).
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class Check:
    """One named step of a verification and its outcome."""

    name: str
    outcome: CheckOutcome
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form: ``{"name", "result", "detail"}``."""
        return {"name": self.name, "result": self.outcome.value, "detail": self.detail}


def verdict_of(checks: Iterable[Check]) -> Verdict:
    """Combine checks: any failure → INVALID; else any indeterminate → INDETERMINATE; else VALID.

    Fails closed: a result with no passed check at all is never VALID.
    """
    checks = list(checks)
    if any(c.outcome is CheckOutcome.FAILED for c in checks):
        return Verdict.INVALID
    if any(c.outcome is CheckOutcome.INDETERMINATE for c in checks):
        return Verdict.INDETERMINATE
    if not any(c.outcome is CheckOutcome.PASSED for c in checks):
        return Verdict.INDETERMINATE
    return Verdict.VALID


@dataclass(frozen=True)
class VerificationResult:
    """What a verifier answers: verdict, licence status, checks, signing time and disclosed fields."""

    verdict: Verdict
    checks: tuple[Check, ...]
    kind: str
    license_identifier: str | None = None
    license_status: str | None = None
    signing_time: datetime | None = None
    signing_time_source: str | None = None
    signer: str | None = None
    disclosed: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_checks(cls, checks: Iterable[Check], **kwargs: Any) -> VerificationResult:
        """Build a result whose verdict is derived from ``checks`` (see :func:`verdict_of`)."""
        checks = tuple(checks)
        return cls(verdict=verdict_of(checks), checks=checks, **kwargs)

    @property
    def reasons(self) -> list[str]:
        """Human-readable reasons for every check that did not pass."""
        return [
            f"{c.name}: {c.detail}" if c.detail else c.name
            for c in self.checks
            if c.outcome in (CheckOutcome.FAILED, CheckOutcome.INDETERMINATE)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form used by the CLI (``--json``) and the API."""
        return {
            "verdict": self.verdict.value,
            "kind": self.kind,
            "license_identifier": self.license_identifier,
            "status": self.license_status,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "signing_time_source": self.signing_time_source,
            "signer": self.signer,
            "checks": [c.to_dict() for c in self.checks],
            "reasons": self.reasons,
            "disclosed": dict(self.disclosed),
        }
