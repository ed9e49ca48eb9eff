"""The event record is append-only and tamper-evident: any change, removal or reordering made
behind the registry's back is reported, naming the first bad record."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from registry import GENESIS_HASH, EventRecord, InvalidValueError, Registry
from registry import repositories as registry_repositories

T0 = datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)


def append(registry: Registry, count: int, clock: Any = None) -> list[EventRecord]:
    records = []
    for n in range(count):
        if clock is not None:
            clock.advance(seconds=1)
        records.append(registry.record_event(
            kind="license.verified", actor="hotel-7", subject=f"1.2.156.3005.2.x.{n}",
            detail={"verdict": "VALID", "n": n, "reasons": ["签名有效", "状态有效"]},
        ))
    return records


def sql(engine, statement: str, **params) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement), params)


def independent_hash(row: Mapping[str, Any]) -> str:
    """The documented formula, recomputed with nothing but hashlib and json."""
    document = {
        "seq": row["seq"],
        "occurred_at": row["occurred_at"],
        "kind": row["kind"],
        "actor": row["actor"],
        "subject": row["subject"],
        "detail": row["detail_json"],
        "prev_hash": row["prev_hash"],
    }
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def test_appended_events_form_a_chain_anyone_can_recompute(registry, engine, clock):
    events = append(registry, 3, clock)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[0].occurred_at == datetime(2025, 3, 1, 8, 0, 1, 123456, tzinfo=UTC)
    assert events[0].detail == {"verdict": "VALID", "n": 0, "reasons": ("签名有效", "状态有效")}
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT seq, kind, actor, subject, detail_json, prev_hash, hash FROM events ORDER BY seq"
        )).mappings().all()
    for event, row in zip(events, rows, strict=True):
        # Stored detail is canonical JSON (sorted keys, no spaces, UTF-8 text).
        assert row["detail_json"] == json.dumps(
            dict(event.detail, reasons=list(event.detail["reasons"])),
            sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        )
        assert "签名有效" in row["detail_json"]
        occurred_at = event.occurred_at.isoformat(timespec="microseconds")
        recomputed = independent_hash(dict(row, occurred_at=occurred_at))
        assert recomputed == row["hash"] == event.hash
    assert registry.verify_event_chain() == []
    assert registry.list_events(limit=2) == [events[2], events[1]]
    assert registry.list_events(kind="license.verified", subject=events[0].subject) == [events[0]]
    assert registry.list_events(kind="seal.created") == []


def test_one_changed_byte_in_a_detail_is_reported_at_that_record(registry, engine):
    events = append(registry, 5)
    target = events[2]
    with engine.connect() as connection:
        detail = connection.execute(text("SELECT detail_json FROM events WHERE seq = 3")).scalar_one()
    tampered = detail.replace('"VALID"', '"VALIE"')
    assert len(tampered) == len(detail) and tampered != detail
    sql(engine, "UPDATE events SET detail_json = :d WHERE seq = 3", d=tampered)
    problems = registry.verify_event_chain()
    assert len(problems) == 1
    assert (problems[0].seq, problems[0].event_id) == (3, target.id)
    assert "altered" in problems[0].reason
    assert str(problems[0]).startswith(f"event #3 (id {target.id})")


def test_a_rehashed_forgery_is_caught_by_the_next_record(registry, engine):
    events = append(registry, 4)
    forged = events[1]
    forged_hash = independent_hash({
        "seq": 2, "occurred_at": forged.occurred_at.isoformat(timespec="microseconds"), "kind": forged.kind,
        "actor": "someone-else", "subject": forged.subject,
        "detail_json": json.dumps({"n": 1, "reasons": [], "verdict": "INVALID"}, separators=(",", ":")),
        "prev_hash": forged.prev_hash,
    })
    sql(engine, "UPDATE events SET actor = 'someone-else', detail_json = :d, hash = :h WHERE seq = 2",
        d='{"n":1,"reasons":[],"verdict":"INVALID"}', h=forged_hash)
    problems = registry.verify_event_chain()
    assert [(p.seq, p.event_id) for p in problems] == [(3, events[2].id)]
    assert "prev_hash" in problems[0].reason


def test_a_changed_time_is_reported(registry, engine):
    append(registry, 3)
    sql(engine, "UPDATE events SET occurred_at = :t WHERE seq = 1", t=datetime(2024, 1, 1, tzinfo=UTC))
    assert [p.seq for p in registry.verify_event_chain()] == [1]


@pytest.mark.parametrize(("deleted", "reported"), [(3, 4), (1, 2)], ids=["middle", "first"])
def test_a_deleted_record_is_reported_at_the_next_one(registry, engine, deleted, reported):
    events = append(registry, 5)
    sql(engine, "DELETE FROM events WHERE seq = :s", s=deleted)
    problems = registry.verify_event_chain()
    assert [(p.seq, p.event_id) for p in problems] == [(reported, events[reported - 1].id)]
    assert f"#{deleted}" in problems[0].reason and "missing" in problems[0].reason


def test_reordered_records_are_reported(registry, engine):
    append(registry, 5)
    sql(engine, "UPDATE events SET seq = 100 WHERE seq = 2")
    sql(engine, "UPDATE events SET seq = 2 WHERE seq = 4")
    sql(engine, "UPDATE events SET seq = 4 WHERE seq = 100")
    problems = registry.verify_event_chain()
    assert problems and problems[0].seq == 2


def test_cutting_off_the_end_needs_an_anchor_to_show(registry, engine):
    events = append(registry, 4)
    anchor = events[-1]
    assert registry.verify_event_chain(anchor=anchor) == []
    sql(engine, "DELETE FROM events WHERE seq = 4")
    assert registry.verify_event_chain() == []  # a bare hash chain cannot see this ...
    problems = registry.verify_event_chain(anchor=anchor)  # ... a kept copy of a recent record can
    assert [(p.seq, p.event_id) for p in problems] == [(4, anchor.id)]
    assert "missing" in problems[0].reason


def test_chain_is_checked_across_pages(registry, engine, monkeypatch):
    monkeypatch.setattr(registry_repositories, "_CHAIN_PAGE", 2)
    append(registry, 7)
    assert registry.verify_event_chain() == []
    sql(engine, "UPDATE events SET subject = 'x' WHERE seq = 6")
    assert [p.seq for p in registry.verify_event_chain()] == [6]


def test_concurrent_appends_make_one_contiguous_chain(engine, clock):
    shared = Registry(engine, clock=clock)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(15):
                shared.record_event(kind="license.verified", actor=f"worker-{n}", subject=f"s-{n}-{i}",
                                    detail={"i": i})
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "concurrent appends did not finish"
    assert errors == []
    events = shared.list_events(limit=100)
    assert sorted(e.seq for e in events) == list(range(1, 61))
    assert {e.actor for e in events} == {f"worker-{n}" for n in range(4)}
    assert shared.verify_event_chain() == []


@pytest.mark.parametrize(
    "detail",
    [
        {"passphrase": "hunter2"},
        {"key": {"private_key": "-----BEGIN PRIVATE KEY-----"}},
        {"API-Key": "yx_abc"},
        {"token": "single-use"},
        {"width_mm": 42.5},
        {"when": datetime(2025, 1, 1, tzinfo=UTC)},
        {1: "non-string key"},
    ],
    ids=["passphrase", "nested-private-key", "api-key", "token", "float", "datetime", "int-key"],
)
def test_secrets_and_non_json_details_are_refused(registry, detail):
    with pytest.raises(InvalidValueError):
        registry.record_event(kind="seal.created", actor="admin", subject="s", detail=detail)
    assert registry.list_events() == []
