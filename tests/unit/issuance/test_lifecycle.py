"""The licence lifecycle state machine: every (status, action) pair, and expiry by date."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest

from issuance.errors import IssuanceError, LifecycleError
from issuance.lifecycle import (
    ISSUED_STATUS,
    TERMINAL_STATUSES,
    LicenseStatus,
    LifecycleAction,
    allowed_actions,
    effective_status,
    next_status,
)

S = LicenseStatus
A = LifecycleAction

# The whole table, written out by hand: each of the 6 × 8 pairs, with the resulting status or the
# exact refusal a user reads.
EXPECTED: dict[tuple[LicenseStatus, LifecycleAction], LicenseStatus | str] = {
    # active
    (S.ACTIVE, A.ISSUE): "an active licence cannot be issued again: issuing creates a new licence"
                         " (amend or reissue changes an existing one)",
    (S.ACTIVE, A.AMEND): S.SUPERSEDED,
    (S.ACTIVE, A.SUSPEND): S.SUSPENDED,
    (S.ACTIVE, A.RESUME): "an active licence is not suspended, so it cannot be resumed",
    (S.ACTIVE, A.REVOKE): S.REVOKED,
    (S.ACTIVE, A.CANCEL): S.CANCELLED,
    (S.ACTIVE, A.EXPIRE): S.EXPIRED,
    (S.ACTIVE, A.REISSUE): S.SUPERSEDED,
    # suspended
    (S.SUSPENDED, A.ISSUE): "a suspended licence cannot be issued again: issuing creates a new licence"
                            " (amend or reissue changes an existing one)",
    (S.SUSPENDED, A.AMEND): "a suspended licence cannot be amended: resume it first",
    (S.SUSPENDED, A.SUSPEND): "the licence is already suspended",
    (S.SUSPENDED, A.RESUME): S.ACTIVE,
    (S.SUSPENDED, A.REVOKE): S.REVOKED,
    (S.SUSPENDED, A.CANCEL): S.CANCELLED,
    (S.SUSPENDED, A.EXPIRE): S.EXPIRED,
    (S.SUSPENDED, A.REISSUE): "a suspended licence cannot be reissued: resume it first",
    # revoked
    (S.REVOKED, A.ISSUE): "a revoked licence cannot be issued again: issuing creates a new licence"
                          " (amend or reissue changes an existing one)",
    (S.REVOKED, A.AMEND): "a revoked licence cannot be amended",
    (S.REVOKED, A.SUSPEND): "a revoked licence cannot be suspended",
    (S.REVOKED, A.RESUME): "a revoked licence cannot be resumed",
    (S.REVOKED, A.REVOKE): "a revoked licence cannot be revoked",
    (S.REVOKED, A.CANCEL): "a revoked licence cannot be cancelled",
    (S.REVOKED, A.EXPIRE): "a revoked licence cannot be expired",
    (S.REVOKED, A.REISSUE): "a revoked licence cannot be reissued",
    # cancelled
    (S.CANCELLED, A.ISSUE): "a cancelled licence cannot be issued again: issuing creates a new licence"
                            " (amend or reissue changes an existing one)",
    (S.CANCELLED, A.AMEND): "a cancelled licence cannot be amended",
    (S.CANCELLED, A.SUSPEND): "a cancelled licence cannot be suspended",
    (S.CANCELLED, A.RESUME): "a cancelled licence cannot be resumed",
    (S.CANCELLED, A.REVOKE): "a cancelled licence cannot be revoked",
    (S.CANCELLED, A.CANCEL): "a cancelled licence cannot be cancelled",
    (S.CANCELLED, A.EXPIRE): "a cancelled licence cannot be expired",
    (S.CANCELLED, A.REISSUE): "a cancelled licence cannot be reissued",
    # expired
    (S.EXPIRED, A.ISSUE): "an expired licence cannot be issued again: issuing creates a new licence"
                          " (amend or reissue changes an existing one)",
    (S.EXPIRED, A.AMEND): "an expired licence cannot be amended",
    (S.EXPIRED, A.SUSPEND): "an expired licence cannot be suspended",
    (S.EXPIRED, A.RESUME): "an expired licence cannot be resumed",
    (S.EXPIRED, A.REVOKE): "an expired licence cannot be revoked",
    (S.EXPIRED, A.CANCEL): "an expired licence cannot be cancelled",
    (S.EXPIRED, A.EXPIRE): "an expired licence cannot be expired",
    (S.EXPIRED, A.REISSUE): "an expired licence cannot be reissued",
    # superseded
    (S.SUPERSEDED, A.ISSUE): "a superseded licence cannot be issued again: issuing creates a new licence"
                             " (amend or reissue changes an existing one)",
    (S.SUPERSEDED, A.AMEND): "a superseded licence cannot be amended: act on its latest version",
    (S.SUPERSEDED, A.SUSPEND): "a superseded licence cannot be suspended: act on its latest version",
    (S.SUPERSEDED, A.RESUME): "a superseded licence cannot be resumed: act on its latest version",
    (S.SUPERSEDED, A.REVOKE): "a superseded licence cannot be revoked: act on its latest version",
    (S.SUPERSEDED, A.CANCEL): "a superseded licence cannot be cancelled: act on its latest version",
    (S.SUPERSEDED, A.EXPIRE): "a superseded licence cannot be expired: act on its latest version",
    (S.SUPERSEDED, A.REISSUE): "a superseded licence cannot be reissued: act on its latest version",
}


def test_the_table_covers_every_pair():
    assert set(EXPECTED) == set(itertools.product(LicenseStatus, LifecycleAction))
    assert len(EXPECTED) == 48


@pytest.mark.parametrize(
    ("status", "action"), list(EXPECTED), ids=[f"{s.value}-{a.value}" for s, a in EXPECTED]
)
def test_every_status_and_action(status, action):
    expected = EXPECTED[(status, action)]
    if isinstance(expected, LicenseStatus):
        assert next_status(status, action) is expected
    else:
        with pytest.raises(LifecycleError) as info:
            next_status(status, action)
        assert info.value.public_message == expected
        assert str(info.value) == expected
        assert info.value.code == "invalid_transition"
        assert info.value.status == status.value
        assert info.value.action == action.value
        assert isinstance(info.value, IssuanceError)


@pytest.mark.parametrize("status", list(LicenseStatus), ids=lambda s: s.value)
def test_allowed_actions_are_exactly_those_next_status_accepts(status):
    accepted = {a for a in LifecycleAction if isinstance(EXPECTED[(status, a)], LicenseStatus)}
    assert allowed_actions(status) == accepted
    assert (not accepted) == status.is_terminal


def test_terminal_statuses():
    assert {s.value for s in TERMINAL_STATUSES} == {"revoked", "cancelled", "expired", "superseded"}


def test_a_new_version_is_issued_active():
    assert ISSUED_STATUS is LicenseStatus.ACTIVE
    assert {a for a in LifecycleAction if a.creates_version} == {A.AMEND, A.REISSUE}


def test_status_and_action_strings_are_the_shared_ones():
    assert [s.value for s in LicenseStatus] == [
        "active", "suspended", "revoked", "cancelled", "expired", "superseded",
    ]
    assert [a.value for a in LifecycleAction] == [
        "issue", "amend", "suspend", "resume", "revoke", "cancel", "expire", "reissue",
    ]
    assert LicenseStatus.REVOKED.label == "吊销"
    assert LicenseStatus.CANCELLED.label == "注销"
    assert LifecycleAction.REISSUE.label == "补发"
    assert all(s.label for s in LicenseStatus) and all(a.label for a in LifecycleAction)


def test_parse_status_and_action():
    assert LicenseStatus.parse("suspended") is S.SUSPENDED
    assert LifecycleAction.parse("reissue") is A.REISSUE
    with pytest.raises(IssuanceError, match="unknown licence status 'Active'"):
        LicenseStatus.parse("Active")
    with pytest.raises(IssuanceError, match="unknown lifecycle action 'delete'"):
        LifecycleAction.parse("delete")


def test_next_status_refuses_strings():
    with pytest.raises(LifecycleError):
        next_status("active", A.SUSPEND)  # type: ignore[arg-type]


# --- expiry by date ------------------------------------------------------------------------------

END = date(2030, 6, 1)


@pytest.mark.parametrize(
    ("stored", "today", "expected"),
    [
        (S.ACTIVE, END - timedelta(days=1), S.ACTIVE),
        (S.ACTIVE, END, S.ACTIVE),  # the last day of validity is still valid
        (S.ACTIVE, END + timedelta(days=1), S.EXPIRED),
        (S.SUSPENDED, END, S.SUSPENDED),
        (S.SUSPENDED, END + timedelta(days=1), S.EXPIRED),
        (S.REVOKED, END + timedelta(days=1), S.REVOKED),
        (S.CANCELLED, END + timedelta(days=1), S.CANCELLED),
        (S.SUPERSEDED, END + timedelta(days=1), S.SUPERSEDED),
        (S.EXPIRED, END - timedelta(days=1), S.EXPIRED),
    ],
    ids=["day-before", "last-day", "day-after", "suspended-last-day", "suspended-day-after",
         "revoked-stays", "cancelled-stays", "superseded-stays", "expired-stays"],
)
def test_effective_status(stored, today, expected):
    assert effective_status(stored, valid_until=END, today=today) is expected


def test_long_term_never_expires():
    assert effective_status(S.ACTIVE, valid_until=None, today=date(2999, 12, 31)) is S.ACTIVE


def test_effective_status_takes_dates_only():
    with pytest.raises(IssuanceError, match="today must be a date"):
        effective_status(S.ACTIVE, valid_until=END, today=datetime(2030, 6, 2, 0, 0))
    with pytest.raises(IssuanceError, match="valid_until"):
        effective_status(S.ACTIVE, valid_until="2030-06-01", today=END)  # type: ignore[arg-type]
