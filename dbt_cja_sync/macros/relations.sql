{#
  How the package's models name the relations they read.

  `cja-sync dbt` builds the models inside the DuckDB file it then publishes under another name
  (`cja_sync.duckdb.work` becomes `cja_sync.duckdb`), and DuckDB names a file's catalog after it: a
  view that named its catalog would point at one that no reader has. So a relation in the target's
  own database is written schema.table, which resolves in whatever catalog the file is opened as.
  A relation in another database (your project reading an ATTACHed cja-sync file, var
  `cja_database`) keeps its database.
#}

{% macro cja_source(table_name) %}
  {{- return(cja_sync.cja_local(source('cja', table_name))) -}}
{% endmacro %}

{% macro cja_ref(model_name) %}
  {{- return(cja_sync.cja_local(ref(model_name))) -}}
{% endmacro %}

{% macro cja_local(relation) %}
  {%- if relation.database == target.database -%}
    {{- return(relation.include(database=false)) -}}
  {%- endif -%}
  {{- return(relation) -}}
{% endmacro %}

{#
  A column of `relation` under `alias`, or a typed NULL when the warehouse has no such column yet:
  dlt creates a column only once the API sends a value for it (an org synced with --allow-empty has
  few), and a staging model must build on every warehouse a sync leaves. `columns` is
  cja_columns(relation), read once per model.
#}
{% macro cja_columns(relation) %}
  {%- if not execute -%}
    {{- return([]) -}}
  {%- endif -%}
  {{- return(adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list) -}}
{% endmacro %}

{% macro cja_column(columns, name, alias=none, type='text') %}
  {%- set shown = alias or name -%}
  {%- if not execute or name in columns -%}
    {{ adapter.quote(name) }} as {{ adapter.quote(shown) }}
  {%- else -%}
    cast(null as {{ type }}) as {{ adapter.quote(shown) }}
  {%- endif -%}
{% endmacro %}
