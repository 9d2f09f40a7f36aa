-- One row per backfill ever listed. The API gives no finish time: created_at is when it was asked for.
{%- set src = cja_sync.cja_source('backfills') %}
{%- set cols = cja_sync.cja_columns(src) %}
select
    {{ cja_sync.cja_column(cols, 'id', 'backfill_id') }},
    {{ cja_sync.cja_column(cols, 'org_id') }},
    {{ cja_sync.cja_column(cols, 'connection_id') }},
    {{ cja_sync.cja_column(cols, 'data_set_id') }},
    {{ cja_sync.cja_column(cols, 'status') }},
    status in ('IN_PROGRESS', 'IN_QUEUE') as is_open,
    {{ cja_sync.cja_column(cols, 'created_date', 'created_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'start_date', 'range_start_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'end_date', 'range_end_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'all_data', 'is_all_data', type='boolean') }},
    {{ cja_sync.cja_column(cols, 'first_seen_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'last_seen_at', type='timestamp with time zone') }}
from {{ src }}
