"""What the views would answer with other thresholds, computed without writing anything: for a
reader that may not write (a read-only role, a published DuckDB file BI tools hold open)."""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

from .views import ALL_VIEWS, SETTINGS_TABLE, SOURCE_DIALECT, _translate, sql_text


def with_views(
    sql: Any, query: str, settings: dict[str, tuple[float, ...]], columns: dict[str, set[str]]
) -> str:
    """`query` (PostgreSQL syntax, naming our views and health_settings unqualified) with every view
    as a CTE over the tables, and health_settings as the rows of `settings`: what the views would
    answer with those thresholds, computed without writing anything (a read-only role, a published
    DuckDB file)."""
    q = sql.make_qualified_table_name
    values = [
        exp.Tuple(
            expressions=[
                exp.Literal.string(org),
                *(exp.Literal.number(v) for v in values[:4]),
                exp.Literal.number(int(values[4])),
            ]
        )
        for org, values in sorted(settings.items())
    ]
    names = ["org_id", "stuck_after_hours", "stale_after_hours", "volume_drop_pct", "volume_baseline_days"]
    names.append("volume_min_points")
    typed = [
        exp.cast(exp.column("org_id") if values else exp.null(), "VARCHAR").as_("org_id"),
        *(exp.cast(exp.column(n) if values else exp.null(), "DOUBLE PRECISION").as_(n) for n in names[1:5]),
        exp.cast(exp.column("volume_min_points") if values else exp.null(), "BIGINT").as_(
            "volume_min_points"
        ),
    ]
    if values:
        rows = exp.select(*typed).from_(
            exp.Values(expressions=values, alias=exp.TableAlias(this="v", columns=names))
        )
    else:  # VALUES needs a row: no org, no row
        rows = exp.select(*typed).where(exp.false())
    tree = sqlglot.parse_one(query, read=SOURCE_DIALECT)
    if not isinstance(tree, exp.Query):
        raise ValueError(f"not a query: {query[:60]!r}")
    theirs = [(cte.alias, cte.this) for cte in tree.ctes]
    ours: list[tuple[str, exp.Expr]] = [(SETTINGS_TABLE, rows)]
    ours += [
        (v, sqlglot.parse_one(_translate(sql_text(v), SOURCE_DIALECT, q, columns, local=True)))
        for v in ALL_VIEWS
    ]
    for i, (name, body) in enumerate(ours + theirs):
        tree = tree.with_(name, as_=body, append=i > 0)
    return tree.sql(dialect=SOURCE_DIALECT)
