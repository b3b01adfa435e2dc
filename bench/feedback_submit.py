"""Submissions per second of the public feedback form, against a running server.

Every submission comes "from" its own client address and contact, as many
citizens would, so the per-address and per-contact limits do not refuse it:
the server must trust this machine as a proxy (CMS_TRUSTED_PROXIES=127.0.0.1)
and reads the address from X-Forwarded-For. See bench/REPORT-feedback.md.

    .venv/bin/python bench/feedback_submit.py --url http://127.0.0.1:8000/graphql \
        --count 2000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import httpx

SUBMIT = """
mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { ticket errors { code message } }
}
"""


def submission(run: str, n: int, m: int) -> dict[str, object]:
    """The n-th submission of this run; `m` (n plus the offset) picks a unique phone."""
    return {
        "kind": ("QUESTION", "APPEAL", "PROPOSAL")[n % 3],
        "name": f"Участник нагрузочного теста {n}",
        "email": f"bench-{run}-{n}@example.ru",
        "phone": f"+7 916 {m % 1000:03d}-{m // 1000 % 100:02d}-{m // 100000 % 100:02d}",
        "subject": "Нагрузочный тест формы обратной связи",
        "message": f"Сообщение номер {n} прогона {run}. " + "Текст обращения. " * 20,
        "consentToProcessing": True,
    }


def address(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


async def run_bench(url: str, count: int, concurrency: int, offset: int) -> int:
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    tickets: set[str] = set()
    failures: dict[str, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker(http: httpx.AsyncClient) -> None:
        while True:
            try:
                n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            try:
                response = await http.post(
                    url,
                    json={"query": SUBMIT, "variables": {"input": submission(run, n, offset + n)}},
                    headers={"x-forwarded-for": address(offset + n)},
                )
            except httpx.HTTPError as error:
                failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
                continue
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                key = f"HTTP {response.status_code}"
                failures[key] = failures.get(key, 0) + 1
                continue
            payload = response.json().get("data", {}).get("submitFeedback") or {}
            if payload.get("ticket"):
                tickets.add(payload["ticket"])
            else:
                key = ",".join(e["code"] for e in payload.get("errors", [])) or "no ticket"
                failures[key] = failures.get(key, 0) + 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started

    ordered = sorted(latencies)

    def percentile(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    print(f"submissions      {count} (concurrency {concurrency})")
    print(f"stored tickets   {len(tickets)} distinct")
    print(f"failures         {failures or 'none'}")
    print(f"elapsed          {elapsed:.2f} s")
    print(f"throughput       {count / elapsed:.1f} submissions/s")
    print(
        f"latency ms       p50 {percentile(0.5):.1f}  p95 {percentile(0.95):.1f}  "
        f"p99 {percentile(0.99):.1f}  mean {statistics.fmean(ordered) * 1000:.1f}"
    )
    return 0 if not failures and len(tickets) == count else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--address-offset",
        type=int,
        default=0,
        help="first client address number; change it between runs within an hour, "
        "or the per-address limit (CMS_FEEDBACK_LIMIT_ADDRESS) refuses repeats",
    )
    args = parser.parse_args()
    raise SystemExit(
        asyncio.run(run_bench(args.url, args.count, args.concurrency, args.address_offset))
    )


if __name__ == "__main__":
    main()
