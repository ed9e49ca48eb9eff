"""``POST /api/v1/verify/qr`` under load: ``yinxin serve --workers 2`` on loopback, an asyncio httpx client.

A fresh home (ECDSA P-256 CA, one department, its seal, one resident ID card, one police verifier) is
made in a temporary directory; ``yinxin serve --workers 2`` serves it on 127.0.0.1; a bounded number
of requests (``--requests``) goes out over ``--connections`` concurrent keep-alive connections from one
asyncio process (httpx, or ``--client raw``: hand-written HTTP/1.1, to tell the client's limits from the
server's). ``GET /api/v1/health`` runs first as the baseline of the same server and client. Every
verification answer must be 200 with verdict VALID. Printed: requests per second and the
50th / 99th percentile latency. Targets (issue 5): ≥ 2,000 req/s, p99 ≤ 50 ms on a 2-core machine — the
client shares the two cores with the server. Run:
    .venv/bin/python bench/bench_api_load.py [--requests 20000] [--connections 32] [--workers 2] [--anonymous]
                                             [--client httpx|raw]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSPHRASE = "bench api load passphrase"
DEPT = ("11330100002500295Y", "示范市公安局")
ID_FIELDS = {
    "name": "李明", "sex": "男", "ethnicity": "汉", "birth_date": "1990-03-07",
    "address": "浙江省示范市西湖区文三路1号", "holder_id_number": "330106199003071236",
    "issuing_authority": "示范市公安局西湖分局", "valid_from": "2020-05-01", "valid_until": "2040-05-01",
}


def make_home(home: Path) -> tuple[str, str]:
    """A home with one licence; returns its QR text and a police verifier's API key."""
    from api.service import TrustService
    from api.settings import load_settings

    service = TrustService.open(load_settings(home, {}), passphrase=lambda: PASSPHRASE)
    service.initialise()
    service.add_department(uscc=DEPT[0], name=DEPT[1])
    service.create_seal(uscc=DEPT[0])
    service.set_issuer(license_type="resident-id", uscc=DEPT[0], allowed=True, actor="bench")
    record = service.issue_license(department_uscc=DEPT[0], license_type="resident-id", fields=ID_FIELDS,
                                   actor="bench")
    _, key = service.add_principal(kind="verifier", name="路面执勤一组", role="police")
    qr_text = service.get_license(record.identifier).qr_text
    assert qr_text is not None
    return qr_text, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(home: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    yinxin = Path(sys.executable).parent / "yinxin"
    command = [str(yinxin)] if yinxin.exists() else [sys.executable, str(ROOT / "cli.py")]
    env = os.environ | {"YINXIN_PASSPHRASE": PASSPHRASE}
    server = subprocess.Popen(  # its own process group, so that stopping it stops its workers too
        [*command, "serve", "--home", str(home), "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit("the server did not answer within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # the group started above: the server and its workers only
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


class _RawConnection:
    """One keep-alive HTTP/1.1 connection written by hand: the cheapest client asyncio allows, to show
    what the server does when the client is not the bottleneck (``--client raw``)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> _RawConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def load(url: str, body: dict[str, str] | None, headers: dict[str, str], *, requests: int,
               connections: int, client: str) -> tuple[float, list[float], int]:
    """Send ``requests`` POSTs (GETs without ``body``) over ``connections`` keep-alive connections;
    (seconds, latencies in s, failures). A request fails unless it is 200 (and VALID for a verification).

    ``client`` ``httpx``: one ``httpx.AsyncClient`` per connection (one shared pool of many connections
    is several times slower in httpx 0.28); ``raw``: :class:`_RawConnection`.
    """
    parts = httpx.URL(url)
    payload = None if body is None else json.dumps(body).encode()
    latencies: list[float] = []
    failures = 0
    remaining = requests

    def ok(status: int, content: bytes) -> bool:
        return status == 200 and (payload is None or json.loads(content).get("verdict") == "VALID")

    if client == "raw":
        lines = [f"{'GET' if payload is None else 'POST'} {parts.raw_path.decode()} HTTP/1.1",
                 f"Host: {parts.host}:{parts.port}", *(f"{k}: {v}" for k, v in headers.items())]
        if payload is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + (payload or b"")
        pool = [await _RawConnection.open(str(parts.host), int(parts.port or 80)) for _ in range(connections)]

        async def send_raw(connection: _RawConnection) -> tuple[int, bytes]:
            return await connection.request(raw)

        senders = [lambda c=c: send_raw(c) for c in pool]
    else:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        clients = [httpx.AsyncClient(limits=limits, timeout=30, headers=headers) for _ in range(connections)]

        async def send_httpx(one: httpx.AsyncClient) -> tuple[int, bytes]:
            response = await (one.get(url) if payload is None else
                               one.post(url, content=payload, headers={"Content-Type": "application/json"}))
            return response.status_code, response.content

        senders = [lambda c=c: send_httpx(c) for c in clients]

    async def worker(send: Any) -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            status, content = await send()
            latencies.append(time.perf_counter() - start)
            if not ok(status, content):
                failures += 1

    try:
        for _ in range(2):  # warm up every connection and worker process first
            await asyncio.gather(*(send() for send in senders))
        started = time.perf_counter()
        await asyncio.gather(*(worker(send) for send in senders))
        elapsed = time.perf_counter() - started
    finally:
        if client == "raw":
            await asyncio.gather(*(c.close() for c in pool))
        else:
            await asyncio.gather(*(c.aclose() for c in clients))
    return elapsed, latencies, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests to send (bounded run)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--anonymous", action="store_true", help="no verifier key (verdict without fields)")
    parser.add_argument("--client", choices=("httpx", "raw"), default="httpx",
                        help="httpx (default), or hand-written HTTP/1.1 on asyncio streams (a lighter client)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="yinxin-bench-") as directory:
        home = Path(directory) / "home"
        qr_text, key = make_home(home)
        port = free_port()
        server = start_server(home, port, args.workers)
        try:
            headers = {} if args.anonymous else {"Authorization": f"Bearer {key}"}
            base = f"http://127.0.0.1:{port}/api/v1"
            # Baseline in the same run: the same server, client and connections on the trivial health check.
            runs = [("GET /api/v1/health (baseline)", uvloop.run(load(
                f"{base}/health", None, {}, requests=args.requests, connections=args.connections,
                client=args.client)))]
            who = "anonymous" if args.anonymous else "police verifier"
            runs.append((f"POST /api/v1/verify/qr ({who})", uvloop.run(load(
                f"{base}/verify/qr", {"qr_text": qr_text}, headers, requests=args.requests,
                connections=args.connections, client=args.client))))
        finally:
            stop_server(server)
    print(f"{args.workers} uvicorn workers, {args.connections} connections, {args.requests} requests per run, "
          f"{args.client} client on uvloop")
    for name, (elapsed, latencies, failures) in runs:
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(f"{name:40} {len(latencies) / elapsed:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
              f"failures {failures}")


if __name__ == "__main__":
    main()
