"""dbt's `execute` for linting with sqlfluff's jinja templater: a module is
truthy, so the macros render the SQL of a run (e.g. the landing rulebook's
columns, which need `graph`)."""
