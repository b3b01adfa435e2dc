"""The request's DataLoaders: one load shared by several fields survives the
cancellation of one of them (graphql-core cancels a failed field's siblings)."""

from __future__ import annotations

import asyncio

from cms.services.viewer import ANONYMOUS, Viewer
from graphql_schema.context import Loaders


async def _doubled(viewer: Viewer, keys: list[int]) -> list[int]:
    await asyncio.sleep(0.01)
    return [key * 2 for key in keys]


async def test_a_shared_load_outlives_one_cancelled_caller() -> None:
    loaders = Loaders(ANONYMOUS)

    async def field(key: int) -> int:
        return await loaders[_doubled].load(key)

    cancelled = asyncio.ensure_future(field(21))
    kept = asyncio.ensure_future(field(21))
    await asyncio.sleep(0)  # both wait for the one batch
    cancelled.cancel()
    assert await kept == 42
    assert cancelled.cancelled()
    # And a later load of the key reads the same answer.
    assert await loaders[_doubled].load(21) == 42
