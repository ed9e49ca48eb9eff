"""Four processes issuing licences at once into PostgreSQL: every licence stored once, under its own
identifier, retrievable, and the event chain intact."""

from __future__ import annotations

import importlib
import multiprocessing
import os
from pathlib import Path

import pytest
from sqlalchemy import text

# The same data key as conftest.py (conftest is not importable as a module).
DATA_KEY = bytes(range(32))
PROCESSES = 4
# 250 keeps the test fast; the acceptance run of issue 4 sets YINXIN_TEST_LICENCES_PER_PROCESS=1000.
PER_PROCESS = int(os.environ.get("YINXIN_TEST_LICENCES_PER_PROCESS", "250"))


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_four_processes_issue_distinct_retrievable_licences(registry, engine, seal, license_type, monkeypatch):
    # Spawned children import the worker by module name: put its folder on the path they inherit.
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    worker = importlib.import_module("registry_issuer_process")
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            results = pool.starmap(
                worker.issue_many, [(url, DATA_KEY.hex(), n, PER_PROCESS, start) for n in range(PROCESSES)]
            )
    identifiers = [identifier for batch in results for identifier in batch]
    assert len(identifiers) == PROCESSES * PER_PROCESS
    assert len(set(identifiers)) == len(identifiers)
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT identifier FROM licenses")).scalars())
    assert stored == set(identifiers)
    # Every one retrievable, with its own personal data.
    for identifier in identifiers:
        record = registry.get_license(identifier)
        assert record.pdf == b"%PDF-" + identifier.encode()
        assert record.holder_name.startswith("公司")
    # One event per licence, chained without a gap.
    assert registry.verify_event_chain() == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*), max(seq) FROM events")).one() == (
            len(identifiers), len(identifiers))
