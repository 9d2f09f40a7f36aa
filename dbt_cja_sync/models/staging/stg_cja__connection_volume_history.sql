-- One row per listed connection per successful sync: its numDailyEvents then.
{%- set src = cja_sync.cja_source('connection_volume_history') %}
{%- set cols = cja_sync.cja_columns(src) %}
select
    {{ cja_sync.cja_column(cols, 'org_id') }},
    {{ cja_sync.cja_column(cols, 'connection_id') }},
    {{ cja_sync.cja_column(cols, 'observed_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'num_daily_events', type='bigint') }}
from {{ src }}
