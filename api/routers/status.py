"""Public trust endpoints: the trust list and the departments' status lists, with HTTP caching.

No key is needed (DESIGN.md: public PKI endpoints). Each worker keeps what it signed and serves it again:
a status list until a licence's status changes (any new lifecycle change, or a new day that may expire
licences) or it is :data:`STATUS_LIST_RESIGN` old; the trust list for :data:`TRUST_LIST_REFRESH`.
Responses carry ``Cache-Control: public, max-age`` (never more than the list's ``ttl``) and a strong
``ETag`` over the bytes; ``If-None-Match`` with the current ETag gets 304 (RFC 9110 §13.1.2).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from issuance.identifier import validate_uscc
from registry.statuslists import change_marker

from ..deps import ServiceDep
from ..status import STATUS_LIST_TTL, make_status_list, make_trust_list

router = APIRouter(tags=["trust"])

TRUST_LIST_MEDIA_TYPE = 'application/cose; cose-type="cose-sign1"'
"""RFC 9052 §9.5 (application/cose with the cose-type parameter)."""
STATUS_LIST_MEDIA_TYPE = "application/statuslist+cwt"
"""draft-ietf-oauth-status-list §11 media type of a Status List Token in CWT form."""
TRUST_LIST_REFRESH = 300.0
"""Seconds a worker serves the same signed trust list (new or withdrawn seals show up within this time)."""
STATUS_LIST_RESIGN = 600.0
"""Seconds a worker serves the same signed status list while no status changes (keeps ``iat`` recent)."""
STATUS_LIST_MAX_AGE = 60
"""``max-age`` of a status list: how long HTTP caches may keep it before asking again."""
_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {TRUST_LIST_MEDIA_TYPE: {}, STATUS_LIST_MEDIA_TYPE: {}}, "description": "the signed list"},
    304: {"description": "the list held by the client (If-None-Match) is current"},
}


@dataclass(frozen=True)
class _Publication:
    data: bytes
    etag: str
    made_at: float
    marker: object


class _Publications:
    """What this worker signed and serves again, per list."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[object, _Publication] = {}

    def get(self, key: object, *, marker: object, max_age: float, make: Callable[[], bytes]) -> _Publication:
        with self._lock:
            known = self._items.get(key)
        now = time.monotonic()
        if known is not None and known.marker == marker and now - known.made_at < max_age:
            return known
        data = make()
        made = _Publication(data=data, etag='"' + hashlib.sha256(data).hexdigest()[:32] + '"', made_at=now,
                            marker=marker)
        with self._lock:
            self._items[key] = made
        return made


def _publications(request: Request) -> _Publications:
    state = request.app.state
    cache: _Publications | None = getattr(state, "trust_publications", None)
    if cache is None:
        cache = _Publications()
        state.trust_publications = cache
    return cache


def _respond(request: Request, publication: _Publication, *, media_type: str, max_age: int) -> Response:
    headers = {"ETag": publication.etag, "Cache-Control": f"public, max-age={max(0, max_age)}"}
    wanted = request.headers.get("if-none-match", "")
    if wanted.strip() == "*" or publication.etag in (tag.strip() for tag in wanted.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(content=publication.data, media_type=media_type, headers=headers)


@router.get("/trust-list", response_class=Response, responses=_RESPONSES)
def trust_list(service: ServiceDep, request: Request) -> Response:
    """The signed trust list (COSE_Sign1, CBOR): issuing CA and seal certificates by kid, with a version and an
    expiry; its x5chain leads to the root, so the root certificate alone verifies it."""
    publication = _publications(request).get("trust-list", marker=None, max_age=TRUST_LIST_REFRESH,
                                              make=lambda: make_trust_list(service))
    remaining = TRUST_LIST_REFRESH - (time.monotonic() - publication.made_at)
    return _respond(request, publication, media_type=TRUST_LIST_MEDIA_TYPE, max_age=int(remaining))


@router.get("/status-lists/{uscc}/{list_id}", response_class=Response, responses=_RESPONSES)
def status_list(
    uscc: Annotated[str, Path(min_length=18, max_length=18, description="the department's USCC (GB 32100)")],
    list_id: Annotated[int, Path(ge=0, le=1_000_000, description="the list number in the credential's status URL")],
    service: ServiceDep,
    request: Request,
) -> Response:
    """A department's status list (IETF Token Status List, CWT): 2 bits per licence — 0 valid, 1 revoked or
    otherwise no longer valid, 2 suspended — at the index each credential names."""
    uscc = validate_uscc(uscc, field="uscc")
    # A list changes only through lifecycle changes, and through valid_until days passing (the date).
    marker = (change_marker(service.registry), service.clock().date())
    publication = _publications(request).get(
        ("status-list", uscc, list_id), marker=marker, max_age=STATUS_LIST_RESIGN,
        make=lambda: make_status_list(service, uscc=uscc, list_id=list_id),
    )
    max_age = min(STATUS_LIST_MAX_AGE, int(STATUS_LIST_TTL.total_seconds()))
    return _respond(request, publication, media_type=STATUS_LIST_MEDIA_TYPE, max_age=max_age)
