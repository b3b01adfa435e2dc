"""The read compiler: a GraphQL read compiled into one SQL statement that builds
its answer as JSON in the database (plan.py, sql.py), plans cached per document
(executor.py). What it does not support runs through Strawberry, whole."""
