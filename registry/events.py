"""The tamper-evident event record: canonical JSON, the hash of an entry, and chain checking.

Every CA, seal, issuance and verification action is appended as one entry (DESIGN.md, "Security
rules"). Entries form a hash chain, the construction of RFC 6962 §2.1 reduced to a list: entry
number ``seq`` (1, 2, 3, … without gaps) carries

    hash = SHA-256( canonical_json({
        "seq": seq,                          # integer
        "occurred_at": "2025-01-02T03:04:05.000006+00:00",   # UTC, microseconds
        "kind": kind, "actor": actor, "subject": subject,
        "detail": detail_json,               # the stored canonical JSON *text* of the detail
        "prev_hash": hash of entry seq-1     # 64 zeros for entry 1
    }) encoded as UTF-8 )

as lower-case hex. ``canonical_json`` sorts object keys, uses no insignificant whitespace, keeps
non-ASCII characters as UTF-8 and admits only strings, integers, booleans, null, arrays and objects
(no floats, whose text form differs between implementations). Anyone holding a copy of the table
can recompute the chain with ``hashlib`` and ``json`` alone.

What the chain shows: an entry whose content was changed (its hash no longer matches), an entry
removed from the middle (a gap in ``seq`` and a ``prev_hash`` that does not match), entries moved
(``seq`` is hashed). What it cannot show by itself: the newest entries cut off the end. Keep a
copy of a recent entry elsewhere (an *anchor*) and pass it to the check to cover that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import InvalidValueError
from .records import ChainProblem

GENESIS_HASH = "0" * 64
# Input limit: an event detail is a few identifiers and a verdict, not a document.
MAX_DETAIL_CHARS = 16_384
# Keys that suggest a secret; an event must never carry one (DESIGN.md, "Security rules").
_SECRET_KEY_PARTS = ("passphrase", "password", "secret", "private_key", "privatekey", "api_key", "apikey",
                     "bearer")
_SECRET_KEYS = frozenset({"pin", "token", "authorization"})


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (sorted keys, no whitespace, UTF-8, no floats).

    Raises :class:`~registry.errors.InvalidValueError` for anything that is not plain JSON.
    """
    _check_plain_json(value, path="detail")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _check_plain_json(value: Any, *, path: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        raise InvalidValueError(f"{path}: numbers with a fraction are not allowed here; use a string")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidValueError(f"{path}: object keys must be strings")
            _check_plain_json(item, path=f"{path}.{key}")
        return
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for index, item in enumerate(value):
            _check_plain_json(item, path=f"{path}[{index}]")
        return
    raise InvalidValueError(f"{path}: {type(value).__name__} is not a JSON value")


def _check_no_secrets(value: Any, *, path: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            lowered = str(key).lower().replace("-", "_")
            if lowered in _SECRET_KEYS or any(part in lowered for part in _SECRET_KEY_PARTS):
                raise InvalidValueError(f"{path}.{key}: secrets must never be written to the event record")
            _check_no_secrets(item, path=f"{path}.{key}")
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        for index, item in enumerate(value):
            _check_no_secrets(item, path=f"{path}[{index}]")


def detail_json(detail: Mapping[str, Any]) -> str:
    """Check an event detail (plain JSON, no secret-looking keys, bounded size) and return its
    canonical text."""
    if not isinstance(detail, Mapping):
        raise InvalidValueError("detail: must be a JSON object")
    text = canonical_json(detail)
    _check_no_secrets(detail, path="detail")
    if len(text) > MAX_DETAIL_CHARS:
        raise InvalidValueError(f"detail: at most {MAX_DETAIL_CHARS} characters of JSON")
    return text


def timestamp_text(occurred_at: datetime) -> str:
    """The hashed form of an instant: ISO 8601 in UTC with microseconds."""
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise InvalidValueError("occurred_at must be timezone-aware")
    return occurred_at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(
    *, seq: int, occurred_at: datetime, kind: str, actor: str, subject: str, detail_json: str, prev_hash: str
) -> str:
    """SHA-256 (hex) of one entry, chained to the previous one by ``prev_hash`` (see module docstring)."""
    document = {
        "seq": seq,
        "occurred_at": timestamp_text(occurred_at),
        "kind": kind,
        "actor": actor,
        "subject": subject,
        "detail": detail_json,
        "prev_hash": prev_hash,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """An entry exactly as read back from the table, to be checked."""

    id: int
    seq: int
    occurred_at: datetime
    kind: str
    actor: str
    subject: str
    detail_json: str
    prev_hash: str
    hash: str


class ChainWalker:
    """Checks entries fed in ``seq`` order; collects a :class:`~registry.records.ChainProblem` for
    each entry at which the chain breaks.

    After a break the walk continues from the entry's *stored* hash, so one altered entry yields
    one problem, not one for every entry after it.
    """

    def __init__(self) -> None:
        self.problems: list[ChainProblem] = []
        self._expected_seq = 1
        self._prev_hash = GENESIS_HASH
        self._seen: dict[int, str] = {}
        self._anchor_seq: int | None = None

    def watch(self, seq: int) -> None:
        """Remember the stored hash of entry ``seq`` (to compare with an anchor afterwards)."""
        self._anchor_seq = seq

    def step(self, event: StoredEvent) -> None:
        """Check one entry against its predecessor and its own hash."""
        reasons: list[str] = []
        if event.seq > self._expected_seq:
            missing = (f"#{self._expected_seq}" if event.seq == self._expected_seq + 1
                       else f"#{self._expected_seq}..#{event.seq - 1}")
            reasons.append(f"the record(s) before it ({missing}) are missing")
        elif event.seq < self._expected_seq:
            reasons.append("its sequence number is out of order")
        elif event.prev_hash != self._prev_hash:
            reasons.append("its prev_hash does not match the record before it (records removed or reordered)")
        try:
            recomputed = event_hash(
                seq=event.seq,
                occurred_at=event.occurred_at,
                kind=event.kind,
                actor=event.actor,
                subject=event.subject,
                detail_json=event.detail_json,
                prev_hash=event.prev_hash,
            )
        except InvalidValueError:
            recomputed = ""
        if recomputed != event.hash:
            reasons.append("its content does not match its hash (the record was altered)")
        if reasons:
            self.problems.append(ChainProblem(seq=event.seq, event_id=event.id, reason="; ".join(reasons)))
        if self._anchor_seq == event.seq:
            self._seen[event.seq] = event.hash
        self._expected_seq = max(self._expected_seq, event.seq + 1)
        self._prev_hash = event.hash

    def check_anchor(self, *, seq: int, event_id: int | None, hash: str) -> None:
        """Compare a previously kept copy of entry ``seq`` with what the walk found."""
        found = self._seen.get(seq)
        if found is None:
            self.problems.append(ChainProblem(
                seq=seq, event_id=event_id,
                reason="the anchored record is missing (the record was cut back)"))
        elif found != hash:
            self.problems.append(ChainProblem(
                seq=seq, event_id=event_id, reason="the record differs from the anchored copy"))
