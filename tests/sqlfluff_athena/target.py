"""`target` for linting the models as Athena SQL: the athena profile's
default schema (macros such as pseudonym_key_relation read target.schema)."""

database = "awsdatacatalog"
schema = "stedi"
type = "athena"
