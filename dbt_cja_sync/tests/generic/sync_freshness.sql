{#
  Freshness of the sync itself, by the wall clock: one failing row per org whose newest
  `succeeded` run in sync_runs finished more than `max_hours` ago (or that has none), and one when
  no run succeeded at all. The health views measure ages against the last sync on purpose, so a
  sync that silently stopped looks healthy there; this test is what notices it.

  A test rather than `dbt source freshness`: it runs with every `dbt test` / `dbt build`, and it
  reads only succeeded runs (a failing hourly run is new, but it is not fresh data).
#}
{% test sync_freshness(model, max_hours=none) %}
{%- set hours = max_hours if max_hours is not none else var('cja_fresh_sync_hours', 26) -%}
{%- set minutes = (hours | float * 60) | round | int -%}
with orgs as (
    select
        org_id,
        max(case when status = 'succeeded' then finished_at end) as last_succeeded_at
    from {{ model }}
    group by org_id
)
select org_id, last_succeeded_at
from orgs
where last_succeeded_at is null
   or last_succeeded_at < {{ dbt.dateadd('minute', -minutes, dbt.current_timestamp()) }}
union all
select cast(null as {{ dbt.type_string() }}) as org_id, cast(null as {{ dbt.type_timestamp() }}) as last_succeeded_at
where not exists (select 1 from {{ model }} where status = 'succeeded')
{% endtest %}
