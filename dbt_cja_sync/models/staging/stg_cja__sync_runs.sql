-- One row per cja-sync run: running, succeeded or failed.
{%- set src = cja_sync.cja_source('sync_runs') %}
{%- set cols = cja_sync.cja_columns(src) %}
select
    {{ cja_sync.cja_column(cols, 'run_id') }},
    {{ cja_sync.cja_column(cols, 'org_id') }},
    {{ cja_sync.cja_column(cols, 'status') }},
    {{ cja_sync.cja_column(cols, 'full', 'is_full', type='boolean') }},
    {{ cja_sync.cja_column(cols, 'started_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'finished_at', type='timestamp with time zone') }},
    {{ cja_sync.cja_column(cols, 'duration_seconds', type='double precision') }},
    {{ cja_sync.cja_column(cols, 'error') }},
    {{ cja_sync.cja_column(cols, 'tool_version') }}
from {{ src }}
