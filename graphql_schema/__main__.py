"""The schema's command line: `python -m graphql_schema export-schema` prints the SDL
that front-end code generators read (committed as schema.graphql)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m graphql_schema")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    parser.parse_args(argv)
    from graphql_schema.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


if __name__ == "__main__":
    main()
