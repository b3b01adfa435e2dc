"""In-process microbenchmark of a response cache hit: `store.lookup()` of a stored
news-list entry, in process (MemoryStore) and in Redis (RedisStore, one round trip
over loopback), timed over many lookups. Runs against whatever tree is first on
PYTHONPATH, so that two commits can be compared:

    PYTHONPATH=. .venv/bin/python bench/cache_hit_micro.py
    PYTHONPATH=/tmp/tree-cd7d6b7 .venv/bin/python bench/cache_hit_micro.py
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from redis.asyncio import Redis

from web import response_cache as rc

REDIS_URL = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"
# The surrogate keys of the bench's news list (20 items with their tags).
KEYS = " ".join(
    [*(f"News:{n}" for n in range(20)), *(f"Tag:{n}" for n in range(8)), "news-list", "tag-list"]
)


async def fill(store: object, body: bytes) -> None:
    _, stamp = await store.lookup("k")  # type: ignore[attr-defined]
    fields = rc.CachedResponse.__dataclass_fields__
    values = {
        "body": body,
        "etag": '"x"',
        "surrogate_keys": KEYS,
        "expires_at": time.time() + 600,
        "go_live": 0.0,
    }
    if "stamp" in fields:  # precise invalidation
        values |= {"stamp": stamp, "dependencies": ("news-list", "tag-list")}
    else:  # the generation counter
        values["generation"] = stamp
    await store.put("k", rc.CachedResponse(**values))  # type: ignore[attr-defined]


async def timed(store: object, rounds: int) -> tuple[float, float]:
    """The best wall time and process CPU time of a lookup (µs) over 5 runs: the CPU
    time is what the lookup costs the server process, the wall time adds the wait."""
    entry, _ = await store.lookup("k")  # type: ignore[attr-defined]
    assert entry is not None
    best = best_cpu = float("inf")
    for _ in range(5):
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            await store.lookup("k")  # type: ignore[attr-defined]
        best = min(best, (time.perf_counter() - started) / rounds)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / rounds)
    return best * 1e6, best_cpu * 1e6


async def main() -> None:
    body = b"x" * 6000  # about the size of the news list answer
    memory = rc.MemoryStore(1000, 10_000_000)
    await fill(memory, body)
    wall, cpu = await timed(memory, 20000)
    print(f"memory hit: {wall:.2f} us ({cpu:.2f} us CPU)")
    redis = Redis.from_url(REDIS_URL)
    prefix = f"bench-micro-{uuid.uuid4().hex[:8]}:rc"
    store = rc.RedisStore(redis, prefix, f"{prefix}:generation")
    try:
        await fill(store, body)
        before = await redis.info("commandstats")
        wall, cpu = await timed(store, 2000)
        print(f"redis hit:  {wall:.1f} us round trip ({cpu:.1f} us CPU in this process)")
        after = await redis.info("commandstats")
        for command in ("cmdstat_mget", "cmdstat_evalsha"):
            calls = after.get(command, {}).get("calls", 0) - before.get(command, {}).get("calls", 0)
            usec = after.get(command, {}).get("usec", 0) - before.get(command, {}).get("usec", 0)
            if calls >= 1000:
                name = command.removeprefix("cmdstat_").upper()
                print(f"  in Redis: {name} {usec / calls:.1f} us a call ({calls} calls)")
    finally:
        await store.clear()
        await redis.aclose()


asyncio.run(main())
