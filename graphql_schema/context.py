"""The per-request context: who asks, the settings, and this request's DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from cms.runtime import Runtime
from cms.services.viewer import Viewer
from cms.settings import Settings

# A batch function: the viewer and the keys of one batch -> one result per key.
BatchFunction = Callable[[Viewer, list[Any]], Awaitable[Sequence[Any]]]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _SharedLoader(DataLoader[K, V]):
    """A load is one future for every field that asks for the key. graphql-core
    cancels the siblings of a field that failed, and a cancelled task cancels the
    future it awaits: the other fields awaiting that load would get CancelledError,
    which fails the whole request. Each caller awaits its own shield of it."""

    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


class Loaders:
    """One DataLoader per batch function, created on first use in a request."""

    def __init__(self, viewer: Viewer) -> None:
        self._viewer = viewer
        self._loaders: dict[BatchFunction, DataLoader[Any, Any]] = {}

    def __getitem__(
        self, batch: Callable[[Viewer, list[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        """The loader of `batch`, typed by it: keys and values as the batch function has them."""
        loader: DataLoader[K, V] | None = self._loaders.get(batch)
        if loader is None:
            loader = _SharedLoader(load_fn=partial(batch, self._viewer))
            self._loaders[batch] = loader
        return loader


@dataclass
class Context:
    runtime: Runtime
    viewer: Viewer
    # The surrogate keys of what the response holds (cms/services/surrogate_keys.py), collected when
    # the HTTP edge asks for them (a response it may cache); None: not collected.
    surrogate_keys: set[str] | None = None
    # What the HTTP answer will carry besides the result: a status (a full media disk
    # answers 507), headers. The edge sets it; resolvers only set its status.
    response: Any = None
    # The answer depends on more than the caller's visibility scope (introspection,
    # allowed to some callers of a scope and not to others): no cache may keep it.
    private: bool = False
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.viewer)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


Info = StrawberryInfo[Context, None]
