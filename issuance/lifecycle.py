"""The licence lifecycle (证照生命周期) as a state machine: which action may change which status.

A licence version is issued ``active``. From there:

====================  ==============================  ==========================================
action                from                            to
====================  ==============================  ==========================================
issue (签发)           — (a new licence)               active (:data:`ISSUED_STATUS`)
amend (变更)           active                          superseded; version + 1 is issued active
reissue (补发)         active                          superseded; version + 1 is issued active
suspend (暂停)         active                          suspended
resume (恢复)          suspended                       active
revoke (吊销)          active, suspended               revoked
cancel (注销)          active, suspended               cancelled
expire (过期)          active, suspended               expired
====================  ==============================  ==========================================

``revoked``, ``cancelled``, ``expired`` and ``superseded`` are terminal. A suspended licence must be
resumed before it is amended or reissued, so that a new version never lifts a suspension silently.
Amendment and reissue keep the GB/T 36904 identifier's type, issuer and serial and bump its
version (:meth:`issuance.identifier.LicenseIdentifier.next_version`).

GB/T 36901–36906 name the status element (状态) among the metadata but publish no status codes
(reference/cn-standards.md §2.3), so the values are Yinxin's own lower-case English words, the
same strings in the registry, the API and the verification report.

Pure: no I/O, no clock. "Today" is a parameter of :func:`effective_status`.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Final

from .errors import IssuanceError, LifecycleError

__all__ = [
    "ISSUED_STATUS",
    "TERMINAL_STATUSES",
    "LicenseStatus",
    "LifecycleAction",
    "allowed_actions",
    "effective_status",
    "next_status",
]


class LicenseStatus(enum.Enum):
    """The status of one licence version (GB/T 36903 元数据 "状态"; codes are Yinxin's)."""

    ACTIVE = "active"
    """有效: issued and in force."""
    SUSPENDED = "suspended"
    """暂停: temporarily not valid (e.g. a driving licence held by the police); may be resumed."""
    REVOKED = "revoked"
    """吊销: withdrawn by the issuer as a sanction. Terminal."""
    CANCELLED = "cancelled"
    """注销: ended at the holder's request or because the holder ceased to exist. Terminal."""
    EXPIRED = "expired"
    """过期: the validity period (证照有效期) has ended. Terminal."""
    SUPERSEDED = "superseded"
    """已替换: an older version, replaced by an amended or reissued one. Terminal."""

    @property
    def label(self) -> str:
        """The Chinese word shown to people, e.g. 吊销."""
        return _STATUS_LABELS[self]

    @property
    def is_terminal(self) -> bool:
        """Whether no action can change this status any more."""
        return self in TERMINAL_STATUSES

    @classmethod
    def parse(cls, value: str) -> LicenseStatus:
        """The status whose value is ``value`` (e.g. ``"revoked"``); raises :class:`IssuanceError` otherwise."""
        try:
            return cls(value)
        except ValueError:
            shown = value[:32] if isinstance(value, str) else type(value).__name__
            known = ", ".join(s.value for s in cls)
            raise IssuanceError(f"unknown licence status {shown!r}; known: {known}") from None


class LifecycleAction(enum.Enum):
    """Something done to a licence that may change its status."""

    ISSUE = "issue"
    """签发: create a new licence (version 001), active."""
    AMEND = "amend"
    """变更: correct or update the face; the old version is superseded by version + 1."""
    SUSPEND = "suspend"
    """暂停: make an active licence temporarily not valid."""
    RESUME = "resume"
    """恢复: end a suspension."""
    REVOKE = "revoke"
    """吊销: withdraw the licence as a sanction."""
    CANCEL = "cancel"
    """注销: end the licence at the holder's request or on the holder's dissolution."""
    EXPIRE = "expire"
    """过期: record that the validity period has ended."""
    REISSUE = "reissue"
    """补发: replace a lost or damaged licence; the old version is superseded by version + 1."""

    @property
    def label(self) -> str:
        """The Chinese word shown to people, e.g. 补发."""
        return _ACTION_LABELS[self]

    @property
    def creates_version(self) -> bool:
        """Whether the action issues a new version (version + 1, :data:`ISSUED_STATUS`) of the licence."""
        return self in (LifecycleAction.AMEND, LifecycleAction.REISSUE)

    @classmethod
    def parse(cls, value: str) -> LifecycleAction:
        """The action whose value is ``value`` (e.g. ``"revoke"``); raises :class:`IssuanceError` otherwise."""
        try:
            return cls(value)
        except ValueError:
            shown = value[:32] if isinstance(value, str) else type(value).__name__
            known = ", ".join(a.value for a in cls)
            raise IssuanceError(f"unknown lifecycle action {shown!r}; known: {known}") from None


ISSUED_STATUS: Final = LicenseStatus.ACTIVE
"""The status of a newly issued licence, and of the new version an amendment or reissue creates."""

TERMINAL_STATUSES: Final = frozenset({
    LicenseStatus.REVOKED, LicenseStatus.CANCELLED, LicenseStatus.EXPIRED, LicenseStatus.SUPERSEDED,
})
"""Statuses no action leaves."""

_STATUS_LABELS: Final = {
    LicenseStatus.ACTIVE: "有效",
    LicenseStatus.SUSPENDED: "暂停",
    LicenseStatus.REVOKED: "吊销",
    LicenseStatus.CANCELLED: "注销",
    LicenseStatus.EXPIRED: "过期",
    LicenseStatus.SUPERSEDED: "已替换",
}
_ACTION_LABELS: Final = {
    LifecycleAction.ISSUE: "签发",
    LifecycleAction.AMEND: "变更",
    LifecycleAction.SUSPEND: "暂停",
    LifecycleAction.RESUME: "恢复",
    LifecycleAction.REVOKE: "吊销",
    LifecycleAction.CANCEL: "注销",
    LifecycleAction.EXPIRE: "过期",
    LifecycleAction.REISSUE: "补发",
}
_PAST_PARTICIPLES: Final = {
    LifecycleAction.ISSUE: "issued",
    LifecycleAction.AMEND: "amended",
    LifecycleAction.SUSPEND: "suspended",
    LifecycleAction.RESUME: "resumed",
    LifecycleAction.REVOKE: "revoked",
    LifecycleAction.CANCEL: "cancelled",
    LifecycleAction.EXPIRE: "expired",
    LifecycleAction.REISSUE: "reissued",
}

_A, _S = LicenseStatus.ACTIVE, LicenseStatus.SUSPENDED
# The whole state machine: (status, action) → status. A pair not listed is refused.
_TRANSITIONS: Final[dict[tuple[LicenseStatus, LifecycleAction], LicenseStatus]] = {
    (_A, LifecycleAction.AMEND): LicenseStatus.SUPERSEDED,
    (_A, LifecycleAction.REISSUE): LicenseStatus.SUPERSEDED,
    (_A, LifecycleAction.SUSPEND): LicenseStatus.SUSPENDED,
    (_S, LifecycleAction.RESUME): LicenseStatus.ACTIVE,
    (_A, LifecycleAction.REVOKE): LicenseStatus.REVOKED,
    (_S, LifecycleAction.REVOKE): LicenseStatus.REVOKED,
    (_A, LifecycleAction.CANCEL): LicenseStatus.CANCELLED,
    (_S, LifecycleAction.CANCEL): LicenseStatus.CANCELLED,
    (_A, LifecycleAction.EXPIRE): LicenseStatus.EXPIRED,
    (_S, LifecycleAction.EXPIRE): LicenseStatus.EXPIRED,
}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _refusal(current: LicenseStatus, action: LifecycleAction) -> str:
    status, verb = current.value, _PAST_PARTICIPLES[action]
    if action is LifecycleAction.ISSUE:
        return (
            f"{_article(status)} {status} licence cannot be issued again: issuing creates a new licence"
            " (amend or reissue changes an existing one)"
        )
    if current is LicenseStatus.SUPERSEDED:
        return f"a superseded licence cannot be {verb}: act on its latest version"
    if current is LicenseStatus.SUSPENDED and action is LifecycleAction.SUSPEND:
        return "the licence is already suspended"
    if current is LicenseStatus.SUSPENDED and action.creates_version:
        return f"a suspended licence cannot be {verb}: resume it first"
    if current is LicenseStatus.ACTIVE and action is LifecycleAction.RESUME:
        return "an active licence is not suspended, so it cannot be resumed"
    return f"{_article(status)} {status} licence cannot be {verb}"


def next_status(current: LicenseStatus, action: LifecycleAction) -> LicenseStatus:
    """The status of the licence version ``current`` after ``action``.

    For :attr:`LifecycleAction.AMEND` and :attr:`LifecycleAction.REISSUE` this is the status of the
    OLD version (superseded); the new version starts as :data:`ISSUED_STATUS`.
    :attr:`LifecycleAction.ISSUE` creates a licence, so it never applies to an existing one.
    Raises :class:`~issuance.errors.LifecycleError` (code ``invalid_transition``) with a message
    such as "a revoked licence cannot be resumed".
    """
    if not isinstance(current, LicenseStatus) or not isinstance(action, LifecycleAction):
        raise LifecycleError("next_status takes a LicenseStatus and a LifecycleAction")
    try:
        return _TRANSITIONS[(current, action)]
    except KeyError:
        raise LifecycleError(_refusal(current, action), status=current.value, action=action.value) from None


def allowed_actions(current: LicenseStatus) -> frozenset[LifecycleAction]:
    """The actions :func:`next_status` accepts for a licence in ``current`` (empty when terminal)."""
    return frozenset(action for (status, action) in _TRANSITIONS if status is current)


def effective_status(stored: LicenseStatus, *, valid_until: date | None, today: date) -> LicenseStatus:
    """The status to report today: an active or suspended licence past its end of validity is expired.

    ``valid_until`` is the last day of validity (证照有效期截止日期), ``None`` for 长期: the licence
    is still valid on that day and expired from the next. Other statuses are returned unchanged.
    Use this wherever a status is shown or checked, so a licence no job has marked ``expired`` yet
    is not reported valid.
    """
    if type(today) is not date:
        raise IssuanceError("today must be a date, not a date and time")
    if valid_until is not None and type(valid_until) is not date:
        raise IssuanceError("valid_until must be a date or None")
    if stored in (LicenseStatus.ACTIVE, LicenseStatus.SUSPENDED) and valid_until is not None and today > valid_until:
        return LicenseStatus.EXPIRED
    return stored
