"""Errors the domain raises for bad input; the API layer turns them into its own form."""

from __future__ import annotations


class InvalidArgumentError(ValueError):
    """An argument of a read (page size, cursor, id, filter) that cannot be used.

    `message` is for the person who wrote the query, in Russian."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message
