"""The per-request context: who asks, the settings, and this request's DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from cms.runtime import Runtime
from cms.services.viewer import Viewer
from cms.settings import Settings

# A batch function: the viewer and the keys of one batch -> one result per key.
BatchFunction = Callable[[Viewer, list[Any]], Awaitable[Sequence[Any]]]


class Loaders:
    """One DataLoader per batch function, created on first use in a request."""

    def __init__(self, viewer: Viewer) -> None:
        self._viewer = viewer
        self._loaders: dict[BatchFunction, DataLoader[Hashable, Any]] = {}

    def __getitem__(self, batch: BatchFunction) -> DataLoader[Hashable, Any]:
        loader = self._loaders.get(batch)
        if loader is None:
            loader = DataLoader(load_fn=partial(batch, self._viewer))
            self._loaders[batch] = loader
        return loader


@dataclass
class Context:
    runtime: Runtime
    viewer: Viewer
    # The surrogate keys of what the response holds (see relay.py), collected when
    # the HTTP edge asks for them (a response it may cache); None: not collected.
    surrogate_keys: set[str] | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.viewer)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


Info = StrawberryInfo[Context, None]
