"""Surrogate keys: names of what a public answer holds, and of what a change touches.

An answer is named while it is computed: `News:12` for every object it shows (the
API's `global_id` records it) and `news-list` for every type whose visibility it
asked about (`visibility.visible_q` records it: lists, lookups, relations, counts
and search all go through it, and a type whose visibility depends on another's,
a tag on its news, names that one too). A change names what it touches
(`touched`): the changed items and their types' lists when anything the public may
see changed, nothing for a draft edit. Caches void exactly the answers that share a
key with a change (web/response_cache.py), and a CDN purges the same keys.

The answer being computed collects into a set made current by `recording`; outside
one (staff reads, jobs, mutations) recording does nothing. The read compiler names
its answers with the same keys (graphql_schema/compiler/plan.py, keyed plans): the
lists recorded while its plan is built, the items from the rows of its answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from cms.services.events import ContentChange

# Named by an answer that recorded nothing else (it cannot say what it depends on)
# and touched by every change the public may see: correctness never depends on a
# type remembering to record its keys.
ANY_CONTENT = "any-content"

_recording: ContextVar[set[str] | None] = ContextVar("surrogate_keys", default=None)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@contextmanager
def recording(keys: set[str] | None) -> Iterator[None]:
    token = _recording.set(keys)
    try:
        yield
    finally:
        _recording.reset(token)


@cache
def list_key(type_name: str) -> str:
    """ "ActionPlan" -> "action-plan-list"."""
    return _CAMEL.sub("-", type_name).lower() + "-list"


def item_key(type_name: str, pk: int) -> str:
    return f"{type_name}:{pk}"


def record(key: str) -> None:
    keys = _recording.get()
    if keys is not None:
        keys.add(key)


def record_lists(type_names: Iterable[str]) -> None:
    keys = _recording.get()
    if keys is not None:
        keys.update(list_key(name) for name in type_names)


def touched(change: ContentChange) -> frozenset[str]:
    """What a change voids: nothing when the public could not and cannot see it (a
    draft edit); else the items, their type's lists (an item may enter or leave any
    filtered list or search through an edit too) and ANY_CONTENT."""
    if not change.public:
        return frozenset()
    return frozenset(
        (
            *(item_key(change.content_type, pk) for pk in change.object_ids),
            list_key(change.content_type),
            ANY_CONTENT,
        )
    )


# More dependencies than this and an entry depends on ANY_CONTENT instead (as
# surely voided by every change it holds, and a hit checks one key).
MAX_DEPENDENCIES = 64


def dependencies(keys: Iterable[str]) -> list[str]:
    """The keys an entry must be checked against: ANY_CONTENT when none (or too
    many), and no item key whose type's list is there too (every change that touches
    an item touches its list: the list key alone voids the entry as surely, and a hit
    checks fewer)."""
    names = set(keys)
    kept = sorted(
        key for key in names if ":" not in key or list_key(key.partition(":")[0]) not in names
    )
    if not kept or len(kept) > MAX_DEPENDENCIES:
        return [ANY_CONTENT]
    return kept
