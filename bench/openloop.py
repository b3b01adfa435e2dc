"""An open-loop HTTP load generator: requests leave at a fixed rate whatever the answers.

wrk keeps a fixed number of connections busy (a closed loop): at a rate below the
peak it cannot hold a rate at all, and a slow answer delays the next request, hiding
the wait it caused. This sends request i at start + i/rate on whichever keep-alive
connection is free (opening more when none is), and measures each latency from the
moment the request was due. Its first `--connections` (8, as wrk's) are opened before
the clock starts, as wrk2 does: otherwise the first requests each wait for a TCP
handshake and the server's accept while the next ones are already due, a start-up
burst of a few dozen late answers that is the generator's, not the server's.
Used by bench/ladder.py for "p99 at 3/4 of the peak"; one process on one core
(uvloop) keeps up with a few thousand requests per second, and reports the rate it
achieved so that a client that fell behind is visible, and how late its own sends
were (`late_p99_ms`: the generator's process was not running when a request was
due, e.g. when the database's backends share its core): that part of a latency is
the client's, not the server's.

    .venv/bin/python bench/openloop.py --url http://127.0.0.1:8000/graphql \\
        --method POST --rate 500 --duration 5 < '{"body": "...", "headers": {...}}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.parse

import uvloop

MAX_CONNECTIONS = 512


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def run(
    url: str, method: str, rate: float, duration: float, spec: dict, connections: int = 8
) -> dict:
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    body = spec.get("body", "").encode()
    headers = "".join(f"{name}: {value}\r\n" for name, value in spec.get("headers", {}).items())
    request = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened = 0
    latencies: list[float] = []
    # How long after its due moment each request was written.
    lateness: list[float] = []
    failed = 0
    total = int(rate * duration)

    async def one(due: float) -> None:
        nonlocal opened, failed
        connection = idle.pop() if idle else None
        try:
            if connection is None:
                if opened >= MAX_CONNECTIONS:
                    failed += 1
                    return
                opened += 1
                connection = await asyncio.open_connection(host, port)
            reader, writer = connection
            lateness.append(time.perf_counter() - due)
            writer.write(request)
            status = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            failed += 1
            if connection is not None:
                opened -= 1
            return
        latencies.append(time.perf_counter() - due)
        if status >= 400:
            failed += 1
        idle.append(connection)

    for _ in range(connections):
        idle.append(await asyncio.open_connection(host, port))
        opened += 1
    tasks = []
    started = time.perf_counter()
    for i in range(total):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    latencies.sort()
    lateness.sort()

    def percentile(values: list[float], p: float) -> float:
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(p * len(values)))] * 1000

    for _, writer in idle:
        writer.close()
    return {
        "target_rate": rate,
        "achieved_rate": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "late_p99_ms": percentile(lateness, 0.99),
        "sent": total,
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds")
    parser.add_argument(
        "--connections", type=int, default=8, help="keep-alive connections opened before the start"
    )
    args = parser.parse_args()
    spec = json.loads(sys.stdin.read() or "{}")
    result = uvloop.run(
        run(args.url, args.method, args.rate, args.duration, spec, args.connections)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
