"""The committed SDL is what the code serves: codegen tools read the file."""

from pathlib import Path

from graphql import build_schema

from graphql_schema.schema import schema

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is out of date: run "
        "`python -m graphql_schema export-schema > schema.graphql`"
    )


def test_every_contract_query_is_served() -> None:
    query_type = build_schema(schema.as_str()).query_type
    assert query_type is not None
    fields = set(query_type.fields)
    assert {
        "node",
        "news",
        "newsItem",
        "tags",
        "tag",
        "agreements",
        "agreement",
        "actionPlans",
        "actionPlan",
        "enterprises",
        "enterprise",
        "regions",
        "directions",
        "events",
    } <= fields
