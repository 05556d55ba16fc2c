"""`adapter` for linting the models as Athena SQL with sqlfluff's jinja
templater (see tests/sqlfluff_athena/.sqlfluff): dispatch resolves to the
project's own athena__ (else default__) macro, quote uses Athena's quotes.
No SQL lives here: every engine difference stays in its dispatched macro."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Any:
    @pass_context
    def call(context: Context, *args: Any, **kwargs: Any) -> Any:
        for prefix in ("athena__", "default__"):
            macro = context.get(prefix + macro_name)
            if macro is not None:
                return macro(*args, **kwargs)
        raise LookupError(f"no athena__ or default__ version of {macro_name}")

    return call


def quote(identifier: str) -> str:
    return f'"{identifier}"'
