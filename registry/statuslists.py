"""Status list slots: each licence version's random place in its issuer's status list.

Functions over a :class:`~registry.Registry` (they join its transaction when called on ``tx``). The
issuer's lists (IETF Token Status List; W3C Bitstring Status List §5.1 "herd privacy") are numbered per
department from 0; a licence version gets one index, drawn at random from the secrets module, in the
newest list. The index must be known before the credential is signed (the credential names it), so:

1. :func:`candidate_slot` draws a free index (a few indexed look-ups; when a list is about half full
   the draws start to collide and the next list is opened);
2. the caller signs the credential with it;
3. :func:`add_status_entry`, in the same transaction as the licence row, stores it. Two issuers that
   drew the same free index at the same moment collide on the unique constraint
   ``uq_status_list_entries_slot``: one gets :class:`~registry.errors.DuplicateError` and draws again.

:func:`list_statuses` reads one list back as index → effective status (``expired`` once ``valid_until``
has passed, as :meth:`Registry.license_status` reports it), for publishing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from .errors import InvalidValueError, NotFoundError
from .repositories import Registry, _check_text, _department_row
from .tables import Department, License, LicenseChange, StatusListEntry

__all__ = [
    "MAX_DRAWS",
    "StatusSlot",
    "add_status_entry",
    "candidate_slot",
    "change_marker",
    "list_ids",
    "list_statuses",
    "status_slot",
]

MAX_DRAWS = 8
"""Taken indices drawn in a row before the department's next list is opened (at half full, 1 in 256)."""


@dataclass(frozen=True)
class StatusSlot:
    """A place in a department's status lists: list number and index within it."""

    department_uscc: str
    list_id: int
    index: int


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidValueError("size: must be a positive integer")


def candidate_slot(registry: Registry, *, department_uscc: str, size: int) -> StatusSlot:
    """A random index not yet taken in the department's newest list of ``size`` entries.

    After :data:`MAX_DRAWS` taken indices in a row, the next list is used: lists fill to about half,
    keeping each draw cheap and each index unpredictable. Not a reservation: store it with
    :func:`add_status_entry` in the licence's transaction, and draw again on a collision.
    """
    _check_size(size)
    with registry._work(write=False) as s:
        department = _department_row(s, department_uscc)
        newest = s.scalar(select(func.max(StatusListEntry.list_id))
                          .where(StatusListEntry.department_id == department.id))
        list_id = 0 if newest is None else int(newest)
        for _ in range(MAX_DRAWS):
            index = secrets.randbelow(size)
            taken = s.scalar(select(StatusListEntry.identifier).where(
                StatusListEntry.department_id == department.id, StatusListEntry.list_id == list_id,
                StatusListEntry.idx == index))
            if taken is None:
                return StatusSlot(department_uscc=department_uscc, list_id=list_id, index=index)
        return StatusSlot(department_uscc=department_uscc, list_id=list_id + 1, index=secrets.randbelow(size))


def add_status_entry(registry: Registry, *, identifier: str, slot: StatusSlot) -> None:
    """Store ``identifier``'s place in the status list; call it on the transaction that adds the licence.

    Raises :class:`~registry.errors.DuplicateError` if the slot (or the licence's entry) is taken.
    """
    _check_text("identifier", identifier, 128)
    if slot.list_id < 0 or slot.index < 0:
        raise InvalidValueError("slot: list and index are non-negative")
    with registry._work(write=True, duplicate="this status list slot is already taken") as s:
        department = _department_row(s, slot.department_uscc)
        s.add(StatusListEntry(identifier=identifier, department_id=department.id, list_id=slot.list_id,
                              idx=slot.index, created_at=registry._now()))
        s.flush()


def status_slot(registry: Registry, identifier: str) -> StatusSlot | None:
    """The licence version's place in its issuer's status list, or ``None`` if it has none."""
    with registry._work(write=False) as s:
        found = s.execute(select(Department.uscc, StatusListEntry.list_id, StatusListEntry.idx)
                          .join(Department, Department.id == StatusListEntry.department_id)
                          .where(StatusListEntry.identifier == identifier)).one_or_none()
        if found is None:
            return None
        uscc, list_id, index = found
        return StatusSlot(department_uscc=str(uscc), list_id=int(list_id), index=int(index))


def list_ids(registry: Registry, department_uscc: str) -> list[int]:
    """The department's status list numbers in use, ascending."""
    with registry._work(write=False) as s:
        department = _department_row(s, department_uscc)
        query = (select(StatusListEntry.list_id).where(StatusListEntry.department_id == department.id)
                 .distinct().order_by(StatusListEntry.list_id))
        return [int(v) for v in s.scalars(query)]


def list_statuses(registry: Registry, *, department_uscc: str, list_id: int) -> dict[int, str]:
    """Index → effective licence status of every entry of one list (``expired`` once ``valid_until``
    has passed, at the registry clock's now). Raises :class:`~registry.errors.NotFoundError` for an
    unknown department or a list with no entry."""
    if isinstance(list_id, bool) or not isinstance(list_id, int) or list_id < 0:
        raise InvalidValueError("list_id: must be a non-negative integer")
    now = registry._now()
    with registry._work(write=False) as s:
        department = _department_row(s, department_uscc)
        rows = s.execute(
            select(StatusListEntry.idx, License.status, License.valid_until)
            .join(License, License.identifier == StatusListEntry.identifier)
            .where(StatusListEntry.department_id == department.id, StatusListEntry.list_id == list_id)
        ).all()
    if not rows:
        raise NotFoundError(f"department {department_uscc} has no status list {list_id}")
    statuses: dict[int, str] = {}
    for index, stored, valid_until in rows:
        # The registry's rule (Registry.license_status): the day after valid_until, UTC, it has expired.
        lapsed = valid_until is not None and now >= datetime.combine(valid_until + timedelta(days=1), time.min, UTC)
        statuses[int(index)] = "expired" if stored in ("active", "suspended") and lapsed else str(stored)
    return statuses


def change_marker(registry: Registry) -> int:
    """The newest lifecycle change's id (0 if none): a published list is out of date once it grows.

    A status list's content changes only through lifecycle changes (and the passing of
    ``valid_until`` days, which the publisher checks by date); new licences enter as VALID, which an
    index nobody holds already reads as.
    """
    with registry._work(write=False) as s:
        value = s.scalar(select(func.max(LicenseChange.id)))
        return 0 if value is None else int(value)

