-- One row per status change of a backfill that a sync observed (from_status NULL: first seen open).
{%- set src = cja_sync.cja_source('backfill_status_changes') %}
{%- set cols = cja_sync.cja_columns(src) %}
select
    {{ cja_sync.cja_column(cols, 'backfill_id') }},
    {{ cja_sync.cja_column(cols, 'observed_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'org_id') }},
    {{ cja_sync.cja_column(cols, 'connection_id') }},
    {{ cja_sync.cja_column(cols, 'data_set_id') }},
    {{ cja_sync.cja_column(cols, 'from_status') }},
    {{ cja_sync.cja_column(cols, 'to_status') }},
    {{ cja_sync.cja_column(cols, 'previous_observed_at', type='timestamp with time zone') }}
from {{ src }}
